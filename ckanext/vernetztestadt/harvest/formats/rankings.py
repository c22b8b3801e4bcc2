"""Smart-city rankings: from published documents to rows of ``ranking.json``.

Owns: what every ranking format shares: the rows of the Table Schema
``schemas/tables/ranking.json`` (its field names, enums and limits are read
from that file, not repeated here), the checks of their values (rank, score,
edition, city, AGS, area, trend), finding a format's columns in a header row,
the family's format base ``RankingFormat`` and ``reader``/``detect_format``
(the format named, or the first in the registry that recognises the
document). A document that is not such a ranking raises
``RankingFormatError`` with a German message.

The formats, one module each: ``bitkom_html`` (the Bitkom Smart City Index
web pages, format ``bitkom_html``) and ``ranking_table`` (the CSV/XLSX tables
stewards upload, Bitkom and Haselhorst Associates: ``ranking_csv``,
``ranking_xlsx``). Sources may still write ``html``, ``csv`` and ``xlsx``
(the formats' ``aliases``). ``parse_bitkom_page``, ``bitkom_rows``, ``BitkomRow``,
``BitkomPage`` and ``parse_table`` are importable from here as well.

Must not touch: the network (``fetching`` gets the bytes), CKAN, publishing
or validating files (``validation``). Pure Python: lxml.html for HTML,
openpyxl for XLSX.

Trend (``Tendenz``), first match wins: a rank change as bitkom.org writes it,
``+3`` → up, ``-2`` (also with the minus sign U+2212) → down, ``0`` or ``±0``
→ same; the signs ▲ ↑ ⬆ ↗ → up, ▼ ↓ ⬇ ↘ → down, ● = - → ↔ and en/em dash →
same; the words steigend, gestiegen, aufsteiger, up → up; fallend, gefallen,
absteiger, down → down; gleich, gleichbleibend, unverändert, konstant, same →
same; neu, neueinsteiger, new → new. An icon without text is read from its
``title``, ``alt``, ``aria-label``, ``data-trend`` or class names (e.g.
``icon-arrow-up``; ``bitkom_html`` collects these labels). An empty cell has
no trend; anything else unrecognised is an error, because a silently dropped
trend would hide a changed page layout.
"""
from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from ... import resources
from . import Format, UnknownFormat, get, grids, of_family

if TYPE_CHECKING:  # at run time looked up by ``__getattr__`` (see the end)
    from .bitkom_html import BitkomPage, BitkomRow, bitkom_rows, parse_bitkom_page
    from .ranking_table import parse_table

__all__ = ["BITKOM", "FAMILY", "HASELHORST", "OVERALL", "BitkomPage", "BitkomRow",
           "RankingFormat", "RankingFormatError", "bitkom_rows", "detect_format",
           "parse_bitkom_page", "parse_table", "reader"]

FAMILY = "rankings"

BITKOM = "Bitkom Smart City Index"
HASELHORST = "Haselhorst Smart City Ranking"
#: The area of a table without an area column.
OVERALL = "Gesamt"

Cell = grids.Cell
T = TypeVar("T")

_DIGITS = re.compile(r"[0-9]+")
_MINUS, _EN_DASH, _EM_DASH = "\u2212", "\u2013", "\u2014"
_RANK_CHANGE = re.compile(rf"(±|[+\-{_MINUS}])?([0-9]+)")
_WORD = re.compile(r"[a-zäöüß]+")
_TREND_SIGNS = {"▲": "up", "↑": "up", "⬆": "up", "↗": "up",
                "▼": "down", "↓": "down", "⬇": "down", "↘": "down",
                "●": "same", "=": "same", _EN_DASH: "same", _EM_DASH: "same", "-": "same",
                "→": "same", "↔": "same"}
_TREND_WORDS = {"steigend": "up", "gestiegen": "up", "aufsteiger": "up", "up": "up",
                "fallend": "down", "gefallen": "down", "absteiger": "down", "down": "down",
                "gleich": "same", "gleichbleibend": "same", "unverändert": "same",
                "konstant": "same", "same": "same",
                "neu": "new", "neueinsteiger": "new", "new": "new"}


class RankingFormatError(grids.FormatError):
    """The document is not the expected ranking table (German message)."""


@dataclass(frozen=True)
class Column(grids.Column):
    """A column a format reads (headers as written in messages, matched by
    ``normal``); a ``required`` one missing is an error."""

    required: bool = False


@dataclass(frozen=True)
class Layout:
    """Where each known column is, and the headers as the document writes them."""

    index: dict[str, int]
    header: tuple[str, ...]

    def label(self, key: str) -> str:
        return self.header[self.index[key]] if key in self.index else key

    def cell(self, cells: Sequence[T], key: str) -> T | None:
        position = self.index.get(key)
        # CSV rows may lack trailing empty cells
        return cells[position] if position is not None and position < len(cells) else None


# --- the Table Schema -------------------------------------------------------
def _constraints(name: str) -> dict[str, Any]:
    return resources.field_constraints("ranking", name)


@cache
def areas() -> dict[str, str]:
    """Normalised area label -> the schema's area; Bitkom calls the overall
    ranking "Gesamtwertung"."""
    found = {normal(area): area for area in _constraints("area")["enum"]}
    return {**found, normal("Gesamtwertung"): OVERALL}


def area(label: str) -> str:
    found = areas().get(normal(label))
    if found is None:
        known = ", ".join(["Gesamtwertung", *_constraints("area")["enum"]])
        raise RankingFormatError(f"Unbekannter Bereich „{label}“ (bekannt: {known}).")
    return found


def check_ranking(ranking: str) -> None:
    known = _constraints("ranking")["enum"]
    if ranking not in known:
        raise RankingFormatError(
            f"Unbekanntes Ranking „{ranking}“ (bekannt: {', '.join(known)}).")


def check_range(value: float, field: str, label: str, where: str) -> None:
    limits = _constraints(field)
    low, high = limits.get("minimum"), limits.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        allowed = f"{low} bis {high}" if high is not None else f"mindestens {low}"
        raise RankingFormatError(
            f"{where}: {label} {grids.german(value)} ist nicht erlaubt ({allowed}).")


def ranking_row(*, ranking: str, edition: int, city: str, area: str, rank: int,
                score: float | None, source: str, ags: str | None = None,
                cities_ranked: int | None = None, trend: str | None = None) -> dict[str, Any]:
    """A row of ``ranking.json``, its fields in the schema's order."""
    return {"ranking": ranking, "edition": edition, "city": city, "ags": ags, "area": area,
            "rank": rank, "score": score, "cities_ranked": cities_ranked, "trend": trend,
            "source": source}


def check_unique(rows: Iterable[dict[str, Any]]) -> None:
    """The schema's primary key; city names compared ignoring case."""
    seen: set[tuple[Any, ...]] = set()
    for row in rows:
        key = (row["ranking"], row["edition"], row["area"], row["city"].casefold())
        if key in seen:
            raise RankingFormatError(
                f"Die Stadt „{row['city']}“ steht im Bereich „{row['area']}“ der Ausgabe "
                f"{row['edition']} mehrfach.")
        seen.add(key)


# --- values -------------------------------------------------------------------
def normal(text: str) -> str:
    """For comparing headers and area names: case, spacing, -, _ and & ignored."""
    return " ".join(re.split(r"[\s_\-]+", text.casefold().replace("&", " und "))).strip()


def integer(value: Cell, label: str, where: str) -> int | None:
    """A whole number (also the German ordinal ``17.``); None for an empty cell."""
    text = grids.cell_text(value)
    if not text:
        return None
    if not _DIGITS.fullmatch(text.removesuffix(".")):
        raise RankingFormatError(f"{where}: {label} „{text}“ ist keine ganze Zahl.")
    return int(text.removesuffix("."))


def present(value: T | None, label: str, where: str) -> T:
    if value is None or value == "":
        raise RankingFormatError(f"{where}: {label} fehlt.")
    return value


def rank(value: Cell, label: str, where: str) -> int:
    found = present(integer(value, label, where), label, where)
    check_range(found, "rank", label, where)
    return found


def cities_ranked(value: Cell, label: str, where: str) -> int | None:
    count = integer(value, label, where)
    if count is not None:
        check_range(count, "cities_ranked", label, where)
    return count


def score(value: Cell, label: str, where: str) -> float | None:
    """Index or percentage; empty where the ranking did not publish one."""
    text = grids.cell_text(value)
    if not text:
        return None
    found = grids.number(value)
    if found is None:
        raise RankingFormatError(f"{where}: {label} „{text}“ ist keine Zahl.")
    check_range(found, "score", label, where)
    return found


def city(value: Cell, where: str) -> str:
    return present(grids.cell_text(value), "Stadt", where)


def ags(value: Cell, where: str) -> str | None:
    text = grids.cell_text(value)
    if not text:
        return None
    # Excel drops the leading zero of Länder 01-09; seven digits are unambiguous
    if len(text) == 7 and _DIGITS.fullmatch(text):
        text = "0" + text
    if not (len(text) == 8 and _DIGITS.fullmatch(text)):
        raise RankingFormatError(
            f"{where}: AGS „{text}“ ist kein achtstelliger Gemeindeschlüssel.")
    return text


def _trend_of(label: str) -> str | None:
    text = label.strip().casefold()
    change = _RANK_CHANGE.fullmatch("".join(text.split()))
    if change:
        sign, digits = change.groups()
        if int(digits) == 0:
            return "same"
        # an unsigned number could be a rank as well as a change
        return {"+": "up", "-": "down", _MINUS: "down"}.get(sign or "")
    if text in _TREND_SIGNS:
        return _TREND_SIGNS[text]
    return next((_TREND_WORDS[w] for w in _WORD.findall(text) if w in _TREND_WORDS), None)


def trend(labels: Iterable[str], where: str) -> str | None:
    """The first label that names a trend; None if all are empty."""
    labels = [label for label in labels if label.strip()]
    for label in labels:
        found = _trend_of(label)
        if found:
            return found
    if labels:
        raise RankingFormatError(
            f"{where}: Tendenz „{labels[0]}“ ist unbekannt "
            "(erwartet z. B. +3, -2, 0, ▲, ▼, ●, steigend, fallend, neu).")
    return None


# --- columns -----------------------------------------------------------------
def layout(header: Sequence[str], columns: Sequence[Column]) -> Layout:
    """The known columns in ``header``; error if a required one is missing or
    a column comes twice (the first such in ``columns`` order is named)."""
    index: dict[str, int] = {}
    for column in columns:
        index |= grids.header_index(header, [column], RankingFormatError, normalise=normal)
        if column.required and column.key not in index:
            raise RankingFormatError(grids.missing_column(column.headers, header))
    return Layout(index, tuple(header))


def known_headers(header: Sequence[str], columns: Sequence[Column]) -> int:
    names = {normal(name) for column in columns for name in column.headers}
    return sum(normal(text) in names for text in header)


# --- formats ------------------------------------------------------------------
class RankingFormat(Format):
    """A registered format of ranking documents.

    A table format (``paged`` false) reads a whole file with ``read``; a paged
    one is Bitkom's web pages, which the harvester follows page by page and
    reads with ``parse_bitkom_page``/``bitkom_rows``.
    """

    family = FAMILY
    #: read page by page (``?page=N``), not whole
    paged: ClassVar[bool] = False

    def recognises(self, data: bytes) -> bool:
        raise NotImplementedError

    def read(self, data: bytes, ranking: str, edition: int | None,
             source: str) -> list[dict[str, Any]]:
        """Rows of ``ranking.json`` (``parse_table``'s rules)."""
        raise NotImplementedError


def _formats() -> dict[str, type[RankingFormat]]:
    return {name: cls for name, cls in of_family(FAMILY).items()
            if issubclass(cls, RankingFormat)}


def detect_format(data: bytes) -> str:
    """The name of the first registered format that recognises the content."""
    found = next((name for name, cls in _formats().items() if cls().recognises(data)), None)
    if found is None:
        raise RankingFormatError("Unbekanntes Format: weder eine HTML-Seite noch eine "
                                 "Tabelle (CSV oder XLSX).")
    return found


def reader(fmt: str | None, data: bytes | None = None) -> RankingFormat:
    """The format named (a name or an alias), or the one recognising ``data``."""
    if fmt is None:
        if data is None:
            raise ValueError("reader() needs a format name or the document")
        fmt = detect_format(data)
    try:
        return get(FAMILY, fmt)()  # type: ignore[return-value]
    except UnknownFormat as error:
        raise RankingFormatError(str(error)) from None


# the public API of the formats' modules, importable from here as before
# (looked up on first use: the format modules import this one)
_MOVED = {"BitkomPage": "bitkom_html", "BitkomRow": "bitkom_html",
          "bitkom_rows": "bitkom_html", "parse_bitkom_page": "bitkom_html",
          "parse_table": "ranking_table"}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        return getattr(importlib.import_module(f"{__package__}.{_MOVED[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
