"""Finding the files the package ships: dataset/table schemas, harvest sources.

Owns: the location of ``schemas/`` and ``harvesters/`` at run time. They are
subpackages of this package in the wheel (``setup.py`` maps the top-level
folders there), so they are found through ``importlib.resources``, never via
the source tree. Also the bundled Table Schemas as parsed JSON, read without
CKAN, so that the harvest parsers can cut values to their limits.

Must not touch: the files' meaning (schemas, harvest modules do), CKAN.
"""
from __future__ import annotations

import json
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

SCHEMAS_PACKAGE = "ckanext.vernetztestadt.schemas"
HARVESTERS_PACKAGE = "ckanext.vernetztestadt.harvesters"
PRESETS = "presets.yaml"
LICENSES = "licenses.json"


def schemas_dir() -> Traversable:
    return resources.files(SCHEMAS_PACKAGE)


def table_schemas_dir() -> Traversable:
    return schemas_dir().joinpath("tables")


def harvesters_dir() -> Traversable:
    return resources.files(HARVESTERS_PACKAGE)


def list_files(folder: Traversable, suffixes: tuple[str, ...]) -> list[Traversable]:
    """The files directly in ``folder`` with one of ``suffixes``, sorted by name."""
    if not folder.is_dir():  # wheels keep no empty folders
        return []
    return sorted((f for f in folder.iterdir() if f.is_file() and f.name.endswith(suffixes)),
                  key=lambda f: f.name)


def harvest_source_files() -> list[Traversable]:
    return list_files(harvesters_dir(), (".yaml", ".yml"))


def dataset_schema_files() -> list[Traversable]:
    """The dataset types (scheming YAML); the presets file is not one."""
    return [f for f in list_files(schemas_dir(), (".yaml", ".yml")) if f.name != PRESETS]


def scheming_reference(file: Traversable) -> str:
    """How ckanext-scheming names a packaged file: ``module:file``."""
    return f"{SCHEMAS_PACKAGE}:{file.name}"


def licenses_url() -> str:
    """The licence list as a ``file://`` URL for CKAN's licenses_group_url."""
    return "file://" + str(schemas_dir().joinpath(LICENSES))


def table_schema_files() -> list[Traversable]:
    return list_files(table_schemas_dir(), (".json",))


@cache
def bundled_table_schemas() -> dict[str, dict[str, Any]]:
    """Name (file name without ``.json``) -> descriptor of each bundled Table Schema."""
    return {f.name[: -len(".json")]: json.loads(f.read_text(encoding="utf-8"))
            for f in table_schema_files()}


def field_constraints(schema: str, field: str) -> dict[str, Any]:
    """The constraints of ``field`` in the bundled Table Schema ``schema``
    (the parsers cut values to these limits)."""
    found = next(f for f in bundled_table_schemas()[schema]["fields"] if f["name"] == field)
    return found.get("constraints", {})
