"""German hints for the report's "Hinweis" column (``messages.error_hint``),
from frictionless' errors, without a database."""
from __future__ import annotations

import pytest
from frictionless import Resource, Schema

from ckanext.vernetztestadt.validation.messages import error_hint


def errors_of(rows: list[list[str]], fields: list[dict]) -> list[dict]:
    """The errors frictionless itself reports for a small table."""
    resource = Resource(data=rows, schema=Schema.from_descriptor({"fields": fields}))
    return [error.to_descriptor() for error in resource.validate().tasks[0].errors]


@pytest.mark.parametrize("field, cell, hint", [
    ({"name": "stichtag", "type": "date"}, "30.06.2025",
     "Datum im Format JJJJ-MM-TT erwartet, z. B. 2025-06-30."),
    ({"name": "platz", "type": "integer"}, "17,5",
     "Ganze Zahl ohne Nachkommastellen erwartet, z. B. 17."),
    ({"name": "ags", "type": "string", "constraints": {"pattern": "[0-9]{8}"}}, "5513000",
     "Der Wert muss dem Muster „8 Ziffern“ entsprechen."),
    ({"name": "plz", "type": "string", "constraints": {"pattern": "[0-9]{5}"}}, "4587",
     "Der Wert muss dem Muster „5 Ziffern“ entsprechen."),
    ({"name": "anteil", "type": "number", "constraints": {"maximum": 100}}, "101",
     "Der Wert darf höchstens 100 sein."),
    ({"name": "technik", "type": "string", "constraints": {"enum": ["ftth_b", "5g"]}}, "dsl",
     "Erlaubt sind nur diese Werte: ftth_b, 5g."),
])
def test_frictionless_errors_get_a_german_hint(field, cell, hint):
    errors = errors_of([[field["name"]], [cell]], [field])
    assert [error_hint(e) for e in errors] == [hint], errors


def test_an_unknown_note_is_shown_as_it_is():
    error = {"type": "type-error", "note": 'type is "any/strange"', "message": "x"}
    assert error_hint(error) == 'type is "any/strange"'
    assert error_hint({"type": "blank-row", "message": "Zeile leer"}) == "Zeile leer"
