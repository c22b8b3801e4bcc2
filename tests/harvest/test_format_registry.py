"""The harvest registries: a format is its module plus an entry point.

A format registered from the test package (``format_fixture``, through a
distribution written into a temporary folder on ``sys.path``, as an
installed package would be) appears in the family's formats, the source
config check, the harvester's description on the source form and the docs
table, and reads documents; the formats import no CKAN; the plugin lists
of the portal and of ``test.ini`` hold every registered harvester type.
"""
from __future__ import annotations

import configparser
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ckanext.vernetztestadt import docs
from ckanext.vernetztestadt.harvest import formats, registry
from ckanext.vernetztestadt.harvest.config import ConfigError
from ckanext.vernetztestadt.harvest.formats import hotspot_rows
from ckanext.vernetztestadt.harvest.harvesters.wifi import WifiHarvester
from ckanext.vernetztestadt.runtime import ckan_config

TEST_FORMAT = "test_punktliste"
POINTS = "Punkt;Breite;Länge\r\nRathaus (synthetisch);51,5423;7,0921\r\n".encode("cp1252")
TEST_INI = Path(__file__).parents[2] / "test.ini"


@pytest.fixture
def test_format(tmp_path: Path) -> Iterator[str]:
    dist = tmp_path / "vts_test_format-0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: vts-test-format\nVersion: 0\n")
    (dist / "entry_points.txt").write_text(
        f"[{formats.ENTRY_POINT_GROUP}]\n{TEST_FORMAT} = format_fixture:PointList\n")
    sys.path.insert(0, str(tmp_path))
    formats.refresh()
    try:
        yield TEST_FORMAT
    finally:
        sys.path.remove(str(tmp_path))
        formats.refresh()


def test_a_format_registered_from_the_test_package_is_found_and_reads(test_format):
    assert test_format in formats.of_family(hotspot_rows.FAMILY)
    for fmt in (test_format, None):  # named, and recognised from the content
        parsed = hotspot_rows.parse(POINTS, fmt, salt="test")
        assert [(r["name"], r["latitude"], r["longitude"]) for r in parsed.rows] == [
            ("Rathaus (synthetisch)", 51.5423, 7.0921)]
    assert hotspot_rows.detect_format(POINTS) == test_format


def test_the_source_config_check_accepts_it_and_names_it_for_unknown_ones(test_format):
    harvester = WifiHarvester()
    harvester.validate_config(json.dumps({"format": test_format}))
    with pytest.raises(ConfigError) as refused:
        harvester.validate_config(json.dumps({"format": "kml"}))
    assert "„format“ muss einer von" in str(refused.value)
    assert test_format in str(refused.value)


def test_the_source_form_and_the_docs_table_show_it(test_format):
    assert "Testformat Punktliste (synthetisch)" in WifiHarvester().info()["description"]
    assert f"| `{test_format}` | `hotspots` | Testformat Punktliste" in docs.formats_table()


def test_without_its_entry_point_the_format_is_unknown():
    assert TEST_FORMAT not in formats.of_family(hotspot_rows.FAMILY)
    with pytest.raises(ConfigError):
        WifiHarvester().validate_config(json.dumps({"format": TEST_FORMAT}))
    with pytest.raises(hotspot_rows.HotspotFormatError, match="Unbekanntes Format"):
        hotspot_rows.parse(POINTS, salt="test")


def test_the_formats_import_no_ckan():
    script = ("import sys\n"
              "from ckanext.vernetztestadt.harvest import formats\n"
              "assert formats.registered()\n"
              "loaded = sorted(m for m in sys.modules if m == 'ckan' or m.startswith('ckan.'))\n"
              "print(loaded)\n"
              "sys.exit(1 if loaded else 0)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_registered_harvester_is_a_plugin_of_the_portal_and_of_test_ini():
    """test.ini's plugin line is generated from the portal's list (and so
    from the registry): regenerate with
    ``python -m ckanext.vernetztestadt.docs --update test.ini``."""
    types = registry.harvester_types()
    assert {"vernetztestadt_ranking", "vernetztestadt_wifi", "vernetztestadt_broadband",
            "vernetztestadt_dcat", "vernetztestadt_ckan"} <= set(types)
    assert set(types) <= set(ckan_config.PLUGINS)
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(TEST_INI, encoding="utf-8")
    assert f"ckan.plugins = {ini['app:main']['ckan.plugins']}" == docs.test_ini_plugins()


def test_the_test_ini_plugin_line_is_regenerated(tmp_path):
    target = tmp_path / "test.ini"
    target.write_text("[app:main]\nckan.plugins = vernetztestadt\nother = 1\n", encoding="utf-8")
    assert docs.main(["--check", str(target)]) == 1
    assert docs.main(["--update", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == (
        f"[app:main]\n{docs.test_ini_plugins()}\nother = 1\n")
    assert docs.main(["--check", str(target)]) == 0


def test_the_readme_formats_table_is_current():
    """Regenerate with: python -m ckanext.vernetztestadt.docs --update README.md"""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert docs.extract_table(readme, docs.FORMATS_MARKERS) == docs.formats_table()
