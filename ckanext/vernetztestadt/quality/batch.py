"""Checking many datasets at once (``ckan vernetztestadt metadata check``).

Owns: choosing the datasets (the named ones, or every active dataset,
private ones included, harvest sources not), assessing each as
``package_show`` returns it, and the summary (how many, how many break a
MUST criterion, the average score).

Must not touch: terminal output (``cli``) or the publication rules.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import ckan.plugins.toolkit as tk

from .assess import Assessment, assess

_CONTEXT = {"ignore_auth": True}


class UnknownDataset(LookupError):
    """A named dataset does not exist."""


@dataclass(frozen=True)
class Checked:
    dataset: dict[str, Any]
    assessment: Assessment


@dataclass(frozen=True)
class Summary:
    datasets: int
    breaking: int
    average: int


def _all_ids() -> list[str]:
    import ckan.model as model

    query = model.Session.query(model.Package.id).filter(
        model.Package.state == "active", model.Package.type != "harvest")
    return [row.id for row in query.order_by(model.Package.name)]


def _show(ident: str) -> dict[str, Any]:
    try:
        return tk.get_action("package_show")(dict(_CONTEXT), {"id": ident})
    except tk.ObjectNotFound:
        raise UnknownDataset(ident) from None


def _chosen(names: list[str], everything: bool) -> Iterable[dict[str, Any]]:
    """The named datasets (all looked up first: an unknown name stops before
    any output), else every active one with ``everything``."""
    if names:
        return [_show(name) for name in names]
    return (_show(ident) for ident in _all_ids()) if everything else []


def check(names: list[str], everything: bool) -> Iterator[Checked]:
    for dataset in _chosen(names, everything):
        yield Checked(dataset, assess(dataset))


def summary(checked: list[Checked]) -> Summary:
    scores = [c.assessment.score for c in checked]
    return Summary(len(checked), sum(1 for c in checked if c.assessment.must),
                   round(sum(scores) / len(scores)) if scores else 0)
