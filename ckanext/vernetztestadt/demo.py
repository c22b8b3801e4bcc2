"""Demo content for ``make portal``.

Owns: the demo sysadmin and the list of demo loaders. Each later module
(search, schemas, harvesters) registers what it can show by appending a
loader to ``LOADERS``; a loader must be idempotent because ``make portal``
runs it on every start.

Must not touch: the services or the configuration file (``runtime``).
"""
from __future__ import annotations

import secrets
from collections.abc import Callable

import ckan.model as model
import ckan.plugins.toolkit as tk

#: Idempotent callables that load a piece of demo content; each returns a
#: short German/English line describing what it did.
LOADERS: list[Callable[[], str]] = []


def _site_context() -> dict[str, object]:
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    return {"user": site_user["name"], "ignore_auth": True}


def ensure_admin() -> tuple[str, str | None]:
    """Create the demo sysadmin once; return its name and new password.

    The password is returned only when the user is created, so that it is
    printed exactly once and stored nowhere but as CKAN's hash.
    """
    name = tk.config.get("ckanext.vernetztestadt.demo.admin_name")
    if model.User.get(name):
        return name, None
    password = secrets.token_urlsafe(12)
    tk.get_action("user_create")(_site_context(), {
        "name": name, "email": f"{name}@example.invalid", "password": password,
        "fullname": "Demo-Administrator",
    })
    user = model.User.get(name)
    assert user is not None
    user.sysadmin = True
    model.repo.commit()
    return name, password


CITY_ORGANIZATION = {
    "name": "stadt-gelsenkirchen",
    "title": "Stadt Gelsenkirchen",
    "description": "Offene Daten der Stadt Gelsenkirchen, der Vernetzten Stadt "
                   "(AGS 05513000).",
}


def city_organization() -> str:
    """The city's organization, owner of the demo and harvested datasets."""
    if model.Group.get(CITY_ORGANIZATION["name"]):
        return "Organisation vorhanden / organization exists: stadt-gelsenkirchen"
    tk.get_action("organization_create")(_site_context(), dict(CITY_ORGANIZATION))
    return "Organisation angelegt / organization created: stadt-gelsenkirchen"


LOADERS.append(city_organization)

HOTSPOT_EXAMPLE = "wlan-hotspots-beispiel"


def hotspot_example() -> str:
    """A public dataset whose CSV upload passed validation, so that a new
    portal shows a badge, the report page and the "Prüfstatus" facet."""
    if model.Package.get(HOTSPOT_EXAMPLE):
        return f"Beispieldatensatz vorhanden / example dataset exists: {HOTSPOT_EXAMPLE}"
    from werkzeug.datastructures import FileStorage

    from . import resources

    context = _site_context()
    dataset = tk.get_action("package_create")(dict(context), {
        "name": HOTSPOT_EXAMPLE, "title": "WLAN-Hotspots (Beispiel, synthetisch)",
        "notes": "Synthetische Beispieldaten im Table Schema „hotspots“: zeigt Prüfstatus "
                 "und Prüfbericht einer hochgeladenen CSV-Datei. Keine echten Standorte.",
        "owner_org": CITY_ORGANIZATION["name"], "private": False,
        "tag_string": "WLAN,Beispiel"})
    sample = resources.table_schemas_dir().joinpath("hotspots.sample.csv")
    with sample.open("rb") as handle:  # the upload goes through the publication gate
        tk.get_action("resource_create")(dict(context), {
            "package_id": dataset["id"], "name": "Hotspots (Beispiel)", "format": "CSV",
            "table_schema": "hotspots", "upload": FileStorage(handle, filename=sample.name)})
    return f"Beispieldatensatz angelegt / example dataset created: {HOTSPOT_EXAMPLE}"


LOADERS.append(hotspot_example)


def harvested_sources() -> str:
    """The shipped harvest sources, synced and harvested from their offline
    snapshots; on later starts the run finds nothing changed."""
    from .harvest import runner, sources

    lines = []
    for definition in sources.shipped():
        runner.sync([definition])
        if not definition.url.startswith("package:"):
            continue  # live sources are harvested by the stewards' schedule
        result = runner.run(definition.name)
        counts = ", ".join(f"{n} {status}" for status, n in sorted(result.counts.items()))
        lines.append(f"{definition.name}: {counts}" + (f" FEHLER: {result.errors}"
                                                       if result.errors else ""))
    return "Harvest / harvested: " + "; ".join(lines)


LOADERS.append(harvested_sources)


def load() -> list[str]:
    return [loader() for loader in LOADERS]
