"""Harvest sources declared as YAML files in ``harvesters/``.

Owns: reading and checking the source definitions shipped with the package
(one YAML file per source: name, type, title, URL(s), organization,
schedule, target dataset type, source config) and turning each into the
data of ckanext-harvest's ``harvest_source_create``/``_update``, so that
``ckan vernetztestadt sources sync`` can create or update the sources
idempotently. A new source is a YAML file, not code.

Must not touch: harvesting itself (the harvesters) or fetching.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .. import resources
from . import config as source_config
from .registry import harvester_types

#: ckanext-harvest's schedules (``harvest_source_frequency_exists``).
FREQUENCIES = ("MANUAL", "MONTHLY", "WEEKLY", "BIWEEKLY", "DAILY", "ALWAYS")
_NAME = re.compile(r"[a-z0-9_-]{2,100}")
_REQUIRED = ("name", "type", "title", "url", "organization")


class SourceDefinitionError(ValueError):
    """A YAML file that does not describe a usable source (German message)."""


@dataclass(frozen=True)
class SourceDefinition:
    name: str
    type: str
    title: str
    url: str
    organization: str
    frequency: str = "MANUAL"
    dataset_type: str = "dataset"
    notes: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    file: str = ""

    def action_data(self, owner_org_id: str) -> dict[str, Any]:
        """The source as ckanext-harvest's actions take it."""
        config = {"dataset_type": self.dataset_type, **self.config}
        return {"name": self.name, "title": self.title, "url": self.url,
                "source_type": self.type, "frequency": self.frequency, "notes": self.notes,
                "owner_org": owner_org_id,
                "config": json.dumps(config, ensure_ascii=False, sort_keys=True)}


def _problems(data: Any) -> list[str]:
    if not isinstance(data, dict):
        return ["die Datei enthält keine Zuordnung (YAML-Mapping)"]
    problems = [f"Angabe „{key}“ fehlt" for key in _REQUIRED if not data.get(key)]
    if data.get("name") and not _NAME.fullmatch(str(data["name"])):
        problems.append("„name“ darf nur a-z, 0-9, - und _ enthalten (2 bis 100 Zeichen)")
    if data.get("type") and data["type"] not in harvester_types():
        problems.append(f"unbekannter Typ „{data['type']}“ (erlaubt: "
                        f"{', '.join(harvester_types())})")
    if str(data.get("frequency", "MANUAL")).upper() not in FREQUENCIES:
        problems.append(f"„frequency“ muss einer von {', '.join(FREQUENCIES)} sein")
    if not isinstance(data.get("config", {}), dict):
        problems.append("„config“ muss eine Zuordnung sein")
    if data.get("url"):
        try:
            source_config.url(data["url"])
        except ValueError as error:
            problems.append(f"„url“ {error}")
    return problems


def parse(text: str, file: str) -> SourceDefinition:
    """One source from YAML text; SourceDefinitionError names every problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SourceDefinitionError(f"{file}: kein gültiges YAML: {exc}") from None
    problems = _problems(data)
    if problems:
        raise SourceDefinitionError(f"{file}: " + "; ".join(problems))
    return SourceDefinition(
        name=data["name"], type=data["type"], title=data["title"], url=data["url"],
        organization=data["organization"],
        frequency=str(data.get("frequency", "MANUAL")).upper(),
        dataset_type=data.get("dataset_type", "dataset"), notes=data.get("notes", ""),
        config=dict(data.get("config") or {}), file=file)


def shipped() -> list[SourceDefinition]:
    """The definitions in the package's ``harvesters/`` folder."""
    return [parse(f.read_text(encoding="utf-8"), f.name)
            for f in resources.harvest_source_files()]
