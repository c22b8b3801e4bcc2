"""The broadband parser: Breitbandatlas files in each published layout become
rows of ``broadband.json`` for one area; a broken file fails with a German
message naming row and column.

Fixtures: ``fixtures/broadband/README.md`` lists them; every percentage is
synthetic, Gelsenkirchen's included."""
from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from schema_check import assert_valid_rows

from ckanext.vernetztestadt.harvest.formats.broadband import (
    BroadbandFormatError,
    Parsed,
    detect_layout,
    parse,
)

FIXTURES = Path(__file__).parent / "fixtures" / "broadband"
SCHEMA = Path(__file__).parents[2] / "schemas" / "tables" / "broadband.json"
AGS_GE = "05513000"
GE = "Gelsenkirchen"
DAY = "2025-06-30"
SOURCE = "Breitbandatlas (synthetisch)"
FIELDS = ["ags", "area_name", "reference_date", "technology", "min_mbit", "households_pct",
          "source"]
EN_DASH, EM_DASH = "\u2013", "\u2014"
SPEEDS = ["≥ 16 Mbit/s", "≥ 100 Mbit/s", "≥ 1000 Mbit/s"]


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def values(parsed: Parsed, ags: str = AGS_GE) -> dict[tuple[str, int], float]:
    """(technology, min_mbit) -> households_pct of one area."""
    return {(r["technology"], r["min_mbit"]): r["households_pct"] for r in parsed.rows
            if r["ags"] == ags}


def message(error: pytest.ExceptionInfo[BroadbandFormatError]) -> str:
    return error.value.message_de


def workbook(sheets: dict[str, list[tuple[Any, ...]]], percent_from_row: int = 0) -> bytes:
    """An XLSX file; numbers below 1 from ``percent_from_row`` on are shown as
    percent (0.884 as 88,4 %), as the Breitbandatlas stores them."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        if percent_from_row:
            for cells in sheet.iter_rows(min_row=percent_from_row):
                for cell in cells:
                    if isinstance(cell.value, float) and cell.value <= 1:
                        cell.number_format = "0.0%"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def bba_sheet(households: bool = True) -> list[tuple[Any, ...]]:
    """A sheet as in ``bba_12_2025.xlsx``: title, the dates, a group row naming
    the technology of each block over speed-only headers, and a last column
    whose header names technology and speed itself. Figures are synthetic;
    the Fläche sheet gets other ones, to show it is not read."""
    scale = 1.0 if households else 0.5
    ge = [round(v * scale, 3) for v in (0.999, 0.978, 0.884, 0.217, 0.853)]
    return [
        ("Breitbandatlas: Verfügbarkeit (synthetische Testdaten)",),
        ("Festnetz: 12.2025", None, "Mobilfunk: 10.2025"),
        (None, None, None, "alle Technologien", None, None, "FTTH/B", None, "HFC/Kabel"),
        ("AGS", "Name", "Verwaltungsebene", *SPEEDS, "≥ 100 Mbit/s", "≥ 1000 Mbit/s",
         "≥ 1000 Mbit/s", "5G ≥ 100 Mbit/s"),
        ("05", "Nordrhein-Westfalen", "2 - Land", 0.99, 0.95, 0.8, 0.3, 0.25, 0.7, 0.9),
        ("05513", GE, "3 - Kreis", 0.998, 0.977, 0.883, "-", 0.216, 0.852, 0.95),
        # the AGS as a number: Excel dropped the leading zero
        (5513000, GE, "4 - Gemeinde", ge[0], ge[1], ge[2], EN_DASH, ge[3], ge[4], "95,1"),
        ("05999001", "Musterstadt 01 (synthetisch)", "4 - Gemeinde", 98.1, 90.2, 60.3,
         EM_DASH, None, 55.0, 80),
        ("Quelle: Breitbandatlas, synthetische Testdaten",),
    ]


def bba_xlsx(**replace: list[tuple[Any, ...]]) -> bytes:
    sheets = {"Privathaushalte": bba_sheet(), "Fläche": bba_sheet(households=False),
              "Schulen": bba_sheet(households=False),
              "Krankenhäuser": bba_sheet(households=False),
              "Unternehmen": bba_sheet(households=False)}
    return workbook({**sheets, **replace}, percent_from_row=5)


def german_csv(*lines: str) -> bytes:
    return "".join(line + "\n" for line in lines).encode("utf-8")


GERMAN_HEADER = '"AGS";"Gemeinde";"alle Technologien ≥ 16 Mbit/s";"FTTH/B ≥ 1000 Mbit/s"'


# --- layouts ----------------------------------------------------------------------


@pytest.mark.parametrize("name, layout", [
    ("german_semicolon.csv", "german_csv"), ("german_comma.csv", "german_csv"),
    ("coded.csv", "coded_csv"), ("legacy.csv", "legacy_csv"),
    ("mobile_long.csv", "mobile_long")])
def test_detect_csv_layouts(name, layout):
    assert detect_layout(fixture(name)) == layout


def test_detect_xlsx_by_content():
    assert detect_layout(bba_xlsx()) == "xlsx"


def test_detect_legacy_with_header_after_a_title_line():
    data = german_csv("Breitbandatlas Export", "AGS;300_16", f"{AGS_GE};99,5")
    assert detect_layout(data) == "legacy_csv"
    assert values(parse(data, reference_date=DAY)) == {("all", 16): 99.5}


# --- german_csv -------------------------------------------------------------------


GERMAN_GE = {("all", 16): 99.9, ("all", 30): 99.6, ("all", 50): 99.2, ("all", 100): 97.8,
             ("all", 1000): 88.4, ("wired", 50): 98.9, ("wired", 1000): 87.1,
             ("ftth_b", 1000): 21.7, ("fttc", 50): 62.4, ("hfc", 1000): 85.3}


def test_german_csv_semicolon():
    parsed = parse(fixture("german_semicolon.csv"), reference_date=DAY, source=SOURCE)
    assert values(parsed) == GERMAN_GE
    assert parsed.rows[0] == {"ags": AGS_GE, "area_name": GE, "reference_date": DAY,
                              "technology": "all", "min_mbit": 16, "households_pct": 99.9,
                              "source": SOURCE}
    assert [(r["technology"], r["min_mbit"]) for r in parsed.rows] == list(GERMAN_GE)
    assert parsed.reference_date == DAY
    assert parsed.skipped == {}


def test_german_csv_comma_gives_the_same_rows():
    semicolon = parse(fixture("german_semicolon.csv"), reference_date=DAY)
    comma = parse(fixture("german_comma.csv"), reference_date=DAY)
    assert b'","' in fixture("german_comma.csv")
    assert comma == semicolon


@pytest.mark.parametrize("header, key", [
    ("alle Technologien >= 16 Mbit/s", ("all", 16)),
    ("Leitungsgebunden ≥50 Mbit/s", ("wired", 50)),
    ("drahtlos/mobil ≥ 6 Mbit/s", ("wireless", 6)),
    ("mobil ≥ 6 Mbit/s", ("wireless", 6)),
    ("FTTC/VDSL ≥ 50 Mbit/s", ("fttc", 50)),
    ("Kabel ≥ 1 Gbit/s", ("hfc", 1000)),
    ("DSL ≥ 16 Mbit/s", ("dsl", 16)),
    ("LTE ≥ 2 Mbit/s", ("lte", 2)),
    ("5G ≥ 100 Mbit/s", ("5g", 100)),
    ("5G SA ≥ 100 Mbit/s", ("5g_sa", 100)),
    ("WiMAX ≥ 50 Mbit/s", ("wimax", 50)),
    # as the published municipality tables (end of 2018 and 2020) write them
    ("leitungsg. Technologien ≥ 1000 Mbit/s", ("wired", 1000)),
    ("mobile Technologien ≥ 6 Mbit/s", ("wireless", 6)),
    ("CATV ≥ 400 Mbit/s", ("hfc", 400)),
])
def test_german_header_labels(header, key):
    parsed = parse(german_csv(f"AGS;{header}", f"{AGS_GE};42.5"), reference_date=DAY)
    assert values(parsed) == {key: 42.5}
    assert parsed.rows[0]["area_name"] == AGS_GE  # no name column: the AGS


def test_an_area_name_names_the_selected_area_of_a_file_without_names():
    data = german_csv("AGS;alle Technologien ≥ 16 Mbit/s", f"{AGS_GE};99.5",
                      "05999001;80.0", "05999002;70.0")
    named = parse(data, reference_date=DAY, area_name=GE)
    assert [r["area_name"] for r in named.rows] == [GE]
    # in a district each municipality keeps its key; a name column wins
    district = parse(data, ags="05999", reference_date=DAY, area_name="Kreis 05999")
    assert sorted(r["area_name"] for r in district.rows) == ["05999001", "05999002"]
    written = parse(fixture("german_semicolon.csv"), reference_date=DAY, area_name="anders")
    assert {r["area_name"] for r in written.rows} == {GE}


# --- coded_csv and legacy_csv -------------------------------------------------------


def test_coded_csv():
    data = fixture("coded.csv")
    parsed = parse(data, reference_date=DAY, source=SOURCE)
    assert values(parsed) == {
        ("all", 1): 100.0, ("all", 16): 99.8, ("all", 50): 99.2, ("all", 1000): 88.4,
        ("wired", 50): 98.9, ("wireless", 16): 99.9, ("ftth_b", 1000): 21.7,
        ("fttc", 50): 62.4, ("hfc", 1000): 85.3, ("dsl", 16): 71.5, ("lte", 2): 100.0,
        ("5g", 2): 97.4, ("5g_sa", 2): 61.2}
    # AGS 5513000 as written lost its zero; no name column: the AGS names the area
    assert {(r["ags"], r["area_name"]) for r in parsed.rows} == {(AGS_GE, AGS_GE)}
    assert parsed.skipped == {"unbekannte Spalte": 1}  # verf_sat_30


def test_coded_csv_empty_and_dash_cells():
    parsed = parse(fixture("coded.csv"), ags="05999002", reference_date=DAY)
    assert len(parsed.rows) == 13 - 4  # known columns minus "-" and three empty cells
    assert parsed.skipped == {"unbekannte Spalte": 1, "kein Wert": 4}
    assert ("all", 50) not in values(parsed, "05999002")


def test_legacy_csv():
    data = fixture("legacy.csv")
    assert b"\r\n" in data and b"99,5" in data
    parsed = parse(data, source=SOURCE)
    assert values(parsed) == {
        ("all", 1): 100.0, ("all", 2): 100.0, ("all", 6): 99.9, ("all", 16): 99.5,
        ("all", 30): 98.7, ("all", 50): 97.2, ("wired", 50): 96.8, ("wireless", 6): 45.3,
        ("fttc", 50): 60.1, ("hfc", 400): 83.0, ("lte", 2): 99.0, ("wimax", 50): 0.0}
    assert parsed.reference_date == "2019-12-31"  # from the Stichtag column
    assert {r["area_name"] for r in parsed.rows} == {GE}


def test_file_date_wins_over_the_argument():
    assert parse(fixture("legacy.csv"), reference_date=DAY).reference_date == "2019-12-31"


def test_legacy_windows_1252_names():
    parsed = parse(fixture("legacy.csv"), ags="05999004")
    assert parsed.rows[0]["area_name"] == "Musterstadt 04 Süd (synthetisch)"


# --- xlsx ------------------------------------------------------------------------


def test_xlsx_households_sheet():
    parsed = parse(bba_xlsx(), source=SOURCE)
    assert parsed.reference_date == "2025-12-31"  # Festnetz: 12.2025, not Mobilfunk
    assert values(parsed) == {("all", 16): 99.9, ("all", 100): 97.8, ("all", 1000): 88.4,
                              ("ftth_b", 1000): 21.7, ("hfc", 1000): 85.3, ("5g", 100): 95.1}
    assert {(r["ags"], r["area_name"], r["reference_date"]) for r in parsed.rows} == {
        (AGS_GE, GE, "2025-12-31")}
    assert parsed.skipped == {"kein Wert": 1}  # FTTH/B ≥ 100 Mbit/s: en dash


def test_xlsx_plain_percentages_and_dashes():
    parsed = parse(bba_xlsx(), ags="05999001")
    assert values(parsed, "05999001") == {
        ("all", 16): 98.1, ("all", 100): 90.2, ("all", 1000): 60.3, ("hfc", 1000): 55.0,
        ("5g", 100): 80.0}
    assert parsed.skipped == {"kein Wert": 2}  # em dash and an empty cell


@pytest.mark.parametrize("note, expected", [
    ("Stand: 12/2025", "2025-12-31"), ("Mobilfunk: 02.2024", "2024-02-29"),
    ("Stand: 30.06.2025", "2025-06-30")])
def test_xlsx_date_notes(note, expected):
    sheet = bba_sheet()
    sheet[1] = (note,)
    assert parse(bba_xlsx(Privathaushalte=sheet)).reference_date == expected


def test_xlsx_headers_with_technology_and_no_group_row():
    sheet = [("Festnetz: 06.2025",),
             ("AGS", "Name", "Verwaltungsebene", "alle Technologien ≥ 16 Mbit/s",
              "FTTH/B ≥ 1000 Mbit/s"),
             (AGS_GE, GE, "4 - Gemeinde", 0.999, 0.217)]
    data = workbook({"Privathaushalte": sheet}, percent_from_row=3)
    parsed = parse(data)
    assert values(parsed) == {("all", 16): 99.9, ("ftth_b", 1000): 21.7}
    assert parsed.reference_date == "2025-06-30"


def test_xlsx_district_row_with_the_municipality_key_is_not_taken():
    sheet = [("AGS", "Name", "Verwaltungsebene", "alle Technologien ≥ 16 Mbit/s"),
             (AGS_GE, "Gelsenkirchen (Kreis)", "3 - Kreis", 50.0),
             (AGS_GE, GE, "4 - Gemeinde", 99.9)]
    parsed = parse(workbook({"Privathaushalte": sheet}), reference_date=DAY)
    assert [(r["area_name"], r["households_pct"]) for r in parsed.rows] == [(GE, 99.9)]


def test_xlsx_message_names_sheet_row_and_group():
    sheet = bba_sheet()
    sheet[6] = (AGS_GE, GE, "4 - Gemeinde", 0.9, 0.9, 0.9, "k. A.", 0.2, 0.8, 0.9)
    with pytest.raises(BroadbandFormatError) as error:
        parse(bba_xlsx(Privathaushalte=sheet))
    assert message(error) == ("Blatt „Privathaushalte“, Zeile 7, Spalte „FTTH/B ≥ 100 "
                              "Mbit/s“: „k. A.“ ist keine Zahl.")


# --- mobile_long -------------------------------------------------------------------


def test_mobile_long():
    data = fixture("mobile_long.csv")
    parsed = parse(data, reference_date=DAY, source=SOURCE)
    assert values(parsed) == {("lte", 0): 99.8, ("5g", 0): 97.4, ("5g", 100): 88.0,
                              ("5g_sa", 0): 61.2}
    assert parsed.reference_date == DAY
    assert parsed.skipped == {"Technologie nicht im Schema": 1, "keine Haushalte": 2}


def test_mobile_long_lte_and_dash():
    parsed = parse(fixture("mobile_long.csv"), ags="05999001", reference_date=DAY)
    assert values(parsed, "05999001") == {("lte", 0): 95.0}
    assert parsed.skipped == {"kein Wert": 1, "keine Haushalte": 1}


def test_mobile_long_unknown_technology():
    data = german_csv("AGS;Technologie;Flaechenart;Verfügbarkeit",
                      f"{AGS_GE};6G;Haushalte;10,0")
    with pytest.raises(BroadbandFormatError) as error:
        parse(data, reference_date=DAY)
    assert message(error).startswith("Zeile 2: Technologie „6G“ ist unbekannt")


# --- selecting the area ------------------------------------------------------------


def test_district_prefix_selects_each_municipality():
    parsed = parse(fixture("german_semicolon.csv"), ags="05999", reference_date=DAY)
    assert sorted({(r["ags"], r["area_name"]) for r in parsed.rows}) == [
        ("05999001", "Musterstadt 01 (synthetisch)"), ("05999002", "Musterstadt 02 (synthetisch)"),
        ("05999003", "Musterstadt 03 (synthetisch)")]
    assert len(parsed.rows) == 27 and parsed.skipped == {"kein Wert": 3}
    assert [r["ags"] for r in parsed.rows] == sorted(r["ags"] for r in parsed.rows)


def test_district_prefix_of_a_district_free_city():
    parsed = parse(fixture("german_semicolon.csv"), ags="05513", reference_date=DAY)
    assert values(parsed) == GERMAN_GE  # only 8-digit keys: the city's own rows


def test_district_key_row_wins_over_municipalities():
    coded = parse(fixture("coded.csv"), ags="05513", reference_date=DAY)
    assert {r["ags"] for r in coded.rows} == {"05513"}
    assert values(coded, "05513")[("all", 16)] == 99.7
    xlsx = parse(bba_xlsx(), ags="05513")
    assert {(r["ags"], r["area_name"]) for r in xlsx.rows} == {("05513", GE)}
    assert values(xlsx, "05513")[("all", 1000)] == 88.3


@pytest.mark.parametrize("ags", ["5513000", " 05513000 "])
def test_ags_argument_is_padded(ags):
    assert values(parse(fixture("coded.csv"), ags=ags, reference_date=DAY))[("all", 1)] == 100


def test_ags_cells_quoted_or_numeric():
    data = german_csv('AGS;alle Technologien ≥ 16 Mbit/s', '"05513000";99.9',
                      "5999001;98.1")
    assert values(parse(data, reference_date=DAY)) == {("all", 16): 99.9}
    assert values(parse(data, ags="05999001", reference_date=DAY), "05999001") == {
        ("all", 16): 98.1}


# --- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize("data, kwargs, expected", [
    (b"Name;Einwohner\nMusterstadt (synthetisch);1000\n", {}, "Unbekanntes Layout"),
    (b"", {}, "Unbekanntes Layout: die Datei ist leer"),
    (german_csv('"Gemeinde";"alle Technologien ≥ 16 Mbit/s"', f"{GE};99.9"), {},
     "Die Spalte „AGS“, „Gemeindeschlüssel“, „Amtlicher Gemeindeschlüssel“ fehlt "
     "(gefundene Spalten: Gemeinde, alle Technologien ≥ 16 Mbit/s)"),
    (fixture("german_semicolon.csv"), {"ags": "05999999"},
     "Der Gemeindeschlüssel „05999999“ kommt in der Datei nicht vor."),
    (fixture("german_semicolon.csv"), {"ags": "05998"},
     "Der Kreisschlüssel „05998“ kommt in der Datei nicht vor."),
    (german_csv(GERMAN_HEADER, f'"{AGS_GE}";"{GE}";101;20'), {},
     "Zeile 2, Spalte „alle Technologien ≥ 16 Mbit/s“: 101 % liegt nicht zwischen 0 und "
     "100 %."),
    (german_csv(GERMAN_HEADER, f'"{AGS_GE}";"{GE}";99.9;-0.5'), {},
     "Spalte „FTTH/B ≥ 1000 Mbit/s“: -0,5 % liegt nicht"),
    (german_csv(GERMAN_HEADER, f'"{AGS_GE}";"{GE}";99.9;n/a'), {},
     "Zeile 2, Spalte „FTTH/B ≥ 1000 Mbit/s“: „n/a“ ist keine Zahl."),
    (german_csv(GERMAN_HEADER, f'"{AGS_GE}";"{GE}";99.9;20', f'"{AGS_GE}";"{GE}";99.8;20'),
     {}, "AGS 05513000: Technologie „all“ mit Mindestwert 16 steht doppelt (Zeile 2, "
         "Spalte „alle Technologien ≥ 16 Mbit/s“; Zeile 3, Spalte „alle Technologien ≥ 16 "
         "Mbit/s“)."),
    (german_csv("AGS;alle Technologien ≥ 16 Mbit/s;alle Technologien >= 16 Mbit/s",
                f"{AGS_GE};99.9;99.9"), {}, "Technologie „all“ mit Mindestwert 16 steht doppelt"),
    (german_csv("AGS;Stichtag;300_16", f"{AGS_GE};irgendwann;99,5"), {},
     "Zeile 2, Spalte „Stichtag“: „irgendwann“ ist kein Datum."),
    (german_csv("AGS;Datum;300_16", f"{AGS_GE};31.12.2024;99,5", f"{AGS_GE};30.06.2025;98"),
     {}, "mehrere Stichtage (2024-12-31, 2025-06-30)"),
    (fixture("coded.csv"), {"layout": "legacy_csv"},
     "Keine bekannte Spalte mit Verfügbarkeiten für das Layout „legacy_csv“"),
    (fixture("coded.csv"), {"layout": "pdf"}, "Unbekanntes Layout „pdf“"),
    (fixture("coded.csv"), {"layout": "xlsx"},
     "Die Datei passt nicht zum Layout „xlsx“: sie ist keine XLSX-Datei."),
    (german_csv("AGS;Technologie;Verfügbarkeit", f"{AGS_GE};5G;90"), {},
     "Die Spalte „Flaechenart“, „Flaechen Gruppe Name“ fehlt"),
    (fixture("coded.csv"), {"ags": "Gelsenkirchen"}, "„Gelsenkirchen“ ist weder ein "
                                                     "Gemeindeschlüssel"),
    (fixture("coded.csv"), {"reference_date": "31.12.2025"},
     "Der Stichtag „31.12.2025“ ist kein Datum (JJJJ-MM-TT)."),
])
def test_bad_csv(data, kwargs, expected):
    with pytest.raises(BroadbandFormatError) as error:
        parse(data, **{"reference_date": DAY, **kwargs})
    assert expected in message(error), message(error)


def test_unknown_layout_from_detect():
    with pytest.raises(BroadbandFormatError) as error:
        detect_layout(b"Name;Einwohner\nMusterstadt (synthetisch);1000\n")
    assert message(error).startswith("Unbekanntes Layout")
    assert "erste Zeile: Name; Einwohner" in message(error)


def test_no_reference_date_anywhere():
    with pytest.raises(BroadbandFormatError) as error:
        parse(fixture("german_semicolon.csv"))
    assert message(error).startswith("Kein Stichtag")


def test_xlsx_without_households_sheet():
    data = workbook({"Fläche": bba_sheet(households=False), "Schulen": bba_sheet()})
    with pytest.raises(BroadbandFormatError) as error:
        parse(data)
    assert message(error) == ("Das Tabellenblatt „Privathaushalte“ fehlt (gefundene Blätter: "
                              "Fläche, Schulen); nur dieses Blatt zählt Haushalte.")


def test_xlsx_without_ags_header():
    data = workbook({"Privathaushalte": [("Name", "alle Technologien ≥ 16 Mbit/s"),
                                         (GE, 99.9)]})
    with pytest.raises(BroadbandFormatError) as error:
        parse(data, reference_date=DAY)
    assert "keine Kopfzeile mit der Spalte „AGS“" in message(error)


def test_broken_xlsx():
    with pytest.raises(BroadbandFormatError) as error:
        parse(b"PK\x03\x04 not really a workbook")
    assert "XLSX-Datei lässt sich nicht lesen" in message(error)


def test_other_municipalities_are_not_checked():
    """A broken cell elsewhere must not stop the city's harvest."""
    data = german_csv(GERMAN_HEADER, '"05999001";"Musterstadt (synthetisch)";n/a;101',
                      f'"{AGS_GE}";"{GE}";99.9;21.7')
    assert values(parse(data, reference_date=DAY)) == {("all", 16): 99.9,
                                                       ("ftth_b", 1000): 21.7}


# --- size and schema ------------------------------------------------------------------


def test_large_csv_in_one_pass():
    header = "ags;" + ";".join(f"verf_{code}_{n}" for code in (300, 100, 200)
                               for n in (16, 50, 100, 1000))
    lines = [header] + [f"{5900000 + i};" + ";".join(["98,5"] * 12) for i in range(50_000)]
    lines.insert(25_000, f"{AGS_GE};" + ";".join(["42,25"] * 12))
    data = german_csv(*lines)
    started = time.perf_counter()
    parsed = parse(data, reference_date=DAY)
    elapsed = time.perf_counter() - started
    assert len(parsed.rows) == 12 and {r["households_pct"] for r in parsed.rows} == {42.25}
    prefix = parse(data, ags="05900", reference_date=DAY)
    assert len(prefix.rows) == 1000 * 12  # 05900000 ... 05900999
    assert elapsed < 10, f"{elapsed:.1f} s for 50,000 rows"


@pytest.mark.parametrize("produce", [
    pytest.param(lambda: parse(fixture("german_semicolon.csv"), ags="05999",
                               reference_date=DAY, source=SOURCE), id="german"),
    pytest.param(lambda: parse(fixture("coded.csv"), reference_date=DAY, source=SOURCE),
                 id="coded"),
    pytest.param(lambda: parse(fixture("legacy.csv"), source=SOURCE), id="legacy"),
    pytest.param(lambda: parse(bba_xlsx(), source=SOURCE), id="xlsx"),
    pytest.param(lambda: parse(fixture("mobile_long.csv"), reference_date=DAY,
                               source=SOURCE), id="mobile"),
])
def test_rows_pass_frictionless(tmp_path, produce):
    assert_valid_rows(tmp_path, produce().rows, "broadband")
