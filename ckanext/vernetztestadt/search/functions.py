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
from .lucene import QuerySyntaxError, SqlBuilder

_FUNCTIONS = {"add": "+", "sum": "+", "sub": "-", "mul": "*", "product": "*", "div": "/",
              "min": "LEAST", "max": "GREATEST", "abs": "abs"}
_ARITY = {"sub": 2, "div": 2, "abs": 1}
MAX_DEPTH = 32


@dataclass
class LocalParams:
    parser: str
    params: dict[str, str]
    body: str


def parse_local_params(text: str) -> LocalParams:
    """``{!type key=value ...}body`` -> its parser name, parameters and body."""
    text = text.strip()
    end = text.find("}")
    if not text.startswith("{!") or end < 0:
        raise QuerySyntaxError("malformed local parameters")
    parser, params = "", {}
    for word in text[2:end].split():
        key, sep, value = word.partition("=")
        if not sep:
            parser = key
        elif key == "type":
            parser = value
        else:
            params[key] = value.strip("'\"")
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
    value = compile_function(local.body or local.params.get("v", ""), sql)
    conditions = []
    for key, inclusive_key, op in (("l", "incl", ">"), ("u", "incu", "<")):
        if key not in local.params:
            continue
        bound = parse_number(local.params[key])
        if bound is None:
            raise QuerySyntaxError(f"frange {key} must be a number")
        inclusive = local.params.get(inclusive_key, "true").lower() != "false"
        conditions.append(f"({value}) {op}{'=' if inclusive else ''} {sql.bind(bound)}")
    return " AND ".join(conditions) or "TRUE"


def compile_local_filter(text: str, sql: SqlBuilder) -> str:
    """A filter written with local parameters; only ``frange`` is answered."""
    local = parse_local_params(text)
    if local.parser != "frange":
        raise QuerySyntaxError(f"query parser {local.parser!r} is not supported")
    return compile_frange(local, sql)
