"""German wording of validation errors.

Owns: a German title per frictionless error type (and per type of our own:
HTML instead of data, file too large, row limit, fetch errors) and one line
per error naming row, column and cell, used in refusals, the CLI and the
report page. English lives in the translation catalogue.

Must not touch: deciding what is an error (``engine``).
"""
from __future__ import annotations

from typing import Any

from ckan.common import _

# Titles are looked up at call time so that the request's language applies.
_TITLES = {
    "type-error": "Falscher Datentyp",
    "constraint-error": "Wert verletzt eine Regel des Schemas",
    "missing-cell": "Fehlende Zelle",
    "extra-cell": "Überzählige Zelle",
    "blank-row": "Leere Zeile",
    "primary-key": "Doppelter oder leerer Primärschlüssel",
    "unique-error": "Doppelter Wert in eindeutiger Spalte",
    "missing-label": "Fehlende Spalte",
    "extra-label": "Überzählige Spalte",
    "blank-label": "Leere Spaltenüberschrift",
    "duplicate-label": "Doppelte Spaltenüberschrift",
    "incorrect-label": "Falsche Spaltenüberschrift",
    "encoding-error": "Falsche Zeichenkodierung",
    "source-error": "Datei leer oder nicht lesbar",
    "format-error": "Kein Tabellenformat",
    "file-too-large": "Datei zu groß",
    "row-limit": "Zu viele Zeilen",
    "fetch-error": "Datei nicht abrufbar",
    "host-not-allowed": "Adresse nicht erlaubt",
    "timeout": "Zeitlimit überschritten",
    "schema-error": "Table Schema nicht nutzbar",
}


def error_title(kind: str) -> str:
    title = _TITLES.get(kind)
    return _(title) if title else kind


def error_line(error: dict[str, Any]) -> str:
    """One German line: where (row, column) and what (title, value)."""
    title = error_title(str(error.get("type", "")))
    where = []
    if error.get("rowNumber"):
        where.append(_("Zeile {0}").format(error["rowNumber"]))
    if error.get("fieldName"):
        where.append(_("Spalte „{0}“").format(error["fieldName"]))
    elif error.get("fieldNumber"):
        where.append(_("Spalte {0}").format(error["fieldNumber"]))
    text = f"{', '.join(where)}: {title}" if where else title
    cell = error.get("cell")
    if cell not in (None, ""):
        text += _(" (Wert „{0}“)").format(str(cell)[:60])
    if not where and error.get("message") and error.get("tags") == ["#file"]:
        text += f": {error['message']}"
    return text


def summary(errors: list[dict[str, Any]], limit: int = 3) -> str:
    """The first ``limit`` errors, for a refusal message."""
    lines = [error_line(e) for e in errors[:limit]]
    more = len(errors) - limit
    if more > 0:
        lines.append(_("und {0} weitere").format(more))
    return "; ".join(lines)
