"""Upstream parts as deployed here (issue 12, findings 16 to 19): what
ckanext-harvest and CKAN's tag lists show to whom, harvest routes that change
state only on a POST with CKAN's CSRF token, and the CSRF token required of
every request that rides on the session cookie, the API's too.

Roles: anonymous, non-member, member, editor, admin (of the owning
organization) and sysadmin; a secret marker in private data and in source
configs must not appear in any answer to a role that may not read it."""
from __future__ import annotations

import functools
import json
import re
from typing import Any

import ckan.authz as authz
import ckan.model as model
import pytest
from ckan import logic
from ckan.tests import factories, helpers
from ckanext.harvest.model import HarvestGatherError, HarvestJob

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

PASSWORD = "correct horse battery staple"
SECRET_CITY = "Geheimhausen"  # only in source configs
PRIVATE_TAG = "geheimschlagwort"  # only on a private dataset
PRIVATE_FORMAT = "GEHEIMFORMAT"  # only on a private dataset's resource
ROLES = ("anonymous", "non_member", "member", "editor", "admin", "sysadmin")
READERS = {"member", "editor", "admin", "sysadmin"}  # of the org's private data
UPDATERS = {"editor", "admin", "sysadmin"}  # of the org's sources
WITH_CSRF = pytest.mark.ckan_config("WTF_CSRF_ENABLED", "true")


# -- people and data ------------------------------------------------------------------
@pytest.fixture
def people() -> dict[str, Any]:
    users = {role: factories.User(name=role.replace("_", "-"), password=PASSWORD)
             for role in ROLES if role not in ("anonymous", "sysadmin")}
    users["sysadmin"] = factories.Sysadmin(name="sysadmin", password=PASSWORD)
    org = factories.Organization(name="stadt", users=[
        {"name": users[role]["name"], "capacity": role} for role in ("member", "editor", "admin")])
    return {"users": users, "org": org}


def context(people: dict[str, Any], role: str) -> dict[str, Any]:
    name = "" if role == "anonymous" else people["users"][role]["name"]
    return {"user": name, "ignore_auth": False}


def call_as(people: dict[str, Any], role: str, action: str, **data: Any) -> Any:
    return helpers.call_action(action, context=context(people, role), **data)


def config(city: str = SECRET_CITY) -> str:
    return json.dumps({"dataset_type": "smart_city_ranking", "ranking": "bitkom", "city": city})


@pytest.fixture
def sources(people) -> dict[str, dict]:
    """A public and a private source, made by the org admin (so their
    activities are not the site user's hidden ones)."""
    made = {}
    for name, private in (("offene-quelle", False), ("interne-quelle", True)):
        made[name] = call_as(
            people, "admin", "harvest_source_create", name=name, title=name.title(),
            url=f"http://example.invalid/{name}.csv", source_type="vernetztestadt_ranking",
            owner_org=people["org"]["id"], frequency="MANUAL", private=private, config=config())
    return made


def login(app, user: dict) -> None:
    """Sign in through the login form (cookie session), CSRF token included."""
    page = app.get("/user/login").body
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)
    response = app.post("/user/login", data={"login": user["name"], "password": PASSWORD,
                                             "_csrf_token": token})
    assert response.status_code == 200 and "/dashboard" in response.request.path


def page_token(app, path: str = "/dashboard/datasets") -> str:
    """The CSRF token CKAN puts in each page's <meta> for its JavaScript."""
    body = app.get(path).body
    return re.search(r'<meta name="_csrf_token" content="([^"]+)"', body).group(1)


def prime_csrf_exemptions(app, *paths: str) -> None:
    """One request without a session makes CKAN 2.12 exempt a view from CSRF
    checks for the rest of the process: do that first, as an attacker would."""
    anonymous = app.test_client()
    for path in paths:
        anonymous.get(path)


def as_text(value: Any) -> str:
    return json.dumps(value, default=str)


# -- 16: ckanext-harvest's actions ------------------------------------------------------
class TestHarvestActions:
    def test_source_list_only_readable_sources_config_only_to_updaters(self, people, sources):
        for role in ROLES:
            listed = call_as(people, role, "harvest_source_list")
            names = {s["url"].rsplit("/", 1)[-1] for s in listed}
            assert ("interne-quelle.csv" in names) == (role in READERS), role
            assert "offene-quelle.csv" in names, role
            assert (SECRET_CITY in as_text(listed)) == (role in UPDATERS), role

    def test_source_list_anonymous_over_http(self, app, people, sources):
        body = app.get("/api/3/action/harvest_source_list").body
        assert "offene-quelle" in body
        assert "interne-quelle" not in body and SECRET_CITY not in body

    def test_source_list_last_job_status_as_the_caller(self, people, sources):
        job = call_as(people, "sysadmin", "harvest_job_create",
                      source_id=sources["offene-quelle"]["id"], run=False)
        HarvestGatherError.create("Interne Spalten: GEHEIM-FEHLER", HarvestJob.get(job["id"]))
        listed = call_as(people, "anonymous", "harvest_source_list", return_last_job_status=True)
        assert listed[0]["last_job_status"]["id"] == job["id"]
        assert "GEHEIM-FEHLER" not in as_text(listed)
        listed = call_as(people, "editor", "harvest_source_list", return_last_job_status=True)
        assert "GEHEIM-FEHLER" in as_text(listed)

    @pytest.mark.parametrize("role", ROLES)
    def test_source_show_and_search_config_only_to_updaters(self, people, sources, role):
        reads = [call_as(people, role, "harvest_source_show", id="offene-quelle"),
                 call_as(people, role, "package_show", id="offene-quelle"),
                 call_as(people, role, "package_show", id="offene-quelle",
                         use_default_schema=True)]
        for fields in (None, ["*"], ["city,extras_config"], ["name", "data_dict"],
                       ["validated_data_dict"]):
            search = {"fq": "dataset_type:harvest", "include_private": True}
            reads.append(call_as(people, role, "package_search",
                                 **(search if fields is None else {**search, "fl": fields})))
        for read in reads:
            assert (SECRET_CITY in as_text(read)) == (role in UPDATERS), (role, read)
        shown = reads[1]
        assert shown["private"] is False and shown["name"] == "offene-quelle"

    def test_search_with_fl_keeps_the_asked_fields(self, people, sources):
        result = call_as(people, "anonymous", "package_search", fq="dataset_type:harvest",
                         fl=["name"])
        assert result["results"] == [{"name": "offene-quelle"}]

    def test_source_config_not_in_the_activity_stream(self, app, people, sources):
        call_as(people, "admin", "harvest_source_patch", id="offene-quelle",
                config=config("Anderswo-Geheim"))
        activities = call_as(people, "anonymous", "package_activity_list", id="offene-quelle")
        assert len(activities) == 2
        for activity in activities:
            assert activity["data"]["package"]["name"] == "offene-quelle"
            shown = [as_text(activity),
                     as_text(call_as(people, "anonymous", "activity_show", id=activity["id"]))]
            for text in shown:
                assert SECRET_CITY not in text and "Anderswo-Geheim" not in text
        # activity_show without its optional include_data was a 500 (KeyError)
        response = app.get(f"/api/3/action/activity_show?id={activities[0]['id']}")
        assert response.status_code == 200 and SECRET_CITY not in response.body
        body = app.get("/dataset/activity/offene-quelle").body
        assert SECRET_CITY not in body and "Anderswo-Geheim" not in body
        # the updater still reads the config where it is edited
        assert "Anderswo-Geheim" in call_as(people, "admin", "package_show",
                                            id="offene-quelle")["config"]

    def test_pages_do_not_show_config(self, app, people, sources):
        for path in ("/harvest/", "/harvest/offene-quelle", "/harvest/about/offene-quelle"):
            response = app.get(path)
            assert response.status_code == 200
            assert SECRET_CITY not in response.body
        assert app.get("/harvest/interne-quelle").status_code == 404

    def test_source_show_status_error_summaries_only_to_updaters(self, people, sources):
        source = sources["interne-quelle"]
        job = call_as(people, "sysadmin", "harvest_job_create", source_id=source["id"], run=False)
        HarvestGatherError.create("Interne Spalten: GEHEIM-FEHLER", HarvestJob.get(job["id"]))
        for role in ROLES:
            if role not in READERS:
                with pytest.raises(logic.NotAuthorized):
                    call_as(people, role, "harvest_source_show_status", id=source["id"])
                continue
            status = call_as(people, role, "harvest_source_show_status", id=source["id"])
            assert status["last_job"]["id"] == job["id"]
            assert ("GEHEIM-FEHLER" in as_text(status)) == (role in UPDATERS), role
            shown = call_as(people, role, "package_show", id=source["id"])
            assert ("GEHEIM-FEHLER" in as_text(shown)) == (role in UPDATERS), role

    def test_log_list_sysadmin_only_with_a_clean_403(self, app, people, sources):
        for role in ROLES:
            if role == "sysadmin":
                assert isinstance(call_as(people, role, "harvest_log_list"), list)
                continue
            with pytest.raises(logic.NotAuthorized):
                call_as(people, role, "harvest_log_list")
        login(app, people["users"]["editor"])
        response = app.get("/api/3/action/harvest_log_list")
        assert response.status_code == 403  # was 500 (RecursionError)
        assert response.json["success"] is False

    def test_job_list_without_source_is_for_sysadmins(self, app, people, sources):
        login(app, people["users"]["admin"])
        response = app.get("/api/3/action/harvest_job_list")
        assert response.status_code == 403  # was 500 (KeyError)
        source_id = sources["interne-quelle"]["id"]
        for role in ROLES:
            if role in UPDATERS:
                assert call_as(people, role, "harvest_job_list", source_id=source_id) == []
            else:
                with pytest.raises(logic.NotAuthorized):
                    call_as(people, role, "harvest_job_list", source_id=source_id)

    def test_harvest_objects_only_to_updaters(self, app, people, sources):
        source = sources["offene-quelle"]
        job = call_as(people, "sysadmin", "harvest_job_create", source_id=source["id"], run=False)
        obj = call_as(people, "sysadmin", "harvest_object_create", job_id=job["id"],
                      guid="g1", content="GEHEIMER-INHALT")
        for role in ROLES:
            if role in UPDATERS:
                assert call_as(people, role, "harvest_object_show",
                               id=obj["id"])["content"] == "GEHEIMER-INHALT"
                continue
            with pytest.raises(logic.NotAuthorized):
                call_as(people, role, "harvest_object_show", id=obj["id"])
        response = app.get(f"/harvest/object/{obj['id']}")
        assert response.status_code == 403 and "GEHEIMER-INHALT" not in response.body

    def test_abort_failed_jobs_needs_a_sysadmin(self, app, people, sources):
        job = call_as(people, "sysadmin", "harvest_job_create",
                      source_id=sources["offene-quelle"]["id"], run=False)
        HarvestJob.get(job["id"]).status = "Running"
        model.Session.commit()
        response = app.post("/api/3/action/harvest_abort_failed_jobs",
                            json={"life_span": 0}, headers={"Authorization": factories.APIToken(
                                user=people["users"]["admin"]["name"])["token"]})
        assert response.status_code == 403  # upstream checked nothing
        assert HarvestJob.get(job["id"]).status == "Running"

    def test_no_auth_function_is_an_action(self, people):
        """ckanext-harvest's shared default dict registered actions as auth
        functions; every one of them has a real auth function now."""
        for name in authz.auth_functions_list():
            if not name.startswith("harvest"):
                continue  # (it also registered an exception class, InactiveSource)
            function = authz._AuthFunctions.get(name)
            while isinstance(function, functools.partial):
                function = function.func
            assert not function.__module__.startswith("ckanext.harvest.logic.action"), name

    def test_hide_source_config_leaves_other_datasets(self, people):
        from ckanext.vernetztestadt.upstream import harvest as upstream_harvest

        dataset = {"type": "dataset", "id": "x", "config": "{}", "city": "Bleibt"}
        upstream_harvest.hide_source_config(context(people, "anonymous"), dataset)
        assert dataset == {"type": "dataset", "id": "x", "config": "{}", "city": "Bleibt"}


# -- 17: harvest routes that change state ------------------------------------------------
class TestHarvestRoutes:
    def _running_job(self, people, source: dict) -> str:
        job = call_as(people, "sysadmin", "harvest_job_create", source_id=source["id"], run=False)
        HarvestJob.get(job["id"]).status = "Running"
        model.Session.commit()
        return job["id"]

    def test_get_never_changes_state(self, app, people, sources):
        source = sources["offene-quelle"]
        job_id = self._running_job(people, source)
        login(app, people["users"]["admin"])
        for path in (f"/harvest/refresh/{source['id']}", f"/harvest/clear/{source['id']}",
                     f"/harvest/delete/{source['name']}?clear=True",
                     f"/harvest/{source['name']}/job/{job_id}/abort"):
            response = app.get(path)
            assert response.status_code == 405, path
            assert response.headers["Allow"] == "POST"
        assert model.Session.query(HarvestJob).count() == 1
        assert HarvestJob.get(job_id).status == "Running"
        assert call_as(people, "sysadmin", "package_show", id=source["id"])["state"] == "active"

    @staticmethod
    def _forms(page: str) -> dict[str, str]:
        """The page's POST buttons: action → CSRF token."""
        return dict(re.findall(
            r'<form method="post" action="([^"]+)" class="d-inline">\s*'
            r'<input type="hidden" name="_csrf_token" value="([^"]+)"', page))

    @WITH_CSRF
    def test_admin_page_buttons_post_with_the_token(self, app, people, sources):
        source = sources["offene-quelle"]
        login(app, people["users"]["admin"])
        forms = self._forms(app.get(f"/harvest/admin/{source['name']}").body)
        refresh, clear = f"/harvest/refresh/{source['id']}", f"/harvest/clear/{source['id']}"
        assert set(forms) == {refresh, clear}
        response = app.post(refresh, data={"_csrf_token": forms[refresh]})
        assert response.status_code == 200
        assert len(call_as(people, "sysadmin", "harvest_job_list", source_id=source["id"])) == 1
        response = app.post(clear, data={"_csrf_token": forms[clear]})
        assert response.status_code == 200
        assert call_as(people, "sysadmin", "harvest_job_list", source_id=source["id"]) == []

    @WITH_CSRF
    def test_stop_button_for_who_may_stop_a_job(self, app, people, sources):
        source = sources["offene-quelle"]
        job_id = self._running_job(people, source)
        abort = f"/harvest/{source['name']}/job/{job_id}/abort"
        login(app, people["users"]["admin"])  # harvest_job_abort: sysadmins only
        assert abort not in self._forms(app.get(f"/harvest/admin/{source['name']}").body)
        app.client = app.test_client()
        login(app, people["users"]["sysadmin"])
        forms = self._forms(app.get(f"/harvest/admin/{source['name']}").body)
        assert app.post(abort, data={"_csrf_token": forms[abort]}).status_code == 200
        assert HarvestJob.get(job_id).status != "Running"

    @WITH_CSRF
    def test_post_without_token_is_refused_even_after_anonymous_requests(self, app, people,
                                                                          sources):
        source = sources["offene-quelle"]
        call_as(people, "sysadmin", "harvest_job_create", source_id=source["id"], run=False)
        clear = f"/harvest/clear/{source['id']}"
        prime_csrf_exemptions(app, clear)
        login(app, people["users"]["admin"])
        assert app.post(clear).status_code == 400
        assert len(call_as(people, "sysadmin", "harvest_job_list", source_id=source["id"])) == 1

    def test_non_updaters_cannot_post(self, app, people, sources):
        source = sources["offene-quelle"]
        for role in ("non_member", "member"):
            app.client = app.test_client()  # a new browser: no session yet
            login(app, people["users"][role])
            assert app.post(f"/harvest/refresh/{source['id']}").status_code == 403
            assert app.post(f"/harvest/clear/{source['id']}").status_code == 403
        assert call_as(people, "sysadmin", "harvest_job_list", source_id=source["id"]) == []


# -- 18: tags and formats --------------------------------------------------------------
class TestTags:
    @pytest.fixture
    def datasets(self, people) -> dict[str, dict]:
        org = people["org"]["id"]
        factories.Dataset(name="entwurf", owner_org=org, state="draft",
                          tags=[{"name": "entwurfsschlagwort"}])
        deleted = factories.Dataset(name="geloescht", owner_org=org,
                                    tags=[{"name": "geloeschtes-schlagwort"}])
        call_as(people, "sysadmin", "package_delete", id=deleted["id"])
        return {
            "public": factories.Dataset(name="offen", owner_org=org, tags=[{"name": "offen"}],
                                        resources=[{"url": "http://example.invalid/a",
                                                    "format": "PDF"}]),
            "private": factories.Dataset(
                name="intern-geheim", owner_org=org, private=True,
                tags=[{"name": PRIVATE_TAG}, {"name": "offen"}],
                resources=[{"url": "http://example.invalid/b", "format": PRIVATE_FORMAT}]),
        }

    @pytest.mark.parametrize("role", ROLES)
    def test_tag_lists_only_tags_of_findable_datasets(self, app, people, datasets, role):
        sees = role in READERS
        answers = [call_as(people, role, "tag_list"),
                   call_as(people, role, "tag_list", all_fields=True),
                   call_as(people, role, "tag_list", query="geheim"),
                   call_as(people, role, "tag_search", query="geheim"),
                   call_as(people, role, "tag_autocomplete", q="geheim")]
        for answer in answers:
            assert (PRIVATE_TAG in as_text(answer)) == sees, (role, answer)
        assert "offen" in answers[0]
        if role != "sysadmin":  # sysadmins get CKAN's answer unchanged
            for hidden in ("entwurfsschlagwort", "geloeschtes-schlagwort"):
                assert hidden not in as_text(answers[:2]), (role, hidden)
        if sees:
            assert call_as(people, role, "tag_show", id=PRIVATE_TAG)["name"] == PRIVATE_TAG
        else:
            with pytest.raises(logic.NotFound):
                call_as(people, role, "tag_show", id=PRIVATE_TAG)
        assert call_as(people, role, "tag_show", id="offen")["name"] == "offen"

    def test_tag_autocomplete_over_http(self, app, people, datasets):
        path = "/api/2/util/tag/autocomplete?incomplete=geheim"
        assert PRIVATE_TAG not in app.get(path).body
        assert PRIVATE_TAG not in app.get("/api/3/action/tag_list").body
        login(app, people["users"]["member"])
        assert PRIVATE_TAG in app.get(path).body

    def test_pages_are_full_after_filtering(self, people, datasets):
        org = people["org"]["id"]
        for i in range(3):
            factories.Dataset(owner_org=org, private=True, tags=[{"name": f"geheim-{i}"}])
        factories.Dataset(owner_org=org, tags=[{"name": "geheim-offen-1"},
                                               {"name": "geheim-offen-2"}])
        found = call_as(people, "anonymous", "tag_search", query="geheim", limit=1, offset=1)
        assert found["count"] == 2 and len(found["results"]) == 1
        assert len(call_as(people, "anonymous", "tag_autocomplete", q="geheim", limit=2)) == 2

    @pytest.mark.parametrize("role", ROLES)
    def test_format_autocomplete_only_formats_of_findable_datasets(self, people, datasets,
                                                                   role):
        found = call_as(people, role, "format_autocomplete", q="GEHEIM")
        assert (PRIVATE_FORMAT.lower() in found) == (role in READERS), role
        assert call_as(people, role, "format_autocomplete", q="pd") == ["pdf"]

    @pytest.mark.parametrize("role", ROLES)
    def test_package_autocomplete_held(self, app, people, datasets, role):
        found = call_as(people, role, "package_autocomplete", q="intern")
        assert bool(found) == (role in READERS), role
        if role == "anonymous":
            body = app.get("/api/2/util/dataset/autocomplete?incomplete=intern").body
            assert "intern-geheim" not in body


# -- 19: CSRF with the session cookie, the API included ----------------------------------
@WITH_CSRF
class TestApiCsrf:
    @pytest.fixture
    def dataset(self, people) -> dict:
        return factories.Dataset(name="datensatz", title="Vorher", owner_org=people["org"]["id"])

    def _title(self) -> str:
        return helpers.call_action("package_show", id="datensatz")["title"]

    def test_cookie_post_without_token_is_refused(self, app, people, dataset):
        prime_csrf_exemptions(app, "/api/3/action/status_show")
        login(app, people["users"]["editor"])
        response = app.post("/api/3/action/package_patch",
                            data={"id": dataset["id"], "title": "Gekapert"})
        assert response.status_code == 403
        assert response.json["success"] is False
        assert "X-CSRFToken" in response.json["error"]["message"]
        assert self._title() == "Vorher"

    def test_cookie_post_with_the_pages_token_works(self, app, people, dataset):
        prime_csrf_exemptions(app, "/api/3/action/status_show")
        login(app, people["users"]["editor"])
        response = app.post("/api/3/action/package_patch",
                            json={"id": dataset["id"], "title": "Per Oberfläche"},
                            headers={"X-CSRFToken": page_token(app)})
        assert response.status_code == 200
        assert self._title() == "Per Oberfläche"

    def test_api_token_works_without_csrf_token(self, app, people, dataset):
        token = factories.APIToken(user=people["users"]["editor"]["name"])["token"]
        response = app.post("/api/3/action/package_patch",
                            data={"id": dataset["id"], "title": "Per API-Token"},
                            headers={"Authorization": token})
        assert response.status_code == 200
        assert self._title() == "Per API-Token"
        # with the session cookie as well, the token decides
        login(app, people["users"]["editor"])
        response = app.post("/api/3/action/package_patch",
                            data={"id": dataset["id"], "title": "Token und Cookie"},
                            headers={"Authorization": token})
        assert response.status_code == 200

    def test_page_posts_need_the_token_too(self, app, people, dataset):
        follow = f"/dataset/follow/{dataset['name']}"
        with pytest.raises(logic.NotAuthorized):  # anonymous, yet CKAN 2.12 exempts the view
            app.test_client().post(follow)
        login(app, people["users"]["non_member"])
        assert app.post(follow).status_code == 400
        assert helpers.call_action("dataset_follower_count", id=dataset["id"]) == 0
        assert app.post(follow, headers={"X-CSRFToken": page_token(app)}).status_code == 200
        assert helpers.call_action("dataset_follower_count", id=dataset["id"]) == 1

    def test_reads_and_anonymous_requests_unchanged(self, app, people, dataset):
        assert app.post("/api/3/action/package_search", json={}).status_code == 200
        login(app, people["users"]["editor"])
        assert app.get("/api/3/action/package_show?id=datensatz").status_code == 200


# -- the portal issue, counts: organization cards count as the pages list -----------------
@pytest.mark.parametrize("role", ROLES)
def test_organization_cards_count_what_the_caller_may_see(people, sources, role):
    """CKAN's card counted private datasets and harvest sources for anyone
    (18 on the city's card, 14 on its page); now the card, the page's list
    and organization_show agree, per role."""
    org = people["org"]
    owner = {"user": people["users"]["editor"]["name"]}
    for name, private in (("offen", False), ("intern", True)):
        helpers.call_action("package_create", context=dict(owner), name=name, notes="x",
                            owner_org=org["id"], private=private)
    cards = call_as(people, role, "organization_list", all_fields=True)
    card = next(c for c in cards if c["id"] == org["id"])
    listed = call_as(people, role, "package_search", fq=f'owner_org:"{org["id"]}"',
                     include_private=True)
    expected = 2 if role in READERS else 1
    assert card["package_count"] == listed["count"] == expected, role
    assert call_as(people, role, "organization_show", id=org["id"])["package_count"] == expected
