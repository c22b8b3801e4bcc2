"""Resource views the dataset page draws inline: charts and maps.

Owns: which view types appear on the dataset page (not only on the resource
page) and the helper ``vernetztestadt_dataset_views`` that finds and draws
them; drawing itself is ``charts``' and ``maps``' job.

Must not touch: creating views (harvesters do that) or the resources.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk
from markupsafe import Markup

from . import charts, maps

RENDERERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], Markup]] = {
    charts.VIEW_TYPE: charts.render_view, maps.VIEW_TYPE: maps.render_view}


def dataset_views(pkg_dict: dict[str, Any]) -> list[dict[str, Any]]:
    """The chart and map views of a dataset's CSV resources, drawn."""
    drawn = []
    for resource in pkg_dict.get("resources", []):
        if (resource.get("format") or "").upper() != "CSV":
            continue
        for view in tk.get_action("resource_view_list")({}, {"id": resource["id"]}):
            render = RENDERERS.get(view["view_type"])
            if render is not None:
                drawn.append({"resource": resource, "view": view,
                              "html": render(view, resource)})
    return drawn


def get_helpers() -> dict[str, Any]:
    return {"vernetztestadt_dataset_views": dataset_views}
