"""Getting the bytes of a resource to validate: uploads and URLs.

Owns: the local path of an uploaded file, and downloading a URL into a
temporary file with a size limit, timeouts and a host policy (private and
loopback addresses only when listed in ``allowed_hosts``: no server-side
request forgery through a resource URL).

Must not touch: validation (``engine``) or reports.
"""
from __future__ import annotations

import ipaddress
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import requests

CHUNK = 64 * 1024


class FetchError(Exception):
    """The file could not be had; ``kind`` is the report's error type."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Policy:
    allowed_hosts: tuple[str, ...] = ("*",)
    max_bytes: int = 200 * 1024**2
    timeout: float = 30.0


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        raise FetchError("fetch-error", f"Der Server „{host}“ ist nicht bekannt.") from None
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def check_host(url: str, policy: Policy) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("host-not-allowed", "Nur http- und https-Adressen können geprüft werden.")
    host = parts.hostname.lower()
    if host in policy.allowed_hosts:
        return
    if "*" not in policy.allowed_hosts:
        raise FetchError("host-not-allowed", f"Der Server „{host}“ ist nicht freigegeben.")
    if any(not address.is_global for address in _addresses(host)):
        raise FetchError("host-not-allowed", f"„{host}“ ist eine interne Adresse und nicht "
                         "freigegeben.")


def _copy_limited(source: IO[bytes] | Iterator[bytes], target: IO[bytes], limit: int) -> None:
    total = 0
    chunks = source if not hasattr(source, "read") else iter(lambda: source.read(CHUNK), b"")
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise FetchError("file-too-large", f"Die Datei ist größer als die erlaubten "
                             f"{limit / 2**20:.1f} MB.")
        target.write(chunk)


def download(url: str, target: IO[bytes], policy: Policy) -> None:
    """Stream ``url`` into ``target``; FetchError says what went wrong."""
    check_host(url, policy)
    try:
        # no redirects: a public address must not forward to an internal one
        with requests.get(url, stream=True, timeout=policy.timeout,
                          allow_redirects=False) as response:
            if response.status_code != 200:
                raise FetchError("fetch-error", f"Der Server antwortete mit HTTP "
                                 f"{response.status_code} statt der Datei.")
            length = int(response.headers.get("Content-Length") or 0)
            if length > policy.max_bytes:
                raise FetchError("file-too-large", f"Die Datei ist {length / 2**20:.1f} MB "
                                 f"groß; erlaubt sind {policy.max_bytes / 2**20:.1f} MB.")
            _copy_limited(response.iter_content(CHUNK), target, policy.max_bytes)
    except requests.Timeout:
        raise FetchError("timeout", f"Der Server antwortete nicht innerhalb von "
                         f"{policy.timeout:g} Sekunden.") from None
    except requests.RequestException as exc:
        raise FetchError("fetch-error", f"Die Datei ist nicht abrufbar: "
                         f"{type(exc).__name__}.") from None


@contextmanager
def temporary_copy(stream: IO[bytes], suffix: str, limit: int) -> Iterator[Path]:
    """The stream saved to a temporary file (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="vts-validation-") as folder:
        path = Path(folder) / f"data{suffix}"
        with path.open("wb") as target:
            _copy_limited(stream, target, limit)
        yield path


@contextmanager
def url_copy(url: str, suffix: str, policy: Policy) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="vts-validation-") as folder:
        path = Path(folder) / f"data{suffix}"
        with path.open("wb") as target:
            download(url, target, policy)
        yield path


def upload_path(resource: dict[str, Any]) -> Path | None:
    """Where CKAN keeps an uploaded resource's file, if it exists."""
    from ckan.lib.uploader import get_resource_uploader

    path = get_resource_uploader(dict(resource)).get_path(resource["id"])
    return Path(path) if path and Path(path).exists() else None

