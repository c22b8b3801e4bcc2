"""Checking parser output against a bundled Table Schema with frictionless
itself, the way the validation would see the published CSV."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from frictionless import Resource, Schema, validate

TABLES = Path(__file__).parents[2] / "schemas" / "tables"


def fields(schema_name: str) -> list[str]:
    descriptor = json.loads((TABLES / f"{schema_name}.json").read_text(encoding="utf-8"))
    return [field["name"] for field in descriptor["fields"]]


def assert_valid_rows(folder: Path, rows: list[dict[str, Any]], schema_name: str) -> None:
    """``rows`` (keys in the schema's order) written as CSV pass the schema."""
    descriptor = json.loads((TABLES / f"{schema_name}.json").read_text(encoding="utf-8"))
    names = [field["name"] for field in descriptor["fields"]]
    assert rows and all(list(row) == names for row in rows)
    with (folder / f"{schema_name}.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        writer.writerows(rows)
    # a relative path: frictionless refuses absolute ones as unsafe
    resource = Resource(path=f"{schema_name}.csv", basepath=str(folder),
                        schema=Schema.from_descriptor(descriptor))
    report = validate(resource)
    assert report.valid, report.flatten(["rowNumber", "fieldName", "message"])
    assert report.tasks[0].stats["rows"] == len(rows)
