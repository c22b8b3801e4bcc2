"""Layout ``mobile_long``: Breitbandatlas mobile coverage in the long format.

Owns: one row per AGS, technology and area type (``Technologie``,
``Flaechenart``, ``Flaechen Gruppe``, ``Flaechen Gruppe Name``,
``Verfügbarkeit``). Only rows whose ``Flaechenart`` or ``Flaechen Gruppe
Name`` names households (contains "Haushalt": Haushalte, Privathaushalte)
are kept, because the table counts households; rows for the area (Fläche)
are skipped and counted. 4G/LTE, 5G and 5G SA become lte, 5g, 5g_sa; 2G/3G
have no technology in the schema and are skipped and counted. ``min_mbit``
is 0 (coverage without a speed class) unless the group name states one
(``≥ 100 Mbit/s``, ``Klasse 2``). A date note ``Mobilfunk:`` comes first.

Must not touch: what the layouts share (``broadband``, ``broadband_cells``),
the other layouts, CKAN.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from . import grids
from .broadband import NO_VALUE, BroadbandLayout, Column, Selected, Table, Value
from .broadband_cells import BroadbandFormatError, key, percent, technology

# reasons in ``Parsed.skipped``
NOT_HOUSEHOLDS = "keine Haushalte"
OTHER_TECHNOLOGY = "Technologie nicht im Schema"

_CLASS = re.compile(r"(?:≥|>=)\s*(?P<n>[0-9]+)\s*(?P<unit>[mg])\s*bit|klasse\s*(?P<k>[0-9]+)",
                    re.IGNORECASE)
_MOBILE_TECHNOLOGIES = ("lte", "5g", "5g_sa")
#: Mobile generations the schema has no technology for.
_OTHER_MOBILE = ("2G", "GSM", "3G", "UMTS")


class MobileLong(BroadbandLayout):
    name = "mobile_long"
    title = "Breitbandatlas, Mobilfunk im Langformat (CSV, Technologie und Verfügbarkeit)"
    hint = "„Technologie“ und „Verfügbarkeit“"
    order = 10
    columns = (
        Column("technology", ("Technologie",)),
        Column("area_type", ("Flaechenart",)),
        Column("group", ("Flaechen Gruppe",)),
        Column("group_name", ("Flaechen Gruppe Name",)),
        Column("availability", ("Verfügbarkeit",)),
    )
    date_notes = ("mobilfunk", "stand", "festnetz")

    def recognises(self, labels: Sequence[str]) -> bool:
        return {"technologie", "verfuegbarkeit"} <= {key(label) for label in labels}

    def check(self, table: Table) -> None:
        for column in self.columns:
            if column.key in ("technology", "availability") and column.key not in table.columns:
                raise BroadbandFormatError(grids.missing_column(column.headers, table.labels))
        if "area_type" not in table.columns and "group_name" not in table.columns:
            raise BroadbandFormatError(
                grids.missing_column(("Flaechenart", "Flaechen Gruppe Name"), table.labels))

    def values(self, row: Selected, table: Table, sheet: str,
               skipped: Counter[str]) -> Iterable[Value]:
        where = f"{sheet}Zeile {row.number}"
        if not _households(row, table):
            skipped[NOT_HOUSEHOLDS] += 1
            return
        found = _mobile_technology(grids.cell_text(table.cell(row.cells, "technology")), where)
        if found is None:
            skipped[OTHER_TECHNOLOGY] += 1
            return
        where += f", Spalte „{table.label('availability')}“"
        households = percent(table.cell(row.cells, "availability"), where)
        min_mbit = _coverage_class(grids.cell_text(table.cell(row.cells, "group_name")))
        if households is None:
            skipped[NO_VALUE] += 1
        else:
            yield where, found, min_mbit, households


def _households(row: Selected, table: Table) -> bool:
    kinds = (grids.cell_text(table.cell(row.cells, column))
             for column in ("area_type", "group_name"))
    return any("haushalt" in key(kind) for kind in kinds)


def _mobile_technology(label: str, where: str) -> str | None:
    """lte, 5g, 5g_sa; None for 2G/3G, which the schema has no technology for."""
    found = technology(label)
    if found in _MOBILE_TECHNOLOGIES:
        return found
    if key(label) in {key(other) for other in _OTHER_MOBILE}:
        return None
    raise BroadbandFormatError(f"{where}: Technologie „{label}“ ist unbekannt (erwartet "
                               "z. B. 4G, LTE, 5G, 5G SA).")


def _coverage_class(group_name: str) -> int:
    """The speed class a group name states (``≥ 100 Mbit/s``, ``Klasse 2``); else 0."""
    match = _CLASS.search(group_name)
    if not match:
        return 0
    if match["k"]:
        return int(match["k"])
    return int(match["n"]) * (1000 if match["unit"].casefold() == "g" else 1)
