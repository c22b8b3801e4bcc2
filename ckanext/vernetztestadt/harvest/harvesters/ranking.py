"""Harvester ``vernetztestadt_ranking``: smart-city rankings as datasets.

Owns: turning a ranking source's documents into items — one
``smart_city_ranking`` dataset per ranking edition (all cities and areas)
and one time series of the configured city across the editions, with a
chart of its rank per area. Bitkom web pages are followed page by page
(``?page=N``); CSV and XLSX tables (Bitkom, Haselhorst) are read whole.
The reader is the registered format of family ``rankings`` that ``format``
names (also ``html``, ``csv``, ``xlsx``), else the first that recognises the
content.
Method notes per edition come from the source's YAML (``editions``).

Must not touch: parsing rules (``formats.rankings`` and its formats), HTTP
(``documents``/``fetching``) or publishing (``framework``/``publish``).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .. import config as source_config
from .. import formats
from ..config import Key
from ..formats import grids, rankings
from ..framework import Harvester, InputError, SourceRun
from ..items import Item, Table

#: ranking config value -> (rows' ranking name, dataset field value, name prefix)
RANKINGS = {
    "bitkom": (rankings.BITKOM, "bitkom-smart-city-index", "bitkom-smart-city-index"),
    "haselhorst": (rankings.HASELHORST, "haselhorst", "haselhorst-smart-city-ranking"),
}
#: Bitkom's areas as its pages name them; "Gesellschaft und Bildung" from 2024.
BITKOM_AREAS = ("Gesamtwertung", "Verwaltung", "IT und Kommunikation", "Energie und Umwelt",
                "Mobilität", "Gesellschaft")
CHART = {"type": "line", "x": "edition", "y": "rank", "series": "area", "invert_y": True,
         "title": "Platz je Bereich und Ausgabe", "x_label": "Ausgabe", "y_label": "Platz"}


def _editions(value: Any) -> dict[int, dict[str, Any]]:
    notes = source_config.mapping(value)
    try:
        return {int(year): source_config.mapping(entry) for year, entry in notes.items()}
    except ValueError:
        raise ValueError("braucht Jahreszahlen als Schlüssel, je mit einer Zuordnung "
                         "(notes, cities_ranked, methodology_url)") from None


def page_url(url: str, page: int) -> str:
    """``url`` with ``page=N`` (Drupal's pager), other parameters kept."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "page"] + [("page", str(page))]
    return urlunsplit(parts._replace(query=urlencode(query)))


class RankingHarvester(Harvester):
    source_type = "vernetztestadt_ranking"
    title = "Smart-City-Rankings (Bitkom, Haselhorst)"
    description = ("Bitkom Smart City Index (Webseiten, CSV, XLSX) und Haselhorst "
                   "Smart-City-Ranking (CSV, XLSX): ein Datensatz je Ausgabe und eine "
                   "Zeitreihe der Stadt mit Diagramm.")
    format_family = rankings.FAMILY
    config_keys = (
        Key("format", "Format der Dokumente (ein registriertes Ranking-Format; auch html, "
            "csv, xlsx); ohne Angabe am Inhalt erkannt.", formats.config_check(rankings.FAMILY)),
        Key("ranking", "bitkom oder haselhorst.", source_config.choice(*RANKINGS),
            required=True),
        Key("city", "Stadt der Zeitreihe, Standard Gelsenkirchen.", source_config.nonempty_text,
            "Gelsenkirchen"),
        Key("areas", "Bereiche der Bitkom-Seiten (Standard: alle).", source_config.text_list),
        Key("editions", "Methodenhinweise je Ausgabe: {Jahr: {notes, cities_ranked, "
            "methodology_url}}.", _editions, {}),
        Key("max_pages", "Höchstens so viele Seiten je Bitkom-Ausgabe.",
            source_config.positive_int, 20),
        Key("series", "Zeitreihe der Stadt veröffentlichen.", source_config.boolean, True),
    )

    def read(self, run: SourceRun) -> list[Item]:
        config = run.config
        rows: list[dict[str, Any]] = []
        for entry in run.declared():
            rows += self._document_rows(run, entry)
        by_edition: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_edition[row["edition"]].append(row)
        found = [self._edition_item(config, edition, by_edition[edition], run)
                 for edition in sorted(by_edition)]
        series = self._series_item(config, rows, run) if config["series"] else None
        return found + ([series] if series else [])

    # -- documents -------------------------------------------------------------
    def _document_rows(self, run: SourceRun, entry: dict[str, Any]) -> list[dict[str, Any]]:
        config, url = run.config, entry["url"]
        ranking = RANKINGS[config["ranking"]][0]
        named = self._named_format(url, entry.get("format") or config.get("format"))
        edition = int(entry["edition"]) if entry.get("edition") else None
        source = str(entry.get("source") or f"{ranking} ({url})")
        html_allowed = config["ranking"] == "bitkom" and (named is None or named.paged)
        document = run.get(url, expect_html=html_allowed)
        try:
            reader = named or rankings.reader(None, document.data)
            if reader.paged:  # Bitkom's web pages
                if config["ranking"] != "bitkom":
                    raise InputError(f"{url}: Der Server lieferte eine HTML-Seite statt der "
                                     "Tabelle (CSV oder XLSX).")
                return self._bitkom_pages(run, url, document.data, edition, source)
            return reader.read(document.data, ranking, edition, source)
        except rankings.RankingFormatError as error:
            raise InputError(f"{url}: {error.message_de}") from None

    @staticmethod
    def _named_format(url: str, value: Any) -> rankings.RankingFormat | None:
        """The format a document's (or the source's) ``format`` names, if any."""
        if not value:
            return None
        try:
            return rankings.reader(str(value))
        except rankings.RankingFormatError:
            known = ", ".join(formats.known(rankings.FAMILY))
            raise InputError(f"{url}: Format „{str(value).lower()}“ unbekannt "
                             f"({known}).") from None

    def _bitkom_pages(self, run: SourceRun, url: str, first: bytes, edition: int | None,
                      source: str) -> list[dict[str, Any]]:
        if edition is None:
            raise InputError(f"{url}: Der Server lieferte eine HTML-Seite. Als Bitkom-"
                             "Webseite gelesen braucht das Dokument eine „edition“ (Jahr); "
                             "sonst wird eine Tabelle (CSV oder XLSX) erwartet.")
        config = run.config
        areas = config.get("areas") or [*BITKOM_AREAS[:-1], "Gesellschaft und Bildung"
                                         if edition >= 2024 else "Gesellschaft"]
        pages = [first]
        while rankings.parse_bitkom_page(pages[-1], area=areas[0]).has_next:
            if len(pages) >= config["max_pages"]:
                raise InputError(f"{url}: mehr als {config['max_pages']} Seiten "
                                 "(„max_pages“).")
            pages.append(run.get(page_url(url, len(pages)), expect_html=True).data)
        cities = config["editions"].get(edition, {}).get("cities_ranked")
        return rankings.bitkom_rows({area: pages for area in areas}, edition,
                                    int(cities) if cities else None, source)

    # -- items --------------------------------------------------------------------
    def _edition_item(self, config: dict[str, Any], edition: int,
                      rows: list[dict[str, Any]], run: SourceRun) -> Item:
        name, field_value, prefix = RANKINGS[config["ranking"]]
        notes = config["editions"].get(edition, {})
        cities = notes.get("cities_ranked") or max(
            (r["cities_ranked"] or 0 for r in rows), default=0) or None
        text = [f"{name}, Ausgabe {edition}: Platz und Punkte je Stadt und Bereich, wie die "
                "Quelle sie veröffentlicht (Spalte „source“).", notes.get("notes", "")]
        if cities:
            text.append(f"Bewertete Städte: {cities}.")
        dataset = {"title": f"{name} {edition}", "notes": "\n\n".join(t for t in text if t),
                   "ranking": field_value, "edition": edition,
                   **({"cities_ranked": int(cities)} if cities else {}),
                   **({"methodology_url": notes["methodology_url"]}
                      if notes.get("methodology_url") else {})}
        table = Table(key="ranking", name=f"{name} {edition}", schema="ranking",
                      rows=sorted(rows, key=_order), chart=_edition_chart(config, rows, cities),
                      description="Eine Zeile je Stadt und Bereich.", with_json=True)
        return Item(guid=f"{prefix}-{edition}", dataset=dataset, tables=[table],
                    documents=sorted(run.validators))

    def _series_item(self, config: dict[str, Any], rows: list[dict[str, Any]],
                     run: SourceRun) -> Item | None:
        name, field_value, prefix = RANKINGS[config["ranking"]]
        city, ags = config["city"], config["ags"]
        mine = [{**row, "ags": row["ags"] or ags} for row in _city_rows(config, rows)]
        if not mine:
            return None
        editions = sorted({row["edition"] for row in mine})
        dataset = {
            "title": f"{city} im {name} (Zeitreihe)", "ags": ags, "ranking": field_value,
            "notes": f"Platz und Punkte von {city} (AGS {ags}) im {name} je Bereich, "
                     f"Ausgaben {editions[0]} bis {editions[-1]}. Die Methodik ändert sich "
                     "zwischen den Ausgaben (siehe die Datensätze der einzelnen Ausgaben); "
                     "Plätze verschiedener Jahre sind daher nur eingeschränkt vergleichbar."}
        table = Table(key="zeitreihe", name=f"{city}: {name} je Ausgabe", schema="ranking",
                      rows=sorted(mine, key=_order), chart=dict(CHART),
                      description=f"Platz und Punkte von {city} je Ausgabe und Bereich.")
        slug = grids.key(city).replace(" ", "-")
        return Item(guid=f"{prefix}-{slug}-zeitreihe", dataset=dataset,
                    tables=[table], documents=sorted(run.validators))


def _city_rows(config: dict[str, Any], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the source's city: by AGS, or by name where a row has none."""
    city, ags = config["city"], config["ags"]
    return [row for row in rows if row["ags"] == ags
            or (not row["ags"] and row["city"].casefold() == city.casefold())]


def _edition_chart(config: dict[str, Any], rows: list[dict[str, Any]],
                   cities: int | None) -> dict[str, Any] | None:
    """The city's place per area in one edition, on an axis of all places
    (1 on top): drawn where the edition ranks the city in two areas or more."""
    mine = _city_rows(config, rows)
    if len({row["area"] for row in mine}) < 2:
        return None
    worst = max([cities or 0, *(row["rank"] for row in mine)])
    return {"type": "dots", "x": "area", "y": "rank", "invert_y": True,
            "y_range": [1, max(worst, 2)], "where": [{"city": row["city"]} for row in mine[:1]],
            "title": f"Plätze von {config['city']} je Bereich", "x_label": "Bereich",
            "y_label": f"Platz (von {worst})"}


def _order(row: dict[str, Any]) -> tuple[Any, ...]:
    areas = ["Gesamt", *BITKOM_AREAS[1:], "Gesellschaft und Bildung"]
    area = areas.index(row["area"]) if row["area"] in areas else len(areas)
    return (row["edition"], area, row["rank"], row["city"])
