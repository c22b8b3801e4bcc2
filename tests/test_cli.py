"""``ckan vernetztestadt ...``: the extension's CKAN commands.

Run through CKAN's own ``ckan`` command group with CKAN's ``cli`` fixture:
``info`` lists the shipped schema and harvest files, ``init-portal``
creates the demo sysadmin once and prints its password only that first time.
"""
from __future__ import annotations

import re
from pathlib import Path

import ckan.model as model
import ckan.plugins.toolkit as tk
import pytest
from ckan.cli.cli import ckan
from ckan.tests import helpers
from click.testing import Result

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = re.compile(r"(?:password|Passwort)[^:\n]*:\s*(\S+)\s*$", re.MULTILINE)


def invoke(cli, *args: str) -> Result:
    result = cli.invoke(ckan, ["vernetztestadt", *args])
    assert result.exit_code == 0, result.output
    return result


def _names(folder: Path, *suffixes: str) -> list[str]:
    return sorted(f.name for f in folder.glob("*") if f.is_file() and f.suffix in suffixes)


def test_info_lists_the_shipped_files(cli) -> None:
    output = invoke(cli, "info").output
    groups = {
        "Datensatz-Schemas / dataset schemas": [
            n for n in _names(ROOT / "schemas", ".yaml", ".yml") if n != "presets.yaml"],
        "Table Schemas": _names(ROOT / "schemas" / "tables", ".json"),
        "Harvest-Quellen / harvest sources": _names(ROOT / "harvesters", ".yaml", ".yml"),
    }
    for title, names in groups.items():
        assert f"{title}: {len(names)}" in output.splitlines()
        for name in names:
            assert f"  {name}" in output.splitlines()


def test_commands_are_registered_with_ckan(cli) -> None:
    result = cli.invoke(ckan, ["vernetztestadt", "--help"])
    assert result.exit_code == 0
    assert "init-portal" in result.output and "info" in result.output


@pytest.mark.usefixtures("clean_db")
def test_init_portal_creates_sysadmin_once(cli) -> None:
    name = tk.config.get("ckanext.vernetztestadt.demo.admin_name")
    assert model.User.get(name) is None

    first = invoke(cli, "init-portal").output
    match = PASSWORD.search(first)
    assert match, first
    password = match.group(1)
    user = model.User.get(name)
    assert user is not None and user.sysadmin
    assert user.validate_password(password)

    second = invoke(cli, "init-portal").output
    assert "already exists" in second
    assert password not in second
    assert PASSWORD.search(second) is None
    model.Session.expire_all()
    assert model.Session.query(model.User).filter_by(name=name).count() == 1
    assert model.User.get(name).validate_password(password)


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_init_portal_demo_is_idempotent(cli) -> None:
    """``--demo`` creates the city organization once; a second run changes nothing."""
    first = cli.invoke(ckan, ["vernetztestadt", "init-portal", "--demo"])
    assert first.exit_code == 0, first.output
    assert "organization created: stadt-gelsenkirchen" in first.output
    second = cli.invoke(ckan, ["vernetztestadt", "init-portal", "--demo"])
    assert second.exit_code == 0, second.output
    assert "organization exists: stadt-gelsenkirchen" in second.output
    orgs = helpers.call_action("organization_list")
    assert orgs == ["stadt-gelsenkirchen"]
    # the validated example: public, its upload passed, shown with its status
    assert "example dataset created: wlan-hotspots-beispiel" in first.output
    assert "example dataset exists: wlan-hotspots-beispiel" in second.output
    example = helpers.call_action("package_show", id="wlan-hotspots-beispiel")
    assert example["private"] is False and example["validation_status"] == "success"
    assert example["resources"][0]["url_type"] == "upload"
    # the shipped harvest sources, harvested offline from their snapshots
    assert "bitkom-smart-city-index: 5 added" in first.output
    assert "bitkom-smart-city-index: 5 not modified" in second.output
    series = helpers.call_action("package_show",
                                 id="bitkom-smart-city-index-gelsenkirchen-zeitreihe")
    assert series["validation_status"] == "success" and series["ags"] == "05513000"
    assert "wlan-hotspots: 1 added" in first.output
    assert "breitband-gelsenkirchen: 3 added" in first.output
    hotspots = helpers.call_action("package_show", id="wlan-hotspots-05513000")
    assert hotspots["title"].endswith("(synthetische Demo-Daten)")
    assert hotspots["validation_status"] == "success"
