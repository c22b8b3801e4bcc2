"""ckanext-harvest's state-changing pages, answered only to POST.

Owns: the view functions of ``harvester.refresh``, ``harvester.clear``,
``harvester.job_abort`` and ``harvester.delete`` (reharvest, clear all
datasets, stop a job, delete a source). Upstream runs them on a GET, so a
link or an ``<img>`` on any site, followed with the session cookie, deleted
datasets (SameSite=Lax sends the cookie on top-level GETs). Here a GET
answers 405; a POST runs upstream's view, and CKAN's CSRF token is required
for it (``csrf``). ``job_abort`` gets the POST route upstream lacks; a POST
to ``/harvest/delete/<id>`` is already CKAN's own dataset delete view.

Must not touch: what the views do (ckanext-harvest's), other routes.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk
from ckan.common import _
from flask import Flask, make_response, request

#: endpoint → its rule, for the ones that upstream routes for GET only
GUARDED: dict[str, str | None] = {
    "harvester.refresh": None,
    "harvester.clear": None,
    "harvester.job_abort": "/harvest/<source>/job/<id>/abort",
    "harvester.delete": None,
}


def install(app: Flask) -> None:
    """Replace the upstream views (once registered, when ``harvest`` is loaded)."""
    for endpoint, post_rule in GUARDED.items():
        upstream = app.view_functions.get(endpoint)
        if upstream is None:
            continue
        app.view_functions[endpoint] = _post_only(upstream)
        if post_rule:
            app.add_url_rule(post_rule, endpoint=endpoint, methods=["POST"])


def _post_only(upstream: Callable[..., Any]) -> Callable[..., Any]:
    def post_only(**kwargs: Any) -> Any:
        if request.method != "POST":
            return _method_not_allowed()
        return upstream(**kwargs)

    post_only.__name__ = f"post_only_{upstream.__name__}"
    return post_only


def _method_not_allowed() -> Any:
    body = tk.render("error_document_template.html", {
        "code": 405, "name": _("Nur per Formular"),
        "content": _("Diese Aktion ändert Daten und wird nur über die Schaltfläche auf der "
                     "Verwaltungsseite der Harvest-Quelle ausgeführt (POST mit CSRF-Token), "
                     "nicht über einen Link."),
    })
    response = make_response(body, 405)
    response.headers["Allow"] = "POST"
    return response
