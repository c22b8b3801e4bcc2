"""The bundled Table Schemas are valid, and their samples pass
``frictionless validate`` (the command-line tool, as a steward runs it)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from frictionless import Schema

from ckanext.vernetztestadt import resources, table_schemas

TABLES = Path(__file__).parents[2] / "schemas" / "tables"
NAMES = ["hotspots", "broadband", "ranking"]
FRICTIONLESS = Path(sys.executable).with_name("frictionless")


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_a_valid_table_schema(name):
    descriptor = json.loads((TABLES / f"{name}.json").read_text(encoding="utf-8"))
    report = Schema.validate_descriptor(descriptor)
    assert report.valid, [e.message for e in report.errors]


@pytest.mark.parametrize("name", NAMES)
def test_sample_passes_frictionless_validate(name):
    # relative paths: frictionless refuses absolute ones as unsafe
    result = subprocess.run(
        [str(FRICTIONLESS), "validate", "--schema", f"{name}.json", f"{name}.sample.csv",
         "--json"], capture_output=True, text=True, check=False, cwd=TABLES)
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["valid"], result.stdout[-2000:]


def test_a_broken_sample_fails(tmp_path):
    """The check is real: a hotspot outside the coordinate range is refused."""
    lines = (TABLES / "hotspots.sample.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("51.5078", "351.5078")
    (tmp_path / "broken.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "hotspots.json").write_text((TABLES / "hotspots.json").read_text("utf-8"))
    result = subprocess.run(
        [str(FRICTIONLESS), "validate", "--schema", "hotspots.json", "broken.csv", "--json"],
        capture_output=True, text=True, check=False, cwd=tmp_path)
    report = json.loads(result.stdout)
    assert not report["valid"]
    errors = report["tasks"][0]["errors"]
    assert errors[0]["type"] == "constraint-error" and errors[0]["fieldName"] == "latitude"


def test_each_dataset_type_names_a_bundled_default():
    import yaml

    defaults = {}
    for file in resources.dataset_schema_files():
        schema = yaml.safe_load(file.read_text(encoding="utf-8"))
        defaults[schema["dataset_type"]] = schema.get("vernetztestadt_table_schema")
    assert defaults == {"dataset": None, "wifi_hotspots": "hotspots",
                        "broadband_coverage": "broadband", "smart_city_ranking": "ranking"}
    assert set(NAMES) == set(table_schemas.bundled())


@pytest.mark.parametrize("value, expected", [
    ("hotspots", "hotspots"),
    (" https://example.invalid/schema.json ", "https://example.invalid/schema.json"),
    ('{"fields": [{"name": "a", "type": "integer"}]}',
     '{"fields": [{"name": "a", "type": "integer"}]}'),
])
def test_reference_forms(value, expected):
    assert table_schemas.check_reference(value) == expected
