"""The addresses the synthetic WiFi fixtures hold, for the privacy assertions.

Owns: finding every MAC, IPv4 and IPv6 address, MAC-derived node id and
e-mail address in a fixture's text, by a pattern of its own rather than
``hotspots.find_private`` (whose work the tests check), and naming those of
them that appear in published text. Must not touch: the parsers, the
fixtures (``fixtures/wifi/README.md`` lists what they hold).
"""
from __future__ import annotations

import re

_ADDRESS = re.compile(
    r"(?<![0-9a-f:])(?:[0-9a-f]{2}:){5}[0-9a-f]{2}(?![0-9a-f:])"  # MAC
    r"|(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9.])"  # IPv4
    r"|(?:2001:db8|fe80):[0-9a-f:]*[0-9a-f]"  # IPv6: documentation prefix, link-local
    r"|(?<![0-9a-z])[0-9a-f]{12}(?![0-9a-z])"  # a Freifunk node id: a MAC without colons
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+",  # e-mail
    re.IGNORECASE)


def addresses(text: str) -> set[str]:
    """Every address in ``text``."""
    return set(_ADDRESS.findall(text))


def leaked(source: str, published: str) -> set[str]:
    """The addresses of ``source`` that appear anywhere in ``published``."""
    return {address for address in addresses(source) if address in published}
