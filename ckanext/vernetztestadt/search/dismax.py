"""Solr's dismax free-text queries: ``qf`` fields, ``mm``, ``+``/``-`` clauses.

Owns: splitting a free-text ``q`` into clauses (words and quoted phrases,
optionally prefixed with + or -), the minimum-should-match rule (``mm``, e.g.
CKAN's ``2<-1 5<80%``) and the SQL that counts matching clauses per row.

Must not touch: Lucene syntax (``lucene``) or the database.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from math import comb

from .fields import TEXT_SOURCES, FieldType, field_type
from .lucene import Compiler, QuerySyntaxError


@dataclass(frozen=True)
class Clause:
    text: str
    phrase: bool
    occur: str  # "must", "should" or "must_not"


def split_clauses(q: str) -> list[Clause]:
    """Dismax's small syntax: words, "phrases", leading + and -."""
    clauses, i, n = [], 0, len(q)
    while i < n:
        while i < n and q[i].isspace():
            i += 1
        if i >= n:
            break
        if q[i] in "+-" and i + 1 < n and q[i + 1] in "+-":
            # Solr's dismax drops a run of operators after whitespace; at the
            # very start its Lucene parser fails on it ("--x" is an error).
            if i == 0:
                raise QuerySyntaxError(f"cannot parse {q[:20]!r}: consecutive operators")
            while i < n and q[i] in "+-":
                i += 1
            continue
        occur = "should"
        if q[i] in "+-" and i + 1 < n and not q[i + 1].isspace():
            occur = "must" if q[i] == "+" else "must_not"
            i += 1
        if q[i] == '"':
            end = q.find('"', i + 1)
            end = n if end < 0 else end  # unbalanced quote: phrase runs to the end
            text, phrase, i = q[i + 1:end], True, end + 1
        else:
            start = i
            while i < n and not q[i].isspace():
                i += 1
            text, phrase = q[start:i], False
        if text.strip() and text.upper() not in ("AND", "OR", "NOT", "&&", "||"):
            clauses.append(Clause(text, phrase, occur))
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


def clause_tsquery(compiler: Compiler, fields: list[str], clause: Clause) -> str | None:
    """The clause as one tsquery over ``text``, when nothing else can match it."""
    if "text" in fields and not _beyond_text(fields):
        return compiler.text_query(clause.text, clause.phrase)
    return None


def clause_match(compiler: Compiler, fields: list[str], clause: Clause) -> str:
    """SQL true when ``clause`` matches any of the ``fields``."""
    query = clause_tsquery(compiler, fields, clause)
    if query is not None:  # one GIN-indexed test instead of one per field
        return f"(d.tsv @@ {query})"
    extra = _beyond_text(fields)
    parts = [compiler.value_match(f, clause.text, clause.phrase)
             for f in (["text", *extra] if "text" in fields else extra)]
    return "(" + " OR ".join(parts) + ")"


def _at_least(compiler: Compiler, fields: list[str], optional: list[Clause],
              required: int) -> list[str]:
    """Conditions for "at least ``required`` of the ``optional`` clauses match".

    When every clause is a tsquery over ``text``, the rule becomes a single
    tsquery (an OR of the ANDs of each choice of clauses), which the GIN index
    answers; otherwise matching clauses are counted per row, behind an OR of
    all clauses that lets PostgreSQL narrow the rows from its indexes first."""
    queries = [clause_tsquery(compiler, fields, c) for c in optional]
    if all(queries) and comb(len(queries), required) <= MAX_COMBINATIONS:
        choices = (" && ".join(group) for group in combinations(queries, required))
        return ["d.tsv @@ (" + " || ".join(f"({c})" for c in choices) + ")"]
    matches = [clause_match(compiler, fields, c) for c in optional]
    counted = " + ".join(f"(CASE WHEN {m} THEN 1 ELSE 0 END)" for m in matches)
    return [" OR ".join(matches), f"({counted}) >= {compiler.sql.bind(required)}"]


def compile_dismax(compiler: Compiler, q: str, qf: str, mm: str,
                   has_tokens: Callable[[Clause], bool]) -> tuple[str, list[Clause]]:
    """A SQL condition for a dismax query and the clauses that score it.

    ``has_tokens`` tells whether a clause survives text analysis (the index
    keeps stop words, as CKAN's Solr schema does, so only clauses of bare
    punctuation drop out); a query whose clauses all drop out matches nothing.
    """
    given = split_clauses(q)
    clauses = [c for c in given if has_tokens(c)]
    if given and not clauses:
        return "FALSE", []
    fields = parse_qf(qf)
    conditions, optional = [], []
    for clause in clauses:
        if clause.occur == "must":
            conditions.append(clause_match(compiler, fields, clause))
        elif clause.occur == "must_not":
            conditions.append(f"NOT {clause_match(compiler, fields, clause)}")
        else:
            optional.append(clause)
    required = minimum_should_match(mm, len(optional))
    if optional and required:
        conditions.extend(_at_least(compiler, fields, optional, required))
    if not conditions:
        return ("TRUE" if not clauses else "FALSE"), clauses
    return " AND ".join(conditions), [c for c in clauses if c.occur != "must_not"]
