"""The ``vernetztestadt`` CKAN plugin: wires CKAN interfaces to our modules.

Owns: which interfaces the extension implements and where each one is served
from. Must not hold behaviour itself; that lives in the modules it names.
"""
from __future__ import annotations

import functools
from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.lib.plugins import DefaultTranslation

from . import (
    charts,
    cli,
    create_uploads,
    datapackage,
    facets,
    helpers,
    indexing,
    maps,
    metadata_display,
    page_views,
    portal,
    profiles,
    resources,
    search_guard,
    series,
    upstream,
    validators,
)
from .harvest import job_summary, status_mail
from .quality import actions as quality_actions
from .quality import display as quality_display
from .quality import gate as quality_gate
from .quality import views as quality_views
from .search import backend as search_backend
from .validation import actions as validation_actions
from .validation import display as validation_display
from .validation import gate as validation_gate
from .validation import views as validation_views


def _unset(config: Any, key: str) -> bool:
    """Not set by the site: missing, or still another plugin's declared default
    (ckanext-dcat declares its profiles, so they are never simply missing)."""
    from ckan.common import config_declaration

    value = config.get(key)
    declared = config_declaration.get(key)
    return not value or (declared is not None and value == declared.default)


def _helpers() -> dict[str, Any]:
    return {**helpers.get_helpers(), **page_views.get_helpers(), **portal.get_helpers(),
            **series.get_helpers(), **quality_display.get_helpers(),
            **job_summary.get_helpers()}


def _blueprints() -> list[Any]:
    return [*validation_views.get_blueprints(), *portal.get_blueprints(),
            *series.get_blueprints(), *metadata_display.get_blueprints(),
            *quality_views.get_blueprints(), *datapackage.get_blueprints()]


def _actions() -> dict[str, Any]:
    # the metadata gate outside the validation gate: refused before any file is read
    # files of a new dataset are stored inside both gates: after the checks
    return _one_table(quality_gate.get_actions(), validation_gate.get_actions(),
                      create_uploads.get_actions(), validation_actions.get_actions(),
                      quality_actions.get_actions(), search_guard.get_actions(),
                      status_mail.get_actions(),
                      *upstream.action_tables())


def _one_table(*tables: dict[str, Any]) -> dict[str, Any]:
    """CKAN takes one function per action name from a plugin: two modules'
    chained actions of one name run one inside the other (earlier outside)."""
    merged: dict[str, Any] = {}
    for table in tables:
        for name, action in table.items():
            merged[name] = _nested(merged[name], action) if name in merged else action
    return merged


def _nested(outer: Any, inner: Any) -> Any:
    if not (getattr(outer, "chained_action", False) and getattr(inner, "chained_action", False)):
        raise ValueError(f"two modules define the action {inner.__name__}")

    def nested(original: Any, context: Any, data_dict: Any) -> Any:
        return outer(functools.partial(inner, original), context, data_dict)

    nested.__dict__.update({**inner.__dict__, **outer.__dict__})
    return nested


def _auth_functions() -> dict[str, Any]:
    return {**validation_actions.get_auth_functions(), **quality_actions.get_auth_functions(),
            **upstream.get_auth_functions()}


@tk.blanket.config_declarations
@tk.blanket.actions(_actions)
@tk.blanket.auth_functions(_auth_functions)
@tk.blanket.blueprints(_blueprints)
@tk.blanket.cli(cli.get_commands)
@tk.blanket.helpers(_helpers)
@tk.blanket.validators(validators.get_validators)
class VernetzteStadtPlugin(p.SingletonPlugin, DefaultTranslation):
    p.implements(p.IConfigurer)
    p.implements(p.IConfigurable)
    p.implements(p.ITranslation)
    p.implements(p.IPackageController, inherit=True)
    p.implements(p.IFacets, inherit=True)
    p.implements(p.IMiddleware, inherit=True)

    # IMiddleware: once every blueprint is registered (harvest's too)
    def make_middleware(self, app: Any, config: Any) -> Any:
        metadata_display.install(app)
        return upstream.install(search_guard.install_error_page(app))

    # IPackageController: runs before spatial_query's, which reads ``spatial``
    def before_dataset_index(self, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        return indexing.before_dataset_index(pkg_dict)

    # IPackageController: runs before spatial_query's, which reads ``ext_bbox``
    def before_dataset_search(self, search_params: dict[str, Any]) -> dict[str, Any]:
        return search_guard.before_dataset_search(search_params)

    # IPackageController: facet values as labels (pages and API)
    def after_dataset_search(self, search_results: dict[str, Any],
                             search_params: dict[str, Any]) -> dict[str, Any]:
        return facets.label_facets(search_results)

    # IPackageController: validation statuses in the API, the index and pages
    def after_dataset_show(self, context: Any, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        return validation_display.annotate(pkg_dict)

    # IPackageController: a change's reports join CKAN's transaction
    def after_dataset_create(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        validation_gate.record_in_transaction(context, pkg_dict)

    def after_dataset_update(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        validation_gate.record_in_transaction(context, pkg_dict)

    # IFacets
    def dataset_facets(self, facets_dict: dict[str, Any], package_type: str) -> dict[str, Any]:
        facets_dict["vocab_theme"] = tk._("Kategorie")
        facets_dict["validation_status"] = tk._("Prüfstatus")
        facets_dict.update(quality_display.facets())  # for stewards only
        return facets_dict

    def organization_facets(self, facets_dict: dict[str, Any], organization_type: str,
                            package_type: str | None) -> dict[str, Any]:
        return self.dataset_facets(facets_dict, package_type or "dataset")

    # IConfigurer: CKAN calls this after scheming's and dcat's update_config
    # (reverse ckan.plugins order); scheming's settings are therefore declared
    # defaults (config_declaration.yaml), these are read later, at use
    def update_config(self, config: Any) -> None:
        tk.add_template_directory(config, "templates")
        tk.add_public_directory(config, "public")
        tk.add_resource("assets", "vernetztestadt")
        for key, value in self._defaults().items():
            if _unset(config, key):
                config[key] = value
        # rebuild-fast's forked children, with either engine (with Solr, the
        # vernetztestadt_search plugin is not enabled)
        search_backend.forget_connections_after_fork()

    # IConfigurable: settings that must hold before the portal serves anyone
    def configure(self, config: Any) -> None:
        profiles.check_configuration()

    @staticmethod
    def _defaults() -> dict[str, str]:
        """Settings the shipped schemas need, unless the site sets its own.
        (scheming's are declared defaults instead: it reads them before this.)"""
        return {
            "licenses_group_url": resources.licenses_url(),
            # DCAT-AP.de on top of DCAT-AP 3 (which includes the scheming
            # profile: naming euro_dcat_ap_scheming again would add every
            # contact point and publisher twice)
            "ckanext.dcat.rdf.profiles": "euro_dcat_ap_3 vernetztestadt_dcat_ap_de",
            # DCAT-AP puts licences on distributions: inherit the dataset's
            "ckanext.dcat.resource.inherit.license": "true",
            # the city's local time on pages (reports, provenance, dates)
            "ckan.display_timezone": "Europe/Berlin",
            # no avatars from gravatar.com: no other host learns who browses
            "ckan.gravatar_default": "disabled",
        }


class VernetzteStadtSearchPlugin(p.SingletonPlugin):
    """``vernetztestadt_search``: CKAN's search answered by PostgreSQL."""

    p.implements(p.IConfigurer)

    # IConfigurer: runs before CKAN checks Solr in load_environment
    def update_config(self, config: Any) -> None:
        if search_backend.solr_configured():
            return  # CKAN_SOLR_URL names a real Solr: CKAN's own connection answers
        search_backend.install(
            # declared defaults are filled in before IConfigurer runs
            text_config=config.get("ckanext.vernetztestadt.search.text_config"),
            timeout_ms=config.get("ckanext.vernetztestadt.search.timeout_ms"),
            cache_seconds=config.get("ckanext.vernetztestadt.search.cache_seconds"),
        )


class _DrawnView:
    """A resource view drawn by one of our modules (``charts``, ``maps``):
    each module owns ``info``, ``can_view``, ``template_variables`` and the
    names of its two templates."""

    module: Any

    def info(self) -> dict[str, Any]:
        return self.module.info()

    def can_view(self, data_dict: dict[str, Any]) -> bool:
        return self.module.can_view(data_dict)

    def setup_template_variables(self, context: Any, data_dict: dict[str, Any]) -> dict[str, Any]:
        return self.module.template_variables(data_dict)

    def view_template(self, context: Any, data_dict: dict[str, Any]) -> str:
        return self.module.VIEW_TEMPLATE

    def form_template(self, context: Any, data_dict: dict[str, Any]) -> str:
        return self.module.FORM_TEMPLATE


class ChartViewPlugin(_DrawnView, p.SingletonPlugin):
    """``vernetztestadt_chart``: line charts of CSV resources."""

    p.implements(p.IResourceView)
    module = charts


class MapViewPlugin(_DrawnView, p.SingletonPlugin):
    """``vernetztestadt_map``: maps of point tables (SVG, Leaflet on top)."""

    p.implements(p.IResourceView)
    module = maps
