"""The portal's own face: its texts, its home page and its legal pages.

Owns: reading the portal's texts (``ckanext.vernetztestadt.portal_texts``, a
YAML file; the bundled ``texts/gelsenkirchen.yaml`` by default) in the
page's language; the pages ``/impressum``, ``/datenschutz`` and
``/barrierefreiheit`` (blueprint ``vernetztestadt_pages``) and the text of
CKAN's ``/about``; and what the home page shows — the newest datasets, the
featured ones (per ``featured_types``, the newest with a map or chart) and the
counts by theme — all read through ``package_search`` as the visitor, so
nothing private shows.

Must not touch: datasets (it only reads), drawing maps and charts
(``page_views``), the search.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import ckan.plugins.toolkit as tk
import yaml
from flask import Blueprint

from .facets import theme_label
from .indexing import german_sort_key

BUNDLED = Path(__file__).parent / "texts" / "gelsenkirchen.yaml"
#: the pages of the blueprint: URL path -> key in the texts' ``pages``
PAGES = {"impressum": "impressum", "datenschutz": "datenschutz",
         "barrierefreiheit": "barrierefreiheit"}
NEWEST = 5


@cache
def _read(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        texts = yaml.safe_load(handle)
    if not isinstance(texts, dict) or not isinstance(texts.get("pages"), dict):
        raise ValueError(f"{path}: die Portaltexte brauchen „pages“ (siehe {BUNDLED.name})")
    return texts


def texts() -> dict[str, Any]:
    return _read(tk.config.get("ckanext.vernetztestadt.portal_texts") or str(BUNDLED))


def local(value: Any) -> Any:
    """A ``{de: ..., en: ...}`` text in the page's language (German when the
    language is missing); anything else as it is."""
    if isinstance(value, dict) and ("de" in value or "en" in value):
        return value.get(tk.h.lang()) or value.get("de") or ""
    return value


def portal() -> dict[str, Any]:
    """Name, tagline, intro, offers and contact, in the page's language."""
    found = texts()
    contact = {key: local(value) for key, value in (found.get("contact") or {}).items()}
    return {"name": local(found.get("name")), "tagline": local(found.get("tagline")),
            "intro": local(found.get("intro")), "contact": contact,
            "offers": [{"title": local(o.get("title")), "text": local(o.get("text"))}
                       for o in found.get("offers") or []]}


def _feedback(contact: dict[str, str]) -> str:
    """Where feedback goes: the e-mail address as a link, else the post."""
    if contact.get("email"):
        return f"[{contact['email']}](mailto:{contact['email']})"
    return ", ".join(part for part in (contact.get("office"), contact.get("address")) if part)


def _entry(key: str) -> dict[str, Any] | None:
    entry = texts()["pages"].get(key)
    return entry if isinstance(entry, dict) else None


def page(key: str) -> dict[str, Any] | None:
    """A page's title and its text as sanitised HTML (CKAN's markdown
    renderer), placeholders (``{name}``, ``{office}``, ``{address}``,
    ``{email}``, ``{feedback}``) filled from the texts themselves."""
    entry = _entry(key)
    if entry is None:
        return None
    shown = portal()
    values = {"name": shown["name"], **shown["contact"], "feedback": _feedback(shown["contact"])}
    text = str(local(entry.get("text")) or "")
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value or ""))
    return {"key": key, "title": local(entry.get("title")), "html": tk.h.render_markdown(text)}


def footer_links() -> list[dict[str, str]]:
    """Title and address of each page (every page shows them: no rendering)."""
    routes = {"about": "home.about",
              **{key: f"vernetztestadt_pages.{path}" for path, key in PAGES.items()}}
    return [{"title": local(entry.get("title")), "url": tk.h.url_for(route)}
            for key, route in routes.items() if (entry := _entry(key))]


# -- the home page ----------------------------------------------------------------
def _search(**params: Any) -> dict[str, Any]:
    # as CKAN's own search page: private datasets where the visitor's
    # permission labels allow (members), never for others
    return tk.get_action("package_search")({}, {"include_private": True, **params})


def home() -> dict[str, Any]:
    """What the home page lists, as the current visitor may see it."""
    newest = _search(q="", rows=NEWEST, sort="metadata_created desc",
                     **{"facet.field": '["vocab_theme"]', "facet.limit": -1})
    return {"count": newest["count"], "newest": newest["results"],
            "themes": _themes(newest["facets"].get("vocab_theme", {})),
            "featured": featured()}


def _themes(counts: dict[str, int]) -> list[dict[str, Any]]:
    found = [{"uri": uri, "label": theme_label(uri), "count": count}
             for uri, count in counts.items()]
    return sorted(found, key=lambda t: (-t["count"], german_sort_key(t["label"])))


def featured() -> list[dict[str, Any]]:
    """Per featured type, its newest dataset that draws a map or a chart."""
    from .page_views import dataset_views

    chosen = []
    for dataset_type in texts().get("featured_types") or []:
        candidates = _search(fq=f"+dataset_type:{dataset_type}", rows=10,
                             sort="metadata_modified desc")["results"]
        for dataset in candidates:
            views = dataset_views(dataset)
            if views:
                chosen.append({"dataset": dataset, "view": views[0]})
                break
    return chosen


# -- pages ---------------------------------------------------------------------------
def _show(key: str) -> Any:
    found = page(key)
    if found is None:
        return tk.abort(404, tk._("Seite nicht gefunden"))
    return tk.render("vernetztestadt/page.html", extra_vars={"page": found})


def get_blueprints() -> list[Blueprint]:
    pages = Blueprint("vernetztestadt_pages", __name__)
    for path, key in PAGES.items():
        pages.add_url_rule(f"/{path}", path, lambda key=key: _show(key))
    return [pages]


def get_helpers() -> dict[str, Any]:
    return {"vernetztestadt_portal": portal, "vernetztestadt_page": page,
            "vernetztestadt_home": home, "vernetztestadt_footer_links": footer_links,
            "vernetztestadt_local": local}

