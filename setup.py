"""ckanext-vernetztestadt: CKAN extension of the Gelsenkirchen open-data portal.

The top-level folders ``schemas/`` and ``harvesters/`` are shipped as the
subpackages ``ckanext.vernetztestadt.schemas`` and
``ckanext.vernetztestadt.harvesters``, so a plain ``pip install .`` carries
them and the code finds them through ``importlib.resources``.
"""
from pathlib import Path

from setuptools import find_namespace_packages, setup

HERE = Path(__file__).parent


#: The harvesters: source type -> class. Each is a CKAN plugin as well (its
#: base, ckanext-harvest's HarvesterBase, is a SingletonPlugin implementing
#: IHarvester) and is listed under ``ckanext.vernetztestadt.harvesters``, from
#: which the portal derives its plugin list and the source types.
HARVESTERS = {
    "vernetztestadt_ranking": "ranking:RankingHarvester",
    "vernetztestadt_wifi": "wifi:WifiHarvester",
    "vernetztestadt_broadband": "broadband:BroadbandHarvester",
    "vernetztestadt_dcat": "catalogs:DcatHarvester",
    "vernetztestadt_ckan": "catalogs:RegionalCkanHarvester",
}
#: The harvest formats: name -> class (``harvest.formats``).
FORMATS = {
    "city_csv": "city_csv:CityCsv",
    "geojson": "geojson:GeoJson",
    "meshviewer": "meshviewer:Meshviewer",
    "ffmap_nodes": "ffmap:Ffmap",
    "hopglass": "hopglass:Hopglass",
    "olsr": "olsr:Olsr",
    "overpass": "overpass:Overpass",
    "german_csv": "broadband_german_csv:GermanCsv",
    "coded_csv": "broadband_coded_csv:CodedCsv",
    "legacy_csv": "broadband_coded_csv:LegacyCsv",
    "xlsx": "broadband_xlsx:Xlsx",
    "mobile_long": "broadband_mobile:MobileLong",
    "bitkom_html": "bitkom_html:BitkomHtml",
    "ranking_xlsx": "ranking_table:RankingXlsx",
    "ranking_csv": "ranking_table:RankingCsv",
}


def entry_points(package: str, classes: dict[str, str]) -> list[str]:
    return [f"{name} = {package}.{target}" for name, target in classes.items()]


def requirements(name: str) -> list[str]:
    lines = (HERE / name).read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


setup(
    name="ckanext-vernetztestadt",
    version="0.1.0",
    description="Gelsenkirchen open-data portal: schemas, validation, harvesters, "
                "PostgreSQL search for CKAN 2.12",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="AGPL-3.0-or-later",
    python_requires=">=3.11",
    packages=find_namespace_packages(include=["ckanext", "ckanext.vernetztestadt*"])
    + ["ckanext.vernetztestadt.schemas", "ckanext.vernetztestadt.harvesters"],
    package_dir={
        "ckanext.vernetztestadt.schemas": "schemas",
        "ckanext.vernetztestadt.harvesters": "harvesters",
    },
    package_data={
        "ckanext.vernetztestadt": [
            "config_declaration.yaml", "runtime/*.tmpl", "templates/**/*", "public/**/*",
            "assets/**/*", "i18n/**/*", "migration/**/*", "demo_data/**/*", "texts/*.yaml",
            "vocabularies/*.txt", "quality/*.yaml",
        ],
        "ckanext.vernetztestadt.schemas": ["*.yaml", "*.json", "tables/*"],
        "ckanext.vernetztestadt.harvesters": ["*.yaml", "snapshots/**/*"],
    },
    include_package_data=False,
    install_requires=requirements("requirements.txt"),
    extras_require={"embedded": requirements("embedded-requirements.txt")},
    entry_points={
        "ckan.plugins": [
            "vernetztestadt = ckanext.vernetztestadt.plugin:VernetzteStadtPlugin",
            "vernetztestadt_search = ckanext.vernetztestadt.plugin:VernetzteStadtSearchPlugin",
            "vernetztestadt_chart = ckanext.vernetztestadt.plugin:ChartViewPlugin",
            "vernetztestadt_map = ckanext.vernetztestadt.plugin:MapViewPlugin",
            *entry_points("ckanext.vernetztestadt.harvest.harvesters", HARVESTERS),
        ],
        "ckanext.vernetztestadt.harvesters":
            entry_points("ckanext.vernetztestadt.harvest.harvesters", HARVESTERS),
        "ckanext.vernetztestadt.harvest_formats":
            entry_points("ckanext.vernetztestadt.harvest.formats", FORMATS),
        "ckan.rdf.profiles": [
            "vernetztestadt_dcat_ap_de = ckanext.vernetztestadt.profiles:DCATAPDeProfile",
        ],
        "console_scripts": [
            "vernetztestadt-runtime = ckanext.vernetztestadt.runtime.cli:main",
        ],
        "babel.extractors": [
            "ckan = ckan.lib.extract:extract_ckan",
        ],
    },
    message_extractors={
        "ckanext": [
            ("**.py", "python", None),
            ("**.js", "javascript", None),
            ("**/templates/**.html", "ckan", None),
            ("**/quality/criteria.yaml", "ckanext.vernetztestadt.quality.criteria:extract", None),
        ],
    },
)
