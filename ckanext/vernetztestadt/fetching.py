"""Fetching remote files: the one HTTP client of the extension.

Owns: how every remote file is fetched — by the URL validation and by each
harvester — and the one URL policy deciding what may be fetched:

- http/https only; a URL is read by the parser that fetches it (requests'
  ``prepare_url`` and urllib3's ``parse_url``; the standard library's
  ``urlsplit`` must agree with them); user info (``user:pw@``), backslashes,
  whitespace, control characters and percent-encoding in the server name are
  refused outright;
- host names are compared in one canonical form: IDNA (``xn--…``), lower
  case, no trailing dot; IP literals in any notation (``2130706433``,
  ``0177.0.0.1``, ``0x7f.1``, ``127.1``, ``[::ffff:127.0.0.1]``) as the
  address they denote;
- the host is resolved once and the connection goes to exactly the address
  that was checked (a pinned connection pool keeps the Host header, TLS SNI
  and certificate check of the name), so a second DNS answer cannot rebind
  it; no proxy from the environment (a proxy would resolve the name itself);
- every address must be global (not loopback, private, link-local such as
  169.254.169.254, multicast, reserved, unspecified, nor an IPv6 form
  embedding such an IPv4 address) unless the host is listed explicitly in
  ``Policy.allowed_hosts`` — which only the site configuration fills;
- redirects are followed by hand (at most ``MAX_REDIRECTS``), each target
  checked by the same rules;

plus connect/read timeouts; retries with backoff on connection errors and
502/503/504 (to the same pinned address); a byte cap while streaming;
conditional requests (ETag, Last-Modified); a user agent naming the portal.
Failures are ``FetchError`` with a kind (the report's error type) and a German
message that names at most the URL's host, never anything the server sent.

Must not touch: what the bytes mean (validation, harvesters), who may widen
the policy (the callers build ``Policy`` from their configuration), or CKAN.

Size: over 400 lines on purpose: the URL policy and the client that enforces
it stay in one module, so that no caller can fetch with one and skip the other
(one reviewable unit for SSRF).
"""
from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

import idna
import requests
from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest
from urllib3.exceptions import ConnectTimeoutError, ReadTimeoutError
from urllib3.util import parse_url
from urllib3.util.retry import Retry

CHUNK = 64 * 1024
MAX_REDIRECTS = 5
USER_AGENT = "ckanext-vernetztestadt/0.1 (Open-Data-Portal Gelsenkirchen)"
DEFAULT_PORTS = {"http": 80, "https": 443}

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: every label a number (decimal, octal or hex): what inet_aton reads as IPv4
_NUMERIC_IPV4 = re.compile(r"(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}")
#: NAT64 prefix (RFC 6052): the last 32 bits are the IPv4 address reached
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
#: IPv4-compatible IPv6 (deprecated): ``::a.b.c.d``
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class FetchError(Exception):
    """The file could not be had; ``kind`` is the report's error type."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Policy:
    #: Host names (or IPs) that may be fetched, even at an internal address;
    #: ``*`` allows every public host. Only the site configuration fills it.
    allowed_hosts: tuple[str, ...] = ("*",)
    #: Host names allowed only while they resolve to public addresses (a
    #: harvest source's own URLs and its ``allowed_hosts``: named, but no
    #: permission to reach into the internal network).
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


@dataclass(frozen=True)
class Target:
    """A checked URL: what is requested and the one address it goes to."""

    url: str  # as requests sends it
    scheme: str
    host: str  # canonical (see ``canonical_host``)
    port: int
    address: str  # the checked IP the connection is pinned to


# -- addresses ----------------------------------------------------------------
def _unmapped(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def literal_address(host: str) -> Address | None:
    """The address an IP literal denotes in any notation, else None."""
    name = host.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")
    try:
        return _unmapped(ipaddress.ip_address(name))
    except ValueError:
        pass
    if _NUMERIC_IPV4.fullmatch(name):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return None
    return None


def _embedded(address: Address) -> list[Address]:
    """IPv4 addresses an IPv6 address leads to (6to4, NAT64, Teredo, ::a.b.c.d)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found: list[Address] = []
    if address.sixtofour:
        found.append(address.sixtofour)
    if address.teredo:
        found += list(address.teredo)
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 0xFFFF):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_public(address: Address) -> bool:
    """A global unicast address that does not lead to an internal one."""
    address = _unmapped(address)
    return (address.is_global and not address.is_multicast
            and all(is_public(inner) for inner in _embedded(address)))


def canonical_host(host: str) -> str:
    """The one form host names are compared in: an IP literal as its address,
    a name as lower-case IDNA without trailing dot."""
    address = literal_address(host)
    if address is not None:
        return str(address)
    name = host.strip().lower().rstrip(".")
    if name.isascii():
        return name
    try:
        return idna.encode(name, uts46=True).decode("ascii")
    except idna.IDNAError:
        return name


# -- parsing: the parser that fetches decides -----------------------------------
def _refused(message: str) -> FetchError:
    return FetchError("host-not-allowed", message)


def _forbidden_character(url: str) -> bool:
    return any(ch == "\\" or ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf")
               for ch in url)


def _raw_authority(url: str) -> str:
    """What follows ``scheme://`` up to the path, query or fragment — where
    user info or an encoded name would hide (no backslash is left here)."""
    rest = url.split("://", 1)[1] if "://" in url else ""
    return re.split(r"[/?#]", rest, maxsplit=1)[0]


def _prepared(url: str) -> str:
    request = PreparedRequest()
    try:
        request.prepare_url(url, None)
    except (requests.RequestException, ValueError, UnicodeError):
        raise _refused("Die Adresse ist ungültig und wird nicht abgerufen.") from None
    return str(request.url)


def _parse(url: str) -> tuple[str, str, str, int]:
    """(prepared URL, scheme, canonical host, port) or FetchError."""
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise _refused("Nur http- und https-Adressen können abgerufen werden.")
    if _forbidden_character(url):
        raise _refused("Die Adresse enthält Leer- oder Steuerzeichen oder einen Backslash "
                       "(„\\“) und wird nicht abgerufen; Leerzeichen bitte als %20 "
                       "schreiben.")
    authority = _raw_authority(url)
    if "@" in authority:
        raise _refused("Adressen mit Zugangsdaten (Name@Server) werden nicht abgerufen.")
    if "%" in authority:
        raise _refused("Prozent-kodierte Servernamen werden nicht abgerufen.")
    prepared = _prepared(url)
    parsed, split = parse_url(prepared), urlsplit(prepared)
    scheme = (parsed.scheme or "").lower()
    if scheme not in DEFAULT_PORTS or not parsed.host:
        raise _refused("Nur http- und https-Adressen können abgerufen werden.")
    host = canonical_host(parsed.host)
    port = parsed.port or DEFAULT_PORTS[scheme]
    # the policy must see what requests (parse_url) and its adapter
    # (urlsplit) connect to; any disagreement is a trick, not a URL
    if (parsed.auth is not None or split.username is not None
            or canonical_host(split.hostname or "") != host
            or (split.port or DEFAULT_PORTS[scheme]) != port
            or _prepared(prepared) != prepared):
        raise _refused("Die Adresse ist mehrdeutig und wird nicht abgerufen.")
    return prepared, scheme, host, port


def host_of(url: str) -> str | None:
    """The canonical host ``url`` would be fetched from; None if refused."""
    try:
        return _parse(url)[2]
    except FetchError:
        return None


# -- the policy -----------------------------------------------------------------
def _listed(host: str, entries: Iterable[str]) -> bool:
    return any(entry != "*" and canonical_host(entry) == host for entry in entries)


def _resolve(host: str, port: int) -> list[Address]:
    """The host's addresses, looked up once (an IP literal needs no lookup)."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise FetchError("fetch-error", f"Der Server „{host}“ ist nicht bekannt.") from None
    addresses: list[Address] = []
    for info in infos:
        address = _unmapped(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchError("fetch-error", f"Der Server „{host}“ ist nicht bekannt.")
    return addresses


def check_host(url: str, policy: Policy) -> Target:
    """The target of ``url`` when the policy allows it: http(s) to a host
    that is allowed by name and whose every address is public, unless the
    host is listed in ``allowed_hosts``. Resolves the host once."""
    prepared, scheme, host, port = _parse(url)
    explicit = _listed(host, policy.allowed_hosts)
    anywhere = "*" in policy.allowed_hosts or "*" in policy.public_hosts
    if not (explicit or anywhere or _listed(host, policy.public_hosts)):
        raise _refused(f"Der Server „{host}“ ist nicht freigegeben.")
    addresses = _resolve(host, port)
    if not explicit and not all(is_public(address) for address in addresses):
        raise _refused(f"„{host}“ ist eine interne Adresse und nicht freigegeben.")
    return Target(url=prepared, scheme=scheme, host=host, port=port,
                  address=str(addresses[0]))


# -- the pinned connection ---------------------------------------------------------
def _key(url: str) -> tuple[str, str, int]:
    parsed = parse_url(url)
    scheme = (parsed.scheme or "").lower()
    return scheme, canonical_host(parsed.host or ""), parsed.port or DEFAULT_PORTS.get(scheme, 0)


class _PinnedAdapter(HTTPAdapter):
    """Connects only to addresses ``check_host`` returned: the pool is keyed
    on the IP, while Host header, SNI and certificate name stay the URL's."""

    def __init__(self, retry: Retry) -> None:
        self.pins: dict[tuple[str, str, int], str] = {}
        super().__init__(max_retries=retry)

    def pin(self, target: Target) -> None:
        self.pins[(target.scheme, target.host, target.port)] = target.address

    def build_connection_pool_key_attributes(self, request: PreparedRequest, verify: Any,
                                             cert: Any = None,
                                             ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert)
        scheme, host, port = _key(str(request.url))
        address = self.pins.get((scheme, host, port))
        if address is None:  # never connect to anything unchecked
            raise _refused(f"Der Server „{host}“ wurde nicht geprüft.")
        host_params.update(scheme=scheme, host=address, port=port)
        if scheme == "https":
            pool_kwargs.update(server_hostname=host, assert_hostname=host)
        return host_params, pool_kwargs

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any,
             ) -> requests.Response:
        # the connection is to the IP: name the server as the URL does
        request.headers["Host"] = parse_url(str(request.url)).netloc or ""
        return super().send(request, *args, **kwargs)


def _session(policy: Policy) -> tuple[requests.Session, _PinnedAdapter]:
    session = requests.Session()
    session.trust_env = False  # no proxy or .netrc from the environment
    retry = Retry(total=policy.retries, connect=policy.retries, read=policy.retries,
                  status=policy.retries, backoff_factor=policy.backoff,
                  status_forcelist=(502, 503, 504), allowed_methods=("GET",),
                  redirect=False, raise_on_status=False)
    adapter = _PinnedAdapter(retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session, adapter


def _conditional(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _location(response: requests.Response, current: str) -> str:
    """The redirect target, read as strictly as a URL the caller gave."""
    location = response.headers.get("Location", "")
    with contextlib.suppress(UnicodeError):  # headers arrive as latin-1; servers send
        location = location.encode("latin-1").decode("utf-8")  # UTF-8 (requests reads so)
    if _forbidden_character(location):
        raise _refused("Die Weiterleitung enthält Leer- oder Steuerzeichen oder einen "
                       "Backslash und wird nicht verfolgt.")
    return urljoin(current, location)


def _open(session: requests.Session, adapter: _PinnedAdapter, url: str, policy: Policy,
          headers: dict[str, str]) -> tuple[requests.Response, list[str]]:
    """GET, following redirects by hand so that every target is checked."""
    redirects: list[str] = []
    for _ in range(MAX_REDIRECTS + 1):
        target = check_host(url, policy)
        adapter.pin(target)
        response = session.get(target.url, stream=True, timeout=policy.timeout,
                               allow_redirects=False, headers=headers)
        if not response.is_redirect:
            return response, redirects
        response.close()
        url = _location(response, target.url)
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
    session, adapter = _session(policy)
    try:
        response, redirects = _open(session, adapter, url, policy,
                                    _conditional(etag, last_modified))
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
