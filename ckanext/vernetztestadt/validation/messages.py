"""German wording of validation errors.

Owns: a German title per frictionless error type (and per type of our own:
HTML instead of data, file too large, row limit, fetch errors) and one line
per error naming row, column and cell, used in refusals, the CLI and the
report page; and a German hint per cell error saying what the rule is and
how to fix the cell (``error_hint``, the report's "Hinweis" column). English
lives in the translation catalogue.

Must not touch: deciding what is an error (``engine``).
"""
from __future__ import annotations

import re
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


#: what a cell of a Table Schema type must look like (frictionless' type
#: names; the format after "/" is "default" for the bundled schemas)
_TYPE_HINTS = {
    "date": N_("Datum im Format JJJJ-MM-TT erwartet, z. B. 2025-06-30."),
    "datetime": N_("Zeitpunkt im Format JJJJ-MM-TTThh:mm:ss erwartet, z. B. "
                   "2025-06-30T14:00:00."),
    "time": N_("Uhrzeit im Format hh:mm:ss erwartet."),
    "year": N_("Jahreszahl mit vier Ziffern erwartet, z. B. 2025."),
    "integer": N_("Ganze Zahl ohne Nachkommastellen erwartet, z. B. 17."),
    "number": N_("Zahl erwartet, mit dem Dezimalzeichen der Datei, z. B. 51,5123."),
    "boolean": N_("Wahrheitswert erwartet: true oder false."),
    "geopoint": N_("Koordinaten „Länge, Breite“ in Grad erwartet."),
    "string": N_("Text erwartet."),
}
#: what a constraint asks, "{0}" its value
_CONSTRAINT_HINTS = {
    "required": N_("Pflichtangabe: die Zelle darf nicht leer sein."),
    "pattern": N_("Der Wert muss dem Muster {0} entsprechen."),
    "minimum": N_("Der Wert muss mindestens {0} sein."),
    "maximum": N_("Der Wert darf höchstens {0} sein."),
    "minLength": N_("Mindestens {0} Zeichen."),
    "maxLength": N_("Höchstens {0} Zeichen."),
    "enum": N_("Erlaubt sind nur diese Werte: {0}."),
    "unique": N_("Jeder Wert darf in dieser Spalte nur einmal vorkommen."),
}
#: frictionless' notes: 'type is "date/default"', 'constraint "pattern" is "[0-9]{5}"'
_TYPE_NOTE = re.compile(r'type is "([a-z]+)(?:/[^"]*)?"')
_CONSTRAINT_NOTE = re.compile(r'constraint "([A-Za-z]+)" is "(.*)"', re.DOTALL)
_PATTERN_WORDS = {"[0-9]{8}": N_("8 Ziffern"), "[0-9]{5}": N_("5 Ziffern")}


def error_hint(error: dict[str, Any]) -> str:
    """What is wrong with the cell and how to fix it, in German, from the
    error's type and frictionless' (English) note; the note itself where it
    says nothing we know."""
    note = str(error.get("note") or "")
    if error.get("type") == "type-error" and (match := _TYPE_NOTE.search(note)):
        hint = _TYPE_HINTS.get(match.group(1))
        if hint:
            return _(hint)
    if error.get("type") == "constraint-error" and (match := _CONSTRAINT_NOTE.search(note)):
        name, value = match.groups()
        hint = _CONSTRAINT_HINTS.get(name)
        if hint:
            shown = _(_PATTERN_WORDS[value]) if name == "pattern" and value in _PATTERN_WORDS \
                else value.replace("'", "").strip("[]")
            return _(hint).format(f"„{shown}“" if name == "pattern" else shown)
    return note or str(error.get("message") or "")


def summary(errors: list[dict[str, Any]], limit: int = 3) -> str:
    """The first ``limit`` errors, for a refusal message."""
    lines = [error_line(e) for e in errors[:limit]]
    more = len(errors) - limit
    if more > 0:
        lines.append(_("und {0} weitere").format(more))
    return "; ".join(lines)
