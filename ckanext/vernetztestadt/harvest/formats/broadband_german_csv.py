"""Layout ``german_csv``: Breitbandatlas municipality tables with German headers.

Owns: one row per municipality, headers like ``alle Technologien ≥ 16
Mbit/s`` (also ``>=``), any delimiter. The published municipality tables of
households (end of 2018: quoted AGS, whole percents; end of 2020: unquoted
AGS, two decimals, also ≥ 8 and ≥ 10 Mbit/s and the districts of Berlin and
Hamburg as 8-digit rows) have no name column and label wired, wireless and
cable columns ``leitungsg. Technologien``, ``mobile Technologien`` and
``CATV``. Also ``speed_column``, reading such a label (or the speed alone
under a group naming the technology, as in the XLSX workbook).

Must not touch: what the layouts share (``broadband``, ``broadband_cells``),
the other layouts, CKAN.
"""
from __future__ import annotations

import re

from .broadband import BroadbandLayout
from .broadband_cells import technology

_SPEED = re.compile(r"(?P<tech>.*?)\s*(?P<ge>≥|>=)?\s*(?P<n>[0-9]+)\s*"
                    r"(?:(?P<unit>[mg])\s*bit(?:\s*/\s*s|s)?)?", re.IGNORECASE)


def speed_column(label: str, group: str) -> tuple[str, int] | None:
    """``FTTH/B ≥ 1000 Mbit/s``, or ``≥ 16 Mbit/s`` under the group ``FTTH/B``."""
    match = _SPEED.fullmatch(" ".join(label.split()))
    if not match or not (match["ge"] or match["unit"]):
        return None
    found = technology(match["tech"] or group)
    if found is None:
        return None
    gigabit = (match["unit"] or "").casefold() == "g"
    return found, int(match["n"]) * (1000 if gigabit else 1)


class GermanCsv(BroadbandLayout):
    name = "german_csv"
    title = "Breitbandatlas, Gemeindetabelle (CSV, Spalten wie „alle Technologien ≥ 16 Mbit/s“)"
    hint = "„alle Technologien ≥ 16 Mbit/s“"
    order = 40

    def value_column(self, label: str, group: str) -> tuple[str, int] | None:
        return speed_column(label, group)
