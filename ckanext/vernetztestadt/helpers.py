"""Template helpers of the extension (``h.vernetztestadt_*``).

Owns: small read-only values templates need. Must not query the database or
the search index; pages get their data from actions.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk

from .indexing import german_sort_key
from .validation import display as validation_display
from .validation.messages import N_


def city_name() -> str:
    return tk.config.get("ckanext.vernetztestadt.city_name")


def default_ags() -> str:
    return tk.config.get("ckanext.vernetztestadt.default_ags")


def validation_label(status: str | None) -> dict[str, str]:
    from .validation.display import label

    return label(status)


def validation_staged(resource_id: str) -> str | None:
    from .validation.display import staged_state

    return staged_state(resource_id)


def has_value(value: Any) -> bool:
    """Worth a row in a details table: not None, "", [] or {} (0 and False are)."""
    return value is not None and value != "" and value != [] and value != {}


def _degrees(value: float, positive: str, negative: str) -> str:
    text = number(abs(value), 4)
    return f"{text}° {positive if value >= 0 else negative}"


def geometry_text(value: Any) -> str:
    """A GeoJSON geometry (text or object) as its extent in words; "" if it
    is none or unreadable."""
    import json

    from shapely.geometry import shape

    try:
        geometry = shape(json.loads(value) if isinstance(value, str) else value)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError):
        return ""
    if geometry.is_empty:
        return ""
    west, south, east, north = geometry.bounds
    if geometry.geom_type == "Point":
        return tk._("Punkt {lat}, {lon}").format(lat=_degrees(north, tk._("N"), tk._("S")),
                                                 lon=_degrees(east, tk._("O"), tk._("W")))
    return tk._("Gebiet von {south} bis {north}, {west} bis {east}").format(
        south=_degrees(south, tk._("N"), tk._("S")), north=_degrees(north, tk._("N"), tk._("S")),
        west=_degrees(west, tk._("O"), tk._("W")), east=_degrees(east, tk._("O"), tk._("W")))


def number(value: float, decimals: int = 0) -> str:
    """A number as the page's language writes it (German: 1.234,5)."""
    from flask_babel import format_decimal

    pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
    return format_decimal(value, format=pattern)


def display_datetime(value: Any, with_hours: bool = True) -> str:
    """A timestamp (ISO text or datetime; naive ones are UTC) in the site's
    display timezone (``ckan.display_timezone``), written the way the page's
    language does: "1. Dezember 2026, 15:04 Uhr" / "1 December 2026, 15:04"."""
    import datetime

    from flask_babel import format_datetime

    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if not isinstance(value, datetime.datetime):
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    value = value.astimezone(tk.h.get_display_timezone())
    german = tk.h.lang() == "de"
    pattern = ("d. MMMM y" if german else "d MMMM y") + (", HH:mm" if with_hours else "")
    text = format_datetime(value.replace(tzinfo=None), pattern, rebase=False)
    return text + (" Uhr" if german and with_hours else "")


#: Places where CKAN shows a dataset type's name on its own (page titles,
#: breadcrumbs, navigation), not inside a sentence like "Add …".
_STANDALONE = ("page title", "breadcrumb", "main nav", "facet label", "content tab")


def type_label(object_type: str) -> str | None:
    """A city dataset type as its schema's ``about`` names it, in the page's
    language (German part before " / ", English after)."""
    schema = tk.h.scheming_get_dataset_schema(object_type) if object_type else None
    about = (schema or {}).get("about") or ""
    if " / " not in about:
        return None
    german, english = about.split(" / ", 1)
    return english if tk.h.lang() == "en" else german


@tk.chained_helper
def humanize_entity_type(next_helper: Callable[..., Any], entity_type: str, object_type: str,
                         purpose: str) -> Any:
    """"Breitbandverfügbarkeit" instead of CKAN's "Broadband_Coverage", on its
    own and inside CKAN's sentences ("WLAN-Hotspots erstellen", not "Wifi
    hotspots erstellen"); not in sentences that append a plural "s"."""
    label = type_label(object_type) if entity_type == "package" else None
    if label and purpose in _STANDALONE and object_type != "dataset":
        return label
    if purpose == "no any objects" and object_type in ("group", "organization"):
        # CKAN's "There are currently no {object_type}s …" has no German
        return (tk._("Es gibt noch keine Gruppen.") if object_type == "group"
                else tk._("Es gibt noch keine Organisationen."))
    result = next_helper(entity_type, object_type, purpose)
    default = object_type.replace("_", " ").capitalize()
    if label and isinstance(result, str) and default + "s" not in result:
        return result.replace(default, label)
    return result


@tk.chained_helper
def user_image(next_helper: Callable[..., Any], user_id: str, size: int = 100) -> Any:
    """A user's picture only if the portal serves it (an upload); a picture
    on another host (a pasted image URL, gravatar.com) would tell that host
    who browses the portal: CKAN's placeholder instead."""
    try:
        user = tk.get_action("user_show")({"ignore_auth": True}, {"id": user_id})
    except tk.ObjectNotFound:
        return ""
    picture = user.get("image_display_url") or ""
    if served_here(picture):
        return next_helper(user_id, size)
    return tk.h.snippet("user/snippets/placeholder.html", size=size,
                        user_name=user.get("display_name") or user.get("name"))


#: ckanext-activity's activity types, translated where they are shown
ACTIVITY_TYPES = {
    "new package": N_("Neuer Datensatz"), "changed package": N_("Geänderter Datensatz"),
    "deleted package": N_("Gelöschter Datensatz"), "follow dataset": N_("Datensatz gefolgt"),
    "new resource view": N_("Neue Ansicht"), "changed resource view": N_("Geänderte Ansicht"),
    "deleted resource view": N_("Gelöschte Ansicht"),
    "new group": N_("Neue Gruppe"), "changed group": N_("Geänderte Gruppe"),
    "deleted group": N_("Gelöschte Gruppe"), "follow group": N_("Gruppe gefolgt"),
    "new organization": N_("Neue Organisation"),
    "changed organization": N_("Geänderte Organisation"),
    "deleted organization": N_("Gelöschte Organisation"),
    "follow organization": N_("Organisation gefolgt")}


def activity_type_label(activity_type: str) -> str:
    """An activity type of ckanext-activity's filter ("new package") as a
    label in the page's language (upstream shows the code, title-cased)."""
    label = ACTIVITY_TYPES.get(activity_type)
    return tk._(label) if label else activity_type.capitalize()


def picture(url: str | None, kind: str) -> str:
    """An organization's or group's picture (``kind``) if the portal serves
    it, else CKAN's placeholder of that kind (see ``user_image``)."""
    if url and served_here(url):
        return url
    return tk.h.url_for_static(f"/base/images/placeholder-{kind}.png")


def served_here(url: str) -> bool:
    """``url`` leads to the portal itself, read as a browser reads it: a path
    ("/uploads/…"), or the site URL's scheme, host and port. Browsers take
    "\\" for "/" and "https:host/x" as another host from an http page, so
    those, "//host" and anything with control characters count as elsewhere."""
    from urllib.parse import urlsplit

    if not url or any(ord(c) < 0x21 or c == "\\" for c in url):
        return False
    target, site = urlsplit(url), urlsplit(tk.config.get("ckan.site_url") or "")
    if not target.scheme and not target.netloc:
        return url.startswith("/") and not url.startswith("//")
    try:
        return (target.scheme.lower(), target.hostname, target.port) == \
            (site.scheme.lower(), site.hostname, site.port) and bool(target.hostname)
    except ValueError:  # a port that is not a number
        return False


def get_helpers() -> dict[str, Callable[..., Any]]:
    return {"humanize_entity_type": humanize_entity_type, "user_image": user_image,
            "vernetztestadt_picture": picture,
            "vernetztestadt_activity_type_label": activity_type_label,
            "vernetztestadt_publication_refusal": validation_display.refusal,
            "vernetztestadt_city_name": city_name, "vernetztestadt_default_ags": default_ags,
            "vernetztestadt_validation_label": validation_label,
            "vernetztestadt_has_value": has_value,
            "vernetztestadt_sort_key": german_sort_key,
            "vernetztestadt_geometry_text": geometry_text,
            "vernetztestadt_number": number,
            "vernetztestadt_datetime": display_datetime,
            "vernetztestadt_validation_staged": validation_staged}
