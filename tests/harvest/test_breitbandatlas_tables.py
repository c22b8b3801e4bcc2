"""The published Breitbandatlas municipality tables of private households
(end of 2018 and end of 2020) through the broadband parser: each whole
national file is read in its own layout and gives Gelsenkirchen's published
figures; the shipped snapshots give exactly the city's rows of those files.

The national files are not part of the project. They are read from
``../shared/data/breitbandatlas/`` beside the checkout (its README names
the source and the attribution „Breitbandatlas | Gigabit-Grundbuch“); tests
that need them skip, naming the reason, where they are absent. The snapshot
tests run everywhere."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from schema_check import assert_valid_rows

from ckanext.vernetztestadt import resources
from ckanext.vernetztestadt.harvest.formats.broadband import Parsed, parse

NATIONAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "breitbandatlas"
SNAPSHOTS = resources.harvesters_dir() / "snapshots"
GE, MUNICH, BERLIN = "05513000", "09162000", "11000000"
SOURCE = "Breitbandatlas | Gigabit-Grundbuch (https://gigabitgrundbuch.bund.de)"


@dataclass(frozen=True)
class Table:
    national: str  # file name in NATIONAL
    snapshot: str  # file name in SNAPSHOTS
    day: str  # the reference date the shipped source gives
    lines: int  # data rows of the national file
    columns: int  # value columns, all of them known
    gelsenkirchen: dict[tuple[str, int], float]  # published figures
    munich_gigabit: float  # all technologies ≥ 1000 Mbit/s


END_2018 = Table(
    "gemeinde_privat_2018_ende.csv", "breitbandatlas_gelsenkirchen_2018_ende.csv",
    "2018-12-31", 11_330, 45,
    {("all", 1000): 6.0, ("all", 50): 98.0, ("all", 400): 90.0, ("wired", 1000): 6.0,
     ("wireless", 6): 99.0, ("dsl", 50): 91.0, ("hfc", 1000): 0.0, ("ftth_b", 1000): 6.0},
    89.0)
END_2020 = Table(
    "gemeinde_bezirke_privat_2020_ende.csv", "breitbandatlas_gelsenkirchen_2020_ende.csv",
    "2020-12-31", 11_388, 53,
    {("all", 1000): 81.18, ("all", 50): 99.39, ("all", 8): 99.74, ("all", 10): 99.71,
     ("wired", 1000): 81.18, ("wireless", 6): 100.0, ("dsl", 200): 71.28,
     ("hfc", 1000): 69.34, ("ftth_b", 1000): 47.99},
    94.82)
TABLES = [pytest.param(END_2018, id="ende-2018"), pytest.param(END_2020, id="ende-2020")]


def national(table: Table) -> bytes:
    path = NATIONAL / table.national
    if not path.is_file():
        pytest.skip(f"Breitbandatlas-Tabelle {path} fehlt (liegt nicht im Projekt, sondern "
                    "unter ../shared/data/breitbandatlas/)")
    return path.read_bytes()


def values(parsed: Parsed, ags: str = GE) -> dict[tuple[str, int], float]:
    return {(r["technology"], r["min_mbit"]): r["households_pct"] for r in parsed.rows
            if r["ags"] == ags}


def read(data: bytes, table: Table, **options: str) -> Parsed:
    return parse(data, reference_date=table.day, source=SOURCE, **options)


@pytest.mark.parametrize("table", TABLES)
def test_the_whole_national_table_gives_gelsenkirchens_published_figures(table, tmp_path):
    data = national(table)
    assert data.count(b"\n") == table.lines + 1  # the header and one row per area
    started = time.perf_counter()
    parsed = read(data, table, area_name="Gelsenkirchen")
    elapsed = time.perf_counter() - started
    print(f"\n{table.national}: {table.lines} Zeilen, {len(data) / 1e6:.1f} MB in "
          f"{elapsed:.2f} s gelesen ({table.lines / elapsed:,.0f} Zeilen/s)")
    found = values(parsed)
    assert {key: found[key] for key in table.gelsenkirchen} == table.gelsenkirchen
    assert len(parsed.rows) == table.columns and parsed.skipped == {}  # every column known
    assert {(r["area_name"], r["reference_date"], r["source"]) for r in parsed.rows} == {
        ("Gelsenkirchen", table.day, SOURCE)}
    assert_valid_rows(tmp_path, parsed.rows, "broadband")


@pytest.mark.parametrize("table", TABLES)
def test_other_areas_of_the_national_table_are_plausible(table):
    data = national(table)
    munich = read(data, table, ags=MUNICH)
    assert values(munich, MUNICH)[("all", 1000)] == table.munich_gigabit
    # Kreis Recklinghausen, Gelsenkirchen's neighbour: its ten municipalities
    district = read(data, table, ags="05562")
    assert len({r["ags"] for r in district.rows}) == 10
    assert len(district.rows) == 10 * table.columns
    assert all(0 <= r["households_pct"] <= 100 for r in district.rows)


def test_the_2020_table_keeps_berlin_apart_from_its_districts():
    data = national(END_2020)
    berlin = read(data, END_2020, ags=BERLIN)
    assert {r["ags"] for r in berlin.rows} == {BERLIN}
    assert values(berlin, BERLIN)[("all", 1000)] == 92.06
    mitte = read(data, END_2020, ags="11000001")  # Bezirk Mitte, an 8-digit row of its own
    assert values(mitte, "11000001")[("all", 1000)] == 89.57


@pytest.mark.parametrize("table", TABLES)
def test_the_snapshot_is_gelsenkirchens_row_of_the_national_table(table):
    snapshot = (SNAPSHOTS / table.snapshot).read_bytes()
    lines = snapshot.splitlines(keepends=True)
    data = national(table)
    assert lines == [data.splitlines(keepends=True)[0],
                     next(line for line in data.splitlines(keepends=True)
                          if line.lstrip(b'"').startswith(GE.encode()))]
    assert read(snapshot, table) == read(data, table)


@pytest.mark.parametrize("table", TABLES)
def test_the_snapshot_gives_the_published_figures(table):
    """Without the national files too: the shipped snapshot alone."""
    parsed = read((SNAPSHOTS / table.snapshot).read_bytes(), table)
    assert {key: values(parsed)[key] for key in table.gelsenkirchen} == table.gelsenkirchen
    assert len(parsed.rows) == table.columns and parsed.skipped == {}
