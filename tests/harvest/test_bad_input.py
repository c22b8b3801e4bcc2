"""Bad input and fetch guards: each ends the job with an error naming the
source and the reason, publishes nothing from that run, and leaves the data
of the earlier run as it was. Documents come from pytest-httpserver."""
from __future__ import annotations

import threading
import time

import pytest
from ckan.logic import ValidationError
from ckan.tests import factories, helpers
from conftest import fixture
from werkzeug import Response

GOOD = fixture("bitkom_2022_en.csv")
TITLE = "Bitkom"


def published() -> dict[str, str]:
    """The harvested datasets (the source itself is a dataset, too)."""
    names = [n for n in helpers.call_action("package_list") if n != "bitkom"]
    return {n: helpers.call_action("package_show", id=n)["metadata_modified"] for n in names}


@pytest.fixture
def earlier_run(make_source, harvest, httpserver):
    """A source whose first run published; its URL then serves what a test
    sets with ``respond``."""
    httpserver.expect_oneshot_request("/ranking").respond_with_data(GOOD)
    make_source("bitkom", httpserver.url_for("/ranking"), {"ranking": "bitkom", "timeout": 1})
    assert harvest("bitkom").errors == []
    return published()


def rerun_fails(harvest, before: dict[str, str], *reasons: str) -> str:
    result = harvest("bitkom")
    assert result.counts == {} and len(result.errors) == 1
    message = result.errors[0]
    assert message.startswith(f"Quelle „{TITLE}“ (http://127.0.0.1:")
    for reason in reasons:
        assert reason in message
    assert published() == before  # nothing new, nothing changed
    return message


def bitkom_page(name: str) -> bytes:
    return fixture(name)


CASES = {
    "renamed header": (bitkom_page("bitkom_renamed_header.html"), "Platz"),
    "no table": (bitkom_page("bitkom_no_table.html"), "Tabelle"),
    "empty table": (bitkom_page("bitkom_empty_table.html"), "keine Zeilen"),
    "duplicate city": (bitkom_page("bitkom_duplicate_city.html"),
                       "Musterstadt 02 (synthetisch)"),
    "missing column": (GOOD.replace(b"rank,", b"position,"), "rank"),
    "empty file": (b"", "leer"),
    "UTF-16 instead of text": (GOOD.decode("utf-8-sig").encode("utf-16"), "Spalte"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_broken_document(case, earlier_run, harvest, httpserver):
    data, reason = CASES[case]
    httpserver.expect_request("/ranking").respond_with_data(
        data, content_type="text/html" if data.lstrip().startswith(b"<") else "text/csv")
    source = helpers.call_action("harvest_source_show", context={"use_cache": False},
                                 id="bitkom")
    if data.lstrip().startswith(b"<"):  # Bitkom pages name their edition and areas
        import json
        config = {**json.loads(source["config"]), "documents": [
            {"url": source["url"], "edition": 2022, "format": "html"}],
            "areas": ["Gesamtwertung"]}
        helpers.call_action("harvest_source_update", context={"ignore_auth": True,
                                                              "user": _site()},
                            **{**_editable(source), "config": json.dumps(config)})
    rerun_fails(harvest, earlier_run, reason)


def _site() -> str:
    return helpers.call_action("get_site_user", context={"ignore_auth": True})["name"]


def _editable(source: dict) -> dict:
    return {k: source[k] for k in ("id", "name", "title", "url", "source_type", "owner_org",
                                   "frequency")}


def test_http_500(earlier_run, harvest, httpserver):
    httpserver.expect_request("/ranking").respond_with_data("kaputt", status=500)
    rerun_fails(harvest, earlier_run, "HTTP 500")


def test_an_html_error_page_instead_of_a_table(earlier_run, harvest, httpserver):
    httpserver.expect_request("/ranking").respond_with_data(
        "<!DOCTYPE html><html><body>Wartungsarbeiten</body></html>", content_type="text/html")
    rerun_fails(harvest, earlier_run, "HTML")


def test_a_timeout(earlier_run, harvest, httpserver):
    finished = threading.Event()

    def slow(request):
        finished.wait(2.5)
        return Response(GOOD)
    httpserver.expect_request("/ranking").respond_with_handler(slow)
    try:
        rerun_fails(harvest, earlier_run, "nicht innerhalb von 1 Sekunden")
    finally:
        finished.set()  # answer the retries still queued before the next test
        time.sleep(0.3)


def test_a_redirect_to_a_foreign_host(earlier_run, harvest, httpserver):
    httpserver.expect_request("/ranking").respond_with_data(
        "", status=302, headers={"Location": "http://daten.example.org/ranking.csv"})
    rerun_fails(harvest, earlier_run, "„daten.example.org“ ist nicht freigegeben")


def test_a_100_mb_response(earlier_run, harvest, httpserver):
    chunk = b"1,Musterstadt (synthetisch),50.0,Gesamt,same,2022,,81\n" * 20000

    def huge(request):
        def body():
            for _ in range((100 * 2**20) // len(chunk) + 1):
                yield chunk
        return Response(body(), content_type="text/csv")  # no Content-Length
    httpserver.expect_request("/ranking").respond_with_handler(huge)
    rerun_fails(harvest, earlier_run, "größer als die erlaubten 50.0 MB")


@pytest.mark.ckan_config("ckanext.vernetztestadt.harvest.allowed_hosts", "")
def test_internal_addresses_need_an_explicit_permission(make_source, harvest, httpserver):
    httpserver.expect_request("/ranking").respond_with_data(GOOD)
    make_source("bitkom", httpserver.url_for("/ranking"), {"ranking": "bitkom"})
    result = harvest("bitkom")
    assert result.counts == {} and "interne Adresse" in result.errors[0]
    assert published() == {}


@pytest.mark.ckan_config("ckanext.vernetztestadt.harvest.allowed_hosts", "")
def test_a_source_cannot_allow_an_internal_host(make_source, harvest, httpserver):
    """Only the site configuration widens the host policy, not a source's
    config (issue 12, finding 4; more in tests/test_url_policy.py)."""
    httpserver.expect_request("/ranking").respond_with_data(GOOD)
    with pytest.raises(ValidationError, match="Site-Konfiguration"):
        make_source("bitkom", httpserver.url_for("/ranking"),
                    {"ranking": "bitkom", "allowed_hosts": ["127.0.0.1"]})
    assert httpserver.log == []


def test_the_job_report_names_the_error(earlier_run, harvest, httpserver, app):
    httpserver.expect_request("/ranking").respond_with_data("kaputt", status=500)
    result = harvest("bitkom")
    report = helpers.call_action("harvest_job_report", id=result.job_id)
    assert "HTTP 500" in report["gather_errors"][0]["message"]
    sysadmin = factories.SysadminWithToken()
    page = app.get(f"/harvest/bitkom/job/{result.job_id}",
                   headers={"Authorization": sysadmin["token"]}).body
    assert "HTTP 500" in page
