"""Solr's dismax free-text queries: ``qf`` fields, ``mm``, ``+``/``-`` clauses.

Owns: splitting a free-text ``q`` into clauses (words and quoted phrases,
optionally prefixed with + or -, joined by Lucene's AND/OR/NOT as Solr's
dismax parser reads them), the minimum-should-match rule (``mm``, e.g.
CKAN's ``2<-1 5<80%``) and the SQL that counts matching clauses per row;
and edismax (``EdismaxCompiler``): ``lucene``'s compiler, with unfielded
words and phrases searched like dismax clauses and ``mm`` over the SHOULD
clauses of the top level.

Must not touch: Lucene's grammar and boolean rules (``lucene``), the database.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import combinations
from math import comb

from luqum import tree

from .analysis import fold
from .fields import TEXT_SOURCES, FieldType, field_type
from .lucene import Compiler, QuerySyntaxError, SqlBuilder, _has_wildcard, parse, unescape


@dataclass(frozen=True)
class Clause:
    text: str
    phrase: bool
    occur: str  # "must", "should" or "must_not"


#: Dismax keeps Lucene's operators (upper case only: "and" is a word);
#: ``!`` and brackets are escaped by Solr's dismax and stay text.
_CONJUNCTIONS = {"AND": "AND", "&&": "AND", "OR": "OR", "||": "OR"}
_CONSECUTIVE = re.compile(r"\s+[+-](?:\s*[+-]+)+")
_DANGLING = re.compile(r"\s+[-+\s]+$")


def _items(q: str) -> list[tuple[str, str, bool]]:
    """Dismax's small syntax: words, "phrases", leading + and -, and the
    operators AND/OR/NOT/&&/|| as ``("op", name, False)``; clauses as
    ``(modifier, text, phrase)`` with modifier "", "+" or "-"."""
    if q.count('"') % 2:  # Solr drops every quote of a query with an odd number
        q = q.replace('"', "")
    # Solr's stripIllegalOperators: runs of +/- after whitespace, and +/- at the end
    q = _DANGLING.sub("", _CONSECUTIVE.sub(" ", q))
    items, i, n = [], 0, len(q)
    while i < n:
        while i < n and q[i].isspace():
            i += 1
        if i >= n:
            break
        if q[i] in "+-" and i + 1 == n:
            # a lone "-" or "+" at the end: Lucene's parser wants a clause after it
            raise QuerySyntaxError(f"cannot parse {q[:20]!r}: operator at the end")
        if q[i] in "+-" and q[i + 1] in "+-" and not (i + 2 == n or q[i + 2].isspace()):
            # left at the very start, Lucene's parser fails on it ("--x"); "-- x"
            # is a modifier and a bare "-" as the clause
            raise QuerySyntaxError(f"cannot parse {q[:20]!r}: consecutive operators")
        modifier = ""
        if q[i] in "+-" and not q[i + 1].isspace():
            modifier = q[i]
            i += 1
        if q[i] == '"':
            end = q.find('"', i + 1)
            text, phrase, i = q[i + 1:end], True, end + 1
        else:
            start = i
            while i < n and not q[i].isspace():
                i += 1
            text, phrase = q[start:i], False
        if not phrase and (text in _CONJUNCTIONS or text == "NOT"):
            if modifier:  # "+AND"
                raise QuerySyntaxError(f"cannot parse {q[:40]!r}: operator {text} after {modifier}")
            items.append(("op", text, False))
        elif text.strip():
            items.append((modifier, text, phrase))
    return items


def split_clauses(q: str) -> list[Clause]:
    """The clauses of a dismax query, each MUST, SHOULD or MUST_NOT as
    Lucene's classic parser decides with its default operator OR (dismax's
    ``mm`` then rules the SHOULD clauses): ``a AND b`` makes both required,
    ``NOT b`` and ``-b`` prohibit ``b``, ``+b`` requires it."""
    clauses: list[Clause] = []
    conj, negated = "", False
    for modifier, text, phrase in _items(q):
        if modifier == "op":
            # Lucene's grammar: [AND|OR] [NOT|+|-] clause, never first or last
            if negated or (text != "NOT" and (conj or not clauses)):
                raise QuerySyntaxError(f"cannot parse {q[:40]!r}: misplaced {text}")
            if text == "NOT":
                negated = True
            else:
                conj = _CONJUNCTIONS[text]
            continue
        prohibited = negated or modifier == "-"
        if clauses and conj == "AND" and clauses[-1].occur != "must_not":
            clauses[-1] = replace(clauses[-1], occur="must")
        required = not prohibited and (modifier == "+" or conj == "AND")
        occur = "must_not" if prohibited else "must" if required else "should"
        clauses.append(Clause(text, phrase, occur))
        conj, negated = "", False
    if conj or negated:
        raise QuerySyntaxError(f"cannot parse {q[:40]!r}: operator at the end")
    return clauses


def _parse_mm_part(spec: str, optional: int) -> int:
    spec = spec.strip()
    if spec.endswith("%"):
        percent = int(spec[:-1])
        count = int(optional * abs(percent) / 100)
        return optional - count if percent < 0 else count
    value = int(spec)
    return optional + value if value < 0 else value


def minimum_should_match(mm: str, optional: int) -> int:
    """How many of ``optional`` clauses must match under Solr's ``mm`` spec."""
    try:
        spec = (mm or "100%").strip()
        if "<" not in spec:
            required = _parse_mm_part(spec, optional)
        else:
            required = optional  # below the first threshold: all of them
            for condition in spec.split():
                threshold, _, rule = condition.partition("<")
                if optional > int(threshold):
                    required = _parse_mm_part(rule, optional)
    except ValueError:
        raise QuerySyntaxError(f"invalid mm parameter {mm!r}") from None
    return max(0, min(optional, required))


def parse_qf(qf: str) -> list[str]:
    """Field names of a ``qf`` value such as ``name^4 title^4 text``."""
    return [part.split("^")[0] for part in (qf or "text").split() if part.split("^")[0]]


#: Fields whose values are copied into the catch-all ``text`` (Solr's copyField).
_FEEDS_TEXT = frozenset(name for names in TEXT_SOURCES.values() for name in names)
#: Above this many ways to pick the clauses ``mm`` asks for, matching clauses
#: are counted per row instead of being folded into one tsquery.
MAX_COMBINATIONS = 64


def _beyond_text(fields: list[str]) -> list[str]:
    """The ``qf`` fields a clause can match without also matching ``text``.

    Analysed fields and the exact fields copied into ``text`` (``name``,
    ``tags``, ``groups``) are covered by it: a word equal to a tag is also a
    word of ``text``. Only other exact fields still need their own test."""
    if "text" not in fields:
        return fields
    return [f for f in fields if f != "text" and field_type(f) is not FieldType.TEXT
            and f not in _FEEDS_TEXT]


def clause_tsquery(compiler: Compiler, fields: list[str], clause: Clause,
                   empty: bool = False) -> str | None:
    """The clause as one tsquery over ``text``, when nothing else can match it."""
    if not empty and "text" in fields and not _beyond_text(fields):
        return compiler.text_query(clause.text, clause.phrase)
    return None


def clause_match(compiler: Compiler, fields: list[str], clause: Clause,
                 empty: bool = False) -> str:
    """SQL true when ``clause`` matches any of the ``fields``. An ``empty``
    clause (no word survives text analysis, e.g. ``!!!`` or ``-``) can still
    equal a value of an exact field (Solr asks ``name:"!!!"`` too)."""
    if empty:
        exact = [compiler.value_match(f, clause.text, clause.phrase) for f in fields
                 if field_type(f) is FieldType.STRING]
        return "(" + " OR ".join(exact) + ")" if exact else "FALSE"
    query = clause_tsquery(compiler, fields, clause)
    if query is not None:  # one GIN-indexed test instead of one per field
        return f"(d.tsv @@ {query})"
    extra = _beyond_text(fields)
    parts = [compiler.value_match(f, clause.text, clause.phrase)
             for f in (["text", *extra] if "text" in fields else extra)]
    return "(" + " OR ".join(parts) + ")"


def _at_least(compiler: Compiler, fields: list[str], optional: list[Clause],
              required: int, empty: set[Clause]) -> list[str]:
    """Conditions for "at least ``required`` of the ``optional`` clauses match".

    When every clause is a tsquery over ``text``, the rule becomes a single
    tsquery (an OR of the ANDs of each choice of clauses), which the GIN index
    answers; otherwise matching clauses are counted per row, behind an OR of
    all clauses that lets PostgreSQL narrow the rows from its indexes first."""
    queries = [clause_tsquery(compiler, fields, c, c in empty) for c in optional]
    if all(queries) and comb(len(queries), required) <= MAX_COMBINATIONS:
        choices = (" && ".join(group) for group in combinations(queries, required))
        return ["d.tsv @@ (" + " || ".join(f"({c})" for c in choices) + ")"]
    matches = [clause_match(compiler, fields, c, c in empty) for c in optional]
    counted = " + ".join(f"(CASE WHEN {m} THEN 1 ELSE 0 END)" for m in matches)
    return ["(" + " OR ".join(matches) + ")", f"({counted}) >= {compiler.sql.bind(required)}"]


def compile_dismax(compiler: Compiler, q: str, qf: str, mm: str,
                   has_tokens: Callable[[Clause], bool]) -> tuple[str, list[Clause]]:
    """A SQL condition for a dismax query and the clauses that score it.

    ``has_tokens`` tells whether a clause survives text analysis (the index
    keeps stop words, as CKAN's Solr schema does, so only clauses of bare
    punctuation drop out). Like Solr, such a clause is dropped only when
    every ``qf`` field is analysed; with an exact field (CKAN's ``name``,
    ``tags``, ``groups``) it stays, counts for ``mm`` and matches only that
    exact value. A query of prohibited clauses only matches nothing (dismax
    adds no implicit ``*:*``).
    """
    given = split_clauses(q)
    fields = parse_qf(qf)
    exact = any(field_type(f) is FieldType.STRING for f in fields)
    empty = {c for c in given if not has_tokens(c)}
    clauses = [c for c in given if exact or c not in empty]
    if given and not clauses:
        return "FALSE", []
    conditions, optional, required_any = [], [], False
    for clause in clauses:
        if clause.occur == "must":
            conditions.append(clause_match(compiler, fields, clause, clause in empty))
            required_any = True
        elif clause.occur == "must_not":
            conditions.append(f"NOT {clause_match(compiler, fields, clause, clause in empty)}")
        else:
            optional.append(clause)
    if not required_any and not optional:
        return "FALSE", []
    required = minimum_should_match(mm, len(optional))
    if optional and not required_any:
        required = max(1, required)  # Lucene: without a MUST, one SHOULD must match
    if optional and required:
        conditions.extend(_at_least(compiler, fields, optional, required, empty))
    if not conditions:
        return "TRUE", clauses
    scoring = [c for c in clauses if c.occur != "must_not" and c not in empty]
    return " AND ".join(f"({c})" for c in conditions), scoring


class EdismaxCompiler(Compiler):
    """Solr's edismax (ckanext-spatial's map search sets it for every
    ``ext_bbox`` search): Lucene syntax with ``q.op``, where an unfielded
    word or phrase searches the ``qf`` fields like a dismax clause, ``mm``
    rules the SHOULD clauses of the top level (``a OR b`` needs both under
    CKAN's ``2<-1``), and a purely negative query matches all else."""

    def __init__(self, sql: SqlBuilder, default_field: str, default_op: str, qf: str,
                 mm: str) -> None:
        super().__init__(sql, default_field, default_op)
        self.fields = parse_qf(qf)
        self.mm = mm
        #: tsqueries of the unfielded clauses, for ranking
        self.scoring: list[str] = []

    def _leaf(self, node: tree.Item, fieldname: str | None) -> str:
        if fieldname is not None or not isinstance(node, (tree.Word, tree.Phrase)):
            return super()._leaf(node, fieldname)
        if isinstance(node, tree.Word) and _has_wildcard(node.value):
            return "(" + " OR ".join(self._term(node, f) for f in self.fields) + ")"
        phrase = isinstance(node, tree.Phrase)
        text = unescape(node.value[1:-1] if phrase else node.value)
        clause = Clause(text, phrase, "should")
        self.scoring.append(self.text_query(text, phrase))
        exact = [self.value_match(f, text, phrase) for f in self.fields
                 if field_type(f) is FieldType.STRING]
        # a clause of bare punctuation has no words: only an exact value matches
        return "(" + " OR ".join([clause_match(self, self.fields, clause), *exact]) + ")"

    def _combine(self, must: list[str], should: list[str], must_not: list[str],
                 top: bool) -> str:
        if not top or not should:
            return super()._combine(must, should, must_not, top)
        required = minimum_should_match(self.mm, len(should))
        if not must:
            required = max(1, required)
        if not required:
            return super()._combine(must, should, must_not, top)
        counted = " + ".join(f"(CASE WHEN ({s}) THEN 1 ELSE 0 END)" for s in should)
        at_least = f"({counted}) >= {self.sql.bind(required)}"
        return super()._combine([*must, at_least], [], must_not, top)


def _wordless(node: tree.Item) -> bool:
    """A bare term without letters or digits (``…``, ``&``, ``-``)."""
    return isinstance(node, tree.Word) and not any(c.isalnum() for c in fold(node.value))


def _join_implicit_runs(node: tree.Item) -> tree.Item:
    """edismax reads words joined without an operator together (``sow=false``):
    a wordless term among them adds nothing, where alone it would be a clause
    of its own that nothing matches."""
    if isinstance(node, tree.SearchField):
        return node
    if isinstance(node, tree.UnknownOperation):
        kept = [child for child in node.children if not _wordless(child)]
        children = [_join_implicit_runs(child) for child in (kept or node.children)]
        return children[0] if len(children) == 1 else tree.UnknownOperation(*children)
    if isinstance(node, (tree.AndOperation, tree.OrOperation)):
        return type(node)(*[_join_implicit_runs(c) for c in node.children])
    if isinstance(node, (tree.Group, tree.FieldGroup, tree.Not, tree.Prohibit, tree.Plus)):
        return type(node)(_join_implicit_runs(node.children[0]))
    return node


def compile_edismax(sql: SqlBuilder, q: str, qf: str, mm: str, default_field: str,
                    default_op: str) -> tuple[str, list[str]]:
    """The SQL condition of an edismax query and the tsqueries that rank it."""
    compiler = EdismaxCompiler(sql, default_field, default_op, qf, mm)
    text = q.strip()
    condition = compiler.compile(_join_implicit_runs(parse(text))) if text else "TRUE"
    return condition, compiler.scoring
