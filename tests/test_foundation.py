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


def test_scheming_reads_the_declared_schema_list():
    """The list ckanext-scheming gets names every dataset type in schemas/."""
    from ckanext.vernetztestadt import resources

    shipped = [resources.scheming_reference(f) for f in resources.dataset_schema_files()]
    assert tk.config.get("scheming.dataset_schemas").split() == shipped


def test_a_freshly_started_portal_has_its_types_and_profiles():
    """As `ckan run` builds the app once (no plugin reloading as in tests):
    scheming must see the types, ckanext-dcat DCAT-AP 3 (with its scheming
    part) and the portal's DCAT-AP.de profile."""
    import subprocess
    import sys

    script = (
        "from ckan.cli import load_config\n"
        "from ckan.config.middleware import make_app\n"
        "make_app(load_config('test.ini'))\n"
        "import ckan.plugins as p\n"
        "from ckan.common import config\n"
        "print(sorted(p.get_plugin('scheming_datasets')._schemas))\n"
        "print(config.get('ckanext.dcat.rdf.profiles'))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    types, profiles = done.stdout.strip().splitlines()[-2:]
    assert types == str(["broadband_coverage", "dataset", "smart_city_ranking",
                         "wifi_hotspots"])
    assert profiles == "euro_dcat_ap_3 vernetztestadt_dcat_ap_de"
