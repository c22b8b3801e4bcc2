"""The one tabular reader (``tabular``): the validation gate and the
harvesters' parsers read every CSV alike, in the cases where they used to
disagree; German numbers read one way. No database."""
from __future__ import annotations

import pytest

from ckanext.vernetztestadt import tabular
from ckanext.vernetztestadt.harvest.formats import grids

#: (file, delimiter both must find, columns of the first data row)
CASES = [
    # a comma inside the first header cell: the header line has more commas
    # than semicolons, the table is ';'-separated
    ("Name, Ort, Teil, Nr;X;Y\nRathaus Buer, Goldbergplatz, Buer, 1;361234,5;5718234,1\n"
     "Musiktheater, Kennedyplatz, Altstadt, 2;362001,0;5713050,7\n", ";", 3),
    ("Name|Rechtswert|Hochwert\nHans-Sachs-Haus|362500,5|5712900,2\nZoom|363000|5713000\n",
     "|", 3),
    ("Name\tLaenge\tBreite\nNordsternpark\t7,0337\t51,5364\n", "\t", 3),
    ("Name,Lon,Lat\nSchalke,7.0678,51.5546\nBuer,7.0521,51.5773\n", ",", 3),
    ("AGS;Wert\n05513000;81,18\n", ";", 2),
]


@pytest.mark.parametrize(("text", "delimiter", "columns"), CASES)
def test_gate_and_harvesters_split_alike(text, delimiter, columns):
    data = text.encode("cp1252")
    gate = tabular.sniff_bytes(data, tabular.Declared())
    rows = grids.csv_grid(data)
    assert gate.delimiter == delimiter
    assert len(rows[1]) == columns and all(len(row) == len(rows[0]) for row in rows if row)


def test_a_declared_delimiter_wins():
    data = b"a;b,c\n1;2,3\n"
    rows, dialect = tabular.read_csv(data, tabular.Declared(delimiter=","))
    assert dialect.delimiter == "," and rows[0] == ["a;b", "c"]


@pytest.mark.parametrize(("data", "text"), [
    ("Straße;Größe\n".encode("cp1252"), "Straße;Größe\n"),
    ("Straße;Größe\n".encode(), "Straße;Größe\n"),
    (b"\xef\xbb\xbfName;Wert\n", "Name;Wert\n"),
])
def test_encodings_as_german_offices_write(data, text):
    assert tabular.decode(data) == text


@pytest.mark.parametrize(("value", "expected"), [
    ("72,7", 72.7), ("72.7", 72.7), ("42,8 %", 42.8), ("1.234,5", 1234.5),
    ("5.708.000", 5708000.0), ("\u22121,5", -1.5), ("1,234.5", 1234.5), (17, 17.0),
    ("k. A.", None), ("", None), (float("inf"), None), (True, None),
    (10 ** 400, None), ("1" * 400, None),
])
def test_german_and_english_numbers(value, expected):
    assert tabular.number(value) == expected


def test_the_german_number_pattern_is_the_one_the_schema_inference_uses():
    assert tabular.GERMAN_NUMBER.fullmatch("1.234.567,89")
    assert not tabular.GERMAN_NUMBER.fullmatch("1,234.5")
