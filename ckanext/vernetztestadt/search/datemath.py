"""Solr date values and date math (``NOW-7DAYS``, ``2024-01-01T00:00:00Z/DAY``).

Owns: turning a Solr date expression into seconds since the epoch (UTC).
Must not touch: anything else; it is a pure function.
"""
from __future__ import annotations

from datetime import UTC, datetime

from dateutil.relativedelta import relativedelta

from .analysis import parse_date

_UNITS = {
    "YEAR": "years", "MONTH": "months", "DAY": "days", "DATE": "days", "HOUR": "hours",
    "MINUTE": "minutes", "SECOND": "seconds", "MILLI": "microseconds",
    "MILLISECOND": "microseconds",
}
_ROUND = ["YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND"]


class DateMathError(ValueError):
    """Not a date Solr would accept."""


def _unit(word: str) -> str:
    name = word.upper()
    if name.endswith("S") and name[:-1] in _UNITS:
        name = name[:-1]
    if name not in _UNITS:
        raise DateMathError(f"unknown date unit {word!r}")
    return name


def _split_anchor(text: str) -> tuple[str, str]:
    """Split ``<anchor><ops>`` where ops start at the first +, - or / after the date."""
    if text.upper().startswith("NOW"):
        return "NOW", text[3:]
    # an ISO date ends at "Z"; without Z, math cannot follow unambiguously
    end = text.find("Z")
    return (text[: end + 1], text[end + 1:]) if end >= 0 else (text, "")


def _round(moment: datetime, unit: str) -> datetime:
    keep = _ROUND.index("DAY" if unit == "DATE" else unit) if unit in _ROUND or unit == "DATE" \
        else len(_ROUND) - 1
    fields = ["month", "day", "hour", "minute", "second"][keep:]
    reset = {f: (1 if f in ("month", "day") else 0) for f in fields}
    return moment.replace(microsecond=0, **reset)


def _apply(moment: datetime, ops: str) -> datetime:
    i = 0
    while i < len(ops):
        op = ops[i]
        if op not in "+-/":
            raise DateMathError(f"unexpected {op!r} in date math")
        j = i + 1
        while j < len(ops) and ops[j].isdigit():
            j += 1
        amount = ops[i + 1:j]
        k = j
        while k < len(ops) and ops[k].isalpha():
            k += 1
        unit = _unit(ops[j:k])
        if op == "/":
            if amount:
                raise DateMathError("rounding takes no number")
            moment = _round(moment, unit)
        else:
            if not amount:
                raise DateMathError("date math needs a number")
            delta = int(amount) * (1000 if _UNITS[unit] == "microseconds" else 1)
            change = relativedelta(**{_UNITS[unit]: delta if op == "+" else -delta})
            moment = moment + change
        i = k
    return moment


def resolve(text: str, now: datetime | None = None) -> float:
    """Seconds since the epoch for a Solr date expression."""
    anchor, ops = _split_anchor(text.strip())
    if anchor == "NOW":
        moment = now or datetime.now(UTC)
    else:
        seconds = parse_date(anchor)
        if seconds is None:
            raise DateMathError(f"invalid date {text!r}")
        moment = datetime.fromtimestamp(seconds, UTC)
    try:
        return _apply(moment, ops).timestamp()
    except (OverflowError, ValueError) as exc:
        raise DateMathError(str(exc)) from None
