"""The criteria of the metadata quality score, read from ``criteria.yaml``.

Owns: loading and checking the declarative criteria (id, level, weight,
scope, check, the fields read, the form field, subfield and anchor a
finding links to, the German message, the source) and the Babel extractor that puts their
messages into the translation catalogue (``babel.cfg``).

Must not touch: judging datasets (``assess``), CKAN (no ``ckan`` import: the
extractor runs in ``pybabel`` and the pure tests without an app).
"""
from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import IO, Any

import yaml

FILE = "criteria.yaml"
LEVELS = ("MUST", "SHOULD", "MAY")
SCOPES = ("dataset", "resource")
FORMS = ("dataset", "resource", "new_resource")
CHECK_NAMES = ("present", "publisher", "dcat_ap_de_licence", "attribution",
               "contacts_reachable", "own_licence", "file_type")


@dataclass(frozen=True)
class Criterion:
    id: str
    level: str
    weight: int
    scope: str
    check: str
    reads: tuple[str, ...]
    field: str
    subfield: str | None
    form: str
    anchor: str
    message: str
    source: str


@dataclass(frozen=True)
class Criteria:
    good_from: int
    items: tuple[Criterion, ...]


class CriteriaError(ValueError):
    """``criteria.yaml`` says something the score cannot use."""


def _criterion(entry: dict[str, Any]) -> Criterion:
    try:
        found = Criterion(
            id=str(entry["id"]), level=entry["level"], weight=entry["weight"],
            scope=entry["scope"], check=entry["check"], reads=tuple(entry["reads"]),
            field=str(entry["field"]), subfield=entry.get("subfield"),
            form=entry.get("form") or entry["scope"], anchor=_anchor(entry),
            message=str(entry["message"]), source=str(entry["source"]))
    except (KeyError, TypeError) as error:
        raise CriteriaError(f"{FILE}: criterion {entry!r} lacks {error}") from None
    _check(found)
    return found


def _anchor(entry: dict[str, Any]) -> str:
    """The form element a finding links to (scheming names a repeating
    field's inputs ``field-<field>-<index>-<subfield>``)."""
    if "anchor" in entry:
        return str(entry["anchor"])
    if entry.get("subfield"):
        return f"field-{entry['field']}-0-{entry['subfield']}"
    return f"field-{entry['field']}"


def _check(found: Criterion) -> None:
    problems = [
        found.level not in LEVELS and f"level {found.level!r}",
        found.scope not in SCOPES and f"scope {found.scope!r}",
        found.form not in FORMS and f"form {found.form!r}",
        found.check not in CHECK_NAMES and f"check {found.check!r}",
        not (isinstance(found.weight, int) and found.weight > 0) and f"weight {found.weight!r}",
        not found.reads and "no field to read",
    ]
    wrong = [problem for problem in problems if problem]
    if wrong:
        raise CriteriaError(f"{FILE}: {found.id}: " + ", ".join(wrong))


def parse(text: str) -> Criteria:
    data = yaml.safe_load(text) or {}
    items = tuple(_criterion(entry) for entry in data.get("criteria") or [])
    ids = [item.id for item in items]
    if len(set(ids)) != len(ids):
        raise CriteriaError(f"{FILE}: an id is used twice: {sorted(ids)}")
    if not items:
        raise CriteriaError(f"{FILE}: no criteria")
    return Criteria(good_from=int(data.get("good_from", 80)), items=items)


@functools.cache
def load() -> Criteria:
    """The shipped criteria (through ``importlib.resources``: also from a wheel)."""
    return parse(resources.files(__package__).joinpath(FILE).read_text("utf-8"))


def extract(fileobj: IO[bytes], keywords: Any, comment_tags: Any,
            options: dict[str, Any]) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extraction method (``babel.cfg``): every criterion's ``message``,
    at its line, commented with the criterion's id."""
    node = yaml.compose(fileobj.read().decode("utf-8"))
    for _key, value in getattr(node, "value", []):
        if getattr(_key, "value", None) != "criteria":
            continue
        for entry in value.value:
            fields = {k.value: v for k, v in entry.value}
            if "message" in fields:
                message = fields["message"]
                ident = getattr(fields.get("id"), "value", "?")
                yield message.start_mark.line + 1, "_", message.value, [f"quality: {ident}"]
