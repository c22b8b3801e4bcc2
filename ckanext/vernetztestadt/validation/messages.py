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


def N_(message: str) -> str:
    """Marks a message for the catalogue; it is translated where it is shown."""
    return message

# Titles are looked up at call time so that the request's language applies.
_TITLES = {
    "type-error": N_("Falscher Datentyp"),
    "constraint-error": N_("Wert verletzt eine Regel des Schemas"),
    "missing-cell": N_("Fehlende Zelle"),
    "extra-cell": N_("Überzählige Zelle"),
    "blank-row": N_("Leere Zeile"),
    "primary-key": N_("Doppelter oder leerer Primärschlüssel"),
    "unique-error": N_("Doppelter Wert in eindeutiger Spalte"),
    "missing-label": N_("Fehlende Spalte"),
    "extra-label": N_("Überzählige Spalte"),
    "blank-label": N_("Leere Spaltenüberschrift"),
    "duplicate-label": N_("Doppelte Spaltenüberschrift"),
    "incorrect-label": N_("Falsche Spaltenüberschrift"),
    "encoding-error": N_("Falsche Zeichenkodierung"),
    "source-error": N_("Datei leer oder nicht lesbar"),
    "format-error": N_("Kein Tabellenformat"),
    "file-too-large": N_("Datei zu groß"),
    "row-limit": N_("Zu viele Zeilen"),
    "fetch-error": N_("Datei nicht abrufbar"),
    "host-not-allowed": N_("Adresse nicht erlaubt"),
    "timeout": N_("Zeitlimit überschritten"),
    "schema-error": N_("Table Schema nicht nutzbar"),
    "control-character": N_("Steuerzeichen in der Zelle (Binärdaten?)"),
    "formula-cell": N_("Zelle beginnt wie eine Formel (CSV-Injection)"),
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
