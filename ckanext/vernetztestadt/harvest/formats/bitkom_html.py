"""Format ``bitkom_html`` (also ``html``): the Bitkom Smart City Index web pages.

Owns: reading bitkom.org's pages (Drupal): each edition is one page holding a
table per area (``Platz``, ``Tendenz``, ``Stadt``, ``Index``), each under a
heading naming the area; all tables are paged together, ten rows each, with
``?page=0, 1, ...`` (e.g. ``smart-city-index-2022?page=4``: places 41-50 of
every area).
A page is parsed for one area: the table whose caption or nearest preceding
heading names it; a page with a single ranking table and no area heading is
taken as that area's page. A trend icon is read from its text, then its
``title``, ``alt``, ``aria-label``, ``data-trend`` and class names (the
rules are ``rankings``').

Next page: a page has one when it contains an ``<a>`` or ``<link>`` with an
``href`` and the ``rel`` token ``next`` (Drupal's pager writes
``<a href="?page=2" rel="next">``). The caller fetches pages until
``has_next`` is false; ``bitkom_rows`` turns all pages of every area into
rows of ``ranking.json``.

Must not touch: what the ranking formats share (``rankings``: the schema's
rows and value checks), the tables stewards upload (``ranking_table``), the
network (the harvester fetches the pages), CKAN. lxml.html for HTML.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import lxml.html
from lxml import etree

from ...fetching import looks_like_html
from . import grids, rankings
from .rankings import BITKOM, Column, Layout, RankingFormat, RankingFormatError

__all__ = ["BitkomHtml", "BitkomPage", "BitkomRow", "bitkom_rows", "parse_bitkom_page"]

_HEADINGS = "self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6"
_REL_NEXT = "[@href][contains(concat(' ', normalize-space(@rel), ' '), ' next ')]"
_NEXT_LINKS = f"//a{_REL_NEXT} | //link{_REL_NEXT}"
#: Where an icon says what it shows.
_TREND_ATTRIBUTES = ("title", "alt", "aria-label", "data-trend")

_BITKOM_COLUMNS = (
    Column("rank", ("Platz",), required=True),
    Column("trend", ("Tendenz",)),
    Column("city", ("Stadt",), required=True),
    Column("score", ("Index",), required=True),
)


class BitkomHtml(RankingFormat):
    name = "bitkom_html"
    aliases = ("html",)
    title = "Bitkom Smart City Index, Webseiten (HTML, seitenweise mit ?page=N)"
    paged = True
    order = 10

    def recognises(self, data: bytes) -> bool:
        # the rule by which documents refuse an HTML page where data is expected
        return looks_like_html(data)


@dataclass(frozen=True)
class BitkomRow:
    """One line of a Bitkom table."""

    rank: int
    trend: str | None  # up, down, same, new
    city: str
    score: float | None


@dataclass(frozen=True)
class BitkomPage:
    """The rows of one area's table on one page, and whether a next page exists."""

    rows: tuple[BitkomRow, ...]
    has_next: bool


@dataclass(frozen=True)
class _HtmlTable:
    layout: Layout
    rows: list[list[lxml.html.HtmlElement]]
    area: str | None  # from its caption or heading, if that names an area


def parse_bitkom_page(html: bytes | str, area: str | None = None) -> BitkomPage:
    """The rows of the table of ``area`` (e.g. "Gesamtwertung") on a Bitkom page.

    Without ``area`` the page must hold a single ranking table.
    """
    document = _html_document(html)
    table = _select_table(_ranking_tables(document), area)
    rows = tuple(_bitkom_row(cells, table.layout, f"Zeile {number}")
                 for number, cells in enumerate(table.rows, 1))
    if not rows:
        raise RankingFormatError("Die Ranking-Tabelle enthält keine Zeilen.")
    return BitkomPage(rows=rows, has_next=bool(document.xpath(_NEXT_LINKS)))


def bitkom_rows(pages: Mapping[str, Sequence[bytes | str]], edition: int,
                cities_ranked: int | None, source: str) -> list[dict[str, Any]]:
    """Rows of ``ranking.json`` from the pages of each area, in page order.

    ``pages`` maps the area as Bitkom names it ("Gesamtwertung", "Mobilität",
    ...) to its pages; ``cities_ranked`` defaults to the rows of each area.
    """
    rankings.check_range(edition, "edition", "Ausgabe", "Bitkom")
    if cities_ranked is not None:
        rankings.check_range(cities_ranked, "cities_ranked", "Bewertete Städte", "Bitkom")
    rows: list[dict[str, Any]] = []
    for label, documents in pages.items():
        area = rankings.area(label)
        entries = _area_entries(label, documents)
        rows += [rankings.ranking_row(ranking=BITKOM, edition=edition, city=entry.city,
                                      area=area, rank=entry.rank, score=entry.score,
                                      trend=entry.trend,
                                      cities_ranked=cities_ranked or len(entries),
                                      source=source)
                 for entry in entries]
    rankings.check_unique(rows)
    return rows


def _area_entries(label: str, documents: Sequence[bytes | str]) -> list[BitkomRow]:
    if not documents:
        raise RankingFormatError(f"Für den Bereich „{label}“ liegt keine Seite vor.")
    entries: list[BitkomRow] = []
    for number, document in enumerate(documents, 1):
        try:
            page = parse_bitkom_page(document, area=label)
        except RankingFormatError as error:
            raise RankingFormatError(
                f"Bereich „{label}“, Seite {number}: {error.message_de}") from error
        entries += page.rows
    if page.has_next:
        # counting the rows of an incomplete ranking would give a wrong cities_ranked
        raise RankingFormatError(f"Bereich „{label}“: Seite {number} verweist auf eine "
                                 "weitere Seite; es fehlen Seiten.")
    return entries


def _html_document(html: bytes | str) -> lxml.html.HtmlElement:
    text = grids.decode(html) if isinstance(html, bytes) else html
    if not text.strip():
        raise RankingFormatError("Die Seite ist leer.")
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as error:
        raise RankingFormatError("Die Seite lässt sich nicht als HTML lesen.") from error


def _ranking_tables(document: lxml.html.HtmlElement) -> list[_HtmlTable]:
    """The tables with Bitkom's headers; otherwise the error of the table that
    comes closest."""
    found: list[_HtmlTable] = []
    errors: list[tuple[int, RankingFormatError]] = []
    for table in document.iter("table"):
        rows = table.xpath("./thead/tr | ./tbody/tr | ./tr")  # no tfoot: notes, not cities
        if not rows:
            continue
        header = [_element_text(cell) for cell in rows[0].xpath("./th | ./td")]
        try:
            layout = rankings.layout(header, _BITKOM_COLUMNS)
        except RankingFormatError as error:
            errors.append((rankings.known_headers(header, _BITKOM_COLUMNS), error))
            continue
        cells = [row.xpath("./td | ./th") for row in rows[1:] if row.xpath("./td")]
        found.append(_HtmlTable(layout, cells, _table_area(table)))
    if found:
        return found
    if not errors:
        raise RankingFormatError("Die Seite enthält keine Tabelle.")
    closest, error = max(errors, key=lambda item: item[0])
    if closest == 0:
        required = ", ".join(f"„{c.headers[0]}“" for c in _BITKOM_COLUMNS if c.required)
        raise RankingFormatError(f"Die Seite enthält keine Ranking-Tabelle (Spalten {required}).")
    raise error


def _table_area(table: lxml.html.HtmlElement) -> str | None:
    # the caption first, then the nearest heading before the table
    titles = [*table.xpath("./caption"), *table.xpath(f"preceding::*[{_HEADINGS}][1]")]
    areas = rankings.areas()
    return next((areas[rankings.normal(_element_text(t))] for t in titles
                 if rankings.normal(_element_text(t)) in areas), None)


def _select_table(tables: list[_HtmlTable], area: str | None) -> _HtmlTable:
    if area is None:
        if len(tables) > 1:
            raise RankingFormatError(f"Die Seite enthält {len(tables)} Ranking-Tabellen; "
                                     "der Bereich muss angegeben werden.")
        return tables[0]
    wanted = rankings.area(area)
    matching = [table for table in tables if table.area == wanted]
    if len(matching) > 1:
        raise RankingFormatError(f"Die Seite enthält mehrere Tabellen für „{area}“.")
    if matching:
        return matching[0]
    if len(tables) == 1 and tables[0].area is None:
        return tables[0]  # a page of one area, without a heading naming it
    raise RankingFormatError(f"Die Seite enthält keine Tabelle für den Bereich „{area}“.")


def _bitkom_row(cells: list[lxml.html.HtmlElement], layout: Layout, where: str) -> BitkomRow:
    if len(cells) <= max(layout.index.values()):
        raise RankingFormatError(f"{where}: Die Zeile hat nur {len(cells)} Zellen.")
    text = {key: _element_text(layout.cell(cells, key)) for key in layout.index}
    trend_cell = layout.cell(cells, "trend")
    return BitkomRow(
        rank=rankings.rank(text["rank"], layout.label("rank"), where),
        trend=None if trend_cell is None else rankings.trend(_trend_labels(trend_cell), where),
        city=rankings.city(text["city"], where),
        score=rankings.score(text["score"], layout.label("score"), where))


def _element_text(element: lxml.html.HtmlElement | None) -> str:
    return "" if element is None else " ".join(element.text_content().split())


def _trend_labels(cell: lxml.html.HtmlElement) -> list[str]:
    """The cell's text, then what icons in it say. The cell's own class is left
    out: it styles the column, not the value."""
    labels = [_element_text(cell)]
    for element in cell.iter(etree.Element):
        labels += [element.get(name, "") for name in _TREND_ATTRIBUTES]
        if element is not cell:
            labels.append(element.get("class", ""))
    return labels
