"""The one tabular reader of the portal: how a table file is written.

Owns: deciding a file's encoding (UTF-8, UTF-8 with BOM, else Windows-1252,
as German offices write), its CSV delimiter (``; , tab |``, by how
consistently the first lines split) and its decimal mark, unless the
resource declares them; noticing a declared encoding the bytes contradict;
decoding text and reading CSV rows with that dialect; and reading a cell as
a German or English number. The validation gate (``validation``), the
harvesters' parsers (``harvest.formats.grids``) and the charts read tables through
it, so that they agree on every file.

Must not touch: Table Schemas or the validation itself (``validation.engine``),
what the columns mean (the parsers), XLSX workbooks (``harvest.formats.grids``).
"""
from __future__ import annotations

import codecs
import csv
import io
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

#: How much of a file is read to decide (the rest is checked while validating).
SAMPLE_BYTES = 256 * 1024
DELIMITERS = (";", ",", "\t", "|")
#: Encodings a resource may declare, by their normal names.
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8-sig",
             "cp1252": "cp1252", "windows-1252": "cp1252", "iso-8859-1": "iso-8859-1",
             "latin-1": "iso-8859-1", "latin1": "iso-8859-1"}


@dataclass(frozen=True)
class Dialect:
    encoding: str = "utf-8"
    delimiter: str = ";"
    decimal_char: str = ","

    @property
    def group_char(self) -> str:
        """The thousands separator that goes with the decimal mark."""
        return "." if self.decimal_char == "," else ""


@dataclass(frozen=True)
class Declared:
    """What the resource says about its file (any of it may be missing)."""

    encoding: str | None = None
    delimiter: str | None = None
    decimal_char: str | None = None


class DialectError(ValueError):
    """The bytes contradict what was declared; ``kind`` names the error type."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def read_sample(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(SAMPLE_BYTES)


def _is_utf8(sample: bytes, complete: bool) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        # a sample may end inside a multi-byte character: not final then
        decoder.decode(sample, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(sample: bytes, complete: bool) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    return "utf-8" if _is_utf8(sample, complete) else "cp1252"


def check_declared_encoding(declared: str, sample: bytes, complete: bool) -> str:
    """The declared encoding, normalised; DialectError if the bytes say otherwise."""
    encoding = ENCODINGS.get(declared.strip().lower())
    if encoding is None:
        raise DialectError("encoding-error", f"Unbekannte Zeichenkodierung „{declared}“.")
    actual = detect_encoding(sample, complete)
    if encoding.startswith("utf-8") and actual == "cp1252":
        raise DialectError("encoding-error",
                           f"Als {declared} angegeben, aber die Datei ist kein gültiges "
                           "UTF-8 (vermutlich Windows-1252).")
    if not encoding.startswith("utf-8") and actual.startswith("utf-8") and not sample.isascii():
        # Latin-1 would decode UTF-8 without error, as mojibake ("MÃ¼ller")
        raise DialectError("encoding-error",
                           f"Als {declared} angegeben, aber die Datei ist in UTF-8 kodiert.")
    if encoding == "utf-8" and actual == "utf-8-sig":
        return "utf-8-sig"
    return encoding


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the header and first rows most consistently;
    ``;`` when in doubt (the German convention)."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    best, best_score = ";", 0
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(io.StringIO("\n".join(lines)),
                                                 delimiter=delimiter)]
        if not counts or counts[0] < 2:
            continue
        score = counts[0] * sum(1 for count in counts if count == counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def detect_decimal_char(text: str, delimiter: str) -> str:
    """``,`` if numbers are written like 1.234,5 or 7,25; ``.`` if like 7.25."""
    comma = point = 0
    rows = csv.reader(io.StringIO("\n".join(text.splitlines()[1:200])), delimiter=delimiter)
    for row in rows:
        for cell in row:
            value = cell.strip().lstrip("-+")
            if value.replace(".", "").replace(",", "").isdigit():
                comma += "," in value and value.rsplit(",", 1)[1].isdigit()
                point += "." in value and "," not in value and value.count(".") == 1
    if comma == point:
        return "," if delimiter == ";" else "."
    return "," if comma > point else "."


def sniff(path: Path, declared: Declared, tabular_text: bool = True) -> Dialect:
    """The file's dialect: declared values win, the rest is detected."""
    return sniff_bytes(read_sample(path), declared, tabular_text)


def sniff_bytes(data: bytes, declared: Declared, tabular_text: bool = True) -> Dialect:
    """As ``sniff``, from the file's bytes already read (its first
    SAMPLE_BYTES are looked at)."""
    sample = data[:SAMPLE_BYTES]
    complete = len(sample) < SAMPLE_BYTES
    if declared.encoding:
        encoding = check_declared_encoding(declared.encoding, sample, complete)
    else:
        encoding = detect_encoding(sample, complete)
    dialect = Dialect(encoding=encoding)
    if not tabular_text:
        return dialect
    text = sample.decode(encoding.replace("-sig", ""), errors="replace").lstrip("\ufeff")
    delimiter = declared.delimiter or detect_delimiter(text)
    decimal = declared.decimal_char or detect_decimal_char(text, delimiter)
    return replace(dialect, delimiter=delimiter, decimal_char=decimal)


# -- whole files and cells (the harvesters' parsers) --------------------------------
def decode(data: bytes) -> str:
    """The text of a whole file in its detected encoding (BOM dropped)."""
    encoding = detect_encoding(data, complete=True)
    return data.decode("utf-8-sig" if encoding.startswith("utf-8") else encoding,
                       errors="replace")


def read_csv(data: bytes, declared: Declared | None = None) -> tuple[list[list[str]], Dialect]:
    """Every row of a CSV file, split as the validation splits it, and the
    dialect it was read with."""
    dialect = sniff_bytes(data, declared or Declared())
    text = decode(data)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=dialect.delimiter)), dialect


#: a number as German tables write it: 1.234.567,89 or 17 or -0,5
GERMAN_NUMBER = re.compile(r"-?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def number(value: object) -> float | None:
    """``72,7``, ``72.7``, ``42,8 %``, ``1.234,5``, ``5.708.000``, U+2212 minus as a
    float; None if not a finite number (also an integer too large for a
    float). Where both marks occur the last is the decimal mark; a single
    comma or several points are German."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    if isinstance(value, str):
        text = "".join(value.split()).removesuffix("%").replace("\u2212", "-")
        if "," in text and "." in text:
            decimal, group = (",", ".") if text.rfind(",") > text.rfind(".") else (".", ",")
            text = text.replace(group, "").replace(decimal, ".")
        elif text.count(",") == 1 or text.count(".") > 1:
            text = text.replace(".", "").replace(",", ".")
        if not _PLAIN_NUMBER.fullmatch(text):
            return None
        value = text
    try:
        result = float(value)
    except OverflowError:  # an integer too large for a float (JSON allows it)
        return None
    return result if math.isfinite(result) else None
