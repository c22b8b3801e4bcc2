"""Metadata quality through CKAN (issue 15): the score and findings of a
complete and a minimal dataset of every type (action ``metadata_quality_show``),
the dataset page's box for editors only, the organization overview's
permissions, the facet in package_search and on the search page, the CLI
``ckan vernetztestadt metadata check`` and the metadata gate
(``ckanext.vernetztestadt.metadata_gate``) on and off, through actions and
HTTP. The pure score is tested in ``test_metadata_quality_assess.py``."""
from __future__ import annotations

import json
import re

import ckan.plugins.toolkit as tk
import pytest
from bs4 import BeautifulSoup
from ckan.cli.cli import ckan
from ckan.tests import factories, helpers
from schema_examples import TYPE_FIELDS, example

pytestmark = [
    pytest.mark.usefixtures("clean_db", "clean_index"),
    # their CSV resources point at made-up URLs; the validation gate has its own tests
    pytest.mark.ckan_config("ckanext.vernetztestadt.validation.gate", "false"),
]

TYPES = sorted(TYPE_FIELDS)
GATE = "ckanext.vernetztestadt.metadata_gate"
ROLES = ("editor", "admin", "member")
UNREACHABLE = "Ein Ansprechpartner hat weder E-Mail noch Webseite."
#: what a minimal dataset lacks (tests/schemas/test_dcat_ap_de.py's minimal)
MINIMAL_FINDINGS = {"keywords", "theme", "contact_point", "issued", "landing_page",
                    "distribution_title", "frequency", "modified", "temporal_coverage"}


@pytest.fixture
def world():
    """An organization with an editor, an admin and a member, an outsider
    and a sysadmin."""
    people = {role: factories.User(name=f"q-{role}") for role in (*ROLES, "outsider")}
    people["sysadmin"] = factories.Sysadmin(name="q-sysadmin")
    org = factories.Organization(name="stadt-gelsenkirchen", title="Stadt Gelsenkirchen",
                                 users=[{"name": people[r]["name"], "capacity": r}
                                        for r in ROLES])
    return {"org": org, **people}


def act(world: dict, user: str | None, action: str, **data) -> dict:
    """An action as ``user`` with their permissions (call_action would ignore them)."""
    name = world[user]["name"] if user else ""
    return helpers.call_action(action, context={"user": name, "ignore_auth": False}, **data)


def create(world: dict, data: dict, user: str = "sysadmin") -> dict:
    return act(world, user, "package_create", **{"owner_org": world["org"]["id"], **data})


def minimal(dataset_type: str, name: str | None = None) -> dict:
    return {"type": dataset_type, "name": name or f"{dataset_type.replace('_', '-')}-minimal",
            "title": "Minimal", "notes": "Nur die Pflichtfelder.",
            **{k: v for k, v in TYPE_FIELDS[dataset_type].items()
               if k in ("reference_date", "broadband_source", "ranking", "edition")},
            "resources": [{"url": "http://example.invalid/daten.csv", "format": "CSV"}]}


def poor(name: str = "kontakt-ohne-adresse") -> dict:
    """Complete but for a contact without e-mail or URL (K01, a MUST)."""
    return {**example("dataset", name=name), "contact": [{"name": "Nur ein Name"}]}


def quality(world: dict, name: str, user: str = "sysadmin") -> dict:
    return act(world, user, "metadata_quality_show", id=name)


def headers(world: dict, user: str | None) -> dict:
    if user is None:
        return {}
    return {"Authorization": factories.APIToken(user=world[user]["name"])["token"]}


def soup(app, url: str, world: dict, user: str | None, status: int = 200) -> BeautifulSoup:
    response = app.get(url, headers=headers(world, user), status=status)
    return BeautifulSoup(response.body, "html.parser")


def words(node) -> str:
    """A node's text with its whitespace as one reads it."""
    return " ".join(node.get_text(" ").split())


def prefix(dataset_type: str) -> str:
    return f"/{dataset_type}"


# -- score and findings of every type (actions) --------------------------------
@pytest.mark.parametrize("dataset_type", TYPES)
def test_complete_and_minimal_datasets_of_every_type(world, dataset_type):
    complete = create(world, example(dataset_type))
    shown = quality(world, complete["name"], "editor")
    assert (shown["score"], shown["grade"], shown["must"], shown["findings"]) == (
        100, "good", 0, [])
    assert shown["grade_label"] == "Gut"

    bare = create(world, minimal(dataset_type))
    shown = quality(world, bare["name"], "editor")
    expected = MINIMAL_FINDINGS - ({"temporal_coverage"} if dataset_type ==
                                   "broadband_coverage" else set())
    assert {f["criterion"] for f in shown["findings"]} == expected
    assert shown["must"] == 0 and shown["grade"] == "fair" and 50 < shown["score"] < 80
    found = {f["criterion"]: f for f in shown["findings"]}
    assert found["keywords"]["text"] == "Schlagwörter fehlen."
    assert found["keywords"]["level_label"] == "SOLL"
    assert found["frequency"]["level_label"] == "KANN"
    edit = f"{prefix(dataset_type)}/edit/{bare['name']}"
    assert found["keywords"]["link"] == f"{edit}/1#field-tag_string"
    assert found["theme"]["link"] == f"{edit}/1#field-theme"
    if dataset_type != "broadband_coverage":
        assert found["temporal_coverage"]["link"] == f"{edit}/2#field-temporal_coverage-0-start"
    assert found["contact_point"]["link"] == f"{edit}/3#field-contact-0-name"
    resource = bare["resources"][0]["id"]
    assert found["distribution_title"]["link"] == (
        f"{prefix(dataset_type)}/{bare['name']}/resource/{resource}/edit#field-name")
    assert found["distribution_title"]["text"] == (
        "Ressource „http://example.invalid/daten.csv“: Der Name fehlt.")


def test_the_links_lead_to_the_form_fields(app, world):
    bare = create(world, minimal("wifi_hotspots", "ohne-viel"))
    for finding in quality(world, bare["name"])["findings"]:
        path, anchor = finding["link"].split("#")
        page = soup(app, path, world, "editor")
        if finding["subfield"]:  # a repeating field without entries: its label
            assert page.select_one(f'label[for="field-{finding["field"]}"]'), finding
        else:
            assert page.find(id=anchor), finding


def test_quality_show_is_for_those_who_may_edit(world):
    bare = create(world, minimal("dataset"))
    for user in ("editor", "admin", "sysadmin"):
        assert quality(world, bare["name"], user)["grade"] == "fair"
    for user in ("member", "outsider"):
        with pytest.raises(tk.NotAuthorized):
            quality(world, bare["name"], user)
    with pytest.raises(tk.ObjectNotFound):
        quality(world, "gibt-es-nicht")


# -- the dataset page ------------------------------------------------------------
def test_the_box_is_shown_to_editors_only(app, world):
    sent = minimal("dataset", "fuer-die-redaktion")
    sent["resources"].append({"url": "http://example.invalid/b.csv",
                              "name": "<b>fett</b>", "format": "XYZ"})
    create(world, sent)
    for user in ("editor", "admin", "sysadmin"):
        box = soup(app, "/dataset/fuer-die-redaktion", world, user).select_one(".vts-quality")
        assert box is not None, user
        assert box["data-quality-grade"] == "poor"  # the XYZ format breaks K32
        items = {li["data-criterion"]: li for li in box.select("li[data-criterion]")}
        assert {"distribution_format_vocabulary", "keywords"} <= set(items)
        must = items["distribution_format_vocabulary"]
        assert must["data-level"] == "MUST" and "MUSS" in must.get_text()
        assert must.find("b") is None  # the resource name is text, not markup
        assert "Ressource „<b>fett</b>“" in must.a.get_text()
        assert must.a["href"].endswith("/edit#field-format")
    for user in ("member", "outsider", None):
        page = soup(app, "/dataset/fuer-die-redaktion", world, user)
        assert page.select_one(".vts-quality") is None, user
        assert "Metadatenqualität" not in page.get_text(), user


# -- the organization overview ---------------------------------------------------
@pytest.mark.search
@pytest.mark.parametrize(("user", "status"), [
    (None, 403), ("outsider", 403), ("member", 403),
    ("editor", 200), ("admin", 200), ("sysadmin", 200)])
def test_organization_overview_permissions(app, world, user, status):
    create(world, example("dataset", name="vollstaendig"))
    url = "/organization/stadt-gelsenkirchen/metadatenqualitaet"
    page = soup(app, url, world, user, status=status)
    org_page = soup(app, "/organization/stadt-gelsenkirchen", world, user)
    tab = org_page.find("a", href=url)
    if status == 200:
        assert page.select_one(".vts-quality-table tr[data-dataset='vollstaendig']")
        assert tab is not None
    else:
        assert page.select_one(".vts-quality-table") is None
        assert tab is None
        assert "vollstaendig" not in page.get_text()
        with pytest.raises(tk.NotAuthorized):
            act(world, user, "metadata_quality_organization_list", id="stadt-gelsenkirchen")


@pytest.mark.search
def test_organization_overview_lists_worst_first_with_private_ones(app, world):
    create(world, example("dataset", name="vollstaendig"))
    create(world, {**minimal("dataset", "karg"), "private": True})
    create(world, poor())
    rows = soup(app, "/organization/stadt-gelsenkirchen/metadatenqualitaet", world,
                "editor").select(".vts-quality-table tbody tr")
    assert [row["data-dataset"] for row in rows] == [
        "kontakt-ohne-adresse", "karg", "vollstaendig"]
    assert [row.select_one(".vts-quality-must").get_text(strip=True) for row in rows] == [
        "1", "0", "0"]
    assert "Privat" in rows[1].get_text()
    listed = act(world, "editor", "metadata_quality_organization_list",
                 id="stadt-gelsenkirchen")
    assert [(d["name"], d["grade"]) for d in listed["datasets"]] == [
        ("kontakt-ohne-adresse", "poor"), ("karg", "fair"), ("vollstaendig", "good")]
    app.get("/organization/gibt-es-nicht/metadatenqualitaet",
            headers=headers(world, "sysadmin"), status=404)


# -- the facet -------------------------------------------------------------------
@pytest.mark.search
def test_the_grade_is_a_facet(app, world):
    create(world, example("dataset", name="vollstaendig"))
    create(world, minimal("dataset", "karg"))
    create(world, poor())
    found = helpers.call_action("package_search",
                                **{"facet.field": json.dumps(["vernetztestadt_quality"])})
    assert found["facets"]["vernetztestadt_quality"] == {"good": 1, "fair": 1, "poor": 1}
    only = helpers.call_action("package_search", fq="vernetztestadt_quality:poor")
    assert [d["name"] for d in only["results"]] == ["kontakt-ohne-adresse"]

    # fixed: re-indexed with its new grade
    act(world, "editor", "package_patch", id="kontakt-ohne-adresse",
        contact=[{"name": "Team", "email": "opendata@example.invalid"}])
    found = helpers.call_action("package_search", fq="vernetztestadt_quality:good")
    assert sorted(d["name"] for d in found["results"]) == ["kontakt-ohne-adresse",
                                                           "vollstaendig"]

    page = soup(app, "/dataset/", world, "editor")
    facet = page.select_one("section.module-narrow:has(a[href*='vernetztestadt_quality'])")
    assert facet is not None and "Metadatenqualität" in facet.get_text()
    assert {a.get_text(" ", strip=True).split(" ")[0] for a in facet.select("a")
            if "vernetztestadt_quality=" in a["href"]} == {"Gut", "Mittel"}
    anonymous = soup(app, "/dataset/", world, None)
    assert anonymous.select_one("a[href*='vernetztestadt_quality']") is None
    filtered = soup(app, "/dataset/?vernetztestadt_quality=fair", world, "editor")
    assert [a["href"].rsplit("/", 1)[-1] for a in filtered.select(".dataset-heading a")] == [
        "karg"]


# -- the CLI ---------------------------------------------------------------------
def test_cli_checks_named_datasets(cli, world):
    create(world, example("dataset", name="vollstaendig"))
    create(world, minimal("dataset", "karg"))
    result = cli.invoke(ckan, ["vernetztestadt", "metadata", "check", "vollstaendig", "karg"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "vollstaendig: 100/100, Gut / good" in lines
    assert any(re.fullmatch(r"karg: \d\d/100, Mittel / fair", line) for line in lines)
    site = tk.config["ckan.site_url"].rstrip("/")
    assert f"  SOLL  Schlagwörter fehlen. -> {site}/dataset/edit/karg/1#field-tag_string" in lines
    assert lines[-1].startswith("2 Datensätze geprüft, 0 mit MUSS-Verstoß, Durchschnitt ")
    assert "/ 2 datasets checked, 0 breaking a MUST criterion, average " in lines[-1]


def test_cli_all_exits_1_on_a_must_finding(cli, world):
    create(world, example("dataset", name="vollstaendig"))
    create(world, {**poor(), "private": True})  # private ones are checked too
    result = cli.invoke(ckan, ["vernetztestadt", "metadata", "check", "--all"])
    assert result.exit_code == 1, result.output
    assert f"  MUSS  {UNREACHABLE} -> " in result.output
    assert result.output.splitlines()[-1].startswith("2 Datensätze geprüft, 1 mit MUSS-Verstoß")


@pytest.mark.parametrize("args", [[], ["--all", "vollstaendig"], ["gibt-es-nicht"]])
def test_cli_usage_errors_exit_2(cli, world, args):
    create(world, example("dataset", name="vollstaendig"))
    result = cli.invoke(ckan, ["vernetztestadt", "metadata", "check", *args])
    assert result.exit_code == 2, result.output
    assert "100/100" not in result.output


# -- the gate ----------------------------------------------------------------------
def test_the_gate_is_off_by_default(world):
    assert tk.asbool(tk.config.get(GATE)) is False
    assert create(world, poor())["private"] is False


@pytest.mark.ckan_config(GATE, "true")
class TestGateOn:
    def test_a_public_dataset_breaking_a_must_is_refused(self, world):
        with pytest.raises(tk.ValidationError) as refused:
            create(world, poor(), "editor")
        assert refused.value.error_dict == {"contact": [{"email": [UNREACHABLE]}]}
        assert helpers.call_action("package_search", q="name:kontakt-ohne-adresse",
                                   include_private=True)["count"] == 0

    def test_the_refusal_says_what_the_page_says(self, world):
        create(world, {**poor(), "private": True}, "editor")
        finding = next(f for f in quality(world, "kontakt-ohne-adresse")["findings"]
                       if f["level"] == "MUST")
        with pytest.raises(tk.ValidationError) as refused:
            act(world, "editor", "package_patch", id="kontakt-ohne-adresse", private=False)
        assert refused.value.error_dict[finding["field"]][0][finding["subfield"]] == [
            finding["text"]]

    def test_private_datasets_and_drafts_may_have_findings(self, world):
        assert create(world, {**poor("privat"), "private": True}, "editor")["private"]
        assert create(world, {**poor("entwurf"), "state": "draft"}, "editor")["state"] == "draft"
        # fixed, it may be published
        published = act(world, "editor", "package_patch", id="privat", private=False,
                        contact=[{"name": "Team", "url": "https://www.gelsenkirchen.de"}])
        assert published["private"] is False

    def test_complete_and_minimal_datasets_pass(self, world):
        for dataset_type in TYPES:
            assert create(world, example(dataset_type), "editor")["state"] == "active"
            assert create(world, minimal(dataset_type), "editor")["private"] is False

    def test_a_resource_breaking_a_must_is_refused_at_its_field(self, world):
        create(world, example("dataset", name="vollstaendig"), "editor")
        with pytest.raises(tk.ValidationError) as refused:
            act(world, "editor", "resource_create", package_id="vollstaendig",
                url="http://example.invalid/x.dat", name="Rohdaten", format="XYZ")
        assert list(refused.value.error_dict) == ["format"]
        assert refused.value.error_dict["format"][0].startswith("Das Format ist keines")
        shown = helpers.call_action("package_show", id="vollstaendig")
        assert [r["name"] for r in shown["resources"]] == ["Hotspots"]

    def test_through_the_api_409_and_access_first(self, app, world):
        response = app.post("/api/3/action/package_create",
                            json={**poor(), "owner_org": world["org"]["id"]},
                            headers=headers(world, "editor"), status=409)
        assert response.json["error"]["contact"] == [{"email": [UNREACHABLE]}]
        create(world, {**poor(), "private": True}, "editor")
        # who may not change the dataset learns nothing of its findings
        response = app.post("/api/3/action/package_patch",
                            json={"id": "kontakt-ohne-adresse", "private": False},
                            headers=headers(world, "outsider"), status=403)
        assert UNREACHABLE not in response.body
        response = app.post("/api/3/action/package_patch",
                            json={"id": "kontakt-ohne-adresse", "private": False},
                            headers=headers(world, "member"), status=403)
        assert UNREACHABLE not in response.body

    def test_the_resource_form_shows_the_refusal_at_the_field(self, app, world):
        dataset = create(world, example("dataset", name="vollstaendig"), "editor")
        resource = dataset["resources"][0]
        response = app.post(f"/dataset/vollstaendig/resource/{resource['id']}/edit",
                            headers=headers(world, "editor"),
                            data={**resource, "format": "XYZ", "save": "go-metadata"})
        page = BeautifulSoup(response.body, "html.parser")
        listed = page.select_one('.error-explanation li[data-field-label="format"]')
        assert words(listed).startswith("Format: Das Format ist keines")
        assert page.select_one("#field-format").find_parent(class_="error")
        shown = helpers.call_action("package_show", id="vollstaendig")
        assert shown["resources"][0]["format"] == "CSV"

    def test_publishing_from_the_new_resource_form_names_the_field(self, app, world):
        create(world, {**poor(), "resources": [], "state": "draft"}, "editor")
        response = app.post("/dataset/kontakt-ohne-adresse/resource/new",
                            headers=headers(world, "editor"),
                            data={"url": "http://example.invalid/b.csv", "format": "CSV",
                                  "name": "B", "save": "go-metadata", "id": ""})
        page = BeautifulSoup(response.body, "html.parser")
        listed = page.select_one('.error-explanation li[data-field-label="contact-1"]')
        assert words(listed) == f"Ansprechpartner 1: E-Mail: {UNREACHABLE}"
        assert helpers.call_action("package_show", id="kontakt-ohne-adresse")["state"] == "draft"

    def test_the_dataset_form_lists_a_resource_refusal(self, app, world):
        sent = {**example("dataset", name="zu-pruefen"), "private": True}
        sent["resources"][0]["format"] = "XYZ"
        create(world, sent, "editor")
        response = app.post("/dataset/edit/zu-pruefen/1", headers=headers(world, "editor"),
                            data={"private": "False", "save": ""})
        page = BeautifulSoup(response.body, "html.parser")
        listed = words(page.select_one(".vts-resource-errors"))
        assert "Ressource „Hotspots“: Format: Das Format ist keines" in listed
        assert "{" not in listed  # no raw error dict
        assert helpers.call_action("package_show", id="zu-pruefen")["private"] is True

    def test_bulk_publishing_is_refused(self, world):
        bad = create(world, {**poor(), "private": True}, "editor")
        good = create(world, {**example("dataset", name="gut"), "private": True}, "editor")
        with pytest.raises(tk.ValidationError) as refused:
            act(world, "admin", "bulk_update_public", datasets=[bad["id"], good["id"]],
                org_id=world["org"]["id"])
        assert refused.value.error_dict == {"datasets": [f"kontakt-ohne-adresse: {UNREACHABLE}"]}
        assert helpers.call_action("package_show", id="gut")["private"] is True
