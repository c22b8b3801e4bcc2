"""Layouts ``coded_csv`` and ``legacy_csv``: Breitbandatlas exports with coded columns.

Owns: ``coded_csv``, ``verf_<tech>_<n>`` columns; ``<tech>`` is 300 (all
technologies), 100 (wired), 200 (wireless) or a named technology (ftth,
fttc, hfc, dsl, lte, 5g, 5gsa, wimax), ``<n>`` the minimum Mbit/s, for
mobile the coverage class. ``legacy_csv``, the older export: the same codes
without ``verf_`` (``300_16``, ``WiMAX_50``), decimal comma, CRLF.

Must not touch: what the layouts share (``broadband``, ``broadband_cells``),
the other layouts, CKAN.
"""
from __future__ import annotations

import re
from typing import ClassVar

from .broadband import BroadbandLayout
from .broadband_cells import technology

_CODE = re.compile(r"(?P<prefix>verf_)?(?P<tech>[a-z0-9_]+?)_(?P<n>[0-9]+)")
#: The numeric technology codes of the coded exports.
_TECHNOLOGY_CODES = {"300": "all", "100": "wired", "200": "wireless"}


class CodedCsv(BroadbandLayout):
    name = "coded_csv"
    title = "Breitbandatlas, Export mit Spaltencodes (CSV, verf_300_16)"
    hint = "„verf_300_16“"
    order = 20
    #: whether the codes carry the prefix ``verf_``
    prefixed: ClassVar[bool] = True

    def value_column(self, label: str, group: str) -> tuple[str, int] | None:
        """``verf_300_16`` (coded) or ``300_16`` (legacy)."""
        match = _CODE.fullmatch(label.strip().casefold())
        if not match or bool(match["prefix"]) != self.prefixed:
            return None
        code = match["tech"].replace("_", "")
        found = _TECHNOLOGY_CODES.get(code) or technology(code)
        return None if found is None else (found, int(match["n"]))


class LegacyCsv(CodedCsv):
    name = "legacy_csv"
    title = "Breitbandatlas, älterer Export (CSV, 300_16, Dezimalkomma)"
    hint = "„300_16“"
    order = 30
    prefixed = False
