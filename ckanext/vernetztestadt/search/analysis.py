"""Text analysis and document flattening for the PostgreSQL index.

Owns: how a Solr document (the dict CKAN sends to ``conn.add``) becomes the
values of one index row (exact values, folded texts, dates, numbers, the
weighted parts of the full-text vector), and the folding applied to both
documents and queries: lower case, accents and umlauts removed, ß -> ss, so
that "strasse" finds "Straße" and "Muenster" finds "Münster" (the German
stemmer maps ue -> u itself); which text can be encoded at all (UTF-8); and
which documents Solr would refuse under CKAN's schema (``refusal``).

Must not touch: SQL or the database (``storage``), query syntax (``lucene``).
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from dateutil import parser as date_parser

from .fields import (
    INTEGERS,
    NGRAM_SOURCES,
    NOT_INDEXED,
    REQUIRED,
    TEXT_PREFIXES,
    TEXT_SOURCES,
    FieldType,
    field_type,
    multi_valued,
)

# Control characters other than tab/newline confuse no-one but logs; NUL is
# refused by PostgreSQL text columns outright.
# A tsvector holds at most 1 MB; texts beyond this many characters per weight
# class are not searchable (a dataset description is far shorter).
MAX_TEXT = 200_000

_STRIP = dict.fromkeys([c for c in range(32) if c not in (9, 10, 13)])


def is_utf8(text: str) -> bool:
    """False for text with a lone UTF-16 surrogate (JSON's ``"\\ud800"``),
    which neither PostgreSQL nor Solr can take."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def fold(text: str) -> str:
    """Lower-case, strip accents/umlauts, ß -> ss; the index's one normal form.

    Punctuation and symbols beyond ASCII (dashes, „“, …, §, €) and the slash become
    spaces: PostgreSQL's parser would keep them as words of their own or
    glue them to one („zitat“, und/oder, Mbit/s), where Solr's tokenizer
    splits at them."""
    text = text.translate(_STRIP).replace("ß", "ss").replace("ẞ", "ss")
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    if decomposed.isascii():  # most text: no marks, only the slash to replace
        return decomposed.replace("/", " ")
    # only the runs of non-ASCII characters and slashes go through the table
    return _SPECIAL.sub(lambda run: run.group().translate(_FOLD), decomposed)


class _FoldTable(dict[int, str | None]):
    """``str.translate`` table of the characters after NFKD: combining marks
    dropped, the slash and non-ASCII punctuation and symbols made spaces,
    the rest kept. Filled as characters are met (a per-character Python loop
    cost a dataset's indexing tens of milliseconds); at most ``LIMIT``
    entries are kept, so hostile text cannot grow it without end."""

    LIMIT = 65_536

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        value: str | None = char
        if unicodedata.combining(char):
            value = None
        elif char == "/" or (not char.isascii() and unicodedata.category(char)[0] in "PS"):
            value = " "
        if len(self) < self.LIMIT:
            self[code] = value
        return value


_FOLD = _FoldTable()
# runs of slashes and non-ASCII characters: every code point but 0x00-0x2E and 0x30-0x7F
_SPECIAL = re.compile(r"[^\x00-.0-\x7f]+")


def clean(text: str) -> str:
    """Text safe for PostgreSQL (no NUL or other control characters)."""
    return text.translate(_STRIP)


def as_strings(value: Any) -> list[str]:
    """A Solr field value as the list of its string values (multi-valued)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        return [s for item in value for s in as_strings(item)]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, dict):
        return [clean(json.dumps(value, sort_keys=True, ensure_ascii=False))]
    if isinstance(value, (datetime, date)):
        return [value.isoformat()]
    return [clean(str(value))]


def parse_date(value: str) -> float | None:
    """Seconds since the epoch (UTC) of an ISO date, or None if it is none."""
    try:
        parsed = date_parser.isoparse(value.strip())
    except (ValueError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def solr_date(value: Any) -> Any:
    """A date as Solr stores and returns it: UTC, millisecond precision,
    ``2014-06-10T08:24:12.782Z`` (no fraction when it is zero, as Java's
    ``Instant.toString``). Values that are not ISO dates are left alone."""
    if not isinstance(value, str):
        return value
    try:
        parsed = date_parser.isoparse(value.strip())
    except (ValueError, OverflowError):
        return value
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    millis = parsed.microsecond // 1000
    fraction = f".{millis:03d}" if millis else ""
    return (f"{parsed.year:04d}-{parsed.month:02d}-{parsed.day:02d}T{parsed.hour:02d}:"
            f"{parsed.minute:02d}:{parsed.second:02d}{fraction}Z")


def stored_document(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as Solr would return it: date fields in Solr's form."""
    out = dict(doc)
    for name, value in doc.items():
        if field_type(name) is FieldType.DATE and value is not None:
            out[name] = ([solr_date(v) for v in value] if isinstance(value, (list, tuple))
                         else solr_date(value))
    return out


def parse_number(value: str) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass
class IndexRow:
    """Everything one document contributes to its row in the index table."""

    fields: dict[str, list[str]]
    texts: dict[str, str]
    dates: dict[str, float]
    numbers: dict[str, float]
    weighted_text: dict[str, str]

    @property
    def json_columns(self) -> dict[str, str]:
        return {name: json.dumps(getattr(self, name), ensure_ascii=False)
                for name in ("fields", "texts", "dates", "numbers")}


def _text_weight(name: str) -> str | None:
    for weight, names in TEXT_SOURCES.items():
        if name in names:
            return weight
    return "C" if name.startswith(TEXT_PREFIXES) else None


def analyse(doc: dict[str, Any]) -> IndexRow:
    """Flatten a Solr document into the typed parts of its index row."""
    row = IndexRow({}, {}, {}, {}, {"A": "", "B": "", "C": ""})
    for name, value in doc.items():
        if name in NOT_INDEXED:
            continue
        values = as_strings(value)
        if not values:
            continue
        row.fields[name] = values
        _add_typed(row, name, values)
        weight = _text_weight(name)
        if weight:
            row.weighted_text[weight] += " " + fold(" ".join(values))
    for weight, text in row.weighted_text.items():
        row.weighted_text[weight] = text[:MAX_TEXT]
    for ngram, source in NGRAM_SOURCES.items():
        if source in row.fields:
            row.texts[ngram] = fold(" ".join(row.fields[source]))
    return row


def _add_typed(row: IndexRow, name: str, values: list[str]) -> None:
    kind = field_type(name)
    if kind is FieldType.TEXT:
        row.texts[name] = fold(" ".join(values))
    elif kind is FieldType.DATE:
        parsed = parse_date(values[0])
        if parsed is not None:
            row.dates[name] = parsed
    elif kind is FieldType.NUMBER:
        number = parse_number(values[0])
        if number is not None:
            row.numbers[name] = number


def _present(value: Any) -> bool:
    """What pysolr sends at all: it leaves out None and empty strings."""
    return value is not None and value != ""


def refusal(doc: dict[str, Any]) -> str | None:
    """Solr's reason for refusing ``doc`` under CKAN's schema, or None.

    Solr is the reference: a document it would refuse (two values for a
    single-valued field, a date or number it cannot read, a required field
    missing) is refused here too, with Solr's wording, so that a portal
    never holds an index that a switch to Solr could not rebuild."""
    key = doc.get("index_id")
    if not _present(key):
        return "Document is missing mandatory uniqueKey field: index_id"
    for name in REQUIRED[1:]:
        if not _present(doc.get(name)):
            return f"[doc={key}] missing required field: {name}"
    for name, value in doc.items():
        if not _present(value):
            continue
        values = list(value) if isinstance(value, (list, tuple, set)) else [value]
        if len(values) > 1 and not multi_valued(name):
            shown = ", ".join("null" if v is None else str(v) for v in values)
            return (f"ERROR: [doc={key}] multiple values encountered for non multiValued "
                    f"field {name}: [{shown}]")
        kind = field_type(name)
        for item in values:
            if item is None or isinstance(item, (datetime, date)) or kind not in (
                    FieldType.DATE, FieldType.NUMBER):
                continue
            text = str(item).strip()
            if kind is FieldType.DATE:
                readable = parse_date(text) is not None or text.upper().startswith("NOW")
                reason = f"Invalid Date String:'{text}'"
            elif name in INTEGERS:
                readable = not isinstance(item, float) and text.lstrip("+-").isdigit()
                reason = f'For input string: "{text}"'
            else:
                readable = _is_float(text)
                reason = f'For input string: "{text}"'
            if not readable:
                return f"ERROR: [doc={key}] Error adding field '{name}'='{text}' msg={reason}"
    return None


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
