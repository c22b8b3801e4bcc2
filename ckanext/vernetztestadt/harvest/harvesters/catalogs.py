"""Importing other catalogs: DCAT-AP.de documents and CKAN Action APIs.

Owns: the two harvesters that bring another portal's metadata into the
city's dataset types. They are ckanext-dcat's ``DCATRDFHarvester`` (RDF read
with the portal's profile chain, ``ckanext.dcat.rdf.profiles``, so DCAT-AP.de
terms land in the city's fields) and ckanext-harvest's ``CKANHarvester``,
changed only where the portal needs it:

- every request goes through the one URL policy (``documents``, the host
  rules of ``fetching``): their own HTTP clients would reach any address;
- the city's defaults (its AGS, its licence) are not filled into another
  portal's dataset (``validators.foreign_metadata``);
- each dataset gets the source's dataset type (``dataset_type`` of the YAML
  definition) and a licence id of the portal for a licence given by URI or
  by another portal's id;
- a dataset whose tables do not pass the publication gate is saved private
  (``gate.private_when_refused``) and the reason goes to the job log: the
  metadata is kept, nothing unvalidated is published.

Must not touch: parsing RDF (``profiles``), the gate's decision, HTTP itself.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk
from ckanext.dcat.harvesters.rdf import DCATRDFHarvester
from ckanext.harvest.harvesters.ckanharvester import CKANHarvester, ContentFetchError
from ckanext.harvest.model import HarvestJob, HarvestObject, HarvestSource
from rdflib.util import guess_format

from ... import validators
from ...validation import gate
from .. import documents
from ..documents import DocumentError
from ..framework import job_log

DCAT_SOURCE_TYPE = "vernetztestadt_dcat"
CKAN_SOURCE_TYPE = "vernetztestadt_ckan"
#: where DCAT-AP.de names its licences (``dl-by-de/2.0`` etc.)
DCAT_AP_DE_LICENCES = "http://dcat-ap.de/def/licenses/"


def _config(source: HarvestSource) -> dict[str, Any]:
    try:
        config = json.loads(source.config or "{}")
    except ValueError:
        return {}
    return config if isinstance(config, dict) else {}


def policy(source: HarvestSource) -> Any:
    """The fetch policy of a catalog source: its own host and the config's
    ``allowed_hosts`` while public, internal hosts only by site config."""
    config = _config(source)
    return documents.policy([source.url], {
        "allowed_hosts": config.get("allowed_hosts") or (),
        "max_bytes": tk.config.get("ckanext.vernetztestadt.harvest.max_bytes"),
        "timeout": tk.config.get("ckanext.vernetztestadt.harvest.timeout")})


def licence_id(*names: str | None) -> str | None:
    """The portal's licence for a licence URI or another portal's id
    (``dl-by-de/2.0``, its URI, or the portal's own ``dl-de-by-2.0``)."""
    from ckan.model.license import LicenseRegister

    licences = LicenseRegister().licenses
    for name in filter(None, names):
        wanted = {name, name.rstrip("/"), DCAT_AP_DE_LICENCES + name}
        for licence in licences:
            if licence.id in wanted or (licence.url or "").rstrip("/") in wanted:
                return str(licence.id)
    return None


def _into_city_type(package_dict: dict[str, Any], source: HarvestSource) -> dict[str, Any]:
    package_dict["type"] = _config(source).get("dataset_type") or "dataset"
    own = licence_id(package_dict.get("license_id"), package_dict.get("license_url"))
    if own:
        package_dict["license_id"] = own
    return package_dict


def _imported(import_stage: Callable[[HarvestObject], Any],
              harvest_object: HarvestObject) -> Any:
    """The parent's import stage, with refused tables saved private."""
    with gate.private_when_refused() as held, validators.foreign_metadata():
        result = import_stage(harvest_object)
    if held:
        job_log().info("%s: nicht veröffentlicht, privat gespeichert / not published, "
                       "saved private: %s", harvest_object.guid, " | ".join(held))
    return result


class DcatHarvester(DCATRDFHarvester):
    """DCAT-AP.de catalogs (RDF/XML, Turtle, JSON-LD; paged as ckanext-dcat pages)."""

    def info(self) -> dict[str, str]:
        return {"name": DCAT_SOURCE_TYPE, "title": "DCAT-AP.de-Katalog",
                "description": "Metadaten eines anderen Portals im Format DCAT-AP.de "
                               "(RDF/XML, Turtle, JSON-LD), z. B. GovData, Open.NRW."}

    def _get_content_and_type(self, url: str, harvest_job: HarvestJob, page: int = 1,
                              content_type: str | None = None,
                              ) -> tuple[str | None, str | None]:
        try:
            document = documents.get(url, policy(harvest_job.source))
            text = document.data.decode("utf-8")
        except DocumentError as error:
            self._save_gather_error(str(error), harvest_job)
            return None, None
        except UnicodeDecodeError:
            self._save_gather_error(f"{url}: Das Dokument ist nicht in UTF-8 kodiert.",
                                    harvest_job)
            return None, None
        return text, content_type or guess_format(url.split("?")[0]) or _sniffed(text)

    def modify_package_dict(self, package_dict: dict[str, Any], dcat_dict: dict[str, Any],
                            harvest_object: HarvestObject) -> dict[str, Any]:
        return _into_city_type(package_dict, harvest_object.source)

    def import_stage(self, harvest_object: HarvestObject) -> Any:
        return _imported(super().import_stage, harvest_object)


def _sniffed(text: str) -> str:
    head = text.lstrip()[:200]
    if head.startswith(("{", "[")):
        return "json-ld"
    return "xml" if head.startswith("<") else "turtle"


class RegionalCkanHarvester(CKANHarvester):
    """Another CKAN's Action API (e.g. the Ruhr region's portal), filtered by
    ckanext-harvest's config keys (``organizations_filter_include`` …)."""

    def info(self) -> dict[str, str]:
        return {"name": CKAN_SOURCE_TYPE, "title": "CKAN-Portal",
                "description": "Datensätze eines anderen CKAN-Portals über dessen "
                               "Action API, z. B. des regionalen Portals."}

    def validate_config(self, config: str | None) -> str | None:
        checked = super().validate_config(config)
        if "api_key" in json.loads(checked or "{}"):
            raise ValueError("„api_key“ wird nicht unterstützt: geharvestet wird nur, was "
                             "das Portal öffentlich zeigt.")
        return checked

    def gather_stage(self, harvest_job: HarvestJob) -> Any:
        self._policy = policy(harvest_job.source)
        return super().gather_stage(harvest_job)

    def import_stage(self, harvest_object: HarvestObject) -> Any:
        self._policy = policy(harvest_object.source)
        return _imported(super().import_stage, harvest_object)

    def _get_content(self, url: str) -> str:
        try:
            return documents.get(url, self._policy).data.decode("utf-8")
        except (DocumentError, UnicodeDecodeError) as error:
            raise ContentFetchError(str(error)) from None

    def modify_package_dict(self, package_dict: dict[str, Any],
                            harvest_object: HarvestObject) -> dict[str, Any]:
        return _into_city_type(package_dict, harvest_object.source)

