"""Lucene/Solr query syntax to SQL, with bound parameters only.

Owns: parsing ``q``/``fq`` with luqum (a real Lucene grammar) and compiling
the tree to a SQL boolean expression over the index table (alias ``d``),
following Lucene's boolean semantics (MUST / SHOULD / MUST_NOT, ``q.op``)
as its classic parser applies them: clause by clause, without operator
precedence, and a purely negative bracket matching nothing.
Every value from the query is passed as a bound parameter; field names are
also bound (as JSON keys), never spliced into SQL.

Must not touch: the database (it only builds SQL text), dismax free text
(``dismax``), result shaping (``connection``).
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from luqum import tree
from luqum.exceptions import ParseError
from luqum.parser import parser as _luqum_parser

from . import datemath
from .analysis import fold, parse_number
from .fields import NGRAM_SOURCES, FieldType, field_type

MAX_QUERY_LENGTH = 10_000
#: Deepest nesting of groups, fields and operators a query may have. The
#: compiler recurses once or twice per level; real queries stay below 10, and
#: this bound keeps thousands of brackets from exhausting Python's stack.
MAX_DEPTH = 50
_parse_lock = threading.Lock()  # ply parsers keep state: one parse at a time

# Columns that mirror single-valued fields, for cheap filters CKAN always adds.
_COLUMNS = {"site_id", "state", "capacity", "entity_type", "dataset_type", "id", "name"}


_OPERATIONS = (tree.AndOperation, tree.OrOperation, tree.UnknownOperation)
_CONJUNCTIONS = {tree.AndOperation: "AND", tree.OrOperation: "OR", tree.UnknownOperation: ""}


def _chain(node: tree.Item) -> list[tuple[str, tree.Item]]:
    """The clauses of one bracket level in their written order, each with the
    conjunction before it ("AND", "OR" or "" for none). luqum nests them by
    precedence; brackets (``Group``) stay whole."""
    if not isinstance(node, _OPERATIONS):
        return [("", node)]
    conj = _CONJUNCTIONS[type(node)]
    out: list[tuple[str, tree.Item]] = []
    for k, child in enumerate(node.children):
        clauses = _chain(child)
        if k:
            clauses[0] = (conj, clauses[0][1])
        out += clauses
    return out


class QuerySyntaxError(ValueError):
    """The query cannot be parsed or uses something the index cannot answer."""


def parse(text: str) -> tree.Item:
    if len(text) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(f"query longer than {MAX_QUERY_LENGTH} characters")
    if "\x00" in text:
        raise QuerySyntaxError("query contains a NUL character")
    try:
        with _parse_lock:
            parsed = _luqum_parser.parse(text)
    except (ParseError, RecursionError, ValueError, TypeError) as exc:
        raise QuerySyntaxError(f"cannot parse query: {exc}") from None
    except Exception as exc:
        raise QuerySyntaxError(f"cannot parse query: {exc}") from None
    _check_depth(parsed)
    return parsed


def _check_depth(root: tree.Item) -> None:
    """Refuse a tree nested deeper than MAX_DEPTH (walked without recursion)."""
    pending = [(root, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise QuerySyntaxError(f"query nested deeper than {MAX_DEPTH} levels")
        pending.extend((child, depth + 1) for child in node.children)


def unescape(text: str) -> str:
    """Remove Lucene's backslash escapes."""
    out, escaped = [], False
    for char in text:
        if escaped or char != "\\":
            out.append(char)
            escaped = False
        else:
            escaped = True
    return "".join(out)


def _has_wildcard(raw: str) -> bool:
    escaped = False
    for char in raw:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "*?":
            return True
    return False


def _like_pattern(raw: str) -> str:
    """A Lucene wildcard term as a LIKE pattern (``*`` -> %, ``?`` -> _)."""
    out, escaped = [], False
    for char in raw:
        if escaped:
            out.append("\\" + char if char in "%_\\" else char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "*":
            out.append("%")
        elif char == "?":
            out.append("_")
        else:
            out.append("\\" + char if char in "%_" else char)
    return "".join(out)


@dataclass
class SqlBuilder:
    """Collects bound parameters while SQL fragments are built."""

    text_config: str
    params: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"


@dataclass
class Compiler:
    """Compile one parsed query; ``default_field`` and ``default_op`` are Solr's
    ``df`` and ``q.op``."""

    sql: SqlBuilder
    default_field: str = "text"
    default_op: str = "AND"

    def compile(self, node: tree.Item) -> str:
        return self._node(node, None, top=True)

    # -- boolean structure ------------------------------------------------
    def _node(self, node: tree.Item, fieldname: str | None, top: bool = False) -> str:
        if isinstance(node, (*_OPERATIONS, tree.Not, tree.Prohibit, tree.Plus)):
            return self._boolean(node, fieldname, top)
        if isinstance(node, (tree.Group, tree.FieldGroup)):
            return self._node(node.expr, fieldname)  # brackets: no longer the top level
        if isinstance(node, tree.SearchField):
            return self._search_field(node, fieldname)
        if isinstance(node, tree.Boost):
            return self._node(node.expr, fieldname, top)
        if isinstance(node, (tree.Fuzzy, tree.Proximity)):
            return self._node(node.term, fieldname)
        return self._leaf(node, fieldname)

    def _leaf(self, node: tree.Item, fieldname: str | None) -> str:
        """A term, phrase or range; unfielded ones search ``df``."""
        return self._term(node, fieldname or self.default_field)

    def _boolean(self, node: tree.Item, fieldname: str | None, top: bool) -> str:
        """One bracket level as Lucene's classic parser reads it: a flat list
        of clauses, each made MUST, SHOULD or MUST_NOT by its modifier and
        the conjunction before it (``addClause``), not by operator precedence:
        ``a OR b AND c`` is ``a +b +c``, so ``a`` only scores."""
        occurs: list[list[str]] = []
        for conj, clause in _chain(node):
            mods = ""
            if isinstance(clause, (tree.Not, tree.Prohibit)):
                mods, clause = "NOT", clause.a
            elif isinstance(clause, tree.Plus):
                mods, clause = "REQ", clause.a
            if occurs and occurs[-1][0] != "must_not":
                if conj == "AND":
                    occurs[-1][0] = "must"
                elif conj == "OR" and self.default_op == "AND":
                    occurs[-1][0] = "should"
            prohibited = mods == "NOT"
            if self.default_op == "AND":
                required = not prohibited and conj != "OR"
            else:
                required = not prohibited and (mods == "REQ" or conj == "AND")
            occur = "must_not" if prohibited else "must" if required else "should"
            occurs.append([occur, self._node(clause, fieldname)])
        return self._combine([sql for occur, sql in occurs if occur == "must"],
                             [sql for occur, sql in occurs if occur == "should"],
                             [sql for occur, sql in occurs if occur == "must_not"], top)

    def _combine(self, must: list[str], should: list[str], must_not: list[str],
                 top: bool) -> str:
        """The SQL of one Lucene BooleanQuery."""
        if must:  # with a MUST present, SHOULD only scores
            parts = [f"({m})" for m in must]
        elif should:
            parts = ["(" + " OR ".join(f"({s})" for s in should) + ")"]
        elif not top:
            # a purely negative clause inside brackets matches nothing in
            # Lucene; only the whole query gets Solr's implicit *:*
            return "FALSE"
        else:
            parts = []
        parts += [f"NOT ({n})" for n in must_not]
        return " AND ".join(parts) if parts else "TRUE"

    def _search_field(self, node: tree.SearchField, outer: str | None) -> str:
        name = node.name
        if isinstance(node.expr, tree.SearchField):  # a:b:c -> value "b:c" of a
            inner = node.expr
            return self._term(tree.Word(f"{inner.name}:{inner.expr}"), name)
        if name == "*":
            if isinstance(node.expr, tree.Word) and node.expr.value == "*":
                return "TRUE"
            raise QuerySyntaxError("'*' as field name only in '*:*'")
        return self._node(node.expr, unescape(name))

    # -- leaves ---------------------------------------------------------------
    def _term(self, node: tree.Item, fieldname: str) -> str:
        if isinstance(node, tree.Range):
            return self._range(fieldname, node)
        if isinstance(node, tree.Phrase):
            return self.value_match(fieldname, unescape(node.value[1:-1]), phrase=True)
        if isinstance(node, tree.Word):
            raw = node.value
            if raw == "*":
                return self._exists(fieldname)
            if _has_wildcard(raw):
                return self._wildcard(fieldname, raw)
            return self.value_match(fieldname, unescape(raw), phrase=False)
        if isinstance(node, tree.Regex):
            raise QuerySyntaxError("regular expressions are not supported")
        raise QuerySyntaxError(f"unsupported query element {type(node).__name__}")

    def _exists(self, fieldname: str) -> str:
        kind = field_type(fieldname)
        if kind is FieldType.DATE:
            return f"d.dates ? {self.sql.bind(fieldname)}"
        if kind is FieldType.NUMBER:
            return f"d.numbers ? {self.sql.bind(fieldname)}"
        return f"d.fields ? {self.sql.bind(fieldname)}"

    def value_match(self, fieldname: str, value: str, phrase: bool) -> str:
        kind = field_type(fieldname)
        if kind is FieldType.TEXT:
            return self._text_match(fieldname, value, phrase)
        if kind is FieldType.NGRAM:
            source = self.sql.bind(fieldname)
            return f"strpos(d.texts->>{source}, {self.sql.bind(fold(value))}) > 0"
        if kind is FieldType.DATE:
            return self._compare("dates", fieldname, "=", self._date(value))
        if kind is FieldType.NUMBER:
            return self._compare("numbers", fieldname, "=", self._number(value))
        return self._string_equals(fieldname, value)

    def _string_equals(self, fieldname: str, value: str) -> str:
        if fieldname in _COLUMNS:
            return f"d.{fieldname} = {self.sql.bind(value)}"
        if fieldname == "permission_labels":
            return f"d.permission_labels @> ARRAY[{self.sql.bind(value)}]::text[]"
        probe = json.dumps({fieldname: [value]}, ensure_ascii=False)
        return f"d.fields @> CAST({self.sql.bind(probe)} AS jsonb)"

    def text_query(self, value: str, phrase: bool) -> str:
        """A tsquery for ``value``: all words (AND), or the phrase in order."""
        function = "phraseto_tsquery" if phrase else "plainto_tsquery"
        cfg = self.sql.bind(self.sql.text_config)
        return f"{function}(CAST({cfg} AS regconfig), {self.sql.bind(fold(value))})"

    def _text_match(self, fieldname: str, value: str, phrase: bool) -> str:
        query = self.text_query(value, phrase)
        if fieldname == "text":
            vector = "d.tsv"
        else:
            cfg = self.sql.bind(self.sql.text_config)
            text = f"coalesce(d.texts->>{self.sql.bind(fieldname)}, '')"
            vector = f"to_tsvector(CAST({cfg} AS regconfig), {text})"
        # a query of stop words only matches nothing rather than everything
        return f"(numnode({query}) > 0 AND {vector} @@ {query})"

    def _wildcard(self, fieldname: str, raw: str) -> str:
        kind = field_type(fieldname)
        if kind in (FieldType.DATE, FieldType.NUMBER):
            raise QuerySyntaxError(f"wildcards are not supported on field {fieldname!r}")
        if kind is FieldType.STRING:
            pattern = self.sql.bind(_like_pattern(raw))
            return (f"EXISTS (SELECT 1 FROM jsonb_array_elements_text("
                    f"d.fields->{self.sql.bind(fieldname)}) AS v(value) "
                    f"WHERE v.value LIKE {pattern})")
        # Analysed fields: like Solr, the pattern applies to single indexed
        # (stemmed) tokens; n-gram fields to the words of their source.
        pattern = self.sql.bind(fold(_like_pattern(raw)))
        if fieldname == "text":
            tokens = "unnest(tsvector_to_array(d.tsv))"
        elif kind is FieldType.TEXT:
            cfg = self.sql.bind(self.sql.text_config)
            text = f"coalesce(d.texts->>{self.sql.bind(fieldname)}, '')"
            tokens = f"unnest(tsvector_to_array(to_tsvector(CAST({cfg} AS regconfig), {text})))"
        else:
            source = self.sql.bind(NGRAM_SOURCES.get(fieldname, fieldname))
            tokens = f"regexp_split_to_table(coalesce(d.texts->>{source}, ''), '\\W+')"
        return f"EXISTS (SELECT 1 FROM {tokens} AS t(token) WHERE t.token LIKE {pattern})"

    # -- ranges ---------------------------------------------------------------
    def _bound(self, node: tree.Item) -> str | None:
        raw = node.value if isinstance(node, (tree.Word, tree.Phrase)) else str(node)
        if isinstance(node, tree.Phrase):
            raw = raw[1:-1]
        return None if raw == "*" else unescape(raw)

    def _range(self, fieldname: str, node: tree.Range) -> str:
        low, high = self._bound(node.low), self._bound(node.high)
        kind = field_type(fieldname)
        conditions = [self._exists(fieldname)]
        for value, inclusive, op in ((low, node.include_low, ">"), (high, node.include_high, "<")):
            if value is None:
                continue
            op += "=" if inclusive else ""
            if kind is FieldType.DATE:
                conditions.append(self._compare("dates", fieldname, op, self._date(value)))
            elif kind is FieldType.NUMBER:
                conditions.append(self._compare("numbers", fieldname, op, self._number(value)))
            else:
                conditions.append(self._string_compare(fieldname, op, value))
        return " AND ".join(conditions)

    def _compare(self, column: str, fieldname: str, op: str, value: float) -> str:
        # coalesce: a document without the field does not match, even under NOT
        return (f"coalesce((d.{column}->>{self.sql.bind(fieldname)})::float8 {op} "
                f"{self.sql.bind(value)}, false)")

    def _string_compare(self, fieldname: str, op: str, value: str) -> str:
        column = "texts" if field_type(fieldname) is FieldType.TEXT else None
        bound = self.sql.bind(value if column is None else fold(value))
        name = self.sql.bind(fieldname)
        if column:
            return f"(d.texts->>{name}) COLLATE \"C\" {op} {bound}"
        return (f"EXISTS (SELECT 1 FROM jsonb_array_elements_text(d.fields->{name}) AS v(value)"
                f" WHERE v.value COLLATE \"C\" {op} {bound})")

    @staticmethod
    def _date(value: str) -> float:
        try:
            return datemath.resolve(value)
        except datemath.DateMathError as exc:
            raise QuerySyntaxError(f"invalid date: {exc}") from None

    @staticmethod
    def _number(value: str) -> float:
        number = parse_number(value)
        if number is None:
            raise QuerySyntaxError(f"invalid number {value!r}")
        return number


def compile_query(text: str, sql: SqlBuilder, default_field: str = "text",
                  default_op: str = "AND") -> str:
    """Parse ``text`` and compile it to a SQL boolean expression."""
    text = text.strip()
    if not text:
        return "TRUE"
    return Compiler(sql, default_field, default_op.upper()).compile(parse(text))
