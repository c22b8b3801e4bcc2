"""The portal's tightening of upstream parts as deployed here: CKAN core and
ckanext-harvest 1.6.3 actions, auth functions and routes that read or change
more than the caller may.

Owns: wiring them for the plugin — ``action_tables`` / ``get_auth_functions``
(chained, so the upstream code still runs behind our checks) and ``install``
(the Flask app: harvest routes POST-only, CSRF for session requests). Each
module says what it guards: ``harvest`` (harvest actions and auth),
``harvest_views`` (harvest routes), ``tags`` (tag and format lists),
``csrf`` (the CSRF token with the session cookie), ``activity``
(``activity_show`` without ``include_data``; no resource-view
activities), ``members`` (``member_list``
of an organization's datasets), ``group_counts`` (the dataset counts of
organization and group lists), ``permissions`` (asking auth functions for
a caller), ``search_index`` (CKAN's ``ckan search-index`` commands, one
line instead of a traceback when the search engine fails; registered by
``get_commands``). One fix that is not a tightening: ``scheming_pages``
(ckanext-scheming's edit pages dropped changed contacts and other
repeating fields).

Must not touch: upstream packages' files, the portal's own actions and pages
(validation gate, search guard, harvesters), which own their checks.
"""
from __future__ import annotations

from typing import Any

import flask

from . import (
    activity,
    csrf,
    group_counts,
    harvest,
    harvest_views,
    members,
    scheming_pages,
    search_index,
    tags,
)


def action_tables() -> list[dict[str, Any]]:
    """Each module's chained actions; the plugin nests those of one name
    (``activity_create``: harvest's, then activity's)."""
    return [harvest.get_actions(), tags.get_actions(), members.get_actions(),
            group_counts.get_actions(), activity.get_actions(), scheming_pages.get_actions()]


def get_auth_functions() -> dict[str, Any]:
    return {**harvest.get_auth_functions(), **activity.get_auth_functions()}


def get_commands() -> list[Any]:
    """For ``IClick``: CKAN's command groups this package guards."""
    return search_index.get_commands()


def install(app: Any) -> Any:
    """For ``IMiddleware.make_middleware``: runs once all blueprints are in."""
    flask_app = app if isinstance(app, flask.Flask) else getattr(app, "_wsgi_app", None)
    if not isinstance(flask_app, flask.Flask):
        raise RuntimeError("vernetztestadt: the Flask app is wrapped before this plugin's "
                           "make_middleware; load vernetztestadt earlier in ckan.plugins")
    harvest_views.install(flask_app)
    csrf.install(flask_app)
    return app
