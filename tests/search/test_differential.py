"""Differential oracle: the PostgreSQL search backend against a real Solr 9.

The same seeded corpus (``differential_cases``: 1,000 datasets of the four
scheming types) is created through CKAN's actions while every document that
CKAN's ``index_package`` builds goes to both engines (``engines.engine(
"both")``): the PostgreSQL backend and a real Solr core with CKAN's
schema.xml receive the very same documents. Then 2,200 seeded
``package_search`` parameter sets run through CKAN's action on both
engines, as users with different rights, and the answers are compared: hit
count, facet counts, and the page of ids (under a score sort, the set of
all hits instead of the order).

A difference is either in one of the named classes of
``docs/search-differences.md`` (the test recognises each one, see
``classify``) or it fails the test. The closing line says how the engines
agreed, e.g. ``differential: 2200 queries, 1568 identical (71.3 %), 632 in
named classes (score-order 496, word-delimiter 66, ...), 0 unexplained``.

Skipped with the reason when Solr cannot run here (no Java 17 or Maven).
``VERNETZTESTADT_DIFFERENTIAL_REPORT=<file>`` writes every difference as
JSON lines; ``VERNETZTESTADT_DIFFERENTIAL_SIZE=<datasets>,<queries>`` makes
a smaller run while working on the backend (the full size is the test).
"""
from __future__ import annotations

import copy
import json
import os
import random
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ckan.lib.search as search
import ckan.model as model
import ckan.plugins.toolkit as tk
import pysolr
import pytest
import requests
import sqlalchemy as sa
from ckan.lib.search.common import SearchError, make_connection
from ckan.tests import factories
from differential_cases import (
    DATASETS,
    GROUPS,
    ORGANIZATIONS,
    QUERIES,
    SEED,
    TYPES,
    USERS,
    Known,
    Planned,
    Search,
    plan_corpus,
    words,
)
from differential_cases import generate as generate_searches

from ckanext.vernetztestadt.runtime import solr
from ckanext.vernetztestadt.runtime.services import Runtime, ServiceError
from ckanext.vernetztestadt.search import storage
from ckanext.vernetztestadt.search.analysis import fold
from ckanext.vernetztestadt.search.fields import FieldType, field_type
from ckanext.vernetztestadt.testing import engines
from ckanext.vernetztestadt.testing.engines import engine

#: The plugins that shape the indexed documents (scheming types, our
#: before_dataset_index, dcat, spatial's bbox fields) and the search backend;
#: activity, harvest and the views add nothing to the index, only time.
PLUGINS = ("vernetztestadt_search vernetztestadt scheming_datasets dcat spatial_metadata "
           "spatial_query")

pytestmark = [
    pytest.mark.usefixtures("clean_db", "clean_index"),
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    # the corpus' resources point at made-up URLs; the gate has tests/validation
    pytest.mark.ckan_config("ckanext.vernetztestadt.validation.gate", "false"),
    pytest.mark.ckan_config("ckan.views.default_views", ""),
    pytest.mark.ckan_config("ckan.auth.create_unowned_dataset", "true"),
]

DEFAULT_SORT = "score desc, metadata_modified desc"
ROWS_MAX = 1000
#: At most this many differing datasets are examined atom by atom.
EXAMINED = 40
TEXT_CONFIG = "english"  # what CKAN's Solr schema analyses with


def _size() -> tuple[int, int]:
    value = os.environ.get("VERNETZTESTADT_DIFFERENTIAL_SIZE", "").strip()
    if not value:
        return DATASETS, QUERIES
    datasets, queries = (int(v) for v in value.split(","))
    return datasets, queries


# -- services ----------------------------------------------------------------------------
@pytest.fixture
def solr_core() -> str:
    """A standalone Solr core of our own next to the test database."""
    try:
        solr.check_tools()
    except ServiceError as exc:
        pytest.skip(str(exc))
    home = Path(os.environ.get("VERNETZTESTADT_HOME") or Path(__file__).parents[2] / ".portal")
    runtime = Runtime.load(home)
    database = sa.engine.make_url(tk.config["sqlalchemy.url"]).database
    name = f"{database}_differential"
    solr.start(runtime, "solr", (name,))
    url = solr.url(runtime, "solr", name)
    assert url
    return url


@pytest.fixture
def pooled_engine(clean_db: None) -> Iterable[None]:
    """CKAN's migrations leave the model on a NullPool engine: every
    statement would open a new PostgreSQL connection (~30 ms here). A pooled
    engine on the same database makes creating 1,000 datasets affordable."""
    before = model.meta.engine
    pooled = sa.create_engine(before.url, pool_pre_ping=True)
    model.init_model(pooled)
    yield
    model.init_model(before)
    pooled.dispose()


# -- the corpus --------------------------------------------------------------------------
def _context(user_key: str, **extra: Any) -> dict[str, Any]:
    return {"user": USERS[user_key][0], **extra}


def create_users_and_owners() -> None:
    for name, sysadmin, _ in USERS.values():
        if not name:
            continue
        (factories.Sysadmin if sysadmin else factories.User)(name=name)
    for org, title in ORGANIZATIONS:
        members = [{"name": name, "capacity": capacity[org]}
                   for name, _, capacity in USERS.values() if org in capacity]
        factories.Organization(name=org, title=title, users=members)
    for group, title in GROUPS:
        factories.Group(name=group, title=title)


def create_corpus(planned: list[Planned]) -> None:
    create = tk.get_action("package_create")
    for item in planned:
        dataset = create(_context(item.creator, ignore_auth=True), copy.deepcopy(item.data))
        if item.patch:
            tk.get_action("package_patch")(_context("sysadmin", ignore_auth=True),
                                           {"id": dataset["id"], **item.patch})
        if item.delete:
            tk.get_action("package_delete")(_context("sysadmin", ignore_auth=True),
                                            {"id": dataset["id"]})


def known_facts() -> Known:
    packages = (model.Session.query(model.Package)
                .filter(model.Package.state != "deleted").order_by(model.Package.name).all())
    title_words = sorted({w for p in packages for w in words(p.title or "") if len(w) > 2})
    note_words = sorted({w for p in packages for w in words(p.notes or "") if len(w) > 2})
    phrases = set()
    for p in packages:
        for text in (p.title or "", p.notes or ""):
            seq = words(text)
            phrases.update(" ".join(seq[i:i + 2]) for i in range(len(seq) - 1))
    stamp = "%Y-%m-%dT%H:%M:%S.%fZ"
    return Known(names=[p.name for p in packages], title_words=title_words,
                 note_words=note_words, phrases=sorted(phrases),
                 modified=sorted(p.metadata_modified.strftime(stamp) for p in packages),
                 created=sorted(p.metadata_created.strftime(stamp) for p in packages))


# -- running searches --------------------------------------------------------------------
@dataclass
class Outcome:
    count: int = 0
    ids: list[str] = field(default_factory=list)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    error: str | None = None


def run(user: str, params: dict[str, Any]) -> Outcome:
    try:
        result = tk.get_action("package_search")(_context(user), copy.deepcopy(params))
    except (SearchError, tk.ValidationError) as exc:
        return Outcome(error=f"{type(exc).__name__}: {str(exc)[:300]}")
    return Outcome(result["count"], [r["id"] for r in result["results"]],
                   {k: dict(v) for k, v in result["facets"].items()})


def all_hits(user: str, params: dict[str, Any]) -> set[str] | None:
    """Ids of every hit of ``params`` (paged by ROWS_MAX), or None on an error."""
    base = {k: v for k, v in params.items() if k not in ("facet.field", "facet.limit",
                                                            "facet.mincount", "start")}
    base.update(fl=["id"], rows=ROWS_MAX)
    found: set[str] = set()
    start = 0
    while True:
        outcome = run(user, {**base, "start": start})
        if outcome.error:
            return None
        found.update(outcome.ids)
        start += ROWS_MAX
        if start >= outcome.count:
            return found


def matching(atom: dict[str, str], ids: list[str]) -> set[str] | None:
    """Which of ``ids`` the atom alone matches (as sysadmin, drafts and
    private datasets included)."""
    restrict = "id:(" + " OR ".join(f'"{i}"' for i in ids) + ")"
    params: dict[str, Any] = {"include_private": True, "include_drafts": True,
                              "rows": len(ids), "fl": ["id"]}
    if "fq" in atom:
        params.update(q="*:*", fq=f"{atom['fq']} {restrict}")
    else:
        params.update({k: v for k, v in atom.items()}, fq=restrict)
    outcome = run("sysadmin", params)
    return None if outcome.error else set(outcome.ids)


# -- classification ------------------------------------------------------------------------
@dataclass
class Verdict:
    index: int
    kind: str  # "identical", a class name, or "unexplained"
    detail: str = ""


def score_sorted(s: Search) -> bool:
    """True when the page is ordered by relevance that actually varies."""
    sort = s.params.get("sort") or DEFAULT_SORT
    first = sort.split(",")[0].split()[0]
    match_all = str(s.params.get("q", "")).strip() in ("", "*:*")
    return first == "score" and (not match_all or "ext_bbox" in s.params)


def facet_difference(pg: Outcome, solr_: Outcome) -> list[str]:
    return sorted(name for name in set(pg.facets) | set(solr_.facets)
                  if pg.facets.get(name) != solr_.facets.get(name))


#: Solr field types of the analysed fields a query atom can name.
_TEXT_GENERAL = ("res_name", "res_description", "author", "author_email", "maintainer",
                 "maintainer_email")


def analysed_text(atom: dict[str, str]) -> tuple[str, str] | None:
    """(Solr field type, text) of an atom whose match depends on text
    analysis: a dismax clause (CKAN's qf ends in ``text``) or a leaf on an
    analysed field; None for exact fields, ranges, filters, the map."""
    q = atom.get("q")
    if q is None or "ext_bbox" in atom or q.strip() == "*:*":
        return None
    if ":" not in q:
        return "text", q.strip('"')
    name, _, value = q.lstrip("+-").partition(":")
    if field_type(name) is not FieldType.TEXT:
        return None
    return ("text_general" if name in _TEXT_GENERAL else "text"), value.strip('"')


def solr_tokens(core: str, field_type_name: str, text: str) -> list[str]:
    """The tokens Solr's query analysis makes of ``text`` (its own API)."""
    response = requests.get(f"{core}/analysis/field", timeout=30, params={
        "analysis.fieldtype": field_type_name, "analysis.query": text, "wt": "json"})
    response.raise_for_status()
    stages = response.json()["analysis"]["field_types"][field_type_name]["query"]
    return [token["text"] for token in stages[-1]] if stages else []


def postgres_tokens(text: str) -> list[str]:
    """The lexemes the PostgreSQL backend makes of ``text``, in order."""
    with model.meta.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT lexeme FROM unnest(to_tsvector(CAST(:cfg AS regconfig), :t)) "
            "ORDER BY positions[1], lexeme"),
            {"cfg": storage.text_search_config(TEXT_CONFIG), "t": fold(text)}).all()
    return [r[0] for r in rows]


def analysis_class(core: str, atom: dict[str, str]) -> tuple[str, str] | None:
    """Which analysis difference explains an atom the engines judge
    differently, with the evidence; None if the atom is not analysed."""
    found = analysed_text(atom)
    if found is None:
        return None
    kind, text = found
    if "*" in text or "?" in text:  # patterns run over each engine's indexed tokens
        return "document-analysis", f"wildcard {text!r} over differently stemmed tokens"
    solr_side, pg_side = solr_tokens(core, kind, text), postgres_tokens(text)
    evidence = f"{text!r}: solr {solr_side}, postgres {pg_side}"
    if len(solr_side) != len(pg_side):
        return "word-delimiter", evidence
    if sorted(solr_side) != sorted(pg_side):
        return "stemming", evidence
    return "document-analysis", evidence


def compare(s: Search, pg: Outcome, sl: Outcome) -> str | None:
    """None when identical, else what differs first."""
    if pg.error or sl.error:
        return None if (pg.error and sl.error) else "error"
    if pg.count != sl.count:
        return "count"
    if pg.ids != sl.ids:
        return "page"
    if pg.facets != sl.facets:
        return "facets"
    return None


# -- the test -----------------------------------------------------------------------------
@pytest.mark.usefixtures("pooled_engine")
def test_postgres_answers_like_solr(solr_core: str, capsys: pytest.CaptureFixture[str]) -> None:
    timings: dict[str, float] = {}
    rng = random.Random(SEED)
    size, count = _size()
    planned = plan_corpus(rng, size)

    t0 = time.monotonic()
    # every document CKAN's index_package builds goes to both engines
    with engine("both", solr_url=solr_core, text_config=TEXT_CONFIG):
        search.clear_all()  # both indexes, Solr's from the last run too
        create_users_and_owners()
        create_corpus(planned)
        make_connection().commit()
    timings["create"] = time.monotonic() - t0

    known = known_facts()
    searches = generate_searches(rng, known, count)
    outcomes: dict[str, list[Outcome]] = {}
    for name, options in (("postgres", {}), ("solr", {"solr_url": solr_core})):
        t0 = time.monotonic()
        with engine(name, text_config=TEXT_CONFIG, **options):
            outcomes[name] = [run(s.user, s.params) for s in searches]
        timings[f"search-{name}"] = time.monotonic() - t0

    with engine("postgres", text_config=TEXT_CONFIG):
        corpus_check(size, count, searches, outcomes)
    differing = [(i, kind) for i, s in enumerate(searches)
                 if (kind := compare(s, outcomes["postgres"][i], outcomes["solr"][i]))]

    # examine the differences: every hit on both engines, then the atoms
    t0 = time.monotonic()
    hits: dict[str, dict[int, set[str] | None]] = {"postgres": {}, "solr": {}}
    atom_hits: dict[str, dict[tuple[int, int], set[str] | None]] = {"postgres": {}, "solr": {}}
    for name, options in (("postgres", {}), ("solr", {"solr_url": solr_core})):
        with engine(name, text_config=TEXT_CONFIG, **options):
            for i, kind in differing:
                if kind != "error":
                    hits[name][i] = all_hits(searches[i].user, searches[i].params)
    examined = {}
    for i, _ in differing:
        pg_hits, sl_hits = hits["postgres"].get(i), hits["solr"].get(i)
        if pg_hits is not None and sl_hits is not None and pg_hits != sl_hits:
            examined[i] = sorted(pg_hits ^ sl_hits)[:EXAMINED]
    for name, options in (("postgres", {}), ("solr", {"solr_url": solr_core})):
        with engine(name, text_config=TEXT_CONFIG, **options):
            for i, ids in examined.items():
                atoms = list(searches[i].atoms)
                if "ext_bbox" in searches[i].params:
                    atoms.append({"q": "*:*", "ext_bbox": searches[i].params["ext_bbox"]})
                for k, atom in enumerate(atoms):
                    atom_hits[name][(i, k)] = matching(atom, ids)
    timings["examine"] = time.monotonic() - t0

    verdicts = []
    for i, kind in differing:
        verdicts.append(classify(solr_core, i, kind, searches[i], outcomes["postgres"][i],
                                 outcomes["solr"][i], hits, atom_hits))
    report(searches, outcomes, verdicts)

    classes = Counter(v.kind for v in verdicts if v.kind != "unexplained")
    unexplained = [v for v in verdicts if v.kind == "unexplained"]
    identical = len(searches) - len(verdicts)
    named = ", ".join(f"{k} {n}" for k, n in classes.most_common()) or "none"
    line = (f"differential: {len(searches)} queries, {identical} identical "
            f"({100 * identical / len(searches):.1f} %), {sum(classes.values())} in named "
            f"classes ({named}), {len(unexplained)} unexplained")
    with capsys.disabled():
        print("\n" + line)
        print("differential timings: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    details = "\n".join(f"- {searches[v.index].describe()}\n  {v.detail}"
                        for v in unexplained[:25])
    assert not unexplained, f"{line}\n{details}"
    # the classes must stay exceptions, not swallow the comparison: apart
    # from ranking and facets on analysed fields, the hits agree
    same_hits = identical + classes["score-order"] + classes["facet-analysed"]
    assert same_hits >= 0.9 * len(searches), line
    undocumented = set(classes) - engines.documented_differences()
    assert not undocumented, f"classes without a section in docs/search-differences.md: " \
                             f"{sorted(undocumented)}"


def corpus_check(size: int, count: int, searches: list[Search],
                 outcomes: dict[str, list[Outcome]]) -> None:
    """The comparison is only worth something if the corpus is what it claims."""
    assert len(searches) == count
    if (size, count) == (DATASETS, QUERIES):  # the full run
        assert size >= 1000 and count >= 2000
    counts = outcomes["postgres"]
    assert sum(1 for o in counts if not o.error and o.count) > 0.5 * len(searches), \
        "most searches should find something"
    everything = run("sysadmin", {"include_private": True, "include_drafts": True, "rows": 0,
                                  "facet.field": json.dumps(["dataset_type", "capacity",
                                                             "state"])})
    assert everything.count >= 0.95 * size
    assert set(everything.facets["dataset_type"]) == set(TYPES)
    assert everything.facets["capacity"].get("private", 0) > 0.05 * size
    assert everything.facets["state"].get("draft", 0) > 0.02 * size


def classify(core: str, i: int, kind: str, s: Search, pg: Outcome, sl: Outcome,
             hits: dict[str, dict[int, set[str] | None]],
             atom_hits: dict[str, dict[tuple[int, int], set[str] | None]]) -> Verdict:
    """Put one difference into a named class of docs/search-differences.md,
    or call it unexplained (a backend bug until shown otherwise)."""
    if kind == "error":
        if (pg.error and not sl.error and s.params.get("ext_bbox")
                and "SyntaxError" in pg.error):  # the map search's edismax reads it anyway
            return Verdict(i, "edismax-fallback", pg.error)
        return Verdict(i, "unexplained", f"postgres: {pg.error} | solr: {sl.error}")
    pg_hits, sl_hits = hits["postgres"].get(i), hits["solr"].get(i)
    if pg_hits is None or sl_hits is None:
        return Verdict(i, "unexplained", "the full hit list failed on one engine")
    if pg_hits == sl_hits:
        fields = facet_difference(pg, sl)
        if any(field_type(f) is not FieldType.TEXT for f in fields):
            return Verdict(i, "unexplained", f"facets differ: {_facet_detail(pg, sl, fields)}")
        if pg.ids != sl.ids and not score_sorted(s):
            return Verdict(i, "unexplained", f"same hits, different page: pg {pg.ids[:5]} "
                                             f"solr {sl.ids[:5]}")
        if fields:  # (the page may differ by score as well)
            return Verdict(i, "facet-analysed", ", ".join(fields))
        return Verdict(i, "score-order")
    # different hits: which atom do the engines judge differently?
    atoms = list(s.atoms)
    if "ext_bbox" in s.params:
        atoms.append({"q": "*:*", "ext_bbox": s.params["ext_bbox"]})
    split = []
    for k, atom in enumerate(atoms):
        a_pg, a_sl = atom_hits["postgres"].get((i, k)), atom_hits["solr"].get((i, k))
        if a_pg != a_sl:
            split.append(atom)
    where = (f"only postgres {len(pg_hits - sl_hits)}, only solr {len(sl_hits - pg_hits)}; "
             f"atoms judged differently: {split}")
    if not split:
        return Verdict(i, "unexplained", f"every atom agrees, the whole does not ({where})")
    explained = [analysis_class(core, atom) for atom in split]
    if any(e is None for e in explained):
        return Verdict(i, "unexplained", where)
    order = ("word-delimiter", "stemming", "document-analysis")
    kind_, evidence = min((e for e in explained if e), key=lambda e: order.index(e[0]))
    return Verdict(i, kind_, f"{where}; {evidence}")


def _facet_detail(pg: Outcome, sl: Outcome, fields: list[str]) -> str:
    out = []
    for name in fields[:3]:
        a, b = pg.facets.get(name, {}), sl.facets.get(name, {})
        diff = {v: (a.get(v), b.get(v)) for v in set(a) | set(b) if a.get(v) != b.get(v)}
        out.append(f"{name}: {dict(list(diff.items())[:5])}")
    return "; ".join(out)


def report(searches: list[Search], outcomes: dict[str, list[Outcome]],
           verdicts: list[Verdict]) -> None:
    path = os.environ.get("VERNETZTESTADT_DIFFERENTIAL_REPORT")
    if not path:
        return
    with open(path, "w", encoding="utf-8") as out:
        for v in verdicts:
            pg, sl = outcomes["postgres"][v.index], outcomes["solr"][v.index]
            s = searches[v.index]
            out.write(json.dumps({
                "kind": v.kind, "detail": v.detail, "family": s.family, "user": s.user,
                "params": s.params, "atoms": s.atoms,
                "postgres": {"count": pg.count, "ids": pg.ids[:10], "error": pg.error,
                             "facets": pg.facets},
                "solr": {"count": sl.count, "ids": sl.ids[:10], "error": sl.error,
                         "facets": sl.facets},
            }, ensure_ascii=False) + "\n")


# -- what Solr refuses to index ------------------------------------------------------------
BASE_DOC = {"index_id": "refusal-probe", "id": "refusal-probe", "site_id": "refusal-probe",
            "name": "refusal-probe", "entity_type": "package"}
#: (extra fields or None-valued removals, refused by Solr under CKAN's schema?)
INDEX_CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("one value in a list", {"theme": ["TECH"]}, False),
    ("lists of vocab_*", {"vocab_theme": ["TECH", "REGI"]}, False),
    ("lists of tags", {"tags": ["Umwelt", "Verkehr"], "res_format": ["CSV", "PDF"]}, False),
    ("a date without time", {"issued_date": "2020-01-01"}, False),
    ("a date with offset", {"issued_date": "2020-01-01T00:00:00+02:00"}, False),
    ("numbers as text", {"minx": "7.5", "views_total": "3"}, False),
    ("two names", {"name": ["a", "b"]}, True),
    ("a list in the catch-all", {"theme": ["TECH", "REGI"]}, True),
    ("null and a value", {"theme": [None, "TECH"]}, True),
    ("two extras values", {"extras_theme": ["TECH", "REGI"]}, True),
    ("two titles", {"title": ["Eins", "Zwei"]}, True),
    ("two creation dates", {"metadata_created": ["2020-01-01T00:00:00Z",
                                                 "2021-01-01T00:00:00Z"]}, True),
    ("an unreadable date", {"metadata_modified": "gestern"}, True),
    ("an unreadable float", {"minx": "abc"}, True),
    ("a fraction for an int", {"views_total": "1.5"}, True),
    ("no site_id", {"site_id": None}, True),
    ("an empty site_id", {"site_id": ""}, True),
    ("no index_id", {"index_id": None}, True),
]


def _probe(extra: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in {**BASE_DOC, **extra}.items() if v is not None}


def _refused(doc: dict[str, Any]) -> bool:
    try:
        make_connection().add(docs=[doc], commit=False)
    except pysolr.SolrError:
        return True
    finally:
        model.Session.rollback()
    return False


@pytest.mark.parametrize("case, extra, refused", INDEX_CASES, ids=[c[0] for c in INDEX_CASES])
def test_postgres_refuses_what_solr_refuses(case: str, extra: dict[str, Any],
                                            refused: bool) -> None:
    """Solr is the reference (the expectations are checked against a real
    Solr below): CKAN's index_package then fails with SearchIndexError."""
    with engine("postgres", text_config=TEXT_CONFIG):
        assert _refused(_probe(extra)) is refused, case


def test_solr_refuses_the_same(solr_core: str) -> None:
    with engine("solr", solr_url=solr_core):
        try:
            found = {case: _refused(_probe(extra)) for case, extra, _ in INDEX_CASES}
        finally:
            make_connection().delete(q="site_id:refusal-probe", commit=True)
    assert found == {case: refused for case, _, refused in INDEX_CASES}
