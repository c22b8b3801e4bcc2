"""The status mail of harvest jobs (ckanext-harvest's, enabled for errored
jobs in test.ini as in the portal's config): real harvest runs against
documents served on 127.0.0.1, the mail received by a real SMTP server
(aiosmtpd) on 127.0.0.1. A failed job (its document is an HTML page, not the
CSV the source promises) and a partly failed one (datasets refused by the
publication gate, one published) each mail the sysadmins and the admins of
the source's organisation once; a successful job mails no one; editors get
nothing. The subject is ckanext-harvest's (English, with the site title)."""
from __future__ import annotations

import email
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import ckan.model as model
import pytest
from aiosmtpd.controller import Controller
from ckan.tests import factories, helpers
from conftest import fixture, site_user

#: every job indexes what it publishes and re-indexes its source
pytestmark = pytest.mark.search

BITKOM_CSV = fixture("bitkom_2022_en.csv")
HASELHORST_CP1252 = fixture("haselhorst_2021_2023.csv")
#: a second document that repeats Haselhorst's 2023 row of Gelsenkirchen:
#: the 2023 edition and the city's series break their primary keys and are
#: refused, the 2021 edition publishes
OVERLAP = "Jahr;Platz;Stadt;Smart-City-Grad\r\n2023;9;Gelsenkirchen;40,0 %\r\n".encode("cp1252")
HTML_PAGE = (b"<!DOCTYPE html><html><head><title>Wartung</title></head>"
             b"<body>Bald wieder da</body></html>")


@dataclass
class Inbox:
    """aiosmtpd handler: keeps every message with its envelope recipients."""

    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        self.received.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for recipients, message in self.received if address in recipients]


class _Controller(Controller):
    """Listens on a free port: the one the OS gave the server (port 0)."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def inbox(ckan_config: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """An SMTP server on 127.0.0.1 that CKAN's mailer sends to."""
    handler = Inbox()
    controller = _Controller(handler, hostname="127.0.0.1", port=0)
    controller.start()
    monkeypatch.setitem(ckan_config, "smtp.server", f"127.0.0.1:{controller.port}")
    yield handler
    controller.stop()


@pytest.fixture
def people(city: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A sysadmin, and an admin and an editor of the city's organisation."""
    found = {"sysadmin": factories.Sysadmin(email="sysadmin@example.org"),
             "admin": factories.User(email="org-admin@example.org"),
             "editor": factories.User(email="org-editor@example.org")}
    for role in ("admin", "editor"):
        helpers.call_action("organization_member_create",
                            context={"ignore_auth": True, "user": site_user()},
                            id=city["id"], username=found[role]["name"], role=role)
    return found


def sysadmin_emails() -> set[str]:
    """ckanext-harvest mails every sysadmin with an address (the harvest
    user too, if it has one)."""
    return {user.email for user in model.Session.query(model.User)
            .filter(model.User.sysadmin.is_(True), model.User.state == "active") if user.email}


def body(message: EmailMessage) -> str:
    return message.get_content()


def bitkom_source(make_source: Any, httpserver: Any, data: bytes, content_type: str) -> None:
    httpserver.expect_request("/ranking.csv").respond_with_data(data, content_type=content_type)
    make_source("bitkom", httpserver.url_for("/ranking.csv"), {"ranking": "bitkom"})


def test_a_failed_job_mails_the_admins_in_german(make_source, harvest, httpserver, inbox,
                                                 people):
    bitkom_source(make_source, httpserver, HTML_PAGE, "text/html; charset=utf-8")
    result = harvest("bitkom")
    assert result.counts == {} and len(result.errors) == 1

    recipients = sorted(address for to, _ in inbox.received for address in to)
    assert recipients == sorted({*sysadmin_emails(), "org-admin@example.org"})
    assert "sysadmin@example.org" in recipients and "org-editor@example.org" not in recipients
    [mail] = inbox.to("org-admin@example.org")
    assert mail["To"] == f"{people['admin']['name']} <org-admin@example.org>"
    assert "Open Data Gelsenkirchen (Test)" in mail["Subject"]
    text = body(mail)
    assert text.startswith("Der Harvest-Job der Quelle „Bitkom“ ist mit Fehlern beendet.")
    assert "Fehler des Jobs (nichts aus diesem Lauf wurde veröffentlicht):" in text
    assert f"  - {result.errors[0]}" in text  # the framework's German reason
    assert "Quelle: Bitkom" in text and "Organisation: stadt-gelsenkirchen" in text
    assert "/harvest/" in text and f"/job/{result.job_id}" in text
    assert "-- English --" in text  # after the German text
    assert text.index("-- English --") > text.index("Fehler des Jobs")
    assert "&" not in text  # no HTML entities in the plain text


def test_a_successful_job_mails_no_one(make_source, harvest, httpserver, inbox, people):
    bitkom_source(make_source, httpserver, BITKOM_CSV, "text/csv")
    result = harvest("bitkom")
    assert result.errors == [] and result.counts["added"] > 0
    assert inbox.received == []


def test_a_partly_failed_job_mails_once(make_source, harvest, httpserver, inbox, people):
    for name, data in (("haselhorst.csv", HASELHORST_CP1252), ("overlap.csv", OVERLAP)):
        httpserver.expect_request(f"/{name}").respond_with_data(data, content_type="text/csv")
    make_source("haselhorst", httpserver.url_for("/haselhorst.csv"), {
        "ranking": "haselhorst", "documents": [{"url": httpserver.url_for("/haselhorst.csv")},
                                               {"url": httpserver.url_for("/overlap.csv")}]})
    result = harvest("haselhorst")
    refused = [e for e in result.errors if "wurde nicht veröffentlicht" in e]
    assert len(refused) == 2 and result.counts == {"added": 1, "errored": 2}

    [mail] = inbox.to("org-admin@example.org")
    assert len(inbox.to("sysadmin@example.org")) == 1
    assert inbox.to("org-editor@example.org") == []
    text = body(mail)
    assert text.startswith("Der Harvest-Job der Quelle „Haselhorst“ ist mit Fehlern beendet.")
    assert "Hinzugefügt: 1" in text and "Fehler: 2" in text
    assert "Nicht veröffentlichte Datensätze:" in text
    assert "Fehler des Jobs" not in text
    assert "„haselhorst-smart-city-ranking-2023“ wurde nicht veröffentlicht" in text
    assert "Doppelter oder leerer Primärschlüssel" in text
