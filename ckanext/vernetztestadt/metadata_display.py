"""How the DCAT-AP.de endpoints answer a visitor's browser.

Owns: the media type of ckanext-dcat's RDF/XML and JSON-LD answers
(``/catalog.rdf``, ``/dataset/<name>.jsonld`` …) when a browser opens them
as a page (``Sec-Fetch-Dest: document``, which browsers send on navigation
and harvesters never do): ``text/plain`` in UTF-8, so the visitor sees the
metadata instead of an unannounced download (a browser downloads
``application/rdf+xml``); harvesters and scripts keep the RDF media types.
Plain text is never run as a page (``nosniff``). Also ``/favicon.ico``,
which browsers ask for on such text pages, as the portal's icon.

Must not touch: what the endpoints serialize (ckanext-dcat and ``profiles``).
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
import flask
from flask import Blueprint

#: media types a browser would download rather than show
DOWNLOADED = ("application/rdf+xml", "application/ld+json")


def _shown_to_browsers(response: flask.Response) -> flask.Response:
    navigating = flask.request.headers.get("Sec-Fetch-Dest") == "document"
    media_type = (response.mimetype or "").lower()
    if navigating and media_type in DOWNLOADED and response.status_code == 200:
        response.headers["Content-Type"] = "text/plain; charset=utf-8"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.add("Vary", "Sec-Fetch-Dest")
    return response


def install(app: flask.Flask) -> None:
    """For ``IMiddleware.make_middleware``."""
    app.after_request(_shown_to_browsers)


def _favicon() -> Any:
    return tk.redirect_to(tk.h.url_for_static(tk.config.get("ckan.favicon")))


def get_blueprints() -> list[Blueprint]:
    icon = Blueprint("vernetztestadt_favicon", __name__)
    icon.add_url_rule("/favicon.ico", "favicon", _favicon)
    return [icon]
