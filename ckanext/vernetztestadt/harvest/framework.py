"""The portal's harvesters on ckanext-harvest: gather, fetch, import.

Owns: the stages every harvester of the portal shares.

- **gather** reads the source config, asks the source's documents "changed
  since the last error-free run?" (ETag / Last-Modified, a checksum for
  ``package:`` snapshots), lets the harvester turn documents into ``Item``s
  (``read``), and creates one harvest object per item plus one per item that
  vanished upstream. A document that cannot be had or read is a gather error
  naming the source and the reason; then no object is created, so nothing of
  that run is published and earlier data stays as it was. So is a dataset
  name (the item's guid through the source's ``name_pattern``) that is not
  valid, comes twice or belongs to a dataset of another source — unless
  that source is the one this source ``replaces`` (same organisation, else a
  gather error), whose datasets it takes over. Items whose dataset a source
  replacing this one has taken over are skipped (job log), never withdrawn.
- **fetch** decides "not modified": the item's checksum equals the one in the
  published dataset's provenance, from this source under the name the pattern
  gives (no write at all then; a changed pattern renames on the next run).
- **import** publishes through ``publish`` (validated by the gate in strict
  mode) or withdraws, and records the change summary.

A harvester is a subclass naming its source type and its own config keys and
implementing ``read``; sources themselves are YAML files (``sources``).

Must not touch: parsing formats (the harvester modules) or HTTP (``fetching``).
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.harvest.harvesters.base import HarvesterBase
from ckanext.harvest.model import HarvestJob, HarvestObject, HarvestObjectExtra, HarvestSource

from . import config as source_config
from . import documents, formats, items, publish
from .documents import Document, DocumentError
from .items import Item

JOB_LOG = "ckanext.harvest.harvesters.vernetztestadt"


def job_log() -> logging.Logger:
    """The job log: under ckanext-harvest's logger, so that with
    ``ckan.harvest.log_scope`` its database handler keeps the change
    summaries (``harvest_log_list``) beside the jobs. It is a record of the
    jobs, not debug output: a logging file config loaded after this module
    (``disable_existing_loggers``) must not silence it."""
    logger = logging.getLogger(JOB_LOG)
    logger.disabled = False
    return logger

WITHDRAW = {"withdraw": True}
VALIDATORS = "vts_validators"
CHANGES = "vts_changes"


class InputError(Exception):
    """A document that is not what the source promises (German message)."""


@dataclass
class SourceRun:
    """One run of a source, as a harvester's ``read`` sees it."""

    source_id: str
    url: str
    title: str
    config: dict[str, Any]
    policy: Any
    #: bodies fetched while asking "changed?", used instead of a second download
    cache: dict[str, Document] = field(default_factory=dict)
    #: validators of every document fetched in this run, stored for the next
    validators: dict[str, dict[str, Any]] = field(default_factory=dict)

    def declared(self) -> list[dict[str, Any]]:
        """The documents named by the source: ``documents`` or its one URL."""
        return self.config.get("documents") or [{"url": self.url}]

    def get(self, url: str, expect_html: bool = False) -> Document:
        document = self.cache.get(url)
        if document is None or document.not_modified:
            document = documents.get(url, self.policy, expect_html=expect_html)
        self.validators[url] = document.validators()
        return document


def _object(job: HarvestJob, guid: str, content: str,
            extras: dict[str, str] | None = None) -> HarvestObject:
    """A new object of the job, added to the session (``_saved`` commits)."""
    obj = HarvestObject(guid=guid, job=job, source=job.source, content=content,
                        extras=[HarvestObjectExtra(key=k, value=v)
                                for k, v in (extras or {}).items()])
    model.Session.add(obj)
    return obj


def _saved(objects: list[HarvestObject]) -> list[str]:
    """The job's objects, committed at once (a gather is one transaction:
    a failure leaves no half of the objects), as ids."""
    model.Session.commit()
    return [obj.id for obj in objects]


def _extra(obj: HarvestObject, key: str) -> str | None:
    return next((e.value for e in obj.extras if e.key == key), None)


def _published_guids(source_id: str) -> set[str]:
    rows = (model.Session.query(HarvestObject.guid)
            .filter(HarvestObject.harvest_source_id == source_id,
                    HarvestObject.current.is_(True)).distinct())
    return {guid for (guid,) in rows}


class Harvester(HarvesterBase):
    """Base of the portal's harvesters (one per source type)."""

    source_type: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    #: the family of registered formats it reads (``formats``), if any
    format_family: ClassVar[str | None] = None
    config_keys: ClassVar[tuple[source_config.Key, ...]] = ()

    # -- what a harvester provides ------------------------------------------
    def read(self, run: SourceRun) -> list[Item]:
        """The items of the source's documents; raise InputError/DocumentError."""
        raise NotImplementedError

    # -- IHarvester ---------------------------------------------------------
    def info(self) -> dict[str, str]:
        return {"name": self.source_type, "title": self.title,
                "description": self.description + self._formats_read(),
                "form_config_interface": "Text"}

    def _formats_read(self) -> str:
        # derived from the registry: a new format shows on the source form
        return f" Formate: {formats.titles(self.format_family)}." if self.format_family else ""

    def validate_config(self, config: str | None) -> str | None:
        source_config.parse(config, self.config_keys)
        return config

    def gather_stage(self, harvest_job: HarvestJob) -> list[str] | None:
        source = harvest_job.source
        try:
            run = self._run(source)
            target = self._target(source, run.config)
            found = self._previous_items(harvest_job, run)
            if found is None:
                found = self.read(run)
            mine = self._check(found, source, target)
        except (InputError, DocumentError, source_config.ConfigError) as error:
            self._save_gather_error(_printable(f"Quelle „{source.title}“ ({source.url}): "
                                               f"{error}"), harvest_job)
            return None
        validators = json.dumps(run.validators, sort_keys=True)
        objects = [_object(harvest_job, item.guid, item.to_json(), {VALIDATORS: validators})
                   for item in mine]
        # upstream still has a skipped item: it is not withdrawn
        gone = _published_guids(source.id) - {item.guid for item in found}
        objects += [_object(harvest_job, guid, json.dumps(WITHDRAW)) for guid in sorted(gone)]
        return _saved(objects)

    def fetch_stage(self, harvest_object: HarvestObject) -> bool | str:
        target = self._object_target(harvest_object, "Fetch")
        if target is None:
            return False
        package = publish.find_package(target, harvest_object.guid)
        item = Item.from_data(json.loads(harvest_object.content or "{}"))
        if item is None:  # a withdrawal
            return "unchanged" if publish.is_withdrawn(package) else True
        return "unchanged" if publish.is_current(package, item, target) else True

    def import_stage(self, harvest_object: HarvestObject) -> bool:
        source = harvest_object.source
        target = self._object_target(harvest_object, "Import")
        if target is None:
            return False
        guid = harvest_object.guid
        package = publish.find_package(target, guid)
        item = Item.from_data(json.loads(harvest_object.content or "{}"))
        if item is None:
            return self._withdraw(harvest_object, package, target.withdraw)
        old = publish.published_item(package) if package is not None else None
        changes = items.changes(old, item)
        # the change summary goes with the publication: committed by it, or
        # rolled back with a refusal
        model.Session.add(HarvestObjectExtra(object=harvest_object, key=CHANGES,
                                             value=json.dumps(changes.as_dict(),
                                                              ensure_ascii=False)))
        try:
            publish.publish(item, target, harvest_object, changes, package)
        except tk.ValidationError as error:
            model.Session.rollback()
            self._save_object_error(_printable(f"„{guid}“ wurde nicht veröffentlicht: "
                                               f"{_message(error)}"), harvest_object, "Import")
            return False
        job_log().info("Quelle „%s“, Job %s: %s: %s", source.title,
                       harvest_object.harvest_job_id, guid, changes.summary_de())
        return True

    # -- helpers --------------------------------------------------------------
    def _run(self, source: HarvestSource) -> SourceRun:
        config = source_config.parse(source.config, self.config_keys)
        urls = [source.url, *(d["url"] for d in config.get("documents") or [])]
        return SourceRun(source_id=source.id, url=source.url, title=source.title,
                         config=config, policy=documents.policy(urls, config))

    def _previous_items(self, job: HarvestJob, run: SourceRun) -> list[Item] | None:
        """The last error-free run's items when no declared document changed
        since (conditional requests); None when something changed."""
        previous_job = self.last_error_free_job(job)
        if previous_job is None:
            return None
        # queried anew: last_error_free_job leaves ``objects`` filtered
        objects = (model.Session.query(HarvestObject)
                   .filter(HarvestObject.harvest_job_id == previous_job.id).all())
        stored = next(filter(None, (_extra(o, VALIDATORS) for o in objects)), None)
        if not stored:
            return None
        known = json.loads(stored)
        unchanged = True
        for entry in run.declared():
            url = entry["url"]
            answer = documents.get(url, run.policy, known.get(url), expect_html=True)
            run.cache[url] = answer
            unchanged = unchanged and answer.not_modified
        if not unchanged:
            return None
        run.validators = known
        found = (Item.from_data(json.loads(o.content)) for o in objects if o.content)
        return [item for item in found if item is not None]

    def _check(self, found: Iterable[Item], source: HarvestSource,
               target: publish.Target) -> list[Item]:
        """The items this source publishes: without those a source replacing
        it has taken over; InputError for a name it cannot use."""
        named: dict[str, Item] = {}
        for item in found:
            try:
                name = target.dataset_name(item.guid)
            except ValueError as error:
                raise InputError(str(error)) from None
            if name in named:
                raise InputError(f"Der Datensatz „{name}“ käme zweimal vor.")
            named[name] = item
        packages = publish.packages_named(list(named))
        mine = []
        for name, item in named.items():
            if publish.taken_over(packages.get(name), source.id):
                job_log().info("Quelle „%s“: „%s“ gehört jetzt der Quelle, die diese ersetzt; "
                               "übersprungen.", source.title, name)
                continue
            if publish.name_taken(packages.get(name), target):
                raise InputError(f"Der Name „{name}“ gehört schon einem Datensatz, "
                                 "der nicht aus dieser Quelle stammt.")
            mine.append(item)
        return mine

    def _target(self, source: HarvestSource, config: dict[str, Any]) -> publish.Target:
        package = model.Package.get(source.id)  # the source is a dataset too
        return publish.Target(
            source_id=source.id, source_title=source.title, source_url=source.url,
            harvester=self.source_type, owner_org=package.owner_org,
            dataset_type=config.get("dataset_type") or "dataset",
            private=config["private"], defaults=dict(config["dataset"]),
            title_note=config.get("title_note"), withdraw=config["withdraw"],
            source_name=package.name, name_pattern=config["name_pattern"],
            replaces_id=_replaced(config.get("replaces"), package))

    def _object_target(self, obj: HarvestObject, stage: str) -> publish.Target | None:
        """The target in fetch and import; None (an object error) when the
        config changed since gather so that it cannot be used. Worked out
        once per job and config text: a source's config lists every document,
        and parsing it for each of its objects made a job quadratic."""
        key = (obj.harvest_job_id, obj.source.config)
        target = _TARGETS.get(key)
        if target is None:
            try:
                target = self._target(obj.source, source_config.parse(obj.source.config,
                                                                       self.config_keys))
            except (InputError, source_config.ConfigError) as error:
                self._save_object_error(_printable(str(error)), obj, stage)
                return None
            _TARGETS.clear()  # one job at a time per process
            _TARGETS[key] = target
        return target

    def _withdraw(self, obj: HarvestObject, package: model.Package | None, mode: str) -> bool:
        if package is not None and not publish.is_withdrawn(package):
            publish.withdraw(package, mode, obj.harvest_job_id)
            job_log().info("Quelle „%s“, Job %s: %s zurückgezogen (%s)", obj.source.title,
                           obj.harvest_job_id, obj.guid, mode)
        obj.package_id = package.id if package is not None else None
        obj.current = False
        obj.save()
        return True


#: the target of the job this process works on: (job id, config text) -> target
_TARGETS: dict[tuple[str, str | None], publish.Target] = {}


def _replaced(name: str | None, source: model.Package) -> str | None:
    """The id of the source ``replaces`` names: another harvest source of the
    same organisation. One refusal for every other case, so that an editor
    learns nothing of sources outside the organisation."""
    if name is None:
        return None
    replaced = model.Package.get(name)
    if (replaced is None or replaced.type != "harvest" or replaced.id == source.id
            or replaced.owner_org != source.owner_org):
        raise InputError(f"„replaces“: Eine andere Harvest-Quelle „{name}“ gibt es in der "
                         "Organisation dieser Quelle nicht; übernehmen kann eine Quelle nur "
                         "Datensätze einer Quelle derselben Organisation.")
    return str(replaced.id)


def _message(error: tk.ValidationError) -> str:
    parts = []
    for field_name, messages in (error.error_dict or {}).items():
        texts = messages if isinstance(messages, list) else [messages]
        parts += [str(m) if field_name == "private" else f"{field_name}: {m}" for m in texts]
    return " | ".join(parts) or str(error)


def _printable(message: str) -> str:
    """Messages quote documents; NUL and other control characters (e.g.
    UTF-16 read as text) cannot be stored and would hide the reason."""
    return "".join(c if c.isprintable() or c in "\n\t" else "�" for c in message)
