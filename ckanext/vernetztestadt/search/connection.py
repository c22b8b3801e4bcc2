"""A pysolr-compatible connection answered by PostgreSQL.

Owns: the object CKAN gets from ``make_connection()`` — ``add``, ``delete``,
``commit``, ``search`` and ``ping`` with pysolr's signatures and results —
and the SQL statement that answers one search (filter, score, sort, page,
facets in one round trip).

Writes join CKAN's SQLAlchemy session (see ``storage``); searches run on a
connection of their own with a statement timeout, so that a slow or failing
search can never abort the transaction of the request that asked.

Must not touch: CKAN's search logic above the connection (parameter checks,
permission labels, plugins' hooks): CKAN's own code does all of that.

Size: over 400 lines because the one SQL statement and the pysolr-compatible
surface that fills and reads it must change together; the query grammar,
parsing and storage are separate modules (``search/``).
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pysolr
import sqlalchemy as sa

from . import cache, dismax, storage
from .analysis import analyse, fold, is_utf8, refusal, stored_document
from .fields import NOT_STORED, FieldType, field_type
from .functions import compile_function, compile_local
from .lucene import Compiler, QuerySyntaxError, SqlBuilder, compile_query

log = logging.getLogger(__name__)

MAX_ROWS = 100_000
MAX_START = 2**31 - 1
_COLUMN_FIELDS = ("index_id", "id", "name", "site_id", "entity_type", "dataset_type", "state")
#: String fields whose first value ``storage`` keeps in a column: sorting on
#: them (CKAN's "name ascending" is ``title_string asc``) never reads ``fields``.
_SORT_COLUMNS = ("name", "title_string")
#: Dates CKAN sets on every document (``storage`` indexes the first in sort order).
_ALWAYS_SET = ("metadata_modified", "metadata_created")


@dataclass
class Results:
    """What pysolr's ``Results`` offers CKAN: hits, docs and facets."""

    docs: list[dict[str, Any]]
    hits: int
    facets: dict[str, Any] = field(default_factory=dict)
    highlighting: dict[str, Any] = field(default_factory=dict)
    debug: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.docs)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.docs)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None and str(v).strip()]
    return [str(value)] if str(value).strip() else []


def _int(params: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(params.get(name, default))
    except (TypeError, ValueError):
        raise QuerySyntaxError(f"{name} must be a whole number") from None
    return max(low, min(high, value))


def sort_error(spec: str) -> pysolr.SolrError:
    # CKAN recognises this wording and answers 'Invalid "sort" parameter'.
    return pysolr.SolrError(f"Can't determine a Sort Order (asc or desc) in sort spec '{spec}'")


@dataclass
class SearchStatement:
    """Builds the single SQL statement of one search.

    ``m`` holds one narrow row per match: the values that sorting and facets
    need, computed once from ``d`` (``columns``). It never carries the large
    jsonb columns, which PostgreSQL would decompress again at every use.
    """

    sql: SqlBuilder
    where: list[str] = field(default_factory=list)
    score: str = "1.0::float8"
    columns: list[str] = field(default_factory=list)
    uses_terms: bool = False

    def _column(self, expr: str) -> str:
        """Add ``expr`` (over ``d``) to ``m``; returns the column's name."""
        name = f"c{len(self.columns)}"
        self.columns.append(f"{expr} AS {name}")
        return name

    def sort_keys(self, spec: str) -> list[str]:
        """ORDER BY items over the columns of ``m`` (and of ``page``)."""
        keys = []
        for part in (spec or "score desc").split(","):
            words = part.split()
            if not words:
                continue
            if len(words) != 2 or words[1].lower() not in ("asc", "desc"):
                raise sort_error(spec)
            keys.append(f"{self._sort_expr(words[0])} {words[1].upper()} NULLS LAST")
        return [*keys, "seq ASC"]  # Solr breaks ties by index order

    def _sort_expr(self, name: str) -> str:
        if name == "score":
            return "score"
        if "(" in name or ")" in name:  # function queries
            raise sort_error(name)
        if name in _SORT_COLUMNS:
            return self._column(f"d.{name} COLLATE \"C\"")
        kind = field_type(name)
        bound = self.sql.bind(name)
        if kind in (FieldType.DATE, FieldType.NUMBER):
            column = "dates" if kind is FieldType.DATE else "numbers"
            value = f"(d.{column}->>{bound})::float8"
            if name in _ALWAYS_SET:  # as written, so the sort can use its index
                return self._column(value)
            # CKAN's schema has no sortMissingLast on dates and numbers: Solr
            # sorts a missing value as 0 (1970 for dates), not last
            return self._column(f"coalesce({value}, 0)")
        if kind is FieldType.TEXT:
            return self._column(f"(d.texts->>{bound}) COLLATE \"C\"")
        return self._column(f"(d.fields->{bound}->>0) COLLATE \"C\"")

    def facet_sql(self, fields: list[str], limit: int, mincount: int) -> str:
        if not fields:
            return "'{}'::json"
        limit_sql = "" if limit < 0 else f"LIMIT {self.sql.bind(limit)}"
        minimum = self.sql.bind(max(1, mincount))
        parts = []
        for name in fields:
            bound = self.sql.bind(name)
            parts.append(
                f"CAST({bound} AS text), (SELECT coalesce(json_agg("
                f"json_build_array(f.v, f.c) ORDER BY f.c DESC, f.v COLLATE \"C\"), "
                f"'[]'::json) FROM (SELECT g.v, g.c FROM ({self._facet_counts(name, bound)}) g "
                f"WHERE g.c >= {minimum} ORDER BY g.c DESC, g.v COLLATE \"C\" {limit_sql}) f)")
        return "json_build_object(" + ", ".join(parts) + ")"

    def _facet_counts(self, name: str, bound: str) -> str:
        """Matching documents per value of one field (``v``, ``c``); like Solr,
        a value repeated within a document counts that document once."""
        if name in storage.FACET_FIELDS:  # counted once for all such fields
            self.uses_terms = True
            prefix = self.sql.bind(name + storage.FACET_SEPARATOR)
            return (f"SELECT substr(t.term, length({prefix}) + 1) AS v, t.c FROM terms t "
                    f"WHERE starts_with(t.term, {prefix})")
        column = self._column(f"d.fields->{bound}")
        return (f"SELECT v.value AS v, count(DISTINCT m.seq) AS c FROM m, "
                f"jsonb_array_elements_text(m.{column}) AS v(value) GROUP BY v.value")

    def where_sql(self) -> str:
        return " AND ".join(f"({w})" for w in self.where) or "TRUE"

    def render(self, order: list[str], facets: str | None) -> str:
        """The whole search; with ``facets`` None only the page (the counts
        came from ``cache``)."""
        where = self.where_sql()
        order_sql = ", ".join(order)
        columns = "".join(f", {c}" for c in self.columns)
        if facets is None:
            # Nothing to count: without a materialised ``m`` PostgreSQL can
            # walk an index in sort order and stop after the page.
            return f"""
WITH page AS (
    SELECT d.index_id, d.seq{columns}, {self.score} AS score
    FROM {storage.TABLE} d WHERE {where}
    ORDER BY {order_sql} LIMIT :rows OFFSET :start
)
SELECT 0 AS hits,
       (SELECT coalesce(json_agg(json_build_array(page.index_id, page.score) ORDER BY {order_sql}),
                        '[]'::json) FROM page) AS page,
       '{{}}'::json AS facets
"""
        terms = ""
        if self.uses_terms:
            columns += ", d.facet_terms"
            terms = """, terms AS MATERIALIZED (
    SELECT x.term, count(*) AS c FROM (SELECT unnest(m.facet_terms) AS term FROM m) x
    GROUP BY x.term
)"""
        # ``page`` keeps the sort columns, so json_agg orders by them: no
        # window over all matches, and PostgreSQL can use a bounded top-N sort
        return f"""
WITH m AS MATERIALIZED (
    SELECT d.index_id, d.seq{columns}, {self.score} AS score
    FROM {storage.TABLE} d WHERE {where}
), page AS (
    SELECT * FROM m ORDER BY {order_sql} LIMIT :rows OFFSET :start
){terms}
SELECT (SELECT count(*) FROM m) AS hits,
       (SELECT coalesce(json_agg(json_build_array(page.index_id, page.score) ORDER BY {order_sql}),
                        '[]'::json) FROM page) AS page,
       {facets} AS facets
"""


class PostgresSolr:
    """pysolr.Solr's interface over the PostgreSQL index."""

    def __init__(self, engine: sa.Engine, session: Any, text_config: str = "german",
                 timeout_ms: int = 10_000, decode_dates: bool = False) -> None:
        self.engine = engine
        #: CKAN's ``make_connection(decode_dates=True)``: date strings of the
        #: returned documents become ``datetime`` (CKAN's own JSON decoder hook).
        self.decode_dates = decode_dates
        self.session = session
        self.text_config = storage.text_search_config(text_config)
        self.timeout_ms = timeout_ms
        self.url = f"postgresql-search:{storage.TABLE}"

    def _ensure_schema(self) -> None:
        if storage.ensure_schema(self.engine):  # a new, empty index
            cache.bump(self.engine)

    # -- writes (join CKAN's transaction) -------------------------------------
    def add(self, docs: list[dict[str, Any]], commit: bool | None = None, **_: Any) -> str:
        for doc in docs:  # what Solr refuses is refused here too (CKAN: SearchIndexError)
            reason = refusal(doc)
            if reason:
                raise pysolr.SolrError(
                    f"Solr responded with an error (HTTP 400): [Reason: {reason}]")
        self._ensure_schema()
        conn = self.session.connection()
        storage.upsert_many(conn, [(json.dumps(stored_document(doc), default=str), analyse(doc))
                                   for doc in docs], self.text_config)
        cache.mark_write(self.session())
        self._commit_if_asked(commit)
        return ""

    def delete(self, id: Any = None, q: str | None = None, commit: bool | None = None,
               **_: Any) -> str:
        self._ensure_schema()
        conn = self.session.connection()
        if id is not None:
            ids = id if isinstance(id, (list, tuple)) else [id]
            conn.execute(sa.text(f"DELETE FROM {storage.TABLE} WHERE index_id = ANY(:ids)"),
                         {"ids": [str(i) for i in ids]})
        if q is not None:
            sql = SqlBuilder(self.text_config)
            try:
                condition = compile_query(q, sql)
            except QuerySyntaxError as exc:
                raise pysolr.SolrError(str(exc)) from None
            conn.execute(sa.text(f"DELETE FROM {storage.TABLE} d WHERE {condition}"), sql.params)
        cache.mark_write(self.session())
        self._commit_if_asked(commit)
        return ""

    def _commit_if_asked(self, commit: bool | None) -> None:
        """Solr's commit=True, made transactional: within a unit of work that
        CKAN commits itself the write is left to that commit (all or nothing,
        no ghost documents); on its own it commits at once."""
        if commit and storage.should_commit(self.session()):
            self.session.commit()

    def commit(self, **_: Any) -> str:
        self.session.commit()
        return ""

    def optimize(self, **_: Any) -> str:
        return ""

    def ping(self, **_: Any) -> str:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return "OK"

    # -- search ---------------------------------------------------------------
    def search(self, q: str = "*:*", search_handler: str | None = None, **params: Any) -> Results:
        try:
            _refuse_unstorable(q, params)
            _require_text(params)
            return self._lookup(q, params) or self._search(q or "*:*", params)
        except QuerySyntaxError as exc:
            raise pysolr.SolrError(f"org.apache.solr.search.SyntaxError: {exc}") from None

    def _lookup(self, q: str, params: dict[str, Any]) -> Results | None:
        """CKAN's lookup of one dataset by name or id (``get_index``, asked by
        every ``package_show``), answered from the id and name indexes in one
        statement: no parsing, counting or facet cache. None for any other
        query, and where the answer is not one document (the general path
        then ranks or finds none, as Solr would)."""
        asked = _LOOKUP_Q.fullmatch(q or "")
        site = _LOOKUP_FQ.fullmatch(str(params.get("fq") or "").strip())
        if (asked is None or site is None or set(params) - {"rows", "wt", "fq"}
                or str(params.get("rows")) != "1"):
            return None
        self._ensure_schema()
        with self.engine.connect() as conn:
            found = conn.execute(sa.text(
                f"SELECT doc FROM {storage.TABLE} WHERE (id = :ref OR name = :ref) "
                "AND site_id = :site AND entity_type = 'package' LIMIT 2"),
                {"ref": asked.group(1), "site": site.group(1)}).scalars().all()
        if len(found) != 1:
            return None
        doc = _project(found[0], None, 0.0)
        if self.decode_dates:
            from ckan.lib.search.common import solr_datetime_decoder

            doc = solr_datetime_decoder(doc)
        return Results(docs=[doc], hits=1, facets={"facet_fields": {}})

    def _search(self, q: str, params: dict[str, Any]) -> Results:
        self._ensure_schema()
        sql = SqlBuilder(self.text_config)
        statement = SearchStatement(sql)
        self._add_query(statement, q, params)
        op = str(params.get("q.op", "OR")).upper()  # Solr parses every fq with q.op too
        for fq in _as_list(params.get("fq")) + _as_list(params.get("fq_list")):
            statement.where.append(_filter(fq, sql, params.get("df", "text"), op))
        if params.get("bf"):  # boost function (ckanext-spatial ranks by overlap)
            statement.score = f"({statement.score}) + ({compile_function(params['bf'], sql)})"
        rows = _int(params, "rows", 10, 0, MAX_ROWS)
        start = _int(params, "start", 0, 0, MAX_START)
        facet_fields = []
        if str(params.get("facet", "false")).lower() == "true":
            facet_fields = list(dict.fromkeys(_as_list(params.get("facet.field"))))
        limit = _int(params, "facet.limit", 50, -1, MAX_ROWS)
        mincount = _int(params, "facet.mincount", 0, 0, MAX_ROWS)
        facet_sql = statement.facet_sql(facet_fields, limit, mincount)
        # the counts depend on the filter and facets only, not on sort or page
        cache_key = self._cache_key(statement, facet_sql)
        counts = cache.get(cache_key) if cache_key else None
        order = statement.sort_keys(params.get("sort") or "score desc")
        text = statement.render(order, None if counts else facet_sql)
        sql.params.update(rows=rows, start=start)
        hits, page, facets = self._run(text, sql.params)
        if counts:
            hits, facets = counts
        elif cache_key:
            cache.put(cache_key, hits, facets)
        docs = self._documents(page, params.get("fl"))
        facet_fields_out = {name: [x for pair in facets.get(name, []) for x in pair]
                            for name in facet_fields}
        return Results(docs=docs, hits=hits, facets={"facet_fields": facet_fields_out})

    def _cache_key(self, statement: SearchStatement, facet_sql: str) -> str | None:
        if not cache.enabled():
            return None
        generation = cache.generation(self.engine)
        if generation is None:
            return None
        return cache.key(self.engine, generation, statement.where_sql() + facet_sql,
                         statement.sql.params)

    def _add_query(self, statement: SearchStatement, q: str, params: dict[str, Any]) -> None:
        sql = statement.sql
        if q.lstrip().startswith("{!"):  # local params override defType, as in Solr
            op = str(params.get("q.op", "OR")).upper()
            statement.where.append(compile_local(q, sql, params.get("df", "text"), op))
            return
        def_type = params.get("defType", "lucene")
        default_op = str(params.get("q.op", "OR")).upper()
        if def_type == "edismax":
            condition, ranking = dismax.compile_edismax(
                sql, q, params.get("qf", "text"), params.get("mm", "100%"),
                params.get("df", "text"), default_op)
            statement.where.append(condition)
            if ranking:
                statement.score = f"ts_rank(d.tsv, ({' || '.join(ranking)}))"
            return
        if def_type == "dismax":
            compiler = Compiler(sql)
            condition, clauses = dismax.compile_dismax(
                compiler, q, params.get("qf", "text"), params.get("mm", "100%"),
                self._token_check(q))
            statement.where.append(condition)
            if clauses:
                queries = [compiler.text_query(c.text, c.phrase) for c in clauses]
                statement.score = f"ts_rank(d.tsv, ({' || '.join(queries)}))"
            return
        statement.where.append(compile_query(q, sql, params.get("df", "text"), default_op))

    def _token_check(self, q: str) -> Callable[[dismax.Clause], bool]:
        """Which clauses of ``q`` survive text analysis (are not bare
        punctuation), asked for all clauses in one round trip."""
        texts = list({fold(c.text) for c in dismax.split_clauses(q)})
        if not texts:
            return lambda clause: False
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT t, numnode(plainto_tsquery(CAST(:cfg AS regconfig), t)) "
                        "FROM unnest(CAST(:texts AS text[])) AS t"),
                {"cfg": self.text_config, "texts": texts}).all()
        analysed = {text: bool(nodes) for text, nodes in rows}
        return lambda clause: analysed.get(fold(clause.text), False)

    def _run(self, text: str, params: dict[str, Any]) -> tuple[int, list[Any], dict[str, Any]]:
        with self.engine.connect() as conn, conn.begin():
            conn.execute(sa.text("SELECT set_config('statement_timeout', :t, true)"),
                         {"t": str(self.timeout_ms)})
            try:
                row = conn.execute(sa.text(text), params).one()
            except sa.exc.DBAPIError as exc:
                log.warning("search failed: %s", str(exc.orig).strip().splitlines()[0])
                raise pysolr.SolrError("search failed (timeout or invalid query)") from None
        return int(row.hits), row.page, row.facets or {}

    def _documents(self, page: list[Any], fl: Any) -> list[dict[str, Any]]:
        if not page:
            return []
        wanted = _fl_fields(fl)
        ids = [item[0] for item in page]
        params: dict[str, Any] = {"ids": ids}
        if wanted is None or "*" in wanted or len(wanted) > 50:  # 100 arguments at most
            selected = "doc"
        else:  # only the asked fields leave the database (fl=id of 1,000 rows)
            names = sorted(wanted - {"score"})
            params.update({f"n{k}": name for k, name in enumerate(names)})
            pairs = ", ".join(f"CAST(:n{k} AS text), doc->:n{k}" for k in range(len(names)))
            selected = (f"jsonb_strip_nulls(jsonb_build_object({pairs}))" if names
                        else "CAST('{}' AS jsonb)")
        with self.engine.connect() as conn:
            found = dict(conn.execute(sa.text(
                f"SELECT index_id, {selected} FROM {storage.TABLE} WHERE index_id = ANY(:ids)"),
                params).all())
        docs = []
        for index_id, score in page:
            doc = found.get(index_id)
            if doc is None:  # deleted between the two statements
                continue
            docs.append(_project(doc, wanted, score))
        if self.decode_dates:
            from ckan.lib.search.common import solr_datetime_decoder

            docs = [solr_datetime_decoder(doc) for doc in docs]
        return docs


#: ``PackageSearchQuery.get_index``'s query and filter, for plain names and ids
_LOOKUP_Q = re.compile(r'name:"([A-Za-z0-9_-]+)" OR id:"\1"')
_LOOKUP_FQ = re.compile(r'\+site_id:"([A-Za-z0-9_.-]+)" \+entity_type:package')

#: Parameters read as one string each (Solr takes them once).
_TEXT_PARAMS = ("df", "q.op", "defType", "qf", "mm", "bf", "sort", "facet")


def _refuse_unstorable(q: str, params: dict[str, Any]) -> None:
    """NUL and lone UTF-16 surrogates (JSON's ``"\\ud800"``) cannot be sent to
    PostgreSQL, which takes UTF-8 text only; no query needs either."""
    values = [q, *params.values()]
    for value in values:
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if not isinstance(item, str):
                continue
            if "\x00" in item:
                raise QuerySyntaxError("the query contains a NUL character")
            if not is_utf8(item):
                raise QuerySyntaxError("the query contains a lone UTF-16 surrogate")


def _require_text(params: dict[str, Any]) -> None:
    for name in _TEXT_PARAMS:
        value = params.get(name)
        if value is not None and not isinstance(value, str):
            raise QuerySyntaxError(f"{name} must be one text value")


def _filter(fq: str, sql: SqlBuilder, default_field: str, default_op: str) -> str:
    """One ``fq``: Lucene syntax, or local parameters (``{!frange}``) that CKAN
    let through because ``ckan.search.solr_allowed_query_parsers`` allows them."""
    if fq.lstrip().startswith("{!"):
        return compile_local(fq, sql, default_field, default_op)
    return compile_query(fq, sql, default_field, default_op)


def _fl_fields(fl: Any) -> set[str] | None:
    """The field names ``fl`` asks for; None means all stored fields."""
    names = {n for part in _as_list(fl) for n in part.replace(",", " ").split()}
    if not names or "*" in names:
        return None if not names - {"*", "score"} else names | {"*"}
    return names


def _project(doc: dict[str, Any], wanted: set[str] | None, score: float) -> dict[str, Any]:
    if wanted is None or "*" in wanted:
        out = {k: v for k, v in doc.items() if k not in NOT_STORED}
        if wanted:
            out.update({k: doc[k] for k in wanted if k in doc and k != "*"})
    else:
        out = {k: doc[k] for k in wanted if k in doc}
    if wanted and "score" in wanted:
        out["score"] = score
    return out
