"""What a cell of a Breitbandatlas file means, in every layout alike.

Owns: ``BroadbandFormatError``; the technology labels as the Breitbandatlas
writes them and the schema's technologies they stand for (the enum and the
percent limits are read from ``schemas/tables/broadband.json``, not repeated
here); percent values (0-100, decimal point or comma; ``-``, en or em dash
and empty cells mean "no value", any other text is an error, as is a value
outside the limits); AGS keys (cells that lost their leading zero, 5513000,
are padded); the ``Verwaltungsebene`` (``4 - Gemeinde``); dates (a month
means its last day) and the date notes above a header (``Festnetz:
12.2025``, ``Stand:``/``Stichtag:``, ``Mobilfunk:``), in the priority a
layout gives.

Must not touch: where the cells stand (the family ``broadband`` and its
layouts), the network, CKAN. Pure Python; reading cells is ``grids``' job.
"""
from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from datetime import date
from functools import cache
from typing import Any

from ... import resources
from . import grids

Cell = grids.Cell

DASHES = frozenset({"", "-", "\u2013", "\u2014"})
DIGITS = re.compile(r"[0-9]+")
_DATE_NOTE = re.compile(r"(festnetz|mobilfunk|datenstand|stichtag|stand)\s*:?\s*"
                        r"([0-9][0-9./-]*[0-9])", re.IGNORECASE)
_LEVEL_DIGIT = re.compile(r"\s*([0-9])\b")
_LEVEL_WORDS = (("gemeinde", 4), ("kreis", 3), ("land", 2), ("bund", 1))

#: Technology labels as the Breitbandatlas writes them; compared by ``key``.
TECHNOLOGY_LABELS = {
    "all": ("alle Technologien", "alle"),
    "wired": ("leitungsgebunden", "leitungsg. Technologien", "leitungsgebundene Technologien"),
    "wireless": ("drahtlos", "mobil", "drahtlos/mobil", "Mobilfunk", "mobile Technologien",
                 "drahtlose Technologien"),
    "ftth_b": ("FTTH/B", "FTTH", "FTTB", "FTTH/FTTB"),
    "fttc": ("FTTC/VDSL", "FTTC", "VDSL"),
    "hfc": ("HFC/Kabel", "HFC", "Kabel", "Kabel (HFC)", "CATV"),
    "dsl": ("DSL", "ADSL"),
    "lte": ("LTE", "4G"),
    "5g": ("5G", "5G NSA"),
    "5g_sa": ("5G SA", "5G Standalone"),
    "wimax": ("WiMAX",),
}


class BroadbandFormatError(grids.FormatError):
    """The file is not the expected coverage table (German message)."""


# --- the Table Schema -------------------------------------------------------
def constraints(name: str) -> dict[str, Any]:
    return resources.field_constraints("broadband", name)


@cache
def technology_order() -> dict[str, int]:
    return {name: order for order, name in enumerate(constraints("technology")["enum"])}


@cache
def _technologies() -> dict[str, str]:
    """``key`` of a label -> the schema's technology."""
    labels = {key(label): technology for technology, names in TECHNOLOGY_LABELS.items()
              for label in names}
    unknown = set(labels.values()) - set(technology_order())
    if unknown:  # a mapping the schema does not allow would only fail at validation
        raise RuntimeError(f"Technologien fehlen im Schema: {sorted(unknown)}")
    return labels


def technology(label: str) -> str | None:
    """The schema's technology a label names; None if it names none."""
    return _technologies().get(key(label))


# --- values -------------------------------------------------------------------
def key(text: str) -> str:
    """Labels compared without spaces (``FTTH/B`` = ``FTTHB``)."""
    return grids.key(text).replace(" ", "")


def percent(value: Cell, where: str) -> float | None:
    """Percent of households, rounded to 2 decimals; None for a dash or empty cell."""
    text = grids.cell_text(value)
    if text in DASHES:
        return None
    number = grids.number(value)
    if number is None:
        raise BroadbandFormatError(f"{where}: „{text}“ ist keine Zahl.")
    limits = constraints("households_pct")
    low, high = limits["minimum"], limits["maximum"]
    if not low <= number <= high:
        raise BroadbandFormatError(
            f"{where}: {grids.german(number)} % liegt nicht zwischen {low} und {high} %.")
    return round(number, 2)


def ags_key(value: Cell) -> str:
    """The AGS of a cell, padded: 5513000 -> 05513000, 5513 -> 05513.

    A cell that is no key stays as written and so matches no selection.
    """
    text = grids.cell_text(value).strip("=\"' ")  # ="05513000" and '05513000 keep Excel's zeros
    if not DIGITS.fullmatch(text):
        return text
    # Länder 01-09 lose one leading zero as a number; more cannot go missing
    width = {7: 8, 4: 5}.get(len(text), len(text))
    return text.zfill(width)


def wanted_ags(ags: str) -> str:
    found = ags_key(ags)
    if not (DIGITS.fullmatch(found) and len(found) in (5, 8)):
        raise BroadbandFormatError(
            f"„{ags}“ ist weder ein Gemeindeschlüssel (8 Stellen) noch ein "
            "Kreisschlüssel (5 Stellen).")
    return found


def level(value: Cell) -> int | None:
    """The Verwaltungsebene: ``4 - Gemeinde`` -> 4; None if not stated."""
    text = grids.cell_text(value)
    digit = _LEVEL_DIGIT.match(text)
    if digit:
        return int(digit[1])
    folded = key(text)
    return next((number for word, number in _LEVEL_WORDS if word in folded), None)


# --- dates ----------------------------------------------------------------------
def date_of(text: str) -> date | None:
    """``2025-12-31``, ``31.12.2025``, or a month (``12.2025``, ``12/2025``,
    ``2025-12``) as its last day; None if not a date."""
    text = text.strip()
    patterns = ((r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[ T].*)?", (0, 1, 2)),
                (r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})", (2, 1, 0)),
                (r"([0-9]{1,2})[./]([0-9]{4})", (1, 0, None)),
                (r"([0-9]{4})-([0-9]{1,2})", (0, 1, None)))
    for pattern, (year_at, month_at, day_at) in patterns:
        match = re.fullmatch(pattern, text)
        if not match:
            continue
        parts = match.groups()
        year, month = int(parts[year_at]), int(parts[month_at])
        try:
            day = int(parts[day_at]) if day_at is not None else (
                calendar.monthrange(year, month)[1])
            return date(year, month, day)
        except ValueError:  # month 13, 31 February; IllegalMonthError is one too
            return None
    return None


def given_date(text: str | None) -> date | None:
    """The ``reference_date`` argument (YYYY-MM-DD); None if not given."""
    if not text:
        return None
    found = date_of(text) if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text) else None
    if found is None:
        raise BroadbandFormatError(f"Der Stichtag „{text}“ ist kein Datum (JJJJ-MM-TT).")
    return found


def date_note(rows: Iterable[Sequence[Cell]], priority: Sequence[str]) -> date | None:
    """The date of a note like ``Festnetz: 12.2025`` in ``rows``; of several
    kinds (``festnetz``, ``stand``, ``mobilfunk``) the first in ``priority``."""
    found: dict[str, date] = {}
    for cells in rows:
        # a label cell "Stand:" next to a date cell reads as one note
        for match in _DATE_NOTE.finditer(" ".join(grids.cell_text(cell) for cell in cells)):
            kind = match[1].casefold()
            kind = kind if kind in ("festnetz", "mobilfunk") else "stand"
            when = date_of(match[2])
            if when is not None:
                found.setdefault(kind, when)
    return next((found[kind] for kind in priority if kind in found), None)
