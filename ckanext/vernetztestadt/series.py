"""Dataset series: the datasets of one type that share some fields and follow
each other by one (the ranking editions of an index, the broadband datasets
of successive reference dates), as DCAT-AP 3's ``dcat:DatasetSeries``.

A type declares its series in its schema (``schemas/*.yaml``)::

    vernetztestadt_series:
      by: [ranking]        # members share these fields
      order: edition       # and follow each other by this one
      title: {de: "{ranking}: alle Ausgaben", en: "{ranking}: all editions"}

A dataset without the ``order`` field (a time series over all editions) is
no member. Owns: finding a dataset's series and its members in order (a
search as the caller: only what the caller may read), the series page and
the helpers that draw the neighbours. Must not touch: the RDF (``profiles``
reads what this finds) or the stored datasets.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import ckan.plugins.toolkit as tk
from flask import Blueprint

from . import portal

SCHEMA_KEY = "vernetztestadt_series"
MAX_MEMBERS = 1000
#: what a shared value may be (choice values, keys, dates): it goes into a
#: search filter, and a series key comes from the URL
SAFE_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass
class Series:
    dataset_type: str
    key: str  # the shared values, joined: "bitkom-smart-city-index"
    values: dict[str, str]
    title: dict[str, str]
    members: list[dict[str, Any]] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"/reihe/{self.dataset_type}/{quote(self.key, safe='')}"

    def neighbours(self, name: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        names = [member["name"] for member in self.members]
        if name not in names:
            return None, None
        at = names.index(name)
        return (self.members[at - 1] if at > 0 else None,
                self.members[at + 1] if at + 1 < len(names) else None)


@dataclass(frozen=True)
class Identity:
    """Which series: the type and the shared values (no search yet)."""

    dataset_type: str
    values: dict[str, str]
    declared: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.dataset_type}/{'~'.join(self.values.values())}"


def _schema(dataset_type: str) -> dict[str, Any]:
    from ckanext.scheming.helpers import scheming_get_dataset_schema

    return scheming_get_dataset_schema(dataset_type) or {}


def _identity(dataset_type: str, values: dict[str, str]) -> Identity | None:
    """Only values that look like keys: they go into a search filter, and a
    series key comes from the URL."""
    declared = _schema(dataset_type).get(SCHEMA_KEY)
    if not declared or list(values) != declared["by"] or not all(
            SAFE_VALUE.fullmatch(value) for value in values.values()):
        return None
    return Identity(dataset_type, values, declared)


def identity(dataset: dict[str, Any]) -> Identity | None:
    """The series a dataset belongs to; None where its type declares none or
    it is no member (no ``order`` value, e.g. a time series of all editions)."""
    declared = _schema(dataset.get("type") or "").get(SCHEMA_KEY)
    if not declared or dataset.get(declared["order"]) in (None, ""):
        return None
    return _identity(dataset["type"], {name: str(dataset.get(name) or "")
                                       for name in declared["by"]})


def _labels(dataset_type: str, lang: str, values: dict[str, str]) -> dict[str, str]:
    """Each value as its choice's label in ``lang`` (else German), where the
    field has choices; else the value."""
    from ckanext.scheming.helpers import scheming_field_by_name

    fields = _schema(dataset_type).get("dataset_fields", [])
    labels = {}
    for name, value in values.items():
        choices = (scheming_field_by_name(fields, name) or {}).get("choices", [])
        label = next((c.get("label") for c in choices if c["value"] == value), None) or value
        labels[name] = (label.get(lang) or label.get("de") or value
                        if isinstance(label, dict) else label)
    return labels


def _search(dataset_type: str, values: dict[str, str], context: dict[str, Any]
            ) -> list[dict[str, Any]]:
    fq = [f'dataset_type:"{dataset_type}"'] + [
        f'{name}:"{value}"' for name, value in values.items()]
    found = tk.get_action("package_search")(dict(context), {
        "fq": " ".join(fq), "rows": MAX_MEMBERS, "include_private": True})
    return found["results"]


def build(found: Identity, context: dict[str, Any] | None = None) -> Series:
    """The series with its members in order (those the caller may read)."""
    order, values = found.declared["order"], found.values
    title = {lang: text.format(**_labels(found.dataset_type, lang, values))
             for lang, text in found.declared["title"].items()}
    members = [m for m in _search(found.dataset_type, values, context or {})
               if m.get(order) not in (None, "")
               and all(str(m.get(n) or "") == v for n, v in values.items())]
    members.sort(key=lambda member: str(member[order]).zfill(12))
    return Series(found.dataset_type, "~".join(values.values()), values, title, members)


def series_of(dataset: dict[str, Any], context: dict[str, Any] | None = None
              ) -> Series | None:
    found = identity(dataset)
    return build(found, context) if found else None


def series_by_key(dataset_type: str, key: str, context: dict[str, Any]) -> Series | None:
    declared = _schema(dataset_type).get(SCHEMA_KEY)
    parts = key.split("~")
    if not declared or len(parts) != len(declared["by"]):
        return None
    found = _identity(dataset_type, dict(zip(declared["by"], parts, strict=True)))
    return build(found, context) if found else None


# -- the series page -----------------------------------------------------------

def _context() -> dict[str, Any]:
    return {"user": tk.current_user.name if tk.current_user.is_authenticated else ""}


def series_page(dataset_type: str, key: str) -> str:
    found = series_by_key(dataset_type, key, _context())
    if found is None or not found.members:
        return tk.abort(404, tk._("Diese Reihe gibt es nicht."))
    return tk.render("vernetztestadt/series.html", {
        "series": found, "title": portal.local(found.title)})


def get_blueprints() -> list[Blueprint]:
    blueprint = Blueprint("vernetztestadt_series", __name__)
    blueprint.add_url_rule("/reihe/<dataset_type>/<key>", view_func=series_page)
    return [blueprint]


def dataset_series(dataset: dict[str, Any]) -> dict[str, Any] | None:
    """Template helper: the dataset's series, title and neighbours."""
    found = series_of(dataset, _context())
    if found is None or len(found.members) < 2:
        return None
    previous, following = found.neighbours(dataset["name"])
    return {"path": found.path, "title": portal.local(found.title),
            "count": len(found.members), "previous": previous, "next": following,
            "first": found.members[0], "last": found.members[-1]}


def get_helpers() -> dict[str, Any]:
    return {"vernetztestadt_dataset_series": dataset_series}
