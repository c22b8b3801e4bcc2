"""What must never appear in a published row: e-mail, MAC and IP addresses.

Owns: the patterns of personal data that the harvest formats and the WiFi
harvester's last scan look for (``PRIVATE_PATTERNS``, ``find_private``).
Freifunk node maps name owners' contacts, MAC addresses and (OLSR) IP
addresses of neighbours; none of it is published.

Must not touch: what is done with a finding (``hotspot_rows`` replaces the
value, the harvester refuses the document), CKAN.
"""
from __future__ import annotations

import re

__all__ = ["PRIVATE_PATTERNS", "find_private"]

_HEX = "[0-9A-Fa-f]"
_H16 = f"{_HEX}{{1,4}}"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV6_FORMS = (
    rf"(?:{_H16}:){{7}}{_H16}",
    rf"(?:{_H16}:){{1,7}}:",
    rf"(?:{_H16}:){{1,6}}:{_H16}",
    *(rf"(?:{_H16}:){{1,{5 - k}}}(?::{_H16}){{1,{k + 2}}}" for k in range(4)),
    rf"{_H16}:(?::{_H16}){{1,6}}",
    rf":(?::{_H16}){{1,7}}",
)

#: E-mail (also "name (at) example.org"), MAC (02:00:…, 02-00-…, 0200.0000.…,
#: 020000000001), IPv4, IPv6: what must never appear in a published row.
PRIVATE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"[\w.%+-]+(?:@|\s*[\[(]\s*(?i:at)\s*[\])]\s*)[\w-]+(?:\.[\w-]+)+"),
    re.compile(rf"(?<![0-9A-Za-z])(?:{_HEX}{{2}}([:-]){_HEX}{{2}}(?:\1{_HEX}{{2}}){{4}}"
               rf"|{_HEX}{{4}}\.{_HEX}{{4}}\.{_HEX}{{4}})(?![0-9A-Za-z])"),
    # twelve bare hex digits (also in hostnames like ffge-020000000001), but
    # not the last group of a UUID (…-4 hex-12 hex) or part of a longer hash
    re.compile(rf"(?<![0-9A-Za-z])(?<![0-9A-Fa-f]{{4}}-){_HEX}{{12}}(?![0-9A-Za-z])"),
    re.compile(rf"(?<![0-9.]){_OCTET}(?:\.{_OCTET}){{3}}(?![0-9]|\.[0-9])"),
    re.compile(rf"(?<![0-9A-Fa-f:])(?:{'|'.join(_IPV6_FORMS)})(?![0-9A-Fa-f:])"),
)


def find_private(text: str) -> list[str]:
    """The e-mail, MAC and IP addresses in ``text`` (empty when there are none)."""
    return [match.group(0) for pattern in PRIVATE_PATTERNS for match in pattern.finditer(text)]
