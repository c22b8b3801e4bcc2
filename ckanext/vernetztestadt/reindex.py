"""Re-indexing every dataset fast, through CKAN's own indexing path.

Owns: the work of ``ckan vernetztestadt search-index-rebuild``: choosing the
datasets as ``ckan search-index rebuild`` does, cutting them into batches,
answering the per-dataset lookups of a batch from a few bulk queries, sending
each batch's documents to the index in one call, and spreading the batches
over forked worker processes.

Every dataset still goes through ``ckan.logic.index_update_package``, the
function CKAN's rebuild calls: ``package_show`` with every plugin's chained
action, ``read``/``before_resource_show``/``after_dataset_show`` hooks, the
default and the custom show schema, then ``index_package`` with every
plugin's ``before_dataset_index`` hook and the permission labels. So the
documents are CKAN's own; only where the rows come from and when they are
sent changes:

- *Prefetch.* Before a batch, one query per kind fetches what CKAN would
  otherwise ask once per dataset (the datasets, resources, tags, groups,
  organizations, relationships, group member counts, the name check of the
  show schema, ckanext-harvest's harvest object, this extension's validation
  statuses). A ``do_orm_execute`` listener answers a statement from those
  rows only when it is *exactly* the statement CKAN would send (same
  SQLAlchemy cache key and bound values), and otherwise lets it run: a
  statement changed by an upgrade or a plugin is slower, never answered
  wrongly. The Package objects stay in the session's identity map, so
  ``Package.get`` needs no query.
- *One write per batch.* ``index_package`` hands its document to a
  collecting connection; the batch's documents then go to the real
  connection (PostgreSQL backend or Solr) in one ``add`` and, on PostgreSQL,
  one commit.
- *Workers.* With ``workers > 1`` the batches are shared by processes forked
  after CKAN was loaded (``forked``, as CKAN's ``rebuild-fast`` does).

Like CKAN's rebuild, it reads each batch at one moment: a dataset changed
while the rebuild runs is re-indexed by that change itself.

Must not touch: the documents (CKAN and the plugins build them), the search
backend's storage, terminal output (``cli``).

Size: over 400 lines because selecting, batching, the bulk lookups and the
worker processes are one pipeline whose parts pass shared state (the batch
caches); each part is a short function.
"""
from __future__ import annotations

import logging
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData

from . import forked

log = logging.getLogger(__name__)

BATCH_SIZE = 200

#: (position in the cache key's bound values, index of the argument)
_Slots = tuple[tuple[int, int], ...]


# -- statements CKAN sends per dataset, and their bulk counterparts ----------------
@dataclass(frozen=True)
class Template:
    """One statement CKAN sends per dataset, recognised by its SQLAlchemy
    cache key (``key``) and the bound values that are not arguments
    (``fixed``); ``slots`` say where its arguments are. ``answer(prefetch,
    args)`` returns (column names, rows) from a batch's prefetch, or None to
    let the statement run."""

    name: str
    key: Any
    slots: _Slots
    fixed: tuple[tuple[int, Any], ...]
    answer: Callable[[Prefetch, tuple[Any, ...]], tuple[list[str], list[Any]] | None]


def _bound(statement: Any) -> tuple[Any, list[Any]] | None:
    cache_key = statement._generate_cache_key()
    if cache_key is None:
        return None
    return cache_key.key, [bind.effective_value for bind in cache_key.bindparams]


def learn(name: str, build: Callable[..., Any], nargs: int,
          answer: Callable[[Prefetch, tuple[Any, ...]], Any]) -> Template | None:
    """The template of ``build``'s statement (``build(*args)`` constructs it
    exactly as CKAN's code does); its arguments are found among the bound
    values by building it with sentinel strings."""
    sentinels = [f"\x00reindex-{name}-{i}" for i in range(nargs)]
    bound = _bound(build(*sentinels))
    if bound is None:
        return None
    key, values = bound
    slots = tuple((pos, sentinels.index(v)) for pos, v in enumerate(values) if v in sentinels)
    fixed = tuple((pos, v) for pos, v in enumerate(values) if v not in sentinels)
    if sorted(i for _, i in slots) != list(range(nargs)):
        return None
    return Template(name, key, slots, fixed, answer)


def _legacy(query: Any) -> Any:
    """The statement a legacy ``Query`` hands to ``Session.execute``."""
    return query._statement_20()


def templates() -> list[Template]:
    """The per-dataset statements of CKAN 2.12's ``package_show`` and
    ``index_package`` (with this portal's plugins) that a batch answers."""
    import ckan.model as model
    from ckan.model.core import State
    from sqlalchemy.sql import false, select

    res, tag, pkg_tag = model.resource_table, model.tag_table, model.package_tag_table
    member, group, rel = model.member_table, model.group_table, model.package_relationship_table
    session = model.Session
    # ckan/lib/dictization/model_dictize.py: package_dictize
    built = [
        learn("resources", lambda pid: select(res).where(res.c["package_id"] == pid), 1,
              lambda pre, a: pre.rows("resources", a[0])),
        learn("tags", lambda pid: select(tag, pkg_tag.c["state"]).join(
            pkg_tag, tag.c["id"] == pkg_tag.c["tag_id"]).where(pkg_tag.c["package_id"] == pid),
            1, lambda pre, a: pre.rows("tags", a[0])),
        learn("groups", lambda pid: select(group, member.c["capacity"]).join(
            member, group.c["id"] == member.c["group_id"]).where(
            member.c["table_id"] == pid, member.c["state"] == "active",
            group.c["is_organization"] == false()),
            1, lambda pre, a: pre.rows("groups", a[0])),
        learn("organization", lambda org: select(group).where(group.c["id"] == org).where(
            group.c["state"] == "active"), 1, lambda pre, a: pre.rows("organization", a[0])),
        learn("subject_of", lambda pid: select(rel).where(rel.c["subject_package_id"] == pid),
              1, lambda pre, a: pre.rows("subject_of", a[0])),
        learn("object_of", lambda pid: select(rel).where(rel.c["object_package_id"] == pid),
              1, lambda pre, a: pre.rows("object_of", a[0])),
        # model_dictize._get_members(context, group, "users") for member counts
        learn("members", lambda gid: _legacy(
            session.query(model.User, model.Member.capacity)
            .join(model.Member, model.Member.table_id == model.User.id)
            .filter(model.Member.group_id == gid)
            .filter(model.Member.state == "active")
            .filter(model.Member.table_name == "user")),
            1, lambda pre, a: pre.rows("members", a[0])),
        # ckan/logic/validators.py: package_name_validator (with context['package'])
        learn("name_taken", lambda name, pid: _legacy(session.query(
            session.query(model.Package.id).filter(
                model.Package.name == name, model.Package.state != State.DELETED,
            ).filter(model.Package.id != pid).exists())),
            2, lambda pre, a: pre.name_taken(a[0], a[1])),
    ]
    harvest = sys.modules.get("ckanext.harvest.model")  # only if the plugin loaded it
    if harvest is not None:
        objects = harvest.HarvestObject
        # ckanext/harvest/plugin.py: before_dataset_index
        built.append(learn("harvest_object", lambda pid: _legacy(
            session.query(objects).filter(objects.package_id == pid)
            .filter(objects.current == True)  # noqa: E712 - the plugin's own spelling
            .order_by(objects.import_finished.desc()).limit(1)),
            1, lambda pre, a: pre.not_harvested(a[0])))
    from .validation import reports

    if reports.table_exists():
        table = reports.TABLE
        # validation/reports.py: statuses
        built.append(learn("validation_statuses", lambda pid: sa.select(
            table.c.resource_id, table.c.status).where(table.c.package_id == pid),
            1, lambda pre, a: pre.rows("validation_statuses", a[0])))
    return [t for t in built if t is not None]


@dataclass
class Prefetch:
    """What one batch of datasets needs, fetched with one query per kind."""

    ids: list[str]
    packages: list[Any] = field(default_factory=list)
    keys: dict[str, list[str]] = field(default_factory=dict)
    by: dict[str, dict[Any, list[Any]]] = field(default_factory=dict)
    names: dict[str, set[str]] = field(default_factory=dict)
    harvested: set[str] | None = None
    hits: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def __post_init__(self) -> None:
        self.ids_set = set(self.ids)

    def rows(self, kind: str, value: Any) -> tuple[list[str], list[Any]] | None:
        found = self.by.get(kind)
        if found is None or value not in found:
            return None
        self.hits[kind] += 1
        return self.keys[kind], found[value]

    def name_taken(self, name: Any, package_id: Any) -> tuple[list[str], list[Any]] | None:
        owners = self.names.get(name)
        if owners is None or package_id not in self.ids_set:
            return None
        self.hits["name_taken"] += 1
        return ["anon_1"], [(bool(owners - {package_id}),)]

    def not_harvested(self, package_id: Any) -> tuple[list[str], list[Any]] | None:
        # only "no harvest object" is answered: an object's rows stay with the ORM
        if self.harvested is None or package_id not in self.ids_set or package_id in self.harvested:
            return None
        self.hits["harvest_object"] += 1
        return [], []

    def load(self, kinds: set[str]) -> Prefetch:
        import ckan.model as model
        from sqlalchemy.sql import false, select

        session = model.Session
        ids = self.ids
        res, tag, pkg_tag = model.resource_table, model.tag_table, model.package_tag_table
        member, group = model.member_table, model.group_table
        rel = model.package_relationship_table
        # kept referenced: Package.get then finds them in the identity map
        self.packages = session.query(model.Package).filter(model.Package.id.in_(ids)).all()
        for pid in ids:
            for kind in ("resources", "tags", "groups", "subject_of", "object_of",
                         "validation_statuses"):
                self.by.setdefault(kind, {})[pid] = []
        self._group("resources", session.execute(
            select(res).where(res.c["package_id"].in_(ids))), key=res.c["package_id"].name)
        self._group("tags", session.execute(
            select(tag, pkg_tag.c["state"], pkg_tag.c["package_id"].label("reindex_key"))
            .join(pkg_tag, tag.c["id"] == pkg_tag.c["tag_id"])
            .where(pkg_tag.c["package_id"].in_(ids))))
        self._group("groups", session.execute(
            select(group, member.c["capacity"], member.c["table_id"].label("reindex_key"))
            .join(member, group.c["id"] == member.c["group_id"])
            .where(member.c["table_id"].in_(ids), member.c["state"] == "active",
                   group.c["is_organization"] == false())))
        orgs = {p.owner_org for p in self.packages if p.owner_org}
        self.by["organization"] = {org: [] for org in orgs}
        self._group("organization", session.execute(
            select(group).where(group.c["id"].in_(orgs)).where(group.c["state"] == "active")),
            key="id")
        self._group("subject_of", session.execute(
            select(rel).where(rel.c["subject_package_id"].in_(ids))), key="subject_package_id")
        self._group("object_of", session.execute(
            select(rel).where(rel.c["object_package_id"].in_(ids))), key="object_package_id")
        at = self.keys["groups"].index("id")
        group_ids = {row[at] for rows in self.by["groups"].values() for row in rows}
        self.by["members"] = {gid: [] for gid in group_ids}
        self._group("members", session.execute(_legacy(
            session.query(model.User, model.Member.capacity,
                          model.Member.group_id.label("reindex_key"))
            .join(model.Member, model.Member.table_id == model.User.id)
            .filter(model.Member.group_id.in_(group_ids))
            .filter(model.Member.state == "active")
            .filter(model.Member.table_name == "user"))))
        wanted = {p.name for p in self.packages}
        self.names = {name: set() for name in wanted}
        for pid, name in session.execute(select(model.package_table.c.id,
                                                model.package_table.c.name)
                                         .where(model.package_table.c.name.in_(wanted),
                                                model.package_table.c.state != "deleted")):
            self.names[name].add(pid)
        if "harvest_object" in kinds:
            objects = sys.modules["ckanext.harvest.model"].HarvestObject.__table__
            self.harvested = set(session.execute(
                select(objects.c.package_id).where(objects.c.package_id.in_(ids),
                                                   objects.c.current.is_(True))).scalars())
        if "validation_statuses" in kinds:
            from .validation import reports

            table = reports.TABLE
            self._group("validation_statuses", session.execute(
                sa.select(table.c.resource_id, table.c.status,
                          table.c.package_id.label("reindex_key"))
                .where(table.c.package_id.in_(ids))))
        else:
            del self.by["validation_statuses"]
        return self

    def _group(self, kind: str, result: Any, key: str = "reindex_key") -> None:
        """Rows by ``key``; a ``reindex_key`` column added for grouping is
        dropped, so the rows are the ones CKAN's statement returns."""
        names = list(result.keys())
        extra = key == "reindex_key"
        self.keys[kind] = names[:-1] if extra else names
        position = names.index(key)
        found = self.by.setdefault(kind, {})
        for row in result:
            found.setdefault(row[position], []).append(tuple(row[:-1]) if extra else row)


class Answering:
    """The ``do_orm_execute`` listener that answers a batch's statements."""

    def __init__(self, known: Sequence[Template]) -> None:
        self.templates = {t.key: t for t in known}
        self.prefetch: Prefetch | None = None
        self.missed = 0

    def __call__(self, state: Any) -> Any:
        pre = self.prefetch
        if pre is None or not state.is_select or state.parameters:
            return None
        bound = _bound(state.statement)
        template = self.templates.get(bound[0]) if bound else None
        if template is None or bound is None:
            return None
        values = bound[1]
        if any(values[pos] != value for pos, value in template.fixed):
            return None
        args = [None] * len(template.slots)
        for pos, index in template.slots:
            args[index] = values[pos]
        answer = template.answer(pre, tuple(args))
        if answer is None:
            self.missed += 1
            return None
        keys, rows = answer
        return IteratorResult(SimpleResultMetaData(keys), iter(rows))


# -- collecting the documents ---------------------------------------------------------
class Collecting:
    """What ``index_package`` gets from ``make_connection()`` during a batch:
    it keeps the added documents; anything else goes to the real connection."""

    def __init__(self, connect: Callable[..., Any]) -> None:
        self.connect = connect
        self.docs: list[dict[str, Any]] = []

    def add(self, docs: list[dict[str, Any]], commit: bool | None = None, **_: Any) -> str:
        self.docs.extend(docs)
        return ""

    def flush(self) -> None:
        if self.docs:
            from ckan.lib.search.common import SearchIndexError

            docs, self.docs = self.docs, []
            try:
                self.connect().add(docs=docs, commit=False)
            except Exception as exc:
                message = str(exc.args[0])[:1000] if exc.args else repr(exc)
                raise SearchIndexError(f"index refused a batch: {message}") from exc

    def __getattr__(self, name: str) -> Any:
        self.flush()  # e.g. delete_package: keep the order of writes
        return getattr(self.connect(), name)


@contextmanager
def batch_mode(known: Sequence[Template]) -> Iterator[tuple[Answering, Collecting]]:
    """Install the answering listener and the collecting connection."""
    import ckan.lib.search.index as index_module
    import ckan.model as model

    listener = Answering(known)
    original = index_module.make_connection
    collecting = Collecting(original)
    sa.event.listen(model.Session, "do_orm_execute", listener)
    index_module.make_connection = lambda *_a, **_k: collecting  # type: ignore[assignment]
    try:
        yield listener, collecting
    finally:
        index_module.make_connection = original
        sa.event.remove(model.Session, "do_orm_execute", listener)


# -- the rebuild ---------------------------------------------------------------------
@dataclass
class Outcome:
    """What a batch (or the whole rebuild) did."""

    indexed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    answered: dict[str, int] = field(default_factory=dict)
    missed: int = 0

    def merge(self, other: Outcome) -> None:
        self.indexed += other.indexed
        self.failed += other.failed
        self.missed += other.missed
        for kind, count in other.answered.items():
            self.answered[kind] = self.answered.get(kind, 0) + count


def package_ids(only_missing: bool = False) -> list[str]:
    """The datasets ``ckan search-index rebuild`` indexes, in its order
    (``only_missing``: those the index lacks, as its ``--only-missing``)."""
    import ckan.model as model
    from ckan.common import config
    from ckan.lib import search

    packages = model.Session.query(model.Package.id)
    if config.get("ckan.search.remove_deleted_packages"):
        packages = packages.filter(model.Package.state != "deleted")
    ids = [r[0] for r in packages.all()]
    if not only_missing:
        return ids
    indexed = set(search.query_for(model.Package).get_all_entity_ids(max_results=len(ids)))
    return [i for i in ids if i not in indexed]


_known: list[Template] = []


def index_batch(ids: list[str], force: bool = False) -> Outcome:
    """Index ``ids`` through ``index_update_package``; commit the batch."""
    import ckan.logic as logic
    import ckan.model as model
    from ckan.lib import search

    if not _known:
        _known.extend(templates())
    outcome = Outcome()
    with batch_mode(_known) as (listener, collecting):
        pre = Prefetch(ids).load({t.name for t in _known})
        listener.prefetch = pre
        for pid in ids:
            try:
                logic.index_update_package({"ignore_auth": True}, pid, True)
                outcome.indexed += 1
            except Exception as exc:
                if not force:
                    model.Session.rollback()
                    raise
                log.error("Error while indexing dataset %s: %r\n%s", pid, exc,
                          search.text_traceback())
                outcome.failed.append((pid, repr(exc)[:300]))
                model.Session.rollback()
        listener.prefetch = None
        collecting.flush()
    model.Session.commit()
    outcome.answered = dict(pre.hits)
    outcome.missed = listener.missed
    del pre
    return outcome


def _child_batch(job: tuple[list[str], bool]) -> Outcome:
    ids, force = job
    return index_batch(ids, force)


def batches(ids: list[str], size: int) -> list[list[str]]:
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def rebuild(workers: int = 1, batch_size: int = BATCH_SIZE, force: bool = False,
            ids: list[str] | None = None, only_missing: bool = False,
            progress: Callable[[int, int], None] | None = None) -> Outcome:
    """Index every dataset (or ``ids``; or, ``only_missing``, those the index
    lacks) as ``ckan search-index rebuild`` does, in batches of
    ``batch_size``, with ``workers`` processes; then commit the index. A
    failing dataset stops the rebuild unless ``force``."""
    from ckan.lib import search

    chosen = package_ids(only_missing) if ids is None else list(ids)
    jobs = batches(chosen, max(1, batch_size))
    total = Outcome()
    report = progress or (lambda done, count: None)
    report(0, len(chosen))
    started = time.monotonic()
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            total.merge(index_batch(job, force))
            report(total.indexed + len(total.failed), len(chosen))
    else:
        for outcome in forked.unordered(_child_batch, [(j, force) for j in jobs], workers):
            total.merge(outcome)
            report(total.indexed + len(total.failed), len(chosen))
    search.commit()
    log.info("re-indexed %s datasets in %.1f s (%s answered from batches, %s asked)",
             total.indexed, time.monotonic() - started, sum(total.answered.values()),
             total.missed)
    return total


def clear_orphans() -> list[str]:
    """Remove index documents of datasets that no longer exist (what
    ``ckan search-index rebuild`` does after indexing)."""
    from ckan.cli.search_index import get_orphans
    from ckan.lib import search

    orphans = get_orphans()
    for package_id in orphans:
        search.clear(package_id)
    return orphans


