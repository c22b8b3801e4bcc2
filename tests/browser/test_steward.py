"""A data steward in a real browser: a new ``wifi_hotspots`` dataset through
every page of the form, a valid Windows-1252 table, an invalid one that the
gate refuses (the form keeps the table, says why in German, links the
report), the corrected file, publication and the map view."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ckan.tests import helpers
from validation import german_csv

from ckanext.vernetztestadt.testing.browser import login

from .conftest import STEWARD_PASSWORD, Portal

NAME = "wlan-am-musiktheater"  # the slug the form makes of the title


def next_page(page: Any) -> None:
    with page.expect_navigation():
        page.locator("form#dataset-edit button[name=save]").click()
    assert page.locator(".error-explanation").count() == 0, \
        page.locator(".error-explanation").all_inner_texts()


def choose_file(page: Any, path: Path) -> None:
    page.set_input_files("#resource-edit input[type=file]", str(path))


def test_a_steward_publishes_hotspots_only_when_they_are_valid(
        demo_portal: Portal, browse, screenshot, tmp_path: Path) -> None:
    good, bad = tmp_path / "hotspots.csv", tmp_path / "hotspots-fehler.csv"
    good.write_bytes(german_csv.valid(4))  # ";", decimal commas, Windows-1252
    bad.write_bytes(german_csv.with_cell(2, "postcode", "4587"))
    page, _ = browse(demo_portal.url)
    login(page, demo_portal.url, demo_portal.steward["name"], STEWARD_PASSWORD)

    # page 1 to 4 of the form, one "Weiter" each, and back again once
    page.goto(demo_portal.url + "/wifi_hotspots/new")
    assert page.locator("form#dataset-edit button[name=save]").inner_text() == "Weiter"
    # the slug preview exists once the form's scripts have started: only then
    # does typing a title make the slug (on a busy machine they start late);
    # the scripts speak German too (the preview's button)
    assert page.locator(".slug-preview button").inner_text() == "Bearbeiten"
    page.fill("#field-title", "WLAN am Musiktheater")
    assert page.locator("#field-name").input_value() == NAME
    page.fill("#field-notes", "Hotspots rund um das Musiktheater im Revier.")
    page.select_option("#field-private", "False")
    screenshot(page, "steward-1-basics")
    next_page(page)
    assert page.locator(".vts-back").inner_text() == "Zurück"
    with page.expect_navigation():
        page.locator(".vts-back").click()
    assert page.locator("#field-title").input_value() == "WLAN am Musiktheater"
    next_page(page)
    page.fill("#field-ags", "05513000")
    next_page(page)
    screenshot(page, "steward-2-contact")
    next_page(page)
    page.fill("#field-operator", "Stadt Gelsenkirchen")
    page.fill("#field-network_name", "GE-WLAN")
    next_page(page)
    assert "/resource/new" in page.url

    # a valid table, then an invalid one: refused, kept, explained
    choose_file(page, good)
    page.fill("#field-name", "Hotspots Musiktheater")
    with page.expect_navigation():
        page.locator("button[name=save][value=again]").click()
    choose_file(page, bad)
    page.fill("#field-name", "Hotspots Vorplatz")
    page.fill("#field-description", "Nachgetragene Standorte am Vorplatz.")
    with page.expect_navigation():
        page.locator("button[name=save][value=go-metadata]").click()
    refusal = page.locator(".vts-refusal")
    assert refusal.is_visible()
    text = refusal.inner_text()
    assert "nicht veröffentlicht werden" in text and "postcode" in text
    assert "private:" not in page.locator("form#resource-edit").inner_text()
    assert page.locator("#field-name").input_value() == "Hotspots Vorplatz"
    assert page.locator("#field-description").input_value() == \
        "Nachgetragene Standorte am Vorplatz."
    screenshot(page, "steward-3-refused")
    # the refused file, named in the upload field (a corrected one replaces it)
    assert page.locator("#resource-edit input[name=url]").input_value().endswith(
        "/hotspots-fehler.csv")
    report = refusal.get_by_role("link", name="Prüfbericht")
    assert report.get_attribute("href").endswith("/validation")
    screenshot(page, "steward-3-refused")
    dataset = helpers.call_action("package_show", id=NAME)
    assert dataset["state"] == "draft" and len(dataset["resources"]) == 2

    # the corrected file replaces the refused table; now it is published
    choose_file(page, good)
    with page.expect_navigation():
        page.locator("button[name=save][value=go-metadata]").click()
    assert page.url.endswith(f"/wifi_hotspots/{NAME}"), page.url
    dataset = helpers.call_action("package_show", id=NAME)
    assert dataset["state"] == "active" and not dataset["private"]
    assert [r["name"] for r in dataset["resources"]] == ["Hotspots Musiktheater",
                                                        "Hotspots Vorplatz"]
    assert {r["validation_status"] for r in dataset["resources"]} == {"success"}
    assert page.locator("svg.vts-dot-map circle").count() >= 4  # the map view
    screenshot(page, "steward-4-published")
