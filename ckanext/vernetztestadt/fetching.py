"""Fetching remote files: the one HTTP client of the extension.

Owns: how every remote file is fetched — by the URL validation and by each
harvester: http/https only; a host policy (hosts allowed by name, and no
private, loopback or link-local addresses unless listed), re-checked at every
redirect; connect/read timeouts; retries with backoff on connection errors
and 502/503/504; a byte cap while streaming; conditional requests (ETag,
Last-Modified); a user agent naming the portal. Failures are ``FetchError``
with a kind (the report's error type) and a German message.

Must not touch: what the bytes mean (validation, harvesters) or CKAN.
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, ReadTimeoutError
from urllib3.util.retry import Retry

CHUNK = 64 * 1024
MAX_REDIRECTS = 5
USER_AGENT = "ckanext-vernetztestadt/0.1 (Open-Data-Portal Gelsenkirchen)"


class FetchError(Exception):
    """The file could not be had; ``kind`` is the report's error type."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Policy:
    #: Host names (or IPs) that may be fetched, even at a private address;
    #: ``*`` allows every public host.
    allowed_hosts: tuple[str, ...] = ("*",)
    #: Host names allowed only while they resolve to public addresses (a
    #: harvest source's own URLs: named, but not an explicit permission to
    #: reach into the internal network).
    public_hosts: tuple[str, ...] = ()
    max_bytes: int = 200 * 1024**2
    timeout: float = 30.0
    retries: int = 2
    backoff: float = 0.5


@dataclass
class Fetched:
    """The outcome of one request: 200 with a body, or 304 (not modified)."""

    url: str
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = ""
    size: int = 0
    redirects: list[str] = field(default_factory=list)


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        raise FetchError("fetch-error", f"Der Server „{host}“ ist nicht bekannt.") from None
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def check_host(url: str, policy: Policy) -> None:
    """Refuse anything but http(s) to an allowed, public host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("host-not-allowed", "Nur http- und https-Adressen können abgerufen "
                         "werden.")
    host = parts.hostname.lower()
    if host in policy.allowed_hosts:
        return
    if "*" not in policy.allowed_hosts and host not in policy.public_hosts:
        raise FetchError("host-not-allowed", f"Der Server „{host}“ ist nicht freigegeben.")
    if any(not address.is_global for address in _addresses(host)):
        raise FetchError("host-not-allowed", f"„{host}“ ist eine interne Adresse und nicht "
                         "freigegeben.")


def _session(policy: Policy) -> requests.Session:
    session = requests.Session()
    retry = Retry(total=policy.retries, connect=policy.retries, read=policy.retries,
                  status=policy.retries, backoff_factor=policy.backoff,
                  status_forcelist=(502, 503, 504), allowed_methods=("GET",),
                  redirect=False, raise_on_status=False)
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def _conditional(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _open(session: requests.Session, url: str, policy: Policy, headers: dict[str, str],
          ) -> tuple[requests.Response, list[str]]:
    """GET, following redirects by hand so that every target is checked."""
    redirects: list[str] = []
    for _ in range(MAX_REDIRECTS + 1):
        check_host(url, policy)
        response = session.get(url, stream=True, timeout=policy.timeout,
                               allow_redirects=False, headers=headers)
        if not response.is_redirect:
            return response, redirects
        response.close()
        url = urljoin(url, response.headers.get("Location", ""))
        redirects.append(url)
    raise FetchError("fetch-error", f"Mehr als {MAX_REDIRECTS} Weiterleitungen.")


def copy_limited(chunks: Iterable[bytes], target: IO[bytes], limit: int) -> int:
    """Write ``chunks`` to ``target``, refusing more than ``limit`` bytes;
    returns the bytes written. Downloads and incoming uploads both go here."""
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise FetchError("file-too-large", f"Die Datei ist größer als die erlaubten "
                             f"{limit / 2**20:.1f} MB.")
        target.write(chunk)
    return total


def _announced_size(response: requests.Response, limit: int) -> None:
    length = int(response.headers.get("Content-Length") or 0)
    if length > limit:
        raise FetchError("file-too-large", f"Die Datei ist {length / 2**20:.1f} MB groß; "
                         f"erlaubt sind {limit / 2**20:.1f} MB.")


def fetch(url: str, target: IO[bytes], policy: Policy, etag: str | None = None,
          last_modified: str | None = None) -> Fetched:
    """Stream ``url`` into ``target`` (nothing is written on 304)."""
    session = _session(policy)
    try:
        response, redirects = _open(session, url, policy, _conditional(etag, last_modified))
        with response:
            result = Fetched(url=response.url, redirects=redirects,
                             etag=response.headers.get("ETag"),
                             last_modified=response.headers.get("Last-Modified"),
                             content_type=response.headers.get("Content-Type", ""))
            if response.status_code == 304:
                result.not_modified = True
                return result
            if response.status_code != 200:
                raise FetchError("fetch-error", f"Der Server antwortete mit HTTP "
                                 f"{response.status_code} statt der Datei.")
            _announced_size(response, policy.max_bytes)
            result.size = copy_limited(response.iter_content(CHUNK), target, policy.max_bytes)
            return result
    except requests.RequestException as exc:
        if _timed_out(exc):
            raise FetchError("timeout", f"Der Server antwortete nicht innerhalb von "
                             f"{policy.timeout:g} Sekunden.") from None
        raise FetchError("fetch-error", f"Die Datei ist nicht abrufbar: "
                         f"{type(exc).__name__}.") from None
    finally:
        session.close()


def _timed_out(exc: requests.RequestException) -> bool:
    """A timeout, also when it ended the retries (then requests reports a
    ConnectionError around urllib3's MaxRetryError)."""
    if isinstance(exc, requests.Timeout):
        return True
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return isinstance(reason, (ReadTimeoutError, ConnectTimeoutError))


def looks_like_html(head: bytes) -> bool:
    """An HTML page (an error or login page) where data was expected."""
    start = head[:1024].lstrip().lower()
    return any(marker in start[:200] for marker in (b"<!doctype html", b"<html", b"<head",
                                                    b"<body"))
