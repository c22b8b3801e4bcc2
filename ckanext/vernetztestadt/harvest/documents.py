"""Getting a harvest source's documents: bytes, validators, guards.

Owns: the host policy of a source: the hosts of its own URLs and of its
config's ``allowed_hosts`` may be fetched only while they resolve to public
addresses (whoever wrote the config); internal addresses are reachable only
when the site configuration (``ckanext.vernetztestadt.harvest.allowed_hosts``)
lists the host. Also reading ``package:`` URLs (snapshots shipped in
``harvesters/``), conditional requests with the validators of the previous
run, and the "HTML page where data was expected" check. Errors are ``DocumentError`` with
a German message naming the URL.

Must not touch: HTTP itself (``fetching`` is the one client) or what the
bytes mean (the harvesters' parsers).
"""
from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ckan.plugins.toolkit as tk

from .. import fetching, resources

PACKAGE_SCHEME = "package:"


class DocumentError(Exception):
    """A document could not be had or is not data (German message)."""


@dataclass(frozen=True)
class Document:
    url: str
    data: bytes
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def validators(self) -> dict[str, str | None]:
        """What the next run sends to ask "changed since?"."""
        return {"etag": self.etag, "last_modified": self.last_modified}


def policy(urls: Iterable[str], config: dict[str, Any]) -> fetching.Policy:
    """The fetch policy of one source. A source's config is written by
    organisation editors, so it can name hosts but never widen the policy to
    internal addresses: that is the site configuration's alone."""
    site = str(tk.config.get("ckanext.vernetztestadt.harvest.allowed_hosts") or "").split()
    # the hosts as ``fetching`` parses them (a URL it refuses adds nothing)
    own = (fetching.host_of(url) for url in urls if not url.startswith(PACKAGE_SCHEME))
    named = (fetching.canonical_host(host) for host in config.get("allowed_hosts") or ())
    return fetching.Policy(allowed_hosts=tuple(fetching.canonical_host(h) for h in site),
                           public_hosts=tuple(sorted({h for h in (*own, *named) if h})),
                           max_bytes=int(config["max_bytes"]),
                           timeout=float(config["timeout"]))


def _packaged(url: str) -> bytes:
    path = url[len(PACKAGE_SCHEME):].lstrip("/")
    file = resources.harvesters_dir().joinpath(*path.split("/"))
    if ".." in path.split("/") or not file.is_file():
        raise DocumentError(f"{url}: Die mitgelieferte Datei gibt es nicht.")
    return file.read_bytes()


def get(url: str, source_policy: fetching.Policy, previous: dict[str, Any] | None = None,
        expect_html: bool = False) -> Document:
    """The document at ``url``; ``not_modified`` (and no data) when the
    server says it is unchanged since ``previous`` validators."""
    if url.startswith(PACKAGE_SCHEME):
        data = _packaged(url)
        digest = hashlib.sha256(data).hexdigest()
        unchanged = bool(previous) and previous.get("etag") == digest
        return Document(url, b"" if unchanged else data, etag=digest, not_modified=unchanged)
    previous = previous or {}
    target = io.BytesIO()
    try:
        fetched = fetching.fetch(url, target, source_policy, etag=previous.get("etag"),
                                 last_modified=previous.get("last_modified"))
    except fetching.FetchError as error:
        raise DocumentError(f"{url}: {error}") from None
    data = target.getvalue()
    if not fetched.not_modified and not expect_html and fetching.looks_like_html(data):
        raise DocumentError(f"{url}: Der Server lieferte eine HTML-Seite statt der Daten "
                            "(Fehler- oder Anmeldeseite?).")
    if not fetched.not_modified and not data.strip():
        raise DocumentError(f"{url}: Die Antwort ist leer.")
    return Document(url, data, etag=fetched.etag, last_modified=fetched.last_modified,
                    not_modified=fetched.not_modified)
