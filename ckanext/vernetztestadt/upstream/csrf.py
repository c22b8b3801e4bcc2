"""CKAN's CSRF token, required of every request that rides on the session.

Owns: one ``before_request`` check: a state-changing request (POST, PUT,
PATCH, DELETE) whose user came from the session cookie must carry CKAN's
CSRF token (form field, or the ``X-CSRFToken`` header that CKAN's JavaScript
sends with its API calls). Requests authenticated by an API token in the
``Authorization`` header, and anonymous ones, are left to CKAN as before.

Why: CKAN 2.12 exempts a view from Flask-WTF's check for good as soon as one
request without a session reaches it (``csrf.exempt`` in
``ckan_before_request`` fills a process-wide set), so after one anonymous API
call a cookie-authenticated, form-encoded ``POST /api/3/action/package_patch``
from any other site passed without a token. This check does not consult that
set. The API answers a refusal as an API error (403); pages keep CKAN's 400.

Must not touch: CKAN's exemption set, sessions, the API's own authorisation.
"""
from __future__ import annotations

from typing import Any

import flask
from ckan.common import _, current_user
from flask import current_app, g, request
from flask_wtf.csrf import CSRFError


def install(app: flask.Flask) -> None:
    app.before_request(require_token_with_session)


def require_token_with_session() -> Any:
    config = current_app.config
    if not config.get("WTF_CSRF_ENABLED", True) or g.get("csrf_valid"):
        return None
    if request.method not in config.get("WTF_CSRF_METHODS", ()):
        return None
    # loading the user tells whether it came from the API token header
    if not current_user.is_authenticated or g.get("login_via_auth_header"):
        return None
    try:
        current_app.extensions["csrf"].protect()
    except CSRFError:
        if _is_api():
            return _api_refusal()
        raise
    return None


def _is_api() -> bool:
    return (request.endpoint or "").split(".")[0] == "api"


def _api_refusal() -> flask.Response:
    message = _("Abgelehnt: Eine ändernde API-Anfrage mit dem Anmelde-Cookie braucht CKANs "
                "CSRF-Token (Header X-CSRFToken, wie ihn das Portal selbst sendet) oder "
                "einen API-Token im Header Authorization.")
    response = flask.jsonify({"success": False, "error": {
        "__type": "Authorization Error", "message": message}})
    response.status_code = 403
    return response
