"""The one URL policy (``fetching``) cannot be tricked: parser confusion,
alternate address notations, DNS answers pointing inside, DNS rebinding and
redirects are refused before any connection — proved by a local server
(pytest-httpserver on 127.0.0.1) that must never be reached, with loopback
NOT allowed by the site configuration. End to end through CKAN's actions:
a URL resource and a harvest source, and a harvest source's ``allowed_hosts``
that cannot widen the policy (only the site configuration can).

``socket.getaddrinfo`` is replaced only for made-up names under
``.stadt.test`` to play a DNS server; every other lookup is real.
"""
from __future__ import annotations

import io
import json
import shutil
import socket
import ssl
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from ckan import model
from ckan.logic import ValidationError
from ckan.tests import factories, helpers
from ckanext.harvest.model import HarvestSource
from pytest_httpserver import HTTPServer
from werkzeug import Response

from ckanext.vernetztestadt.fetching import FetchError, Policy, fetch
from ckanext.vernetztestadt.harvest import runner

# test.ini allows 127.0.0.1 (recorded sources are served there): not here
pytestmark = pytest.mark.ckan_config("ckanext.vernetztestadt.validation.allowed_hosts", "*")
#: harvest tests: no internal host in the site configuration (a function's own
#: marker is applied before the module's, so this is not a module marker)
NO_INTERNAL_HARVEST = pytest.mark.ckan_config("ckanext.vernetztestadt.harvest.allowed_hosts", "")

SECRET = b"geheim;betrag\nINTERN-4711;12345\n"
#: the site default: every public host, nothing internal
PUBLIC = Policy(allowed_hosts=("*",), timeout=0.5, retries=0, backoff=0.01)


@pytest.fixture
def secret(httpserver):
    """An internal file that must never be fetched; its port."""
    httpserver.expect_request("/secret.csv").respond_with_data(SECRET, content_type="text/csv")
    yield httpserver.port
    assert httpserver.log == [], "the internal server was reached"


@pytest.fixture
def dns(monkeypatch):
    """A DNS server for made-up names: ``dns.answers[name]`` is a list of
    answers, one per lookup (the last one repeats); ``dns.asked`` counts."""
    real = socket.getaddrinfo

    class Dns:
        answers: dict[str, list[list[str]]] = {}
        asked: Counter[str] = Counter()

    def getaddrinfo(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in Dns.answers:
            return real(host, port, *args, **kwargs)
        Dns.asked[name] += 1
        rounds = Dns.answers[name]
        answer = rounds[min(Dns.asked[name], len(rounds)) - 1]
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, int(port or 0), 0, 0))
                if ":" in a else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, int(port or 0)))
                for a in answer]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return Dns


def get(url: str, policy: Policy = PUBLIC) -> bytes:
    target = io.BytesIO()
    fetch(url, target, policy)
    return target.getvalue()


def refused(url: str, policy: Policy = PUBLIC) -> FetchError:
    with pytest.raises(FetchError) as excinfo:
        get(url, policy)
    assert excinfo.value.kind == "host-not-allowed", str(excinfo.value)
    assert "INTERN" not in str(excinfo.value)
    return excinfo.value


# -- parser confusion -------------------------------------------------------------
CONFUSING = {
    "backslash before @": ("http://127.0.0.1:{port}\\@8.8.8.8/../secret.csv", "Backslash"),
    "backslash as slash": ("http://8.8.8.8\\.127.0.0.1:{port}/secret.csv", "Backslash"),
    "backslash after scheme": ("http:\\\\127.0.0.1:{port}/secret.csv", "http"),
    "user and password": ("http://user:pw@127.0.0.1:{port}/secret.csv", "Zugangsdaten"),
    "public user info": ("http://8.8.8.8@127.0.0.1:{port}/secret.csv", "Zugangsdaten"),
    "port as user info": ("http://127.0.0.1:{port}@8.8.8.8/secret.csv", "Zugangsdaten"),
    "two @": ("http://a@8.8.8.8@127.0.0.1:{port}/secret.csv", "Zugangsdaten"),
    "encoded @": ("http://127.0.0.1:{port}%40@8.8.8.8/secret.csv", "Zugangsdaten"),
    "empty user info": ("http://@127.0.0.1:{port}/secret.csv", "Zugangsdaten"),
    "percent-encoded host": ("http://%31%32%37.0.0.1:{port}/secret.csv", "Prozent"),
    "percent-encoded letter": ("http://loc%61lhost:{port}/secret.csv", "Prozent"),
    "percent-encoded dot": ("http://127%2e0%2e0%2e1:{port}/secret.csv", "Prozent"),
    "IPv6 zone": ("http://[fe80::1%25lo]:{port}/secret.csv", "Prozent"),
    "tab": ("http://127.0.0.1:{port}\t/secret.csv", "Steuerzeichen"),
    "newline": ("http://8.8.8.8/\nHost: 127.0.0.1:{port}", "Steuerzeichen"),
    "space before @": ("http://8.8.8.8 @127.0.0.1:{port}/secret.csv", "Leer"),
    "NUL": ("http://127.0.0.1:{port}\x00.8.8.8.8/secret.csv", "Steuerzeichen"),
    "zero-width space": ("http://127.0.0.1\u200b:{port}/secret.csv", "Steuerzeichen"),
    # IDN: what IDNA (UTS 46) would map to 127.0.0.1 or localhost
    "fullwidth digits": ("http://\uff11\uff12\uff17.\uff10.\uff10.\uff11:{port}/secret.csv",
                         "ungültig"),
    "fullwidth and ASCII": ("http://\uff11\uff12\uff17.0.0.1:{port}/secret.csv", ""),
    "ideographic dots": ("http://127\u30020\u30020\u30021:{port}/secret.csv", ""),
    "fullwidth letters": ("http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54"
                          ":{port}/secret.csv", ""),
    "no authority": ("http:/127.0.0.1:{port}/secret.csv", "http"),
    "other scheme": ("gopher://127.0.0.1:{port}/_GET", "http"),
    "file": ("file:///etc/passwd", "http"),
}


@pytest.mark.parametrize("case", sorted(CONFUSING))
def test_parser_confusion_is_refused(case, secret):
    url, expected = CONFUSING[case]
    assert expected in str(refused(url.format(port=secret)))


ALTERNATE_LOOPBACK = ["127.0.0.1", "2130706433", "0x7f000001", "017700000001", "0177.0.0.1",
                      "0x7f.0.0.1", "0x7f.1", "127.1", "127.0.1", "127.000.000.001",
                      "127.0.0.1.", "[::1]", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]",
                      "[::ffff:7f00:1]", "[::127.0.0.1]", "[64:ff9b::7f00:1]",
                      "[2002:7f00:1::]", "0.0.0.0", "0", "[::]", "localhost", "LocalHost.",
                      "127.0.0.2"]


@pytest.mark.parametrize("host", ALTERNATE_LOOPBACK)
def test_loopback_in_any_notation(host, secret):
    assert "interne Adresse" in str(refused(f"http://{host}:{secret}/secret.csv"))


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/latest/",
    "http://[::ffff:169.254.169.254]/", "http://10.0.0.1/", "http://172.16.0.1/",
    "http://192.168.178.1/", "http://100.64.0.1/", "http://224.0.0.1/", "http://[ff02::1]/",
    "http://255.255.255.255/", "http://240.0.0.1/", "http://198.18.0.1/", "http://[fe80::1]/",
    "http://[fc00::1]/", "http://[::ffff:10.0.0.1]/", "https://0xa9fea9fe/"])
def test_internal_networks(url):
    assert "interne Adresse" in str(refused(url))


# -- DNS -----------------------------------------------------------------------------
def test_a_name_pointing_inside(dns, secret):
    dns.answers["intern.stadt.test"] = [["127.0.0.1"]]
    assert "interne Adresse" in str(refused(f"http://intern.stadt.test:{secret}/secret.csv"))
    dns.answers["gemischt.stadt.test"] = [["8.8.8.8", "127.0.0.1"]]
    refused(f"http://gemischt.stadt.test:{secret}/secret.csv")
    dns.answers["v6.stadt.test"] = [["::ffff:127.0.0.1"]]
    refused(f"http://v6.stadt.test:{secret}/secret.csv")


def test_dns_rebinding_connects_to_the_checked_address(dns, secret):
    """Public at the check, loopback afterwards: the connection goes to the
    first (public, offline unreachable) answer, and there is no second lookup."""
    dns.answers["wechsel.stadt.test"] = [["8.8.8.8"], ["127.0.0.1"]]
    with pytest.raises(FetchError) as excinfo:
        get(f"http://wechsel.stadt.test:{secret}/secret.csv")
    assert excinfo.value.kind in ("fetch-error", "timeout")
    assert dns.asked["wechsel.stadt.test"] == 1


def test_the_checked_address_is_the_one_connected(dns, httpserver):
    """The other way round: an allowed name answers loopback first and an
    unreachable address afterwards, so only a pinned connection succeeds —
    with the name in the Host header."""
    httpserver.expect_request("/a.csv", headers={"Host": f"daten.stadt.test:{httpserver.port}"}) \
        .respond_with_data("a\n1\n")
    dns.answers["daten.stadt.test"] = [["127.0.0.1"], ["192.0.2.1"]]
    policy = Policy(allowed_hosts=("daten.stadt.test",), timeout=2, retries=0)
    assert get(f"http://daten.stadt.test:{httpserver.port}/a.csv", policy) == b"a\n1\n"
    assert dns.asked["daten.stadt.test"] == 1


@pytest.mark.parametrize("written", ["BÜCHER.stadt.test", "xn--bcher-kva.stadt.test.",
                                     "bücher.stadt.test"])
def test_names_are_compared_in_one_form(dns, httpserver, written):
    """IDN, case and a trailing dot: the site's entry and the URL's name are
    compared as IDNA, which is also what is looked up and sent."""
    host = f"xn--bcher-kva.stadt.test:{httpserver.port}"
    httpserver.expect_request("/a.csv", headers={"Host": host}).respond_with_data("a\n")
    dns.answers["xn--bcher-kva.stadt.test"] = [["127.0.0.1"]]
    policy = Policy(allowed_hosts=(written,), timeout=2, retries=0)
    assert get(f"http://Bücher.Stadt.Test:{httpserver.port}/a.csv", policy) == b"a\n"


def _certificate(folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return key, cert


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_tls_to_the_pinned_address_checks_the_name(dns, tmp_path, monkeypatch):
    """https to the pinned IP still sends the name (SNI) and verifies the
    certificate against the name, not against the IP."""
    key, cert = _certificate(tmp_path, "daten.stadt.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.expect_request("/a.csv").respond_with_data("a\n1\n")
    server.start()
    monkeypatch.setattr("requests.adapters.DEFAULT_CA_BUNDLE_PATH", str(cert))
    try:
        dns.answers["daten.stadt.test"] = dns.answers["andere.stadt.test"] = [["127.0.0.1"]]
        policy = Policy(allowed_hosts=("daten.stadt.test", "andere.stadt.test"), retries=0)
        assert get(f"https://daten.stadt.test:{server.port}/a.csv", policy) == b"a\n1\n"
        with pytest.raises(FetchError, match="SSLError"):
            get(f"https://andere.stadt.test:{server.port}/a.csv", policy)
    finally:
        server.clear()
        server.stop()
    assert names[:2] == ["daten.stadt.test", "andere.stadt.test"]


# -- redirects -----------------------------------------------------------------------
class RawLocation(Response):
    """Sends ``Location`` exactly as given (werkzeug would IRI-encode it)."""

    def __init__(self, location: str) -> None:
        super().__init__("", status=302)
        self.raw_location = location

    def get_wsgi_headers(self, environ):
        headers = super().get_wsgi_headers(environ)
        headers["Location"] = self.raw_location
        return headers


def redirect_targets(port: int) -> list[str]:
    return [f"http://localhost:{port}/secret.csv", f"http://[::1]:{port}/secret.csv",
            f"http://127.0.0.2:{port}/secret.csv", f"http://user:pw@127.0.0.1:{port}/secret.csv",
            f"//user@127.0.0.1:{port}/secret.csv", f"http://127.0.0.1:{port}\\@8.8.8.8/secret.csv",
            "/\\127.0.0.2/secret.csv", f"http://127.0.0.1:{port}/geheim sache.csv",
            "http://169.254.169.254/latest/meta-data/", f"ftp://127.0.0.1:{port}/secret.csv"]


@pytest.mark.parametrize("index", range(10))
@pytest.mark.parametrize("hosts", [("127.0.0.1",), ("*", "127.0.0.1")])
def test_redirects_are_checked_like_the_first_url(httpserver, index, hosts):
    """127.0.0.1 is allowed explicitly; every other loopback name or address,
    user info and backslash in the Location is refused."""
    location = redirect_targets(httpserver.port)[index]
    httpserver.expect_request("/start").respond_with_response(RawLocation(location))
    httpserver.expect_request("/secret.csv").respond_with_data(SECRET)
    refused(httpserver.url_for("/start"), Policy(allowed_hosts=hosts, timeout=2, retries=0))
    assert [request.path for request, _ in httpserver.log] == ["/start"]


# -- end to end: a URL resource ---------------------------------------------------------
@pytest.fixture
def editor(clean_db, clean_index):
    user = factories.User()
    org = factories.Organization(users=[{"name": user["name"], "capacity": "editor"}])
    return {"name": user["name"], "org": org["id"]}


def test_a_url_resource_cannot_reach_inside(editor, secret):
    with pytest.raises(ValidationError) as excinfo:
        helpers.call_action(
            "package_create", context={"user": editor["name"]}, name="trick",
            owner_org=editor["org"], resources=[{
                "url": f"http://127.0.0.1:{secret}\\@8.8.8.8/../secret.csv", "format": "CSV",
                "name": "Trick", "table_schema": "hotspots"}])
    message = json.dumps(excinfo.value.error_dict, ensure_ascii=False)
    assert "Backslash" in message
    assert "geheim" not in message and "INTERN" not in message
    assert helpers.call_action("package_search", include_private=True)["count"] == 0


# -- end to end: harvest sources -----------------------------------------------------
def make_source(user: str, org: str, url: str, **config) -> dict:
    return helpers.call_action(
        "harvest_source_create", context={"user": user}, name="trick", title="Trick",
        url=url, source_type="vernetztestadt_ranking", owner_org=org, frequency="MANUAL",
        config=json.dumps({"ranking": "haselhorst", "dataset_type": "smart_city_ranking",
                           **config}))


def harvest_refused(reason: str) -> str:
    result = runner.run("trick")
    assert result.counts == {} and len(result.errors) == 1
    assert reason in result.errors[0]
    assert "geheim" not in result.errors[0] and "INTERN" not in result.errors[0]
    report = helpers.call_action("harvest_job_report", id=result.job_id)
    assert "INTERN" not in json.dumps(report)
    return result.errors[0]


@NO_INTERNAL_HARVEST
def test_a_harvest_source_url_cannot_reach_inside(editor, secret):
    make_source(editor["name"], editor["org"],
                f"http://127.0.0.1:{secret}\\@8.8.8.8/../secret.csv")
    harvest_refused("Backslash")


@NO_INTERNAL_HARVEST
def test_source_allowed_hosts_cannot_name_internal_addresses(editor, secret):
    """Widening to internal servers is the site configuration's alone: not
    for an organisation editor, nor for a sysadmin through a source."""
    for user in (editor["name"], factories.Sysadmin()["name"]):
        for hosts in (["127.0.0.1"], ["169.254.169.254"], ["2130706433"], ["[::1]"]):
            with pytest.raises(ValidationError, match="Site-Konfiguration"):
                make_source(user, editor["org"], f"http://127.0.0.1:{secret}/secret.csv",
                            allowed_hosts=hosts)


@NO_INTERNAL_HARVEST
def test_source_allowed_hosts_are_public_only(editor, secret):
    """A name passes the config check but permits only public addresses."""
    make_source(editor["name"], editor["org"], f"http://localhost:{secret}/secret.csv",
                allowed_hosts=["localhost"])
    harvest_refused("„localhost“ ist eine interne Adresse")


@NO_INTERNAL_HARVEST
def test_a_stored_internal_allowed_host_is_no_permission(editor, secret):
    """A config written past the check (an older version, the database)
    widens nothing either."""
    source = make_source(editor["name"], editor["org"],
                         f"http://127.0.0.1:{secret}/secret.csv")
    row = model.Session.get(HarvestSource, source["id"])
    row.config = json.dumps({**json.loads(row.config), "allowed_hosts": ["127.0.0.1"]})
    model.Session.commit()
    harvest_refused("127.0.0.1")


@pytest.mark.ckan_config("ckanext.vernetztestadt.harvest.allowed_hosts", "127.0.0.1")
def test_the_site_configuration_can_allow_an_internal_host(editor, httpserver):
    httpserver.expect_request("/ranking.csv").respond_with_data("kein Ranking\n")
    make_source(editor["name"], editor["org"], httpserver.url_for("/ranking.csv"))
    runner.run("trick")
    assert [request.path for request, _ in httpserver.log] == ["/ranking.csv"]
