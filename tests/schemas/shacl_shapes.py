"""Published SHACL shapes from ``../shared/oracles/`` (beside the project) and
one call that checks a graph against a set of them with pyshacl.

The shapes are read where they lie, never copied into the project; where the
folder is missing, ``shapes()`` skips the calling test and says why.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import Graph, Namespace
from rdflib.namespace import RDF

ORACLES = Path(__file__).resolve().parents[3] / "shared" / "oracles"
SH = Namespace("http://www.w3.org/ns/shacl#")
DE = ORACLES / "dcat-ap-de"

#: name -> the shape files of one check, and the vocabularies GovData's
#: validator merges into the data graph for it
SETS: dict[str, tuple[list[Path], list[Path]]] = {
    "semic-dcat-ap-3.0.0": ([ORACLES / "dcat-ap" / "3.0.0" / "dcat-ap-SHACL.ttl"], []),
    "dcat-ap-de-3.0": (sorted((DE / "v3.0").glob("*.ttl")), [
        DE / "dashboard" / "dcat-ap-de-contributors.rdf",
        DE / "dashboard" / "dcat-ap-de-licenses-open.rdf"]),
    "govdata-dashboard": ([DE / "dashboard" / "db-shapes.ttl"], [
        DE / "dashboard" / "dcat-ap-de-contributors.rdf",
        DE / "dashboard" / "dcat-ap-de-licenses-open.rdf"]),
}
#: the dashboard's counting rules fire once per distribution by design
COUNTERS = {"http://govdata.de/mqa/#count_Distributions",
            "http://govdata.de/mqa/#count_Distributions_Licenses"}


@dataclass
class Finding:
    severity: str
    focus: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.focus} {self.path}: {self.message}"


@dataclass
class Report:
    name: str
    violations: list[Finding]
    warnings: list[Finding]

    def explain(self) -> str:
        return "\n".join(f"[{self.name}] {f}" for f in [*self.violations, *self.warnings])


def _require() -> None:
    if not ORACLES.is_dir():
        pytest.skip(f"{ORACLES} fehlt / missing: the published SHACL shapes (../shared/oracles)")


@cache
def _graph(*paths: Path) -> Graph:
    graph = Graph()
    for path in paths:
        graph.parse(path, format="xml" if path.suffix == ".rdf" else "turtle")
    return graph


def check(data: Graph, name: str) -> Report:
    """``data`` against the shape set ``name``: violations and the rest."""
    _require()
    shape_files, vocabularies = SETS[name]
    merged = Graph()
    for triple in data:
        merged.add(triple)
    for triple in _graph(*vocabularies):
        merged.add(triple)
    _, results, _ = validate(merged, shacl_graph=_graph(*shape_files), inference="none",
                             meta_shacl=False, advanced=True, allow_warnings=True)
    findings = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        severity = str(results.value(result, SH.resultSeverity))
        if severity in COUNTERS:
            continue
        findings.append(Finding(severity.rsplit("#", 1)[-1],
                                str(results.value(result, SH.focusNode)),
                                str(results.value(result, SH.resultPath)),
                                str(results.value(result, SH.resultMessage))))
    # the dashboard names its own severities (govdata:no_license, …): all
    # of them count as failures, as sh:Violation does
    warnings = [f for f in findings if f.severity in ("Warning", "Info")]
    violations = [f for f in findings if f not in warnings]
    return Report(name, violations, warnings)


def check_all(data: Graph) -> list[Report]:
    return [check(data, name) for name in SETS]


def conforms(reports: list[Report], what: str) -> None:
    for report in reports:
        if report.warnings:
            print(f"{what}: {len(report.warnings)} Warnungen / warnings\n{report.explain()}")
    failed = [report for report in reports if report.violations]
    assert not failed, "\n".join(report.explain() for report in failed)
