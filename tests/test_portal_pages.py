"""The portal's own face (``portal.py``): home page, header, footer and the
pages a public body's portal needs, in German and English, from texts
another city can replace; read as the visitor, so nothing private shows."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup
from ckan.tests import factories, helpers
from validation import german_csv

from ckanext.vernetztestadt import portal

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

THEME = "http://publications.europa.eu/resource/authority/data-theme/TECH"


def soup(app, url: str, user: dict | None = None) -> BeautifulSoup:
    headers = {"Authorization": factories.APIToken(user=user["name"])["token"]} if user else {}
    response = app.get(url, headers=headers)
    assert response.status_code == 200, url
    return BeautifulSoup(response.body, "html.parser")


@pytest.fixture
def city(create_with_upload):
    """A public hotspot table (its upload gets a map view), a public and a
    private dataset, both of theme TECH."""
    steward = factories.User()
    # the factories paste pictures on outside hosts (placekittens.com, ...)
    org = factories.Organization(users=[{"name": steward["name"], "capacity": "editor"}])
    factories.Group(users=[{"name": steward["name"], "capacity": "admin"}])
    context = {"user": steward["name"]}
    public = helpers.call_action("package_create", context=dict(context), name="offen",
                                 title="Öffentliche WLAN-Standorte", owner_org=org["id"],
                                 theme=[THEME], notes="WLAN")
    create_with_upload(german_csv.valid(4), "hotspots.csv", context=dict(context),
                       package_id=public["id"], format="CSV", table_schema="hotspots")
    helpers.call_action("package_create", context=dict(context), name="geheim",
                        title="Geheimer Entwurf", owner_org=org["id"], private=True,
                        theme=[THEME], notes="intern")
    return {"steward": steward, "org": org}


def test_the_home_page_is_the_citys(app, city, monkeypatch):
    monkeypatch.setitem(portal.texts(), "featured_types", ["dataset"])
    page = soup(app, "/")
    text = page.get_text(" ", strip=True)
    for stock in ("Willkommen bei CKAN", "420 x 220", "hervorgehobener Abschnitt"):
        assert stock not in text
    assert page.find("h1").get_text(" ", strip=True) == "Die Vernetzte Stadt Gelsenkirchen"
    assert page.select_one("form.vts-home-search input[name=q]")
    assert [a.get_text(strip=True) for a in page.select(".vts-newest li a")] == [
        "Öffentliche WLAN-Standorte"]  # not the private one
    assert "1 Datensatz" in text
    theme = page.select_one(".vts-themes li")
    assert theme.a.get_text(strip=True) == "Wissenschaft und Technologie"
    assert "vocab_theme=" in theme.a["href"] and theme.select_one(".badge").text == "1"
    featured = page.select(".vts-featured-item")
    assert len(featured) == 1 and featured[0].select("svg.vts-dot-map circle")


def test_a_member_sees_the_private_dataset_too(app, city):
    page = soup(app, "/", city["steward"])
    titles = [a.get_text(strip=True) for a in page.select(".vts-newest li a")]
    assert sorted(titles) == ["Geheimer Entwurf", "Öffentliche WLAN-Standorte"]


@pytest.mark.parametrize("prefix, titles", [
    ("", ["Über das Portal", "Impressum", "Datenschutz", "Erklärung zur Barrierefreiheit"]),
    ("/en", ["About the portal", "Legal notice", "Privacy", "Accessibility statement"])])
def test_the_footer_links_every_page_in_the_pages_language(app, prefix, titles):
    page = soup(app, f"{prefix}/dataset/")
    links = page.select("footer .footer-links a")
    assert [a.get_text(strip=True) for a in links][:4] == titles
    for link in links[:4]:
        target = soup(app, link["href"])
        assert target.find("h1").get_text(strip=True) == link.get_text(strip=True)


def test_the_accessibility_statement_has_a_feedback_channel(app):
    text = soup(app, "/barrierefreiheit").get_text(" ", strip=True)
    assert "Feedback und Kontakt" in text and "Ebertstraße 11" in text
    assert "Durchsetzungsverfahren" in text and "WCAG 2.1" in text


def test_the_header_shows_the_wordmark_named_in_the_pages_language(app):
    logo = soup(app, "/dataset/").select_one("a.vts-logo")
    # the wordmark's words first (WCAG 2.5.3), then where the link leads
    assert logo["aria-label"] == ("Die Vernetzte Stadt Offene Daten \u00b7 Gelsenkirchen "
                                  "\u2013 Startseite")
    assert logo.select_one("svg.vts-wordmark")
    assert "CKAN" not in logo.get_text()
    english = soup(app, "/en/dataset/").select_one("a.vts-logo")
    assert english["aria-label"] == "The Connected City Open data \u00b7 Gelsenkirchen \u2013 Home"


def test_another_city_brings_its_own_texts(app, tmp_path: Path, ckan_config, monkeypatch):
    texts = yaml.safe_load(portal.BUNDLED.read_text(encoding="utf-8"))
    texts["name"] = {"de": "Daten-Stadt", "en": "Data town"}
    texts["contact"]["email"] = "offene-daten@stadt.example"
    path = tmp_path / "stadt.yaml"
    path.write_text(yaml.safe_dump(texts, allow_unicode=True), encoding="utf-8")
    monkeypatch.setitem(ckan_config, "ckanext.vernetztestadt.portal_texts", str(path))
    assert soup(app, "/").find("h1").get_text(" ", strip=True).startswith("Daten-Stadt")
    feedback = soup(app, "/barrierefreiheit").select_one("a[href^='mailto:']")
    assert feedback["href"] == "mailto:offene-daten@stadt.example"


def test_no_page_loads_anything_from_another_host(app, city, ckan_config):
    """No avatars from gravatar.com, no pasted picture URL of the steward, the
    organization or a group (the factories' are on outside hosts), nothing
    else either."""
    site = ckan_config["ckan.site_url"]
    for url in ("/", "/dataset/", "/dataset/offen", f"/organization/{city['org']['name']}",
                "/organization/", "/group/", "/barrierefreiheit"):
        html = str(soup(app, url, city["steward"]))
        sources = re.findall(r'(?:src|href)="((?:https?:)?//[^"]+)"', html)
        loaded = [s for s in sources if not s.startswith(site)
                  and not re.search(r'<a [^>]*href="' + re.escape(s), html)]
        assert loaded == [], (url, loaded)
        assert "gravatar" not in html and "placekittens" not in html, url
        assert city["org"]["image_url"] not in html, url


def test_titles_sort_in_german_order(app, city):
    helpers.call_action("package_create", context={"user": city["steward"]["name"]},
                        name="wlan-nutzung", title="WLAN-Nutzung", notes="WLAN",
                        owner_org=city["org"]["id"])
    helpers.call_action("package_create", context={"user": city["steward"]["name"]},
                        name="ampeln", title="Ampeln", notes="Verkehr",
                        owner_org=city["org"]["id"])
    result = helpers.call_action("package_search", sort="title_string asc")
    assert [d["title"] for d in result["results"]] == [
        "Ampeln", "Öffentliche WLAN-Standorte", "WLAN-Nutzung"]


@pytest.mark.parametrize("url, here", [
    ("/uploads/user/2026-12-02-bild.png", True),
    ("http://test.ckan.net/uploads/user/bild.png", True),
    ("HTTP://TEST.CKAN.NET/uploads/user/bild.png", True),
    ("https://test.ckan.net/uploads/user/bild.png", False),  # another scheme
    ("http://test.ckan.net:8443/bild.png", False),  # another port
    ("//gravatar.com/avatar/x", False),
    ("/\\gravatar.com/avatar/x", False),  # browsers read "\" as "/"
    ("\\\\gravatar.com/avatar/x", False),
    ("http:gravatar.com/avatar/x", False),
    ("https:gravatar.com/avatar/x", False),
    ("http://test.ckan.net@gravatar.com/x", False),
    ("http://gravatar.com#@test.ckan.net/x", False),
    (" //gravatar.com/x", False), ("/\t/gravatar.com/x", False),
    ("javascript:alert(1)", False), ("", False), ("http://test.ckan.net:x/", False),
])
def test_only_the_portals_own_addresses_count_as_served_here(url, here, ckan_config,
                                                             monkeypatch):
    from ckanext.vernetztestadt.helpers import served_here

    monkeypatch.setitem(ckan_config, "ckan.site_url", "http://test.ckan.net")
    assert served_here(url) is here
