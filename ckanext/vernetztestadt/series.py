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


def declaration(dataset_type: str) -> dict[str, Any] | None:
    from ckanext.scheming.helpers import scheming_get_dataset_schema

    schema = scheming_get_dataset_schema(dataset_type) or {}
    return schema.get(SCHEMA_KEY)


def _label(dataset_type: str, field_name: str, value: str, lang: str) -> str:
    """A choice's label in ``lang`` (else German) where the field has choices."""
    from ckanext.scheming.helpers import scheming_get_dataset_schema

    schema = scheming_get_dataset_schema(dataset_type) or {}
    for found in schema.get("dataset_fields", []):
        if found["field_name"] == field_name:
            for choice in found.get("choices", []):
                if choice["value"] == value:
                    label = choice.get("label") or value
                    if isinstance(label, dict):
                        return label.get(lang) or label.get("de") or value
                    return label
    return value


def _search(dataset_type: str, values: dict[str, str], context: dict[str, Any]
            ) -> list[dict[str, Any]]:
    fq = [f'dataset_type:"{dataset_type}"'] + [
        f'{name}:"{value}"' for name, value in values.items()]
    found = tk.get_action("package_search")(dict(context), {
        "fq": " ".join(fq), "rows": MAX_MEMBERS, "include_private": True})
    return found["results"]


def series_of(dataset: dict[str, Any], context: dict[str, Any] | None = None
              ) -> Series | None:
    """The series a dataset belongs to, with its members in order (those the
    caller may read); None where its type declares none or it is no member."""
    declared = declaration(dataset.get("type") or "")
    if not declared or dataset.get(declared["order"]) in (None, ""):
        return None
    values = {name: str(dataset.get(name) or "") for name in declared["by"]}
    if not all(SAFE_VALUE.fullmatch(value) for value in values.values()):
        return None
    return _build(dataset["type"], values, declared, context)


def _build(dataset_type: str, values: dict[str, str], declared: dict[str, Any],
           context: dict[str, Any] | None) -> Series:
    order = declared["order"]
    title = {lang: text.format(**{name: _label(dataset_type, name, value, lang)
                                  for name, value in values.items()})
             for lang, text in declared["title"].items()}
    members = [m for m in _search(dataset_type, values, context or {})
               if m.get(order) not in (None, "")
               and all(str(m.get(n) or "") == v for n, v in values.items())]
    members.sort(key=lambda member: str(member[order]).zfill(12))
    return Series(dataset_type, "~".join(values.values()), values, title, members)


def series_by_key(dataset_type: str, key: str, context: dict[str, Any]) -> Series | None:
    declared = declaration(dataset_type)
    if not declared:
        return None
    parts = key.split("~")
    if len(parts) != len(declared["by"]) or not all(SAFE_VALUE.fullmatch(p) for p in parts):
        return None
    return _build(dataset_type, dict(zip(declared["by"], parts, strict=True)), declared,
                  context)


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
