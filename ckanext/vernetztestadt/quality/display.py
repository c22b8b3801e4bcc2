"""What stewards see of the metadata quality.

Owns: the German labels of levels and grades (in the page's language), the
text of a finding, the link from a finding to its form field (the dataset
form's page holding the field, or the resource's form; inputs have the id
``field-<name>``), the dataset page's box (only for those who may edit the
dataset), the facet's title (only for those who edit datasets somewhere:
the grade is a steward's filter) and whether the organization overview is
open to the caller.

Must not touch: the score (``assess``) or the publication rules (``gate``).
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.common import _

from ..validation.messages import N_
from .assess import FAIR, GOOD, INDEX_FIELD, POOR, Assessment, Finding, assess

LEVEL_LABELS = {"MUST": N_("MUSS"), "SHOULD": N_("SOLL"), "MAY": N_("KANN")}
#: grade -> (label, Bootstrap colour)
GRADE_LABELS = {GOOD: (N_("Gut"), "success"), FAIR: (N_("Mittel"), "warning"),
                POOR: (N_("Mangelhaft"), "danger")}
FACET_TITLE = N_("Metadatenqualität")


def grade_label(grade: str) -> str:
    """A grade as the facet and the pages name it."""
    label = GRADE_LABELS.get(grade)
    return _(label[0]) if label else grade


def text(finding: Finding) -> str:
    """The finding's German message (translated), naming its resource."""
    message = _(finding.message)
    if finding.resource_name is None:
        return message
    return _("Ressource „{0}“: {1}").format(finding.resource_name, message)


def _form_page(dataset_type: str, field: str) -> int | None:
    """The page of the dataset form that holds ``field`` (None: one page)."""
    pages = tk.h.scheming_get_dataset_form_pages(dataset_type) or []
    for number, page in enumerate(pages, start=1):
        if any(f.get("field_name") == field for f in page.get("fields", [])):
            return number
    return 1 if pages else None


def _form_url(finding: Finding, dataset: dict[str, Any]) -> str:
    kind, name = dataset.get("type") or "dataset", dataset["name"]
    if finding.form == "new_resource":
        return tk.h.url_for(f"{kind}_resource.new", id=name)
    if finding.form == "resource" and finding.resource_id:
        return tk.h.url_for(f"{kind}_resource.edit", id=name, resource_id=finding.resource_id)
    page = _form_page(kind, finding.field)
    if page is None:
        return tk.h.url_for(f"{kind}.edit", id=name)
    return tk.h.url_for(f"{kind}.scheming_edit_page", id=name, page=page)


def link(finding: Finding, dataset: dict[str, Any]) -> str:
    """Where the steward fixes it: the form, at the field."""
    url = _form_url(finding, dataset)
    return f"{url}#{finding.anchor}" if finding.anchor else url


def shown(assessment: Assessment, dataset: dict[str, Any]) -> dict[str, Any]:
    """The assessment as pages and the API show it."""
    label, colour = GRADE_LABELS[assessment.grade]
    return {
        "score": assessment.score, "grade": assessment.grade, "grade_label": _(label),
        "colour": colour, "must": len(assessment.must),
        "findings": [{**finding_dict, "level_label": _(LEVEL_LABELS[f.level]),
                      "text": text(f), "link": link(f, dataset)}
                     for f, finding_dict in zip(assessment.findings,
                                                assessment.as_dict()["findings"], strict=True)],
    }


def _may(action: str, data_dict: dict[str, Any]) -> bool:
    return bool(tk.h.check_access(action, data_dict))


def dataset_box(dataset: dict[str, Any]) -> dict[str, Any] | None:
    """Template helper: the dataset page's quality box, for its editors only."""
    if not dataset.get("id") or not _may("package_update", {"id": dataset["id"]}):
        return None
    return shown(assess(dataset), dataset)


def may_see_organization(organization_id: str) -> bool:
    """Template helper: the organization overview is open to the caller."""
    return _may("metadata_quality_organization_list", {"id": organization_id})


def _edits_somewhere() -> bool:
    import ckan.authz as authz
    import flask

    if not flask.has_request_context():
        return False
    user = tk.current_user
    if not getattr(user, "is_authenticated", False):
        return False
    return authz.has_user_permission_for_some_org(user.name, "update_dataset")


def facets() -> dict[str, str]:
    """``IFacets``: the grade facet, for stewards."""
    return {INDEX_FIELD: _(FACET_TITLE)} if _edits_somewhere() else {}


def get_helpers() -> dict[str, Any]:
    return {"vernetztestadt_metadata_quality": dataset_box,
            "vernetztestadt_metadata_quality_organization": may_see_organization,
            "vernetztestadt_metadata_quality_grade": grade_label}

