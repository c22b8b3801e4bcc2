"""Solr local parameters and function queries, as far as CKAN's plugins use them.

Owns: parsing ``{!frange l=0 u=1 incl=false}<function>`` filters and the
``bf`` boost function that ckanext-spatial's ``solr-bbox`` backend sends for
``ext_bbox`` map searches, and compiling the arithmetic functions (``add``,
``sub``, ``mul``, ``div``, ``min``, ``max``, ``abs``) over numeric fields to
SQL with bound parameters. A small recursive-descent parser, no regexes.

Must not touch: other query syntax (``lucene``), the database.
"""
from __future__ import annotations

from dataclasses import dataclass

from .analysis import parse_number
from .lucene import QuerySyntaxError, SqlBuilder, compile_query

_FUNCTIONS = {"add": "+", "sum": "+", "sub": "-", "mul": "*", "product": "*", "div": "/",
              "min": "LEAST", "max": "GREATEST", "abs": "abs"}
_ARITY = {"sub": 2, "div": 2, "abs": 1}
MAX_DEPTH = 32


@dataclass
class LocalParams:
    parser: str
    params: dict[str, list[str]]  # a key may repeat: {!bool must=a must=b}
    body: str

    def first(self, key: str, default: str | None = None) -> str | None:
        values = self.params.get(key)
        return values[0] if values else default


def _split_words(text: str) -> list[str]:
    """Words of a local-params block; quotes keep spaces inside a value."""
    words, current, quote = [], [], ""
    for char in text:
        if quote:
            if char == quote:
                quote = ""
            else:
                current.append(char)
        elif char in "'\"":
            quote = char
        elif char.isspace():
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(char)
    if quote:
        raise QuerySyntaxError("unbalanced quote in local parameters")
    if current:
        words.append("".join(current))
    return words


def parse_local_params(text: str) -> LocalParams:
    """``{!type key=value ...}body`` -> its parser name, parameters and body."""
    text = text.strip()
    end = text.find("}")
    if not text.startswith("{!") or end < 0:
        raise QuerySyntaxError("malformed local parameters")
    parser, params = "", {}
    for word in _split_words(text[2:end]):
        key, sep, value = word.partition("=")
        if not sep:
            parser = key
        elif key == "type":
            parser = value
        else:
            params.setdefault(key, []).append(value)
    return LocalParams(parser, params, text[end + 1:])


class _Parser:
    """function := name '(' arg (',' arg)* ')' ; arg := function | number | field"""

    def __init__(self, text: str, sql: SqlBuilder) -> None:
        self.text = "".join(text.split())  # whitespace carries no meaning here
        self.pos = 0
        self.sql = sql

    def parse(self) -> str:
        expr = self._arg(0)
        if self.pos != len(self.text):
            raise QuerySyntaxError(f"unexpected {self.text[self.pos:self.pos + 10]!r} in function")
        return expr

    def _name(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum()
                                             or self.text[self.pos] in "_.-+"):
            self.pos += 1
        return self.text[start:self.pos]

    def _arg(self, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise QuerySyntaxError("function nested too deeply")
        word = self._name()
        if not word:
            raise QuerySyntaxError("function argument expected")
        if self.pos < len(self.text) and self.text[self.pos] == "(":
            return self._call(word.lower(), depth)
        number = parse_number(word)
        if number is not None:
            return f"CAST({self.sql.bind(number)} AS float8)"
        # a numeric field; missing values count as 0 as in Solr
        return f"coalesce((d.numbers->>{self.sql.bind(word)})::float8, 0)"

    def _call(self, name: str, depth: int) -> str:
        if name not in _FUNCTIONS:
            raise QuerySyntaxError(f"unsupported function {name!r}")
        self.pos += 1  # "("
        args = [self._arg(depth + 1)]
        while self.pos < len(self.text) and self.text[self.pos] == ",":
            self.pos += 1
            args.append(self._arg(depth + 1))
        if self.pos >= len(self.text) or self.text[self.pos] != ")":
            raise QuerySyntaxError(f"')' expected after arguments of {name}")
        self.pos += 1
        if name in _ARITY and len(args) != _ARITY[name]:
            raise QuerySyntaxError(f"{name} takes {_ARITY[name]} arguments")
        operator = _FUNCTIONS[name]
        if operator in ("LEAST", "GREATEST", "abs"):
            return f"{operator}({', '.join(args)})"
        if operator == "/":  # Solr's div by zero gives 0, not an error
            return f"coalesce(({args[0]}) / NULLIF(({args[1]}), 0), 0)"
        return "(" + f" {operator} ".join(args) + ")"


def compile_function(text: str, sql: SqlBuilder) -> str:
    return _Parser(text, sql).parse()


def compile_frange(local: LocalParams, sql: SqlBuilder) -> str:
    """``{!frange l= u= incl= incu=}f``: rows whose f lies in the range."""
    value = compile_function(local.body or local.first("v", "") or "", sql)
    conditions = []
    for key, inclusive_key, op in (("l", "incl", ">"), ("u", "incu", "<")):
        raw = local.first(key)
        if raw is None:
            continue
        bound = parse_number(raw)
        if bound is None:
            raise QuerySyntaxError(f"frange {key} must be a number")
        inclusive = (local.first(inclusive_key, "true") or "").lower() != "false"
        conditions.append(f"({value}) {op}{'=' if inclusive else ''} {sql.bind(bound)}")
    return " AND ".join(conditions) or "TRUE"


def _compile_bool(local: LocalParams, sql: SqlBuilder, default_field: str) -> str:
    """``{!bool must=.. should=.. must_not=.. filter=..}``, each a Lucene query."""
    def part(key: str) -> list[str]:
        return [f"({compile_query(v, sql, default_field, 'OR')})"
                for v in local.params.get(key, [])]

    must = part("must") + part("filter")
    should, must_not = part("should"), part("must_not")
    conditions = list(must) + [f"NOT {c}" for c in must_not]
    if should and not must:
        conditions.append("(" + " OR ".join(should) + ")")
    return " AND ".join(conditions) or "TRUE"


def compile_local(text: str, sql: SqlBuilder, default_field: str, default_op: str) -> str:
    """A q or fq with local parameters, which CKAN lets through only for the
    parsers named in ``ckan.search.solr_allowed_query_parsers``."""
    local = parse_local_params(text)
    if local.parser == "frange":
        return compile_frange(local, sql)
    if local.parser == "bool":
        return _compile_bool(local, sql, local.first("df", default_field) or default_field)
    if local.parser == "lucene":
        body = local.body or local.first("v", "") or ""
        return compile_query(body, sql, local.first("df", default_field) or default_field,
                             local.first("q.op", default_op) or default_op)
    raise QuerySyntaxError(f"query parser {local.parser!r} is not supported")
