"""``validate_file``, the single validation function: German files that are
right pass, each kind of broken file fails with the error type and position."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import german_csv
import pytest

from ckanext.vernetztestadt import resources
from ckanext.vernetztestadt.validation import Declared, Limits, validate_file

SCHEMA = json.loads(resources.table_schemas_dir().joinpath("hotspots.json").read_text("utf-8"))


def check(tmp_path: Path, data: bytes, name: str = "hotspots.csv", schema=SCHEMA, **options):
    path = tmp_path / name
    path.write_bytes(data)
    return validate_file(path, schema, **options)


def first(outcome) -> tuple:
    error = outcome.errors[0]
    return error["type"], error.get("rowNumber"), error.get("fieldName")


class TestGermanFilesPass:
    @pytest.mark.parametrize("options", [
        {},                                                  # cp1252, ';', CRLF
        {"encoding": "utf-8"},
        {"encoding": "utf-8-sig"},                           # UTF-8 with BOM
        {"encoding": "iso-8859-1", "newline": "\n"},
    ])
    def test_detected(self, tmp_path, options):
        outcome = check(tmp_path, german_csv.valid(20, **options))
        assert outcome.status == "success", outcome.errors[:3]
        assert outcome.rows == 20
        assert outcome.dialect.delimiter == ";" and outcome.dialect.decimal_char == ","

    def test_declared_dialect_is_used(self, tmp_path):
        data = german_csv.encode(german_csv.rows(), delimiter="|")
        outcome = check(tmp_path, data, declared=Declared(encoding="cp1252", delimiter="|",
                                                           decimal_char=","))
        assert outcome.status == "success", outcome.errors[:3]

    def test_thousands_separator(self, tmp_path):
        schema = {"fields": [{"name": "stadtteil", "type": "string"},
                             {"name": "einwohner", "type": "number"}]}
        data = "stadtteil;einwohner\r\nBuer;29.412,0\r\nÜckendorf;12.345\r\n".encode("cp1252")
        assert check(tmp_path, data, schema=schema).status == "success"

    def test_without_schema_the_shape_is_checked_and_a_schema_suggested(self, tmp_path):
        outcome = check(tmp_path, german_csv.valid(10), schema=None)
        assert outcome.status == "success"
        fields = {f["name"]: f for f in outcome.inferred_schema["fields"]}
        assert fields["latitude"]["type"] == "number"
        assert fields["latitude"]["decimalChar"] == ","
        assert fields["name"]["type"] == "string"


class TestBrokenFilesFail:
    @pytest.mark.parametrize("data, expected", [
        (german_csv.with_cell(3, "latitude", "nördlich"), ("type-error", 4, "latitude")),
        (german_csv.with_cell(2, "latitude", "123,5"), ("constraint-error", 3, "latitude")),
        (german_csv.with_cell(4, "postcode", "4587"), ("constraint-error", 5, "postcode")),
        (german_csv.with_cell(2, "id", "ge-0001"), ("unique-error", 3, "id")),  # also the key
        (german_csv.with_cell(5, "last_seen", "30.06.2025"), ("type-error", 6, "last_seen")),
    ])
    def test_cells(self, tmp_path, data, expected):
        outcome = check(tmp_path, data)
        assert outcome.status == "failure"
        assert first(outcome) == expected

    def test_missing_required_column(self, tmp_path):
        keep = [i for i, name in enumerate(german_csv.HEADER) if name != "source"]
        table = [[row[i] for i in keep] for row in [german_csv.HEADER, *german_csv.rows()]]
        outcome = check(tmp_path, german_csv.encode(table[1:], header=table[0]))
        found = [(e["type"], e.get("fieldName")) for e in outcome.errors]
        # columns are matched by position, as the Table Schema says
        assert set(found[:2]) == {("incorrect-label", "source"), ("missing-label", "last_seen")}

    def test_extra_column(self, tmp_path):
        table = [[*row, "x"] for row in german_csv.rows()]
        outcome = check(tmp_path, german_csv.encode(table, header=[*german_csv.HEADER, "extra"]))
        assert first(outcome)[0] == "extra-label"

    def test_blank_and_ragged_rows(self, tmp_path):
        lines = german_csv.valid(4).split(b"\r\n")
        lines.insert(2, b"")                               # blank row 3
        lines[4] = b";".join(lines[4].split(b";")[:5])     # row 5 cut after 5 cells
        outcome = check(tmp_path, b"\r\n".join(lines))
        found = [(e["type"], e.get("rowNumber")) for e in outcome.errors]
        assert ("blank-row", 3) in found
        assert ("missing-cell", 5) in found

    def test_truncated_file(self, tmp_path):
        data = german_csv.valid(5)
        outcome = check(tmp_path, data[: len(data) - 40])
        assert outcome.status == "failure"
        assert {e["type"] for e in outcome.errors} >= {"missing-cell"}
        assert {e.get("rowNumber") for e in outcome.errors} == {6}

    @pytest.mark.parametrize("data, declared", [
        (german_csv.valid(encoding="cp1252"), "utf-8"),     # Windows file called UTF-8
        (german_csv.valid(encoding="utf-8"), "cp1252"),     # UTF-8 file called Windows
    ])
    def test_wrong_encoding_declared(self, tmp_path, data, declared):
        outcome = check(tmp_path, data, declared=Declared(encoding=declared))
        assert first(outcome)[0] == "encoding-error"
        assert "UTF-8" in outcome.errors[0]["message"]

    def test_html_instead_of_csv(self, tmp_path):
        page = b"<!DOCTYPE html>\n<html><head><title>404</title></head><body>Fehlt</body></html>"
        outcome = check(tmp_path, page)
        assert first(outcome)[0] == "format-error"
        assert "HTML" in outcome.errors[0]["message"]

    def test_empty_file(self, tmp_path):
        outcome = check(tmp_path, b"")
        assert first(outcome)[0] == "source-error"
        assert outcome.errors[0]["message"] == "Die Datei ist leer."

    def test_file_over_the_limit(self, tmp_path):
        outcome = check(tmp_path, german_csv.valid(200), limits=Limits(max_bytes=4096))
        assert first(outcome)[0] == "file-too-large"

    def test_row_limit(self, tmp_path):
        outcome = check(tmp_path, german_csv.valid(30), limits=Limits(max_rows=25))
        assert first(outcome)[0] == "row-limit"

    def test_zip_bomb(self, tmp_path):
        path = tmp_path / "bombe.xlsx"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("xl/worksheets/sheet1.xml", b"0" * (20 * 2**20))
        assert path.stat().st_size < 100_000                 # 20 MB packed into a few KB
        outcome = validate_file(path, SCHEMA, limits=Limits(max_bytes=2**20))
        assert first(outcome)[0] == "file-too-large"
        assert "entpackt" in outcome.errors[0]["message"]


class TestUniquenessWithBoundedMemory:
    """Keys of earlier batches are looked up on disk, not kept in memory."""

    @pytest.fixture(autouse=True)
    def small_batches(self, monkeypatch):
        from ckanext.vernetztestadt.validation import uniqueness

        monkeypatch.setattr(uniqueness, "BATCH", 10)

    def test_duplicate_far_apart(self, tmp_path):
        outcome = check(tmp_path, german_csv.with_cell(25, "id", "ge-0002", count=30))
        found = [(e["type"], e.get("rowNumber"), e.get("fieldName"), e.get("note"))
                 for e in outcome.errors]
        assert found == [
            ("unique-error", 26, "id", "the same as in the row at position 3"),
            ("primary-key", 26, None, "the same as in the row at position 3"),
        ]

    def test_equal_numbers_written_differently(self, tmp_path):
        schema = {"fields": [{"name": "wert", "type": "number",
                              "constraints": {"unique": True}}]}
        data = "wert\r\n" + "".join(f"{i},5\r\n" for i in range(20)) + "3,50\r\n"
        outcome = check(tmp_path, data.encode("cp1252"), schema=schema)
        assert [(e["type"], e.get("rowNumber")) for e in outcome.errors] == \
            [("unique-error", 22)]

    def test_empty_primary_key(self, tmp_path):
        outcome = check(tmp_path, german_csv.with_cell(4, "id", ""))
        assert ("primary-key", 5) in [(e["type"], e.get("rowNumber")) for e in outcome.errors]


class TestOtherFormats:
    def test_xlsx(self, tmp_path):
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.append(german_csv.HEADER)
        for row in german_csv.rows(6):
            cells = [float(c.replace(",", ".")) if german_csv.HEADER[i] in
                     ("latitude", "longitude") else c for i, c in enumerate(row)]
            sheet.append(cells)
        sheet["F4"] = "nördlich"                      # row 4, latitude
        path = tmp_path / "hotspots.xlsx"
        book.save(path)
        outcome = validate_file(path, SCHEMA)
        assert first(outcome) == ("type-error", 4, "latitude")
        assert outcome.rows == 6

    def test_json_table(self, tmp_path):
        rows = [dict(zip(german_csv.HEADER, row, strict=True)) for row in german_csv.rows(3)]
        for item in rows:
            item["latitude"] = float(item["latitude"].replace(",", "."))
            item["longitude"] = float(item["longitude"].replace(",", "."))
        rows[1]["postcode"] = "abc"
        path = tmp_path / "hotspots.json"
        path.write_text(json.dumps(rows), encoding="utf-8")
        outcome = validate_file(path, SCHEMA)
        assert first(outcome) == ("constraint-error", 3, "postcode")
