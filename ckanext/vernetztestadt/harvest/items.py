"""What one harvest object carries: an item, its checksum and its changes.

Owns: ``Item`` (one dataset to publish: guid, metadata, tables of rows in a
Table Schema, the documents it came from), its JSON form stored as the
harvest object's content, the checksum that decides "not modified", and the
field-level change summary between two versions of an item (rows added,
removed and changed by the schema's primary key; metadata fields changed).

Must not touch: CKAN, fetching, or the source formats.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from .. import table_schemas


@dataclass
class Table:
    """One tabular resource: rows of the Table Schema ``schema``."""

    key: str  # stable within the item; names the file (``<key>.csv``)
    name: str
    schema: str
    rows: list[dict[str, Any]]
    description: str = ""
    #: a chart view of this table (charts.CHART_KEYS), or None
    chart: dict[str, Any] | None = None
    #: also publish the rows as JSON (``<key>.json``)
    with_json: bool = False
    #: also publish the rows as GeoJSON points (``<key>.geojson``, from the
    #: ``latitude``/``longitude`` columns)
    with_geojson: bool = False
    #: a map view of this table (maps.VIEW_TYPE config), or None
    map: dict[str, Any] | None = None


@dataclass
class Item:
    guid: str
    dataset: dict[str, Any]
    tables: list[Table]
    documents: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Item | None:
        """The item of parsed content; None for other content (a withdrawal)."""
        if "tables" not in data:
            return None
        return cls(guid=data["guid"], dataset=data["dataset"],
                   tables=[Table(**table) for table in data["tables"]],
                   documents=data.get("documents", []))

    def checksum(self) -> str:
        """Over what gets published (metadata and rows), not where it came from."""
        published = {"dataset": self.dataset, "tables": [asdict(t) for t in self.tables]}
        text = json.dumps(published, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Changes:
    rows_added: int = 0
    rows_removed: int = 0
    rows_changed: int = 0
    fields_changed: list[str] = field(default_factory=list)
    new: bool = False

    @property
    def empty(self) -> bool:
        return not (self.new or self.rows_added or self.rows_removed or self.rows_changed
                    or self.fields_changed)

    def summary_de(self) -> str:
        if self.new:
            return f"Neu angelegt: {self.rows_added} Zeilen."
        parts = [f"{self.rows_added} Zeilen hinzugefügt", f"{self.rows_removed} entfernt",
                 f"{self.rows_changed} geändert"]
        text = ", ".join(parts)
        if self.fields_changed:
            text += "; Metadaten geändert: " + ", ".join(self.fields_changed)
        return text + "."

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "summary": self.summary_de()}


def _key_fields(schema_name: str, rows: list[dict[str, Any]]) -> list[str]:
    schema = table_schemas.bundled().get(schema_name) or {}
    key = schema.get("primaryKey") or []
    key = [key] if isinstance(key, str) else list(key)
    return key or (sorted(rows[0]) if rows else [])


def _by_key(rows: list[dict[str, Any]], key: list[str]) -> dict[str, dict[str, Any]]:
    return {json.dumps([row.get(k) for k in key], ensure_ascii=False): row for row in rows}


def changes(old: Item | None, new: Item) -> Changes:
    """What ``new`` changes against the published ``old``."""
    if old is None:
        return Changes(rows_added=sum(len(t.rows) for t in new.tables), new=True)
    result = Changes(fields_changed=sorted(
        name for name in set(old.dataset) | set(new.dataset)
        if old.dataset.get(name) != new.dataset.get(name)))
    before = {t.key: t for t in old.tables}
    for table in new.tables:
        key = _key_fields(table.schema, table.rows)
        old_rows = _by_key(before[table.key].rows, key) if table.key in before else {}
        new_rows = _by_key(table.rows, key)
        result.rows_added += len(new_rows.keys() - old_rows.keys())
        result.rows_removed += len(old_rows.keys() - new_rows.keys())
        result.rows_changed += sum(1 for k in new_rows.keys() & old_rows.keys()
                                   if new_rows[k] != old_rows[k])
    for key in before.keys() - {t.key for t in new.tables}:
        result.rows_removed += len(before[key].rows)
    return result
