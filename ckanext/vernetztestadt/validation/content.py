"""What a file is, judged from its bytes rather than from its label.

Owns: recognising a table's format from the first bytes (CSV/TSV text,
XLSX, XLS, JSON), naming binary content that is no table (images, archives,
PDF, NUL bytes), finding an unterminated quote in a CSV file, and counting a
table's real rows and columns (for XLSX from the sheet, not from the zipped
bytes), so that the request-time bound is judged by the table, not the file.

Must not touch: CKAN, validation itself (``engine``), encodings and
delimiters (``tabular``).
"""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..fetching import looks_like_html
from ..tabular import DELIMITERS, Dialect

HEAD_BYTES = 8 * 1024

#: Magic numbers of common binary files: (prefix, German name).
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "ein PNG-Bild"),
    (b"\xff\xd8\xff", "ein JPEG-Bild"),
    (b"GIF8", "ein GIF-Bild"),
    (b"%PDF", "ein PDF-Dokument"),
    (b"\x1f\x8b", "ein gzip-Archiv"),
    (b"BZh", "ein bzip2-Archiv"),
    (b"\xfd7zXZ\x00", "ein xz-Archiv"),
    (b"7z\xbc\xaf\x27\x1c", "ein 7-Zip-Archiv"),
    (b"Rar!", "ein RAR-Archiv"),
    (b"\x7fELF", "ein Programm (ELF)"),
    (b"MZ", "ein Programm (EXE)"),
)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old Excel (XLS)
_ZIP = b"PK\x03\x04"


def head(path: Path, size: int = HEAD_BYTES) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def binary_kind(data: bytes) -> str | None:
    """A German name of what the bytes are when they are binary, else None."""
    for prefix, name in _MAGIC:
        if data.startswith(prefix):
            return name
    if data.startswith(_ZIP):
        return "ein ZIP-Archiv"
    if data.startswith(_OLE2):
        return "ein Office-Dokument (OLE2)"
    if b"\x00" in data:
        return "eine Binärdatei (NUL-Bytes)"
    return None


def _looks_like_csv(data: bytes) -> bool:
    """Text whose first lines split into the same number (≥ 2) of fields."""
    text = data.decode("utf-8", errors="replace")
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(text) >= len(data) * 0.99 and len(lines) >= 2 and not looks_like_html(data):
        if len(data) == HEAD_BYTES:
            lines = lines[:-1]  # the last line may be cut off
        for delimiter in DELIMITERS:
            counts = {len(row) for row in csv.reader(lines, delimiter=delimiter)}
            if len(counts) == 1 and counts.pop() >= 2:
                return True
    return False


def sniff_format(data: bytes) -> str | None:
    """The tabular format the first bytes of a file show, or None."""
    if data.startswith(_ZIP):
        return "xlsx" if b"xl/" in data or b"[Content_Types].xml" in data else None
    if data.startswith(_OLE2):
        return "xls"
    if binary_kind(data):
        return None
    # a JSON table is a list of rows; an object (GeoJSON, a descriptor) is
    # a table only when labelled JSON
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"[":
        return "json"
    return "csv" if _looks_like_csv(data) else None


def unterminated_quote(path: Path, dialect: Dialect) -> int | None:
    """The line where a quoted cell starts that never ends, or None.

    A CSV reader would silently read the rest of the file into that cell."""
    with path.open(encoding=dialect.encoding, errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=dialect.delimiter, strict=True)
        try:
            for _ in reader:
                pass
        except csv.Error as error:
            if "unexpected end of data" in str(error):
                return _last_record_start(path, dialect)
    return None


def _last_record_start(path: Path, dialect: Dialect) -> int:
    start, line = 1, 1
    with path.open(encoding=dialect.encoding, errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=dialect.delimiter)
        for _ in reader:
            start, line = line, reader.line_num + 1
    return start


@dataclass(frozen=True)
class Size:
    rows: int
    columns: int

    @property
    def cells(self) -> int:
        return self.rows * max(self.columns, 1)


def table_size(path: Path, fmt: str, dialect: Dialect | None, stop_after: int) -> Size:
    """Rows and columns of the table, counting rows no further than ``stop_after``."""
    if fmt == "xlsx":
        return _xlsx_size(path)
    if fmt == "xls":
        return _xls_size(path)
    if fmt == "json":
        return Size(rows=0, columns=0)  # bounded by its bytes
    return _text_size(path, dialect or Dialect(), stop_after)


def _text_size(path: Path, dialect: Dialect, stop_after: int) -> Size:
    lines = 0
    with path.open("rb") as handle:
        first = handle.readline(1024 * 1024)
        handle.seek(0)
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            lines += chunk.count(b"\n")
            if lines > stop_after:
                break
    header = first.decode(dialect.encoding.replace("-sig", ""), errors="replace")
    columns = len(next(csv.reader(io.StringIO(header), delimiter=dialect.delimiter), []))
    return Size(rows=lines, columns=columns)


def _xlsx_size(path: Path) -> Size:
    """From the first sheet's stored rows and cells (its dimension tag can lie)."""
    try:
        with zipfile.ZipFile(path) as archive:
            sheets = sorted(n for n in archive.namelist()
                            if n.startswith("xl/worksheets/") and n.endswith(".xml"))
            if not sheets:
                return Size(0, 0)
            rows = cells = 0
            with archive.open(sheets[0]) as sheet:
                # a tag split across two chunks is missed: a count, not a parse
                for chunk in iter(lambda: sheet.read(1024 * 1024), b""):
                    rows += chunk.count(b"<row ") + chunk.count(b"<row>")
                    cells += chunk.count(b"<c ") + chunk.count(b"<c>")
            # the average row's width: rows x columns is the cell count
            return Size(rows=rows, columns=-(-cells // rows) if rows else 0)
    except (zipfile.BadZipFile, OSError, KeyError):
        return Size(0, 0)  # the engine names the broken file


def _xls_size(path: Path) -> Size:
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
        sheet = book.sheet_by_index(0)
        return Size(rows=sheet.nrows, columns=sheet.ncols)
    except (xlrd.XLRDError, OSError, ValueError, IndexError, AssertionError):
        return Size(0, 0)  # the engine names the broken file
