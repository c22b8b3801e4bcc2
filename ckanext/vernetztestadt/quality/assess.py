"""The metadata quality of one dataset: a score from 0 to 100 and findings.

Judged on the dataset as ``package_show`` returns it (so without RDF and
without a database) by the criteria of ``criteria.yaml``, which come from
GovData's metadata-quality dashboard (its shapes ``db-shapes.ttl``) and the
DCAT-AP.de conventions (the shapes ``dcat-ap-konventionen.ttl`` with the
convention numbers, and GovData's DCAT-AP.de 3.0 messages to the SEMIC
DCAT-AP 3.0.0 shapes, ``dcat-ap-SHACL-DE.ttl``).

Score: each criterion that applies adds its weight (a resource criterion in
proportion to the resources that meet it); a dataset without resources
earns nothing for its resources' fields. Grade: ``poor`` with any MUST
finding, else ``good`` from ``good_from`` points, else ``fair``.

Owns: the checks and the arithmetic. Must not touch: CKAN (no ``ckan``
import; links, translations and permissions live in ``display``), the
criteria's wording (``criteria.yaml``).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .. import vocabularies
from .criteria import LEVELS, Criteria, Criterion, load

#: the search index field (and facet) holding the grade
INDEX_FIELD = "vernetztestadt_quality"
GOOD, FAIR, POOR = "good", "fair", "poor"
GRADES = (GOOD, FAIR, POOR)
#: licence types that oblige users to name the source
ATTRIBUTION_TYPES = ("Attribution", "ShareAlike")


@dataclass(frozen=True)
class Finding:
    """One criterion a dataset (or one of its resources) does not meet."""

    criterion: str
    level: str
    message: str  # German msgid
    field: str
    subfield: str | None
    form: str
    anchor: str
    resource_id: str | None = None
    resource_name: str | None = None
    position: int | None = None


@dataclass(frozen=True)
class Assessment:
    score: int
    grade: str
    findings: tuple[Finding, ...]

    @property
    def must(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level == "MUST")

    def as_dict(self) -> dict[str, Any]:
        return {"score": self.score, "grade": self.grade, "must": len(self.must),
                "findings": [asdict(f) for f in self.findings]}


# -- reading values --------------------------------------------------------------
def filled(value: Any) -> bool:
    """A value someone entered: not blank text, not an empty list or dict."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, Mapping):
        return any(filled(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(filled(v) for v in value)
    return True


def _entries(value: Any) -> list[Mapping[str, Any]]:
    """The filled entries of a repeating field (a list of dicts; one dict too)."""
    items = [value] if isinstance(value, Mapping) else value if isinstance(value, list) else []
    return [item for item in items if isinstance(item, Mapping) and filled(item)]


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


# -- the checks: True met, False not met, None does not apply --------------------
Check = Callable[[Mapping[str, Any], Criterion, Mapping[str, Any]], bool | None]


def _present(subject: Mapping[str, Any], criterion: Criterion, dataset: Mapping[str, Any],
             ) -> bool | None:
    return any(filled(subject.get(name)) for name in criterion.reads)


def _publisher(subject: Mapping[str, Any], criterion: Criterion, dataset: Mapping[str, Any],
               ) -> bool | None:
    named = any(filled(entry.get("name")) for entry in _entries(subject.get("publisher")))
    organization = subject.get("organization")
    return named or (isinstance(organization, Mapping) and filled(organization.get("title")))


def _dcat_ap_de_licence(subject: Mapping[str, Any], criterion: Criterion,
                        dataset: Mapping[str, Any]) -> bool | None:
    return _text(subject.get("license_url")).startswith(vocabularies.LICENSES)


def _attribution(subject: Mapping[str, Any], criterion: Criterion, dataset: Mapping[str, Any],
                 ) -> bool | None:
    kind = vocabularies.licence_type_uri(_text(subject.get("license_url"))) or ""
    if not kind.endswith(ATTRIBUTION_TYPES):
        return None  # no licence of the list (``license`` says so) or no attribution
    return filled(subject.get("license_attribution"))


def _contacts_reachable(subject: Mapping[str, Any], criterion: Criterion,
                        dataset: Mapping[str, Any]) -> bool | None:
    contacts = _entries(subject.get("contact"))
    if not contacts:
        return None
    return all(filled(c.get("email")) or filled(c.get("url")) for c in contacts)


def _own_licence(subject: Mapping[str, Any], criterion: Criterion, dataset: Mapping[str, Any],
                 ) -> bool | None:
    own = subject.get("license")
    if not filled(own):
        return None  # inherits the dataset's (ckanext.dcat.resource.inherit.license)
    return _text(own).startswith(vocabularies.LICENSES)


def _file_type(subject: Mapping[str, Any], criterion: Criterion, dataset: Mapping[str, Any],
               ) -> bool | None:
    label = _text(subject.get("format"))
    if not label:
        return None  # ``distribution_format`` says it is missing
    return vocabularies.file_type_uri(label) is not None


CHECKS: dict[str, Check] = {
    "present": _present, "publisher": _publisher, "dcat_ap_de_licence": _dcat_ap_de_licence,
    "attribution": _attribution, "contacts_reachable": _contacts_reachable,
    "own_licence": _own_licence, "file_type": _file_type,
}


# -- the score -------------------------------------------------------------------
def _resources(dataset: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = dataset.get("resources")
    return [r for r in found if isinstance(r, Mapping)] if isinstance(found, list) else []


def _finding(criterion: Criterion, position: int | None = None,
             resource: Mapping[str, Any] | None = None) -> Finding:
    if resource is None:
        return Finding(criterion.id, criterion.level, criterion.message, criterion.field,
                       criterion.subfield, criterion.form, criterion.anchor)
    name = _text(resource.get("name")) or _text(resource.get("url")) or f"#{(position or 0) + 1}"
    return Finding(criterion.id, criterion.level, criterion.message, criterion.field,
                   criterion.subfield, criterion.form, criterion.anchor,
                   resource_id=resource.get("id"),
                   resource_name=name, position=position)


def _judge(criterion: Criterion, dataset: Mapping[str, Any],
           ) -> tuple[float | None, list[Finding]]:
    """(share of the weight earned, or None where the criterion does not
    apply; the findings)."""
    check = CHECKS[criterion.check]
    if criterion.scope == "dataset":
        met = check(dataset, criterion, dataset)
        return (None, []) if met is None else (float(met), [] if met else [_finding(criterion)])
    resources = _resources(dataset)
    if not resources:  # no resources: nothing earned for their fields
        return (0.0 if criterion.check == "present" else None), []
    judged = [(i, r, check(r, criterion, dataset)) for i, r in enumerate(resources)]
    applicable = [(i, r, met) for i, r, met in judged if met is not None]
    if not applicable:
        return None, []
    share = sum(1 for *_, met in applicable if met) / len(applicable)
    return share, [_finding(criterion, i, r) for i, r, met in applicable if not met]


def grade(score: int, must: Sequence[Finding], good_from: int) -> str:
    if must:
        return POOR
    return GOOD if score >= good_from else FAIR


def assess(dataset: Mapping[str, Any], criteria: Criteria | None = None) -> Assessment:
    """The score and findings of a dataset dict (``package_show``'s form);
    findings MUST first, then SHOULD, then MAY, each in the criteria's order."""
    criteria = criteria or load()
    earned = possible = 0.0
    findings: list[Finding] = []
    for criterion in criteria.items:
        share, found = _judge(criterion, dataset)
        if share is None:
            continue
        possible += criterion.weight
        earned += criterion.weight * share
        findings += found
    score = round(100 * earned / possible) if possible else 100
    findings.sort(key=lambda f: LEVELS.index(f.level))
    must = [f for f in findings if f.level == "MUST"]
    return Assessment(score, grade(score, must, criteria.good_from), tuple(findings))
