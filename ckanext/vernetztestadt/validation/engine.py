"""Validating one tabular file: the single function everything calls.

Owns: ``validate_file`` — checks before parsing (size, empty, HTML instead of
data, zip bombs, contradicting encodings), the frictionless run with the
file's dialect applied to the Table Schema (decimal comma, thousands
separator), the structural check with an inferred schema when there is no
schema, and the report in frictionless' JSON shape (as ckanext-validation
stores it). Uploads, URLs, harvesters and the CLI all end here.

Must not touch: CKAN (no actions, no model, no config), fetching files
(``resource_files``), storing reports (``model``).
"""
from __future__ import annotations

import copy
import functools
import logging
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..fetching import looks_like_html
from ..tabular import GERMAN_NUMBER, Declared, Dialect, DialectError, sniff
from . import cells, content, uniqueness
from .messages import error_title
from .status import ERROR, FAILURE, SUCCESS

TEXT_FORMATS = ("csv", "tsv", "txt")
EXCEL_FORMATS = ("xlsx", "xls")
TABULAR_FORMATS = (*TEXT_FORMATS, *EXCEL_FORMATS, "json")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 200 * 1024**2
    max_rows: int = 2_000_000
    max_errors: int = 1000
    #: formula cells: refuse, warn or allow (``cells.POLICIES``)
    formulas: str = "warn"


class TimeUp(Exception):
    """The validation passed its deadline (the caller moves it to a job)."""


@dataclass
class Outcome:
    """A validation's status and its report (frictionless' JSON shape)."""

    status: str
    report: dict[str, Any]
    dialect: Dialect | None = None
    inferred_schema: dict[str, Any] | None = None
    rows: int = 0
    seconds: float = 0.0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.status == SUCCESS


def failed_report(kind: str, message: str, name: str = "", note: str = "") -> dict[str, Any]:
    """A report with one file-level error, shaped like frictionless' own."""
    error = {"type": kind, "title": error_title(kind), "message": message,
             "note": note or message, "tags": ["#file"]}
    task = {"name": name, "type": "table", "valid": False, "place": name, "labels": [],
            "stats": {"errors": 1, "warnings": 0, "seconds": 0.0}, "warnings": [],
            "errors": [error]}
    return {"valid": False, "stats": {"tasks": 1, "errors": 1, "warnings": 0, "seconds": 0.0},
            "warnings": [], "errors": [], "tasks": [task]}


def rejected(kind: str, message: str, name: str = "", status: str = FAILURE) -> Outcome:
    report = failed_report(kind, message, name)
    return Outcome(status, report, errors=report["tasks"][0]["errors"])


def file_format(name: str, declared: str | None) -> str | None:
    """The tabular format of a file, from the resource's format or the name."""
    for candidate in ((declared or "").strip().lower().lstrip("."),
                      Path(name.split("?")[0]).suffix.lower().lstrip(".")):
        if candidate in TABULAR_FORMATS:
            return candidate
    return None


def _precheck(path: Path, fmt: str, limits: Limits) -> Outcome | None:
    size = path.stat().st_size
    if size == 0:
        return rejected("source-error", "Die Datei ist leer.", path.name)
    if size > limits.max_bytes:
        return rejected("file-too-large", f"Die Datei ist {size / 2**20:.1f} MB groß; erlaubt "
                        f"sind höchstens {limits.max_bytes / 2**20:.1f} MB.", path.name)
    with path.open("rb") as handle:
        head = handle.read(1024)
    if looks_like_html(head):
        return rejected("format-error", "Die Datei ist eine HTML-Seite, keine Tabelle "
                        "(falsche Adresse oder Fehlerseite des Servers?).", path.name)
    if fmt == "xlsx":
        return _check_zip(path, limits)
    kind = content.binary_kind(head) if fmt != "xls" else None
    if kind:
        return rejected("format-error", f"Die Datei ist {kind}, keine Tabelle im Format "
                        f"{fmt.upper()}.", path.name)
    return None


def _check_quotes(path: Path, dialect: Dialect) -> Outcome | None:
    line = content.unterminated_quote(path, dialect)
    if line is None:
        return None
    return rejected("format-error", f"In Zeile {line} beginnt ein Wert in Anführungszeichen, "
                    "der nie endet: der Rest der Datei wäre eine einzige Zelle.", path.name)


#: German names of what a broken file of each format is (frictionless' own
#: messages are English and name internals).
_BROKEN = {
    "xlsx": "Die Excel-Datei (XLSX) ist beschädigt oder keine Excel-Datei.",
    "xls": "Die Excel-Datei (XLS) ist beschädigt oder keine Excel-Datei.",
    "json": "Die JSON-Datei ist kein gültiges JSON oder keine Tabelle (erwartet: eine "
            "Liste von Zeilen oder Objekten).",
}


@functools.cache
def _broken_file_errors() -> tuple[type[BaseException], ...]:
    """What the readers raise on a broken file (not on a bug of ours)."""
    import csv

    import ijson
    import xlrd
    from frictionless import FrictionlessException
    from openpyxl.utils.exceptions import InvalidFileException

    return (FrictionlessException, zipfile.BadZipFile, csv.Error, ValueError, KeyError,
            IndexError, EOFError, OSError, xlrd.XLRDError, ijson.JSONError,
            InvalidFileException)



def _unreadable(path: Path, fmt: str) -> Outcome:
    message = _BROKEN.get(fmt, "Die Datei lässt sich nicht als Tabelle lesen (beschädigt "
                               "oder kein Text im Format CSV).")
    return rejected("format-error", message, path.name)


def _check_zip(path: Path, limits: Limits) -> Outcome | None:
    """An XLSX is a zip: refuse one that would unpack beyond the size limit."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        return rejected("format-error", "Die Excel-Datei ist beschädigt oder abgeschnitten.",
                        path.name)
    if unpacked > limits.max_bytes:
        return rejected("file-too-large", f"Die Excel-Datei entpackt sich auf "
                        f"{unpacked / 2**20:.0f} MB; erlaubt sind höchstens "
                        f"{limits.max_bytes / 2**20:.1f} MB.", path.name)
    return None


def localise_schema(schema: dict[str, Any], dialect: Dialect) -> dict[str, Any]:
    """The schema with the file's decimal mark on number fields that name none."""
    adapted = copy.deepcopy(schema)
    for item in adapted.get("fields", []):
        if item.get("type") == "number" and "decimalChar" not in item:
            item["decimalChar"] = dialect.decimal_char
            if dialect.group_char and "groupChar" not in item:
                item["groupChar"] = dialect.group_char
    return adapted


def _resource(path: Path, fmt: str, dialect: Dialect | None, schema: dict[str, Any] | None,
              ) -> Any:
    from frictionless import Schema, formats
    from frictionless.resources import TableResource

    options: dict[str, Any] = {"format": "csv" if fmt in TEXT_FORMATS else fmt}
    if dialect is not None:
        options["encoding"] = dialect.encoding
        if fmt in TEXT_FORMATS:
            options["control"] = formats.CsvControl(delimiter=dialect.delimiter)
    if schema is not None:
        options["schema"] = Schema.from_descriptor(schema)
    # always a table: a plain Resource would read a .json file as a descriptor
    return TableResource(path=path.name, basepath=str(path.parent), **options)


def infer_schema(path: Path, fmt: str, dialect: Dialect | None) -> dict[str, Any]:
    """A suggested Table Schema, with German numbers recognised as numbers."""
    resource = _resource(path, fmt, dialect, None)
    resource.infer()
    descriptor = resource.schema.to_descriptor()
    if dialect is not None and dialect.decimal_char == ",":
        _german_numbers(descriptor, resource.sample[1:])
    return descriptor


def _german_numbers(descriptor: dict[str, Any], rows: list[list[Any]]) -> None:
    """frictionless reads "1.234,5" as text (or a geopoint): call it a number
    when every sampled value of the column is written that way."""
    for index, item in enumerate(descriptor.get("fields", [])):
        values = [str(row[index]).strip() for row in rows
                  if index < len(row) and row[index] not in (None, "")]
        if (item.get("type") in ("string", "geopoint") and values
                and any("," in v for v in values)
                and all(GERMAN_NUMBER.fullmatch(v) for v in values)):
            item.update(type="number", decimalChar=",", groupChar=".")
            item.pop("format", None)


def _structural(inferred: dict[str, Any]) -> dict[str, Any]:
    """Every column as text: only the table's shape is checked."""
    return {"fields": [{"name": f["name"], "type": "string"} for f in inferred["fields"]]}


_NOTHING_DECLARED = Declared()
_DEFAULT_LIMITS = Limits()


def validate_file(path: Path | str, schema: dict[str, Any] | None, *, fmt: str | None = None,
                  declared: Declared = _NOTHING_DECLARED,
                  limits: Limits = _DEFAULT_LIMITS, deadline: float | None = None) -> Outcome:
    """Validate one file against a Table Schema (or its shape, without one).

    With a ``deadline`` (``time.monotonic()`` value) the run raises
    ``TimeUp`` once it is passed."""
    path = Path(path)
    started = time.monotonic()
    fmt = fmt or file_format(path.name, None) or "csv"
    early = _precheck(path, fmt, limits)
    if early is not None:
        return early
    try:
        dialect = sniff(path, declared, fmt in TEXT_FORMATS) if fmt != "xlsx" else None
    except DialectError as exc:
        return rejected(exc.kind, str(exc), path.name)
    quotes = _check_quotes(path, dialect) if dialect and fmt in TEXT_FORMATS else None
    if quotes is not None:
        return quotes
    try:
        outcome = _validate(path, fmt, dialect, schema, limits, deadline)
    except _broken_file_errors():
        log.info("unreadable %s file %s", fmt, path.name, exc_info=True)
        return _unreadable(path, fmt)
    outcome.seconds = time.monotonic() - started
    return outcome


def _validate(path: Path, fmt: str, dialect: Dialect | None, schema: dict[str, Any] | None,
              limits: Limits, deadline: float | None) -> Outcome:
    inferred = None
    if schema is None:
        inferred = infer_schema(path, fmt, dialect)
        effective = _structural(inferred)
    else:
        effective = localise_schema(schema, dialect) if dialect else schema
    outcome = _run(path, fmt, dialect, effective, limits, deadline)
    outcome.inferred_schema = inferred
    return outcome


def _on_row(deadline: float | None) -> Any:
    if deadline is None:
        return None

    def check(row: Any) -> None:
        if time.monotonic() > deadline:
            raise TimeUp()
    return check


def _run(path: Path, fmt: str, dialect: Dialect | None, schema: dict[str, Any],
         limits: Limits, deadline: float | None = None) -> Outcome:
    from frictionless import Checklist

    # unique/primaryKey are checked with bounded memory instead of by frictionless
    core, unique, primary = uniqueness.split(schema)
    checks: list[Any] = [uniqueness.UniqueOnDisk(unique=unique, primary=primary)] \
        if unique or primary else []
    cell_check = cells.CellContent(formulas=limits.formulas)
    checks.append(cell_check)
    resource = _resource(path, fmt, dialect, core)
    report = resource.validate(Checklist(checks=checks), limit_errors=limits.max_errors,
                               limit_rows=limits.max_rows + 1, on_row=_on_row(deadline))
    descriptor = report.to_descriptor()
    _note_formulas(descriptor, cell_check)
    task = descriptor["tasks"][0] if descriptor.get("tasks") else {"errors": [], "stats": {}}
    # duplicates found in a later batch are reported late: restore file order
    task.get("errors", []).sort(key=lambda e: e.get("rowNumber") or 0)
    rows = int(task.get("stats", {}).get("rows") or 0)
    if rows > limits.max_rows:
        return rejected("row-limit", f"Die Datei hat mehr als {limits.max_rows:,} Zeilen "
                        "(Grenze der Prüfung).".replace(",", "."), path.name)
    errors = [*descriptor.get("errors", []), *task.get("errors", [])]
    status = SUCCESS if descriptor.get("valid") else FAILURE
    if any(e.get("type") in ("scheme-error", "task-error") for e in errors):
        status = ERROR
    return Outcome(status, descriptor, dialect=dialect, rows=rows, errors=errors)


def _note_formulas(descriptor: dict[str, Any], check: cells.CellContent) -> None:
    """Formula cells under the ``warn`` policy: a German warning in the report."""
    if not check.flagged_count or not descriptor.get("tasks"):
        return
    more = check.flagged_count - len(check.flagged)
    where = "; ".join(check.flagged) + (f" und {more} weitere" if more > 0 else "")
    warning = (f"{check.flagged_count} Zelle(n) beginnen wie eine Tabellenkalkulations-Formel "
               f"(CSV-Injection, z. B. „=…“, „@…“): {where}. Bitte prüfen, bevor die Datei "
               "in Excel geöffnet wird.")
    descriptor["tasks"][0].setdefault("warnings", []).append(warning)
    descriptor.setdefault("warnings", []).append(warning)
