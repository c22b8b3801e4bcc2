"""Formats ``ranking_csv`` and ``ranking_xlsx`` (also ``csv``, ``xlsx``): ranking tables.

Owns: the CSV and XLSX tables stewards upload (Bitkom, Haselhorst
Associates): the header row (the first non-empty one), its columns by German
or English header, and a row of ``ranking.json`` from each row after it
(``parse_table``). CSV is read by the portal's tabular reader, XLSX (the
first sheet, recognised by its zip magic ``PK``) with openpyxl, both through
``grids``; they differ in nothing else.

Must not touch: what the ranking formats share (``rankings``: the schema's
rows and value checks), Bitkom's web pages (``bitkom_html``), CKAN.
"""
from __future__ import annotations

from pathlib import PurePath
from typing import Any

from . import grids, rankings
from .rankings import OVERALL, Cell, Column, Layout, RankingFormat, RankingFormatError

__all__ = ["RankingCsv", "RankingXlsx", "parse_table"]

_TABLE_COLUMNS = (
    Column("rank", ("Platz", "rank"), required=True),
    Column("city", ("Stadt", "city"), required=True),
    Column("score", ("Index", "Punkte", "score", "Smart-City-Grad"), required=True),
    Column("area", ("Bereich", "area")),
    Column("trend", ("Tendenz", "trend")),
    Column("edition", ("Jahr", "Ausgabe", "edition")),
    Column("ags", ("AGS",)),
    Column("cities_ranked", ("Städte", "cities_ranked")),
)


class _RankingTable(RankingFormat):
    def grid(self, data: bytes) -> list[list[Cell]]:
        raise NotImplementedError

    def read(self, data: bytes, ranking: str, edition: int | None,
             source: str) -> list[dict[str, Any]]:
        rankings.check_ranking(ranking)
        return _rows(self.grid(data), ranking, edition, source)


class RankingXlsx(_RankingTable):
    name = "ranking_xlsx"
    aliases = ("xlsx",)
    title = "Ranking-Tabelle als XLSX (Bitkom, Haselhorst; erstes Tabellenblatt)"
    order = 20

    def recognises(self, data: bytes) -> bool:
        return data[:2] == b"PK"

    def grid(self, data: bytes) -> list[list[Cell]]:
        try:
            return grids.xlsx_grid(data)
        except grids.GridError as error:
            raise RankingFormatError(str(error)) from error


class RankingCsv(_RankingTable):
    name = "ranking_csv"
    aliases = ("csv",)
    title = "Ranking-Tabelle als CSV (Bitkom, Haselhorst)"
    order = 90  # what is neither an HTML page nor a workbook is read as CSV

    def recognises(self, data: bytes) -> bool:
        return True

    def grid(self, data: bytes) -> list[list[Cell]]:
        return grids.csv_grid(data)


def parse_table(data: bytes, filename: str, ranking: str, edition: int | None,
                source: str) -> list[dict[str, Any]]:
    """Rows of ``ranking.json`` from a CSV or XLSX file a steward provides.

    Columns by German or English header (any case): Platz/rank, Stadt/city,
    Index/Punkte/score/Smart-City-Grad are required; Bereich/area (default
    "Gesamt"), Tendenz/trend, Jahr/Ausgabe/edition (required without
    ``edition``; must agree with it), AGS, Städte/cities_ranked are optional.
    ``cities_ranked`` stays empty unless given: an upload may be an excerpt.
    """
    rankings.check_ranking(ranking)
    suffix = PurePath(filename).suffix.casefold()
    table: _RankingTable
    if suffix in (".csv", ".txt"):
        table = RankingCsv()
    elif suffix == ".xlsx":
        table = RankingXlsx()
    else:
        raise RankingFormatError(
            f"Das Dateiformat von „{filename}“ wird nicht unterstützt (CSV oder XLSX).")
    return _rows(table.grid(data), ranking, edition, source)


def _rows(grid: list[list[Cell]], ranking: str, edition: int | None,
          source: str) -> list[dict[str, Any]]:
    layout, records = _table_records(grid)
    if edition is None and "edition" not in layout.index:
        raise RankingFormatError("Die Spalte „Jahr“ (oder „Ausgabe“, „edition“) fehlt, "
                                 "und es ist keine Ausgabe angegeben.")
    rows = [_table_row(cells, layout, f"Zeile {number}", ranking=ranking, edition=edition,
                       source=source) for number, cells in records]
    rankings.check_unique(rows)
    return rows


def _table_records(grid: list[list[Cell]]) -> tuple[Layout, list[tuple[int, list[Cell]]]]:
    """The layout from the first non-empty row, and the numbered rows after it."""
    records = [(number, row) for number, row in enumerate(grid, 1)
               if any(grids.cell_text(cell) for cell in row)]
    if not records:
        raise RankingFormatError("Die Datei ist leer.")
    (_, header), *rows = records
    layout = rankings.layout([grids.cell_text(cell) for cell in header], _TABLE_COLUMNS)
    if not rows:
        raise RankingFormatError("Die Tabelle enthält keine Zeilen.")
    return layout, rows


def _table_row(cells: list[Cell], layout: Layout, where: str, *, ranking: str,
               edition: int | None, source: str) -> dict[str, Any]:
    def value(key: str) -> Cell:
        return layout.cell(cells, key)

    area = grids.cell_text(value("area"))
    return rankings.ranking_row(
        ranking=ranking, edition=_edition(value("edition"), edition, layout, where),
        city=rankings.city(value("city"), where), ags=rankings.ags(value("ags"), where),
        area=_area_in_row(area, where) if area else OVERALL,
        rank=rankings.rank(value("rank"), layout.label("rank"), where),
        score=rankings.score(value("score"), layout.label("score"), where),
        cities_ranked=rankings.cities_ranked(value("cities_ranked"),
                                             layout.label("cities_ranked"), where),
        trend=rankings.trend([grids.cell_text(value("trend"))], where), source=source)


def _area_in_row(label: str, where: str) -> str:
    try:
        return rankings.area(label)
    except RankingFormatError as error:
        raise RankingFormatError(f"{where}: {error.message_de}") from error


def _edition(value: Cell, given: int | None, layout: Layout, where: str) -> int:
    label = layout.label("edition")
    edition = rankings.integer(value, label, where)
    if edition is not None and given is not None and edition != given:
        raise RankingFormatError(
            f"{where}: {label} {edition} widerspricht der angegebenen Ausgabe {given}.")
    edition = rankings.present(given if edition is None else edition, label, where)
    rankings.check_range(edition, "edition", label, where)
    return edition
