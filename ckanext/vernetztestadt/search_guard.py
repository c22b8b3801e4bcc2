"""Checks of ``package_search``'s parameters before anyone else reads them.

Owns: refusing, with a 4xx and a German message, search parameters that
would otherwise crash CKAN's own code (``asbool``, its validators), the search
engine (text PostgreSQL cannot take) or hang ckanext-spatial (an ``ext_bbox``
of huge or non-finite numbers loops forever in its longitude wrapping):

- the chained ``package_search`` action checks the *types* of the parameters
  before CKAN validates them (``ValidationError``: HTTP 409 in the API);
- ``before_dataset_search`` (our plugin's, which runs before spatial_query's
  because ``vernetztestadt`` comes first in ``ckan.plugins``) checks the map
  search box ``ext_bbox`` where spatial reads it (``SearchQueryError``: HTTP
  400 in the API and on the HTML search pages alike).

A search error that a page leaves unhandled (CKAN's ``/feeds/custom.atom``
lets ``SearchError`` through) answers 400 with CKAN's error page, not 500;
an unreachable Solr that a page leaves unhandled (``SolrConnectionError``:
the organization's dataset count in the sidebar of every dataset page)
answers 503 with CKAN's error page, not a 500 "internal error"; a Solr
response cut off mid-transfer is a search error too (API 409), not a 500.

Every message names only the parameter, never a stored value.

Must not touch: what a valid search means or returns (CKAN and the search
backend decide), permission filtering (CKAN's labels), the search engine.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk
import requests
from ckan.common import falsy, truthy
from ckan.lib.search.common import SearchError, SearchQueryError, SolrConnectionError
from werkzeug.exceptions import BadRequest, ServiceUnavailable

from .search.analysis import is_utf8

#: Parameters CKAN turns into numbers, and the flags it reads with ``asbool``
#: (an unreadable value made CKAN answer 500).
INTEGERS = ("rows", "start", "facet.limit", "facet.mincount")
FLAGS = ("include_private", "include_drafts", "include_deleted", "use_default_schema")
#: Solr parameters taken as one text each; several of them reach the search
#: engine unconverted.
TEXTS = ("q", "fq", "sort", "qf", "facet", "defType", "mm", "q.op", "df", "bf", "boost",
         "tie", "wt")
#: Longest ``ext_bbox`` text read: four coordinates need far fewer characters.
MAX_BBOX_LENGTH = 200
LONGITUDE = (-180.0, 180.0)
LATITUDE = (-90.0, 90.0)

Check = Callable[[Any], bool]


def _is_integer(value: Any) -> bool:
    if isinstance(value, (int, float)):
        return True  # CKAN refuses 1.5 itself ("Ungültige Ganzzahl")
    if not isinstance(value, str):
        return False
    try:
        int(value.strip())
    except ValueError:
        return False
    return True


def _is_flag(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int)):
        return True
    return isinstance(value, str) and value.strip().lower() in (*truthy, *falsy)


def _is_text(value: Any) -> bool:
    return isinstance(value, (str, int, float))


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _rules() -> list[tuple[tuple[str, ...], Check, str]]:
    """(parameters, check, message); messages are translated per request."""
    return [
        (INTEGERS, _is_integer, tk._("Muss eine ganze Zahl sein.")),
        (FLAGS, _is_flag, tk._("Muss true oder false sein.")),
        (TEXTS, _is_text, tk._("Muss ein einzelner Text sein.")),
        (("fq_list",), _is_text_list, tk._("Muss eine Liste von Texten sein.")),
        # these two may also be one text (JSON, or names separated by spaces)
        (("facet.field", "fl"), lambda v: isinstance(v, str) or _is_text_list(v),
         tk._("Muss eine Liste von Texten sein.")),
        (("extras",), lambda v: isinstance(v, dict), tk._("Muss ein Objekt sein.")),
    ]


def _all_text_is_utf8(value: Any) -> bool:
    """Every string in ``value`` (keys too), walked without recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not is_utf8(item):
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
    return True


def parameter_errors(data_dict: dict[str, Any]) -> dict[str, list[str]]:
    """What is wrong with the parameters, by name (empty: nothing)."""
    errors: dict[str, list[str]] = {}
    for key, value in data_dict.items():
        if not _all_text_is_utf8([key, value]):
            name = key if is_utf8(key) else "?"
            errors[name] = [tk._("Enthält Zeichen, die kein gültiges Unicode sind.")]
    for names, check, message in _rules():
        for name in names:
            value = data_dict.get(name)
            # null is "not given" to CKAN, except for extras, which it indexes
            given = name in data_dict and (value is not None or name == "extras")
            if given and name not in errors and not check(value):
                errors[name] = [message]
    return errors


@tk.chained_action
@tk.side_effect_free
def package_search(original: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    if data_dict.get("rows") == "":
        # CKAN's own group_package_show passes rows='' without a limit: the
        # default, not 0 rows (and not an error)
        data_dict = {key: value for key, value in data_dict.items() if key != "rows"}
    errors = parameter_errors(data_dict)
    if errors:
        raise tk.ValidationError(errors)
    try:
        return original(context, data_dict)
    except requests.RequestException:
        # pysolr turns only some transport errors into SolrError: a response
        # Solr cuts off (its parser overflowing the JVM's stack on deep
        # nesting) reached CKAN as ChunkedEncodingError, a 500
        raise SearchError(tk._("Die Suchmaschine hat die Anfrage abgebrochen: "
                               "die Suchparameter können nicht ausgewertet werden.")) from None


def get_actions() -> dict[str, Any]:
    return {"package_search": package_search}


# -- the map search box ---------------------------------------------------------
def bbox_is_valid(value: Any) -> bool:
    """``west,south,east,north`` (text or list): four finite WGS84 degrees,
    west <= east and south <= north."""
    if isinstance(value, str):
        if len(value) > MAX_BBOX_LENGTH:
            return False
        value = value.split(",")
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        return False
    numbers = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            return False
        try:
            numbers.append(float(item))
        except (ValueError, OverflowError):
            return False
    west, south, east, north = numbers
    return (all(math.isfinite(n) for n in numbers)
            and LONGITUDE[0] <= west <= east <= LONGITUDE[1]
            and LATITUDE[0] <= south <= north <= LATITUDE[1])


def before_dataset_search(search_params: dict[str, Any]) -> dict[str, Any]:
    """Refuse an ``ext_bbox`` that ckanext-spatial cannot handle; an empty one
    is no box (spatial skips it too)."""
    extras = search_params.get("extras")
    bbox = extras.get("ext_bbox") if isinstance(extras, dict) else None
    if bbox not in (None, "") and not bbox_is_valid(bbox):
        raise SearchQueryError(tk._(
            "Ungültiger Kartenausschnitt (ext_bbox): erwartet werden vier Zahlen "
            "West,Süd,Ost,Nord in Grad (WGS84), Länge von -180 bis 180, Breite von "
            "-90 bis 90, West nicht größer als Ost und Süd nicht größer als Nord."))
    return search_params


# -- pages that leave a search error unhandled ----------------------------------
def install_error_page(app: Any) -> Any:
    """For ``IMiddleware.make_middleware``: an unhandled ``SearchError`` gets
    CKAN's own 400 page, an unhandled ``SolrConnectionError`` its 503 page.
    Their text may quote the query with the caller's permission labels, or
    the engine's address, so the page names no detail."""
    def bad_search(exc: SearchError) -> Any:
        return app.handle_http_exception(BadRequest(tk._(
            "Ungültige Suchanfrage: die Suchparameter können nicht ausgewertet werden.")))

    def no_engine(exc: SolrConnectionError) -> Any:
        return app.handle_http_exception(ServiceUnavailable(tk._(
            "Die Suche ist gerade nicht erreichbar. Bitte versuchen Sie es später "
            "noch einmal.")))

    app.register_error_handler(SearchError, bad_search)
    app.register_error_handler(SolrConnectionError, no_engine)
    return app
