"""The ranking parsers: Bitkom pages and the tables stewards upload become
rows of ``ranking.json`` that frictionless accepts; a broken document fails
with a German message naming the problem.

Fixtures: ``fixtures/README.md`` lists the published figures (Gelsenkirchen)
and marks everything else synthetic."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from schema_check import assert_valid_rows

from ckanext.vernetztestadt.harvest.formats.rankings import (
    BITKOM,
    HASELHORST,
    BitkomRow,
    RankingFormatError,
    bitkom_rows,
    parse_bitkom_page,
    parse_table,
)

FIXTURES = Path(__file__).parent / "fixtures"
SCHEMA = Path(__file__).parents[2] / "schemas" / "tables" / "ranking.json"
GE = "Gelsenkirchen"
AGS_GE = "05513000"
BITKOM_2022 = "Bitkom Smart City Index 2022"
HASELHORST_SOURCE = "Haselhorst Associates Smart City Ranking"
HEADER = "<tr><th>Platz</th><th>Tendenz</th><th>Stadt</th><th>Index</th></tr>"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def pages_2022() -> list[bytes]:
    return [fixture(f"bitkom_2022_page{number}.html") for number in range(3)]


def edition_2022(cities_ranked: int | None = None) -> list[dict[str, Any]]:
    pages = pages_2022()
    return bitkom_rows({"Gesamtwertung": pages, "IT und Kommunikation": pages}, 2022,
                       cities_ranked, BITKOM_2022)


def one(rows: list[dict[str, Any]], city: str, area: str = "Gesamt",
        edition: int | None = None) -> dict[str, Any]:
    [row] = [r for r in rows if r["city"] == city and r["area"] == area
             and edition in (None, r["edition"])]
    return row


def page(*cells: tuple[str, ...], header: str = HEADER, extra: str = "") -> str:
    """A synthetic page with one table; ``cells`` are (Platz, Tendenz, Stadt, Index)."""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in cells)
    return f"<html><body><table>{header}{body}</table>{extra}</body></html>"


def synthetic(rank: int = 1, trend: str = "", score: str = "50,0") -> tuple[str, ...]:
    return str(rank), trend, f"Musterstadt {rank:02d} (synthetisch)", score


def haselhorst_csv(encoding: str = "cp1252") -> bytes:
    return fixture("haselhorst_2021_2023.csv").decode("cp1252").encode(encoding)


def german_csv(*lines: str) -> bytes:
    return "".join(line + "\r\n" for line in lines).encode("cp1252")


def xlsx(*rows: tuple[Any, ...], percent_column: int | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    if percent_column is not None:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=percent_column,
                                       max_col=percent_column):
            cell.number_format = "0.0%"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def haselhorst_xlsx() -> bytes:
    """As Excel shows it: 42,8 % stored as 0.428, the AGS as a number (leading
    zero lost); the synthetic row's percentage typed as text."""
    return xlsx(("Platz", "Stadt", "Smart-City-Grad", "AGS", "Städte"),
                (5, "Musterstadt 05 (synthetisch)", 0.451, None, 409),
                (6, GE, 0.428, 5513000, 409),
                (7, "Musterstadt 07 (synthetisch)", "41,9 %", "", 409),
                percent_column=3)


def message(error: pytest.ExceptionInfo[RankingFormatError]) -> str:
    return error.value.message_de


# --- Bitkom pages -----------------------------------------------------------------


@pytest.mark.parametrize("number, first_rank, count, has_next", [
    (0, 1, 10, True), (1, 11, 10, True), (2, 21, 5, False)])
def test_bitkom_pages_one_by_one(number, first_rank, count, has_next):
    result = parse_bitkom_page(pages_2022()[number], area="Gesamtwertung")
    assert [row.rank for row in result.rows] == list(range(first_rank, first_rank + count))
    assert result.has_next is has_next


def test_bitkom_page_as_text_and_area_by_heading():
    html = pages_2022()[0].decode("utf-8")
    assert parse_bitkom_page(html, area="IT und Kommunikation").rows[0] == BitkomRow(
        rank=1, trend="up", city=GE, score=None)
    assert parse_bitkom_page(html, area="Gesamtwertung").rows[0].city.endswith("(synthetisch)")


def test_bitkom_edition_2022_gelsenkirchen():
    rows = edition_2022()
    assert one(rows, GE) == {
        "ranking": BITKOM, "edition": 2022, "city": GE, "ags": None, "area": "Gesamt",
        "rank": 17, "score": 72.7, "cities_ranked": 25, "trend": "down",
        "source": BITKOM_2022}
    assert one(rows, GE, "IT und Kommunikation") | {"source": None} == {
        "ranking": BITKOM, "edition": 2022, "city": GE, "ags": None,
        "area": "IT und Kommunikation", "rank": 1, "score": None, "cities_ranked": 25,
        "trend": "up", "source": None}


def test_bitkom_edition_holds_every_place_of_each_area_once():
    rows = edition_2022()
    for area in ("Gesamt", "IT und Kommunikation"):
        assert sorted(r["rank"] for r in rows if r["area"] == area) == list(range(1, 26))


def test_bitkom_cities_ranked_given():
    assert {row["cities_ranked"] for row in edition_2022(cities_ranked=81)} == {81}


@pytest.mark.parametrize("label, area", [
    ("Gesamtwertung", "Gesamt"), ("Mobilität", "Mobilität"),
    ("IT & Kommunikation", "IT und Kommunikation"), ("Gesellschaft", "Gesellschaft"),
    ("gesellschaft  und bildung", "Gesellschaft und Bildung")])
def test_bitkom_area_labels(label, area):
    [row] = bitkom_rows({label: [page(synthetic())]}, 2024, None, "synthetic")
    assert row["area"] == area


@pytest.mark.parametrize("cell, trend", [
    ("+3", "up"), ("-2", "down"), ("\u22122", "down"), ("0", "same"), ("±0", "same"),
    ("▲", "up"), ("↑", "up"), ("steigend", "up"), ("▼", "down"), ("fallend", "down"),
    ("●", "same"), ("\u2013", "same"), ("=", "same"), ("unverändert", "same"),
    ("neu", "new"), ("Neu", "new"), ("", None),
    ('<span class="icon icon-arrow-up"></span>', "up"),
    ('<img src="trend.svg" alt="Tendenz: fallend">', "down"),
    ('<i title="gleichbleibend"></i>', "same"),
])
def test_trend_mapping(cell, trend):
    [row] = parse_bitkom_page(page(synthetic(trend=cell))).rows
    assert row.trend == trend


def test_trend_column_is_optional():
    header = "<tr><th> platz </th><th>STADT</th><th>Index</th></tr>"
    html = f"<table>{header}<tr><td>1</td><td>Musterstadt (synthetisch)</td><td>7</td></tr>"
    assert parse_bitkom_page(html).rows == (BitkomRow(1, None, "Musterstadt (synthetisch)", 7.0),)


@pytest.mark.parametrize("rank, score, expected", [
    ("17", "72,7", (17, 72.7)), ("17.", "72.7", (17, 72.7)), (" 3 ", "100", (3, 100.0))])
def test_bitkom_numbers(rank, score, expected):
    [row] = parse_bitkom_page(page((rank, "", "Musterstadt (synthetisch)", score))).rows
    assert (row.rank, row.score) == expected


@pytest.mark.parametrize("links, has_next", [
    ('<a href="?page=1" rel="next">weiter</a>', True),
    ('<a href="?page=1" rel="nofollow next">weiter</a>', True),
    ('<link rel="next" href="?page=1">', True),
    ('<a href="?page=0" rel="prev">zurück</a><a href="?page=0">1</a>', False),
    ('<a rel="next">weiter</a>', False),  # no target, no page
    ("", False),
])
def test_next_page_detection(links, has_next):
    assert parse_bitkom_page(page(synthetic(), extra=links)).has_next is has_next


@pytest.mark.parametrize("name, expected", [
    ("bitkom_renamed_header.html", ["Spalte „Platz“ fehlt", "Rang"]),
    ("bitkom_no_table.html", ["keine Tabelle"]),
    ("bitkom_empty_table.html", ["keine Zeilen"]),
    ("bitkom_bad_index.html", ["Zeile 4", "Index „k. A.“ ist keine Zahl"]),
])
def test_bad_bitkom_pages(name, expected):
    with pytest.raises(RankingFormatError) as error:
        parse_bitkom_page(fixture(name))
    assert all(part in message(error) for part in expected), message(error)


@pytest.mark.parametrize("html, expected", [
    (page(synthetic(), ("sieben", "", "Musterstadt 07 (synthetisch)", "1,0")),
     "Zeile 2: Platz „sieben“ ist keine ganze Zahl"),
    (page(("", "", "Musterstadt (synthetisch)", "1,0")), "Zeile 1: Platz fehlt"),
    (page(("1", "", "", "1,0")), "Zeile 1: Stadt fehlt"),
    (page(synthetic(score="100,1")), "Index 100,1 ist nicht erlaubt (0 bis 100)"),
    (page(synthetic(trend="?")), "Tendenz „?“ ist unbekannt"),
    (page(("1", "", "Musterstadt (synthetisch)")), "Zeile 1: Die Zeile hat nur 3 Zellen"),
    (page(synthetic(), header=HEADER.replace("Index", "Punkte")), "Spalte „Index“ fehlt"),
    ("<p>Wartungsarbeiten</p><table><tr><td>Menü</td></tr></table>",
     "keine Ranking-Tabelle"),
    ("   ", "Die Seite ist leer"),
])
def test_bad_bitkom_cells(html, expected):
    with pytest.raises(RankingFormatError) as error:
        parse_bitkom_page(html)
    assert expected in message(error)


def test_page_of_several_areas_needs_the_area():
    with pytest.raises(RankingFormatError) as error:
        parse_bitkom_page(pages_2022()[0])
    assert "2 Ranking-Tabellen" in message(error)
    with pytest.raises(RankingFormatError) as error:
        parse_bitkom_page(pages_2022()[0], area="Mobilität")
    assert "keine Tabelle für den Bereich „Mobilität“" in message(error)


def test_duplicate_city_on_a_page():
    with pytest.raises(RankingFormatError) as error:
        bitkom_rows({"Mobilität": [fixture("bitkom_duplicate_city.html")]}, 2022, None, "s")
    assert message(error) == ("Die Stadt „Musterstadt 02 (synthetisch)“ steht im Bereich "
                              "„Mobilität“ der Ausgabe 2022 mehrfach.")


def test_duplicate_city_across_pages():
    pages = pages_2022()
    with pytest.raises(RankingFormatError) as error:
        bitkom_rows({"Gesamtwertung": [*pages, pages[2]]}, 2022, None, BITKOM_2022)
    assert "„Musterstadt 20 (synthetisch)“ steht im Bereich „Gesamt“" in message(error)


@pytest.mark.parametrize("pages, expected", [
    ({"Gesamtwertung": pages_2022()[:2]}, "Seite 2 verweist auf eine weitere Seite"),
    ({"Gesamtwertung": []}, "keine Seite"),
    ({"Digitalisierung": pages_2022()}, "Unbekannter Bereich „Digitalisierung“"),
    ({"Gesamtwertung": [pages_2022()[0], fixture("bitkom_bad_index.html")]},
     "Bereich „Gesamtwertung“, Seite 2: Zeile 4: Index „k. A.“ ist keine Zahl"),
])
def test_bad_bitkom_editions(pages, expected):
    with pytest.raises(RankingFormatError) as error:
        bitkom_rows(pages, 2022, None, BITKOM_2022)
    assert expected in message(error)


# --- CSV and XLSX -----------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8", "utf-8-sig"])
def test_haselhorst_german_csv(encoding):
    rows = parse_table(haselhorst_csv(encoding), "haselhorst.csv", HASELHORST, None,
                       HASELHORST_SOURCE)
    assert len(rows) == 14
    assert one(rows, GE, edition=2021) == {
        "ranking": HASELHORST, "edition": 2021, "city": GE, "ags": AGS_GE, "area": "Gesamt",
        "rank": 6, "score": None, "cities_ranked": 403, "trend": None,
        "source": HASELHORST_SOURCE}
    ge_2023 = one(rows, GE, edition=2023)
    assert (ge_2023["rank"], ge_2023["score"], ge_2023["cities_ranked"]) == (6, 42.8, 409)
    assert one(rows, "Überstadt 05 (synthetisch)", edition=2023)["score"] == 60.2


def test_bitkom_english_csv():
    rows = parse_table(fixture("bitkom_2022_en.csv"), "bitkom.CSV", BITKOM, 2022, BITKOM_2022)
    assert one(rows, GE) | {"source": None} == {
        "ranking": BITKOM, "edition": 2022, "city": GE, "ags": AGS_GE, "area": "Gesamt",
        "rank": 17, "score": 72.7, "cities_ranked": 81, "trend": "down", "source": None}
    it = one(rows, GE, "IT und Kommunikation")
    assert (it["rank"], it["score"], it["trend"]) == (1, None, "up")


@pytest.mark.parametrize("value", ["42,8 %", "42,8%", "42.8", "42.8 %", " 42,80 "])
def test_percent_values(value):
    [row] = parse_table(german_csv("Platz;Stadt;Smart-City-Grad", f"6;{GE};{value}"),
                        "h.csv", HASELHORST, 2023, "s")
    assert row["score"] == 42.8


def test_defaults_without_optional_columns():
    [row] = parse_table(b"rank,city,score\n3,Musterstadt (synthetisch),\n", "t.csv",
                        BITKOM, 2023, "s")
    assert (row["area"], row["edition"], row["score"], row["ags"], row["cities_ranked"],
            row["trend"]) == ("Gesamt", 2023, None, None, None, None)


@pytest.mark.parametrize("cell, ags", [("05513000", AGS_GE), ("5513000", AGS_GE), ("", None)])
def test_ags_keeps_leading_zero(cell, ags):
    [row] = parse_table(german_csv("Platz;Stadt;Index;AGS", f"6;{GE};;{cell}"), "g.csv",
                        HASELHORST, 2023, "s")
    assert row["ags"] == ags


def test_haselhorst_xlsx():
    rows = parse_table(haselhorst_xlsx(), "haselhorst.xlsx", HASELHORST, 2023,
                       HASELHORST_SOURCE)
    assert one(rows, GE) == {
        "ranking": HASELHORST, "edition": 2023, "city": GE, "ags": AGS_GE, "area": "Gesamt",
        "rank": 6, "score": 42.8, "cities_ranked": 409, "trend": None,
        "source": HASELHORST_SOURCE}
    assert [row["score"] for row in rows] == [45.1, 42.8, 41.9]


def test_xlsx_with_text_cells_and_areas():
    data = xlsx(("Bereich", "Platz", "Stadt", "Punkte", "Tendenz", "Ausgabe", "AGS"),
                ("Mobilität", "4", "Musterstadt (synthetisch)", "61,3", "▲", "2022", None),
                ("Gesamtwertung", 17, GE, 72.7, "-6", 2022, AGS_GE))
    rows = parse_table(data, "bitkom.xlsx", BITKOM, None, BITKOM_2022)
    assert [(r["area"], r["rank"], r["score"], r["trend"], r["edition"], r["ags"])
            for r in rows] == [("Mobilität", 4, 61.3, "up", 2022, None),
                               ("Gesamt", 17, 72.7, "down", 2022, AGS_GE)]


SYNTHETIC_ROW = "6;Musterstadt (synthetisch);42,8"


@pytest.mark.parametrize("lines, edition, expected", [
    (["Platz;Index", "6;42,8"], 2023, "Spalte „Stadt“, „city“ fehlt (gefundene Spalten: "
                                      "Platz, Index)"),
    (["Platz;Stadt;Note", "6;Musterstadt (synthetisch);2"], 2023,
     "Spalte „Index“, „Punkte“, „score“, „Smart-City-Grad“ fehlt"),
    (["Platz;Stadt;Index", "sechs;Musterstadt (synthetisch);42,8"], 2023,
     "Zeile 2: Platz „sechs“ ist keine ganze Zahl"),
    (["Platz;Stadt;Smart-City-Grad", "6;Musterstadt (synthetisch);viel"], 2023,
     "Zeile 2: Smart-City-Grad „viel“ ist keine Zahl"),
    (["Platz;Stadt;Index", "6;Musterstadt (synthetisch);142"], 2023,
     "Index 142 ist nicht erlaubt"),
    (["Platz;Stadt;Index", "0;Musterstadt (synthetisch);1"], 2023,
     "Platz 0 ist nicht erlaubt (mindestens 1)"),
    (["Platz;Stadt;Index", SYNTHETIC_ROW, "7;musterstadt (synthetisch);40,0"], 2023,
     "Die Stadt „musterstadt (synthetisch)“ steht im Bereich „Gesamt“ der Ausgabe 2023 "
     "mehrfach."),
    (["Platz;Stadt;Index", SYNTHETIC_ROW], None, "Spalte „Jahr“"),
    (["Jahr;Platz;Stadt;Index", "2021;" + SYNTHETIC_ROW], 2023,
     "Zeile 2: Jahr 2021 widerspricht der angegebenen Ausgabe 2023"),
    (["Jahr;Platz;Stadt;Index", "1999;" + SYNTHETIC_ROW], None, "Jahr 1999 ist nicht erlaubt"),
    (["Bereich;Platz;Stadt;Index", "Digitalisierung;" + SYNTHETIC_ROW], 2023,
     "Zeile 2: Unbekannter Bereich „Digitalisierung“"),
    (["Platz;Stadt;Index;AGS", SYNTHETIC_ROW + ";5513"], 2023,
     "AGS „5513“ ist kein achtstelliger Gemeindeschlüssel"),
    (["Platz;Stadt;Index;Tendenz", SYNTHETIC_ROW + ";irgendwie"], 2023,
     "Tendenz „irgendwie“ ist unbekannt"),
    (["Platz;Stadt;Index;Stadt", SYNTHETIC_ROW + ";x"], 2023, "„Stadt“ kommt mehrfach vor"),
    (["Platz;Stadt;Index"], 2023, "keine Zeilen"),
    ([""], 2023, "Die Datei ist leer"),
])
def test_bad_tables(lines, edition, expected):
    with pytest.raises(RankingFormatError) as error:
        parse_table(german_csv(*lines), "ranking.csv", HASELHORST, edition, "s")
    assert expected in message(error)


@pytest.mark.parametrize("data, filename, ranking, expected", [
    (b"Platz;Stadt;Index\r\n", "ranking.pdf", HASELHORST, "Dateiformat von „ranking.pdf“"),
    (b"no zip", "ranking.xlsx", HASELHORST, "XLSX-Datei lässt sich nicht lesen"),
    (b"Platz;Stadt;Index\r\n", "ranking.csv", "Ein anderes Ranking",
     "Unbekanntes Ranking „Ein anderes Ranking“"),
])
def test_bad_files(data, filename, ranking, expected):
    with pytest.raises(RankingFormatError) as error:
        parse_table(data, filename, ranking, 2023, "s")
    assert expected in message(error)


# --- the rows fit the Table Schema ------------------------------------------------


@pytest.mark.parametrize("rows", [
    pytest.param(edition_2022, id="bitkom-pages"),
    pytest.param(lambda: parse_table(haselhorst_csv(), "h.csv", HASELHORST, None,
                                     HASELHORST_SOURCE), id="haselhorst-csv"),
    pytest.param(lambda: parse_table(fixture("bitkom_2022_en.csv"), "b.csv", BITKOM, None,
                                     BITKOM_2022), id="bitkom-csv"),
    pytest.param(lambda: parse_table(haselhorst_xlsx(), "h.xlsx", HASELHORST, 2023,
                                     HASELHORST_SOURCE), id="haselhorst-xlsx"),
])
def test_rows_pass_frictionless(tmp_path, rows):
    assert_valid_rows(tmp_path, rows(), "ranking")
