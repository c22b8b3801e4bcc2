"""The extension's one HTTP client: host policy, redirects, limits, retries,
conditional requests. Sources are served by pytest-httpserver on 127.0.0.1."""
from __future__ import annotations

import io

import pytest
from werkzeug import Response

from ckanext.vernetztestadt.fetching import (
    USER_AGENT,
    FetchError,
    Policy,
    fetch,
    looks_like_html,
)

LOCAL = Policy(allowed_hosts=("*", "127.0.0.1"), timeout=2, backoff=0.01)


def get(url: str, policy: Policy = LOCAL, **conditions) -> tuple[bytes, object]:
    target = io.BytesIO()
    result = fetch(url, target, policy, **conditions)
    return target.getvalue(), result


def test_body_and_user_agent(httpserver):
    httpserver.expect_request("/a.csv", headers={"User-Agent": USER_AGENT}) \
        .respond_with_data("id;wert\n1;2\n", content_type="text/csv")
    body, result = get(httpserver.url_for("/a.csv"))
    assert body == b"id;wert\n1;2\n" and result.size == 12


def test_redirects_are_checked_each_time(httpserver):
    httpserver.expect_request("/alt").respond_with_data("", status=302,
                                                        headers={"Location": "/neu.csv"})
    httpserver.expect_request("/neu.csv").respond_with_data("a\n1\n")
    body, result = get(httpserver.url_for("/alt"))
    assert body == b"a\n1\n" and result.redirects == [httpserver.url_for("/neu.csv")]

    httpserver.expect_request("/weg").respond_with_data(
        "", status=301, headers={"Location": "http://10.0.0.7/intern.csv"})
    with pytest.raises(FetchError) as excinfo:
        get(httpserver.url_for("/weg"))
    assert excinfo.value.kind == "host-not-allowed"


def test_only_listed_hosts_when_no_wildcard(httpserver):
    httpserver.expect_request("/a.csv").respond_with_data("a\n")
    with pytest.raises(FetchError, match="nicht freigegeben"):
        get(httpserver.url_for("/a.csv"), Policy(allowed_hosts=("daten.example",)))


@pytest.mark.parametrize("url", ["http://localhost:9/x", "http://169.254.169.254/latest",
                                 "ftp://example.org/x.csv", "file:///etc/passwd"])
def test_internal_and_other_schemes_refused(url):
    with pytest.raises(FetchError) as excinfo:
        get(url, Policy())
    assert excinfo.value.kind == "host-not-allowed"


def test_byte_cap_announced_and_streamed(httpserver):
    small = Policy(allowed_hosts=("127.0.0.1",), max_bytes=1000, backoff=0.01)
    httpserver.expect_request("/gross.csv").respond_with_data(b"x" * 5000)
    with pytest.raises(FetchError) as excinfo:
        get(httpserver.url_for("/gross.csv"), small)
    assert excinfo.value.kind == "file-too-large"

    def chunked(request):  # no Content-Length: the cap applies while streaming
        return Response((b"y" * 400 for _ in range(10)), direct_passthrough=True)

    httpserver.expect_request("/strom.csv").respond_with_handler(chunked)
    with pytest.raises(FetchError, match="größer als"):
        get(httpserver.url_for("/strom.csv"), small)


def test_conditional_request(httpserver):
    httpserver.expect_request("/r.csv", headers={"If-None-Match": '"v1"'}) \
        .respond_with_data("", status=304)
    httpserver.expect_request("/r.csv").respond_with_data(
        "a\n", headers={"ETag": '"v1"', "Last-Modified": "Sun, 22 Nov 2026 08:00:00 GMT"})
    body, first = get(httpserver.url_for("/r.csv"))
    assert first.etag == '"v1"' and not first.not_modified
    body, second = get(httpserver.url_for("/r.csv"), etag=first.etag)
    assert second.not_modified and body == b""


def test_retries_on_503_then_success(httpserver):
    httpserver.expect_ordered_request("/wackelig").respond_with_data("", status=503)
    httpserver.expect_ordered_request("/wackelig").respond_with_data("a\n1\n")
    body, _ = get(httpserver.url_for("/wackelig"))
    assert body == b"a\n1\n"


def test_errors_after_retries(httpserver):
    httpserver.expect_request("/kaputt").respond_with_data("Fehler", status=500)
    with pytest.raises(FetchError, match="HTTP 500"):
        get(httpserver.url_for("/kaputt"))


@pytest.mark.parametrize("head, expected", [
    (b"  <!DOCTYPE html><html>", True), (b"<HTML><body>Login", True),
    (b"id;name\n1;<b>fett</b>", False), (b"", False)])
def test_html_detection(head, expected):
    assert looks_like_html(head) is expected


def test_timeout_after_retries(httpserver):
    import time

    def slow(request):
        time.sleep(1.5)
        return Response("a\n")

    httpserver.expect_request("/langsam").respond_with_handler(slow)
    policy = Policy(allowed_hosts=("127.0.0.1",), timeout=0.5, retries=1, backoff=0.01)
    with pytest.raises(FetchError) as excinfo:
        get(httpserver.url_for("/langsam"), policy)
    assert excinfo.value.kind == "timeout"
