"""The change summary on ckanext-harvest's job page (``/harvest/<source>/job/<id>``):
counts of new, changed, unchanged, withdrawn and refused datasets and one
line per dataset the job did something to, from the framework's stored
change summaries; escaped; shown only to those who may see the job (the
source's editors and admins, sysadmins), for a private source too. Real
harvest runs of the Haselhorst ranking against documents on 127.0.0.1."""
from __future__ import annotations

import json
from typing import Any

import ckan.model as model
import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from ckan.tests import factories, helpers
from conftest import fixture, site_user
from werkzeug import Response

#: every job indexes what it publishes and re-indexes its source
pytestmark = pytest.mark.search

HASELHORST_CP1252 = fixture("haselhorst_2021_2023.csv")
#: the file without its 2021 rows: the 2021 edition vanishes upstream
ONLY_2023 = b"\r\n".join(line for line in HASELHORST_CP1252.split(b"\r\n")
                         if not line.startswith(b"2021"))
EDITION_2021 = "haselhorst-smart-city-ranking-2021"
EDITION_2023 = "haselhorst-smart-city-ranking-2023"
SERIES = "haselhorst-smart-city-ranking-gelsenkirchen-zeitreihe"


def member(city: dict[str, Any], role: str | None) -> dict[str, Any]:
    """A user with a token, in the city's organisation as ``role`` (None: not)."""
    user = factories.UserWithToken()
    if role:
        helpers.call_action("organization_member_create",
                            context={"ignore_auth": True, "user": site_user()},
                            id=city["id"], username=user["name"], role=role)
    return user


@pytest.fixture
def two_jobs(city, harvest, httpserver) -> tuple[str, str]:
    """A private Haselhorst source harvested twice: all new, then the 2021
    edition gone upstream (withdrawn; the series loses its 2021 row)."""
    served = [HASELHORST_CP1252]
    httpserver.expect_request("/haselhorst.csv").respond_with_handler(
        lambda request: Response(served[0], content_type="text/csv"))
    helpers.call_action(
        "harvest_source_create", context={"ignore_auth": True, "user": site_user()},
        name="haselhorst", title="Haselhorst", url=httpserver.url_for("/haselhorst.csv"),
        source_type="vernetztestadt_ranking", owner_org=city["id"], frequency="MANUAL",
        private=True, config=json.dumps({"dataset_type": "smart_city_ranking",
                                         "ranking": "haselhorst"}))
    first = harvest("haselhorst")
    served[0] = ONLY_2023
    second = harvest("haselhorst")
    assert first.errors == [] and first.counts == {"added": 3}
    assert second.errors == [] and second.counts == {"updated": 1, "not modified": 1,
                                                     "deleted": 1}
    return first.job_id, second.job_id


def page(app, job_id: str, user: dict[str, Any] | None) -> Any:
    headers = {"Authorization": user["token"]} if user else {}
    return app.get(f"/harvest/haselhorst/job/{job_id}", headers=headers)


def summary(response: Any) -> tuple[dict[str, str], dict[str, str]]:
    """(outcome -> count, dataset -> its line) of the page's change section."""
    section = BeautifulSoup(response.body, "html.parser").find(id="vts-job-changes")
    assert section is not None, "no change summary on the page"
    counts = {li["data-outcome"]: li.strong.get_text() for li in section.select("li")}
    lines = {tr.td.get_text(strip=True): tr.find_all("td")[1].get_text(" ", strip=True)
             for tr in section.select("tbody tr")}
    return counts, lines


def test_the_job_page_shows_what_each_job_changed(city, two_jobs, app):
    first, second = two_jobs
    admin = member(city, "admin")
    counts, lines = summary(page(app, first, admin))
    assert counts == {"new": "3", "changed": "0", "unchanged": "0", "withdrawn": "0",
                      "refused": "0"}
    assert set(lines) == {EDITION_2021, EDITION_2023, SERIES}
    assert all(line.startswith("Neu angelegt: ") and line.endswith(" Zeilen")
               for line in lines.values())

    response = page(app, second, admin)
    counts, lines = summary(response)
    assert counts == {"new": "0", "changed": "1", "unchanged": "1", "withdrawn": "1",
                      "refused": "0"}
    # the series loses its 2021 row, and its description names the editions
    assert lines == {SERIES: "0 Zeilen hinzugefügt, 1 entfernt, 0 geändert; "
                             "Metadaten geändert: notes",
                     EDITION_2021: "Zurückgezogen"}
    assert f'href="/dataset/{SERIES}"' in response.body


def test_stored_values_are_escaped(city, two_jobs, app):
    """The summary comes from the database: markup in it is shown as text."""
    _, second = two_jobs
    model.Session.execute(
        sa.text("UPDATE harvest_object_extra SET value = :value WHERE key = "
                        "'vts_changes' AND harvest_object_id IN (SELECT id FROM "
                        "harvest_object WHERE harvest_job_id = :job)"),
        {"job": second, "value": json.dumps({"new": False, "rows_added": 0,
                                             "rows_removed": 1, "rows_changed": 0,
                                             "fields_changed": ["<script>alert(1)</script>"]})})
    model.Session.commit()
    body = page(app, second, factories.SysadminWithToken()).body
    assert "<script>alert(1)</script>" not in body
    assert "Metadaten geändert: &lt;script&gt;alert(1)&lt;/script&gt;" in body


@pytest.mark.parametrize(("who", "sees"), [("anonymous", False), ("non-member", False),
                                           ("member", False), ("editor", True),
                                           ("admin", True), ("sysadmin", True)])
def test_who_sees_the_summary_of_a_private_source(city, two_jobs, app, who, sees):
    """ckanext-harvest shows a job to whoever may edit its source; the
    summary follows the page."""
    _, second = two_jobs
    user = {"anonymous": None, "non-member": member(city, None), "member": member(city, "member"),
            "editor": member(city, "editor"), "admin": member(city, "admin"),
            "sysadmin": factories.SysadminWithToken()}[who]
    response = page(app, second, user)
    if sees:
        assert response.status_code == 200
        assert summary(response)[0]["withdrawn"] == "1"
    else:
        assert response.status_code == 403
        assert "vts-job-changes" not in response.body and SERIES not in response.body
