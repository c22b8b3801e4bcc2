"""The foundation: plugin loaded, config declared, pages and CLI answer."""

import ckan.plugins as p
import ckan.plugins.toolkit as tk


def test_plugin_is_loaded():
    assert p.plugin_loaded("vernetztestadt")


def test_status_show_lists_plugin(app):
    res = app.get("/api/3/action/status_show")
    assert res.status_code == 200
    assert "vernetztestadt" in res.json["result"]["extensions"]


def test_declared_defaults():
    assert tk.config.get("ckanext.vernetztestadt.default_ags") == "05513000"
