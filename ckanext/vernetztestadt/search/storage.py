"""The index table in PostgreSQL: schema, writes, lazy creation.

Owns: the ``vernetztestadt_search`` schema (outside ``public``, because
CKAN's ``clean_db`` test fixture drops everything there), its creation on
first use, and upserting/deleting index rows.

Writes go through CKAN's own SQLAlchemy session, so they share the
transaction of the dataset change that caused them: if CKAN rolls back a
failed create/update, the index row goes with it (no ghost documents), and
concurrent writers are serialised by PostgreSQL's row locks on the upsert.

Must not touch: query syntax (``lucene``), CKAN's tables.
"""
from __future__ import annotations

import functools
import threading
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .analysis import IndexRow

SCHEMA = "vernetztestadt_search"
TABLE = f"{SCHEMA}.documents"
# Bump when the DDL below changes, or what is stored per document (7: word
# splitting of the text folding, checked against Solr): the table is then
# rebuilt empty; ``vernetztestadt-runtime up`` re-indexes it (``search-index
# rebuild --only-missing``), elsewhere run ``ckan search-index rebuild``.
LAYOUT_VERSION = 7

#: Fields whose values are also kept in ``facet_terms`` (CKAN's default
#: ``search.facets``), so that counting them never decompresses ``fields``.
FACET_FIELDS = ("organization", "groups", "tags", "res_format", "license_id")
#: Joins field and value in a facet term; ``analysis.clean`` removes it from values.
FACET_SEPARATOR = "\x1f"

#: Languages with a stemming configuration of our own (``text_config``).
STEMMED_LANGUAGES = ("german", "english")


def _language_ddl(language: str) -> list[str]:
    """A copy of PostgreSQL's configuration for ``language`` whose stemmer
    keeps stop words: CKAN's Solr schema has no stop filter, so "die" or
    "after" must be searchable words, not dropped ones."""
    stem = f"{SCHEMA}.{language}_stem"
    words = "asciiword, asciihword, hword_asciipart, word, hword, hword_part"
    return [
        f"CREATE TEXT SEARCH DICTIONARY {stem} (TEMPLATE = snowball, Language = {language})",
        f"CREATE TEXT SEARCH CONFIGURATION {SCHEMA}.{language} (COPY = pg_catalog.{language})",
        f"ALTER TEXT SEARCH CONFIGURATION {SCHEMA}.{language} ALTER MAPPING FOR {words} "
        f"WITH {stem}",
    ]


def text_search_config(language: str) -> str:
    """The regconfig name to use for ``ckanext.vernetztestadt.search.text_config``."""
    return f"{SCHEMA}.{language}" if language in STEMMED_LANGUAGES else language


_DDL = [
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    *(statement for language in STEMMED_LANGUAGES for statement in _language_ddl(language)),
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.layout (version integer NOT NULL)""",
    f"CREATE SEQUENCE IF NOT EXISTS {SCHEMA}.documents_seq",
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        index_id text PRIMARY KEY,
        seq bigint NOT NULL DEFAULT nextval('{SCHEMA}.documents_seq'),
        site_id text NOT NULL,
        id text,
        name text,
        entity_type text,
        dataset_type text,
        state text,
        capacity text,
        title_string text,
        permission_labels text[] NOT NULL DEFAULT '{{}}',
        facet_terms text[] NOT NULL DEFAULT '{{}}',
        doc jsonb NOT NULL,
        fields jsonb NOT NULL,
        texts jsonb NOT NULL,
        dates jsonb NOT NULL,
        numbers jsonb NOT NULL,
        tsv tsvector NOT NULL,
        indexed_at timestamptz NOT NULL DEFAULT now()
    )""",
    f"CREATE INDEX IF NOT EXISTS documents_fields_idx ON {TABLE} USING gin (fields jsonb_path_ops)",
    f"CREATE INDEX IF NOT EXISTS documents_tsv_idx ON {TABLE} USING gin (tsv)",
    f"CREATE INDEX IF NOT EXISTS documents_labels_idx ON {TABLE} USING gin (permission_labels)",
    f"CREATE INDEX IF NOT EXISTS documents_site_state_idx ON {TABLE} (site_id, state)",
    f"CREATE INDEX IF NOT EXISTS documents_id_idx ON {TABLE} (id)",
    # dismax free text matches ``name`` too; with this index all its clauses
    # can be answered from indexes (a BitmapOr) instead of a full scan
    f"CREATE INDEX IF NOT EXISTS documents_name_idx ON {TABLE} (name)",
    # CKAN's default and "last modified" sorts, and "name ascending", in the
    # exact order the search asks for (ties broken by ``seq``): a page whose
    # counts come from the cache is read straight off these indexes
    f"CREATE INDEX IF NOT EXISTS documents_modified_idx ON {TABLE} "
    "(((dates->>'metadata_modified')::float8) DESC NULLS LAST, seq)",
    f"CREATE INDEX IF NOT EXISTS documents_title_idx ON {TABLE} "
    "((title_string COLLATE \"C\") NULLS LAST, seq)",
]

_ready: set[str] = set()
_ready_lock = threading.Lock()


def ensure_schema(engine: sa.Engine) -> bool:
    """Create schema and table once per process and database, if missing;
    True when this call created them (the index is then empty).

    Runs on its own connection (not CKAN's transaction), under an advisory
    lock so that two processes starting at once do not race on the DDL.
    """
    key = str(engine.url)
    if key in _ready:
        return False
    with _ready_lock, engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": SCHEMA})
        created = _apply_layout(conn)
        _ready.add(key)
    return created


def _apply_layout(conn: Connection) -> bool:
    exists = conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": f"{SCHEMA}.layout"}).scalar()
    if exists:
        version = conn.execute(sa.text(f"SELECT max(version) FROM {SCHEMA}.layout")).scalar()
        if version == LAYOUT_VERSION:
            return False
        conn.execute(sa.text(f"DROP SCHEMA {SCHEMA} CASCADE"))
    for statement in _DDL:
        conn.execute(sa.text(statement))
    conn.execute(sa.text(f"INSERT INTO {SCHEMA}.layout VALUES (:v)"), {"v": LAYOUT_VERSION})
    return True


IN_COMMIT = "vernetztestadt_search.in_commit"
HAS_WORK = "vernetztestadt_search.has_work"


def track_commits(session: Any) -> None:
    """Record, per session, whether it is committing or holds unfinished work.

    CKAN asks the index to commit (Solr's ``commit=True``) both from inside a
    unit of work that it commits itself afterwards (package_create/update/
    delete) and from places where nothing commits later (``search-index
    clear``, tag_delete's re-indexing). ``should_commit`` tells them apart.
    ``insert=True`` puts the mark before CKAN's own before_commit listener.
    """
    if sa.event.contains(session, "before_commit", _mark_commit):
        return
    sa.event.listen(session, "before_commit", _mark_commit, insert=True)
    sa.event.listen(session, "after_flush", _mark_work)
    for name in ("after_commit", "after_rollback"):
        sa.event.listen(session, name, _unmark)


def _mark_commit(session: Any) -> None:
    session.info[IN_COMMIT] = True


def _mark_work(session: Any, *_: Any) -> None:
    session.info[HAS_WORK] = True


def _unmark(session: Any, *_: Any) -> None:
    session.info.pop(IN_COMMIT, None)
    session.info.pop(HAS_WORK, None)


def should_commit(session: Any) -> bool:
    """True when an index write is the only work of the session's transaction,
    so committing it now cannot commit (or be undone with) anything else."""
    return not (session.info.get(IN_COMMIT) or session.info.get(HAS_WORK)
                or session.in_nested_transaction()
                or session.new or session.dirty or session.deleted)


def forget_schema() -> None:
    """Let the next use re-check the schema (after a test dropped it)."""
    _ready.clear()


_COLUMNS = ("index_id, site_id, id, name, entity_type, dataset_type, state, capacity, "
            "title_string, permission_labels, facet_terms, doc, fields, texts, dates, numbers, tsv")


def _values(n: str) -> str:
    """One row of the upsert's VALUES; ``n`` suffixes its parameter names."""
    return (f"(:index_id{n}, :site_id{n}, :id{n}, :name{n}, :entity_type{n}, :dataset_type{n}, "
            f":state{n}, :capacity{n}, :title_string{n}, :permission_labels{n}, "
            f":facet_terms{n}, CAST(:doc{n} AS jsonb), CAST(:fields{n} AS jsonb), "
            f"CAST(:texts{n} AS jsonb), CAST(:dates{n} AS jsonb), CAST(:numbers{n} AS jsonb), "
            f"setweight(to_tsvector(CAST(:cfg AS regconfig), :text_a{n}), 'A') "
            f"|| setweight(to_tsvector(CAST(:cfg AS regconfig), :text_b{n}), 'B') "
            f"|| setweight(to_tsvector(CAST(:cfg AS regconfig), :text_c{n}), 'C'))")


_ON_CONFLICT = f"""
ON CONFLICT (index_id) DO UPDATE SET
    site_id = EXCLUDED.site_id, id = EXCLUDED.id, name = EXCLUDED.name,
    entity_type = EXCLUDED.entity_type, dataset_type = EXCLUDED.dataset_type,
    state = EXCLUDED.state, capacity = EXCLUDED.capacity, title_string = EXCLUDED.title_string,
    permission_labels = EXCLUDED.permission_labels, facet_terms = EXCLUDED.facet_terms,
    doc = EXCLUDED.doc,
    fields = EXCLUDED.fields, texts = EXCLUDED.texts, dates = EXCLUDED.dates,
    numbers = EXCLUDED.numbers, tsv = EXCLUDED.tsv, indexed_at = now(),
    seq = nextval('{SCHEMA}.documents_seq')
"""
#: Rows per upsert statement when many documents are added at once.
UPSERT_ROWS = 100


@functools.lru_cache(maxsize=8)
def _upsert_sql(rows: int) -> sa.TextClause:
    values = ", ".join(_values(str(i)) for i in range(rows))
    return sa.text(f"INSERT INTO {TABLE} ({_COLUMNS}) VALUES {values}{_ON_CONFLICT}")


_UPSERT = sa.text(f"INSERT INTO {TABLE} ({_COLUMNS}) VALUES {_values('')}{_ON_CONFLICT}")


def _first(row: IndexRow, name: str) -> str | None:
    values = row.fields.get(name)
    return values[0] if values else None


def facet_terms(row: IndexRow) -> list[str]:
    """``field<US>value`` of the ``FACET_FIELDS``, each once per document:
    like Solr, facets count documents, not repeated values."""
    return list(dict.fromkeys(f"{name}{FACET_SEPARATOR}{value}"
                              for name in FACET_FIELDS for value in row.fields.get(name, [])))


def _params(doc_json: str, row: IndexRow) -> dict[str, Any]:
    index_id = _first(row, "index_id") or _first(row, "id")
    if not index_id:
        raise ValueError("document without index_id or id")
    return {
        "index_id": index_id,
        "site_id": _first(row, "site_id") or "",
        **{k: _first(row, k) for k in
           ("id", "name", "entity_type", "dataset_type", "state", "capacity", "title_string")},
        "permission_labels": row.fields.get("permission_labels", []),
        "facet_terms": facet_terms(row),
        "doc": doc_json,
        **row.json_columns,
        "text_a": row.weighted_text["A"],
        "text_b": row.weighted_text["B"],
        "text_c": row.weighted_text["C"],
    }


def upsert(conn: Connection | Any, doc_json: str, row: IndexRow, text_config: str) -> None:
    """Insert or replace one document; ``index_id`` is Solr's unique key."""
    conn.execute(_UPSERT, {**_params(doc_json, row), "cfg": text_config})


def upsert_many(conn: Connection | Any, docs: list[tuple[str, IndexRow]],
                text_config: str) -> None:
    """Insert or replace many documents, ``UPSERT_ROWS`` to a statement (one
    round trip each instead of one per document). A later document with the
    same ``index_id`` wins, as with one ``upsert`` after another."""
    latest: dict[str, dict[str, Any]] = {}
    for doc_json, row in docs:
        params = _params(doc_json, row)
        latest.pop(params["index_id"], None)  # keep the order of the last writes
        latest[params["index_id"]] = params
    rows = list(latest.values())
    for start in range(0, len(rows), UPSERT_ROWS):
        chunk = rows[start:start + UPSERT_ROWS]
        if len(chunk) == 1:
            conn.execute(_UPSERT, {**chunk[0], "cfg": text_config})
            continue
        params = {"cfg": text_config}
        for i, one in enumerate(chunk):
            params.update({f"{name}{i}": value for name, value in one.items()})
        conn.execute(_upsert_sql(len(chunk)), params)
