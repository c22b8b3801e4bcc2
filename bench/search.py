"""Benchmark of CKAN's search: the PostgreSQL backend (``vernetztestadt_search``)
against a real Solr, on the same datasets.

Fills the database ``ckan_bench`` (or ``--database bench_*``; Redis db 3) with N
synthetic but realistic Gelsenkirchen datasets through CKAN's model (bulk ORM
inserts, batches of 500). Each engine gets a CKAN process of its own (the
PostgreSQL backend; or CKAN's own Solr connection, ``CKAN_SOLR_URL`` pointing
at the runtime's standalone Solr node, core = database name). Both index the
same database rows through CKAN's indexing path, first CKAN's
``ckan.lib.search.rebuild`` on a sample (package_show -> index_package ->
add), then everything with ``ckan vernetztestadt search-index-rebuild``'s
path (``reindex``: the same functions, batched, ``--workers`` processes).
Then ``package_search`` is timed in several scenarios, with the same
parameters sent to both engines in alternating chunks, so that load from
other processes falls on both.

Usage::

    .venv/bin/python bench/search.py --engine both --datasets 10000 100000
    .venv/bin/python bench/search.py --datasets 10000 [--queries 200] [--keep]
                                     [--explain] [--engine postgres|solr|both]

Only the bench database, its index and its Solr core are written; they are
emptied at the start unless ``--keep`` is given (then the existing datasets
are searched as they are indexed).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import benchlib  # bench/benchlib.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
INI = ROOT / "test.ini"
HOME = Path(os.environ.get("VERNETZTESTADT_HOME") or ROOT / ".portal")
DATABASE = "ckan_bench"
REDIS_DB = 3
BATCH = 500
INDEX_TABLE = "vernetztestadt_search.documents"
FACET_FIELDS = ["tags", "organization", "res_format"]
ENGINES = ("postgres", "solr")
#: Queries sent to one engine before the other gets the next ones.
CHUNK = 20

# -- vocabulary ----------------------------------------------------------------
TAGS = """
Verkehr|ÖPNV|Bus|Straßenbahn|Haltestellen|Fahrplan|Radverkehr|Radwege|Fußverkehr|Parken|
Parkplätze|Elektromobilität|Ladesäulen|Carsharing|Taxi|Verkehrszählung|Unfälle|Baustellen|
Straßen|Brücken|Umwelt|Luftqualität|Feinstaub|Stickstoffdioxid|Lärm|Klima|Klimaschutz|
Klimaanpassung|Hitze|Starkregen|Hochwasser|Gewässer|Grundwasser|Boden|Altlasten|Naturschutz|
Bäume|Grünflächen|Parks|Friedhöfe|Abfall|Recycling|Glascontainer|Sperrmüll|Straßenreinigung|
Energie|Solar|Photovoltaik|Wärme|Fernwärme|Strom|Gas|Wasser|Abwasser|Kanalnetz|Emscher|
Bevölkerung|Einwohner|Demografie|Migration|Geburten|Sterbefälle|Haushalte|Statistik|Wahlen|
Kommunalwahl|Bundestagswahl|Europawahl|Wahlbezirke|Stimmbezirke|Politik|Rat|Bezirksvertretung|
Haushalt|Finanzen|Steuern|Gewerbesteuer|Grundsteuer|Beteiligungen|Förderung|Bildung|Schulen|
Grundschulen|Gesamtschulen|Gymnasien|Berufskollegs|Kitas|Kindertagespflege|Jugend|
Jugendzentren|Familie|Senioren|Soziales|Sozialhilfe|Wohngeld|Arbeitslosigkeit|Arbeitsmarkt|
Beschäftigung|Wirtschaft|Gewerbe|Einzelhandel|Wochenmärkte|Gewerbeflächen|
Wirtschaftsförderung|Tourismus|Hotels|Gastronomie|Kultur|Museen|Theater|Musiktheater|
Bibliotheken|Denkmäler|Denkmalschutz|Stolpersteine|Kunst|Veranstaltungen|Sport|Sportstätten|
Schwimmbäder|Bäder|Spielplätze|Freizeit|Kleingärten|Zoo|Gesundheit|Krankenhäuser|Apotheken|
Ärzte|Pflege|Corona|Impfungen|Rettungsdienst|Feuerwehr|Katastrophenschutz|Sicherheit|
Ordnungsamt|Polizei|Kriminalität|Sirenen|Geodaten|Kataster|Liegenschaften|Flurstücke|Gebäude|
Hausumringe|Adressen|Straßenverzeichnis|Luftbilder|Orthophotos|Stadtkarte|Stadtplan|
Bebauungspläne|Flächennutzungsplan|Stadtplanung|Stadtentwicklung|Stadterneuerung|Wohnen|
Mietspiegel|Bodenrichtwerte|Immobilien|Leerstand|Baugenehmigungen|Digitalisierung|WLAN|
Breitband|Glasfaser|Mobilfunk|Smart City|Sensoren|Open Data|Verwaltung|Bürgerservice|
Öffnungszeiten|Standorte|Behörden|Stadtteile|Stadtbezirke|Buer|Horst|Ückendorf|Schalke|
Bismarck|Erle|Resse|Hassel|Rotthausen|Altstadt|Scholven|Beckhausen|Ruhrgebiet|Zeche|Bergbau|
Industriekultur|Halden|Emscherpark|Nordsternpark|Schalke 04|Ehrenamt|Vereine
"""

#: Subjects of dataset titles and the tags that always go with them.
TOPICS: list[tuple[str, tuple[str, ...]]] = [
    ("Haltestellen des ÖPNV", ("ÖPNV", "Haltestellen")),
    ("Luftqualität Messstation", ("Luftqualität", "Umwelt")),
    ("Feinstaubbelastung", ("Feinstaub", "Luftqualität")),
    ("Straßenbäume", ("Bäume", "Grünflächen")),
    ("Baumkataster", ("Bäume", "Kataster")),
    ("Parkplätze und Parkhäuser", ("Parken", "Parkplätze")),
    ("Ladesäulen für Elektrofahrzeuge", ("Elektromobilität", "Ladesäulen")),
    ("Einwohnerzahlen nach Stadtteilen", ("Bevölkerung", "Einwohner")),
    ("Bevölkerungsprognose", ("Bevölkerung", "Demografie")),
    ("Geburten und Sterbefälle", ("Geburten", "Sterbefälle")),
    ("Kindertageseinrichtungen", ("Kitas", "Familie")),
    ("Schulstandorte", ("Schulen", "Bildung")),
    ("Ergebnisse der Kommunalwahl", ("Wahlen", "Kommunalwahl")),
    ("Ergebnisse der Bundestagswahl", ("Wahlen", "Bundestagswahl")),
    ("Verkehrszählung", ("Verkehr", "Verkehrszählung")),
    ("Baustellen im Straßennetz", ("Baustellen", "Straßen")),
    ("Glascontainer-Standorte", ("Abfall", "Glascontainer")),
    ("Abfuhrtermine der Müllabfuhr", ("Abfall", "Sperrmüll")),
    ("Spielplätze", ("Spielplätze", "Freizeit")),
    ("Sportstätten und Turnhallen", ("Sport", "Sportstätten")),
    ("Baudenkmäler", ("Denkmäler", "Denkmalschutz")),
    ("Stolpersteine", ("Stolpersteine", "Kultur")),
    ("Radwegenetz", ("Radverkehr", "Radwege")),
    ("WLAN-Hotspots", ("WLAN", "Digitalisierung")),
    ("Lärmkartierung", ("Lärm", "Umwelt")),
    ("Hochwassergefahrenkarte", ("Hochwasser", "Starkregen")),
    ("Starkregengefahrenkarte", ("Starkregen", "Klimaanpassung")),
    ("Haushaltsplan", ("Haushalt", "Finanzen")),
    ("Bodenrichtwerte", ("Bodenrichtwerte", "Immobilien")),
    ("Friedhöfe", ("Friedhöfe", "Grünflächen")),
    ("Gewerbeflächen", ("Gewerbeflächen", "Wirtschaftsförderung")),
    ("Solarpotenzialkataster", ("Solar", "Photovoltaik")),
    ("Straßenbeleuchtung", ("Straßen", "Energie")),
    ("Öffentliche Toiletten", ("Standorte", "Bürgerservice")),
    ("Trinkbrunnen", ("Wasser", "Hitze")),
    ("Öffnungszeiten der Bäder", ("Bäder", "Öffnungszeiten")),
    ("Arbeitslosenquote", ("Arbeitsmarkt", "Arbeitslosigkeit")),
    ("Wohngeldempfänger", ("Wohngeld", "Soziales")),
    ("Grünflächenkataster", ("Grünflächen", "Kataster")),
    ("Kleingartenanlagen", ("Kleingärten", "Freizeit")),
    ("Ausleihen der Stadtbibliothek", ("Bibliotheken", "Kultur")),
    ("Feuerwehrstandorte", ("Feuerwehr", "Sicherheit")),
    ("Rettungswachen", ("Rettungsdienst", "Gesundheit")),
    ("Apotheken-Notdienst", ("Apotheken", "Gesundheit")),
    ("Wochenmärkte", ("Wochenmärkte", "Einzelhandel")),
    ("Fahrradabstellanlagen", ("Radverkehr", "Parken")),
    ("Car-Sharing-Stationen", ("Carsharing", "Verkehr")),
    ("Verkehrsunfälle", ("Unfälle", "Sicherheit")),
    ("Bebauungspläne", ("Bebauungspläne", "Stadtplanung")),
    ("Straßenverzeichnis", ("Straßenverzeichnis", "Adressen")),
    ("Gebäudeumrisse", ("Gebäude", "Hausumringe")),
    ("Digitale Orthophotos", ("Luftbilder", "Orthophotos")),
    ("Sirenenstandorte", ("Sirenen", "Katastrophenschutz")),
    ("Mietspiegel", ("Mietspiegel", "Wohnen")),
    ("Fernwärmenetz", ("Fernwärme", "Energie")),
    ("Gewässergüte der Emscher", ("Emscher", "Gewässer")),
]

DISTRICTS = ["Altstadt", "Schalke", "Schalke-Nord", "Bulmke-Hüllen", "Feldmark", "Heßler",
             "Neustadt", "Bismarck", "Ückendorf", "Rotthausen", "Horst", "Beckhausen", "Buer",
             "Hassel", "Scholven", "Erle", "Resse", "Resser Mark", "Sutum", "Buer-Mitte"]
BEZIRKE = ["Gelsenkirchen-Mitte", "Gelsenkirchen-Nord", "Gelsenkirchen-West",
           "Gelsenkirchen-Ost", "Gelsenkirchen-Süd"]
STREETS = ["Bahnhofstraße", "Hauptstraße", "Kurt-Schumacher-Straße", "Ebertstraße",
           "Hochstraße", "Florastraße", "Overwegstraße", "Cranger Straße", "Horster Straße",
           "Uechtingstraße", "Bochumer Straße", "Grothusstraße", "Münsterstraße",
           "De-la-Chevallerie-Straße", "Vattmannstraße", "Husemannstraße", "Ringstraße"]
MONTHS = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
          "September", "Oktober", "November", "Dezember"]
TITLE_TEMPLATES = [
    "{topic} in {district} {year}", "{topic} Gelsenkirchen-{district}", "{topic} {year}",
    "{topic} im Stadtbezirk {bezirk}", "{topic} \u2013 Stand {month} {year}",
    "{topic} an der {street}", "{topic}",
]
SENTENCES = [
    "Der Datensatz enthält {topic} im Stadtgebiet Gelsenkirchen.",
    "Die Daten werden {frequency} vom {org} aktualisiert.",
    "Grundlage sind Erhebungen an der {street} und in {district}.",
    "Stand der Daten: {month} {year}.",
    "Die Geometrien liegen im Koordinatensystem ETRS89 / UTM Zone 32N vor.",
    "Für die Stadtteile {district} und {district2} liegen zusätzlich Zeitreihen seit {year2} vor.",
    "Hinweise zur Qualität und zu Lücken finden sich in der Dokumentation (PDF).",
    "Die Veröffentlichung erfolgt im Rahmen der Open-Data-Strategie der Vernetzten Stadt.",
    "Änderungen gegenüber dem Vorjahr betreffen vor allem den Stadtbezirk {bezirk}.",
    "Bei Fragen wenden Sie sich bitte an das {org}.",
]
FREQUENCIES = ["täglich", "wöchentlich", "monatlich", "vierteljährlich", "jährlich",
               "unregelmäßig"]
ORGANIZATIONS = [
    ("Stadt Gelsenkirchen", 30), ("Referat Verkehr", 12), ("Referat Umwelt", 12),
    ("Referat Vermessung und Kataster", 10), ("Statistikstelle", 10), ("Gelsendienste", 8),
    ("Feuerwehr Gelsenkirchen", 5), ("Bildungsbüro", 5), ("Referat Gesundheit", 4),
    ("Referat Soziales", 4), ("Wirtschaftsförderung Gelsenkirchen", 4),
    ("Stadtwerke Gelsenkirchen", 3), ("BOGESTRA", 3), ("Emschergenossenschaft", 2),
    ("Wahlamt", 2), ("Stadtkämmerei", 2), ("Referat Stadtplanung", 6),
    ("Referat Kultur", 2), ("Stadtbibliothek", 1), ("Vernetzte Stadt \u2013 Digitalisierung", 3),
]
GROUPS = ["Bevölkerung und Gesellschaft", "Bildung, Kultur und Sport", "Energie",
          "Gesundheit", "Internationale Themen", "Justiz, Rechtssystem und öffentliche Sicherheit",
          "Landwirtschaft, Fischerei, Forstwirtschaft und Nahrungsmittel",
          "Regierung und öffentlicher Sektor", "Regionen und Städte", "Umwelt", "Verkehr",
          "Wirtschaft und Finanzen", "Wissenschaft und Technologie", "Geodaten",
          "Open Government"]
FORMATS = [("CSV", "csv", 30), ("JSON", "json", 12), ("GeoJSON", "geojson", 14),
           ("XLSX", "xlsx", 12), ("PDF", "pdf", 20), ("WMS", "wms", 8)]
LICENSES = [("dl-de-by-2.0", 40), ("dl-de-zero-2.0", 20), ("cc-by", 15), ("cc-zero", 10),
            ("odc-odbl", 5), ("other-open", 5), ("notspecified", 5)]
EXTRA_KEYS = ["ags", "update_frequency", "contact_email", "temporal_start", "temporal_end",
              "source", "spatial_text", "issued"]
LON = (6.97, 7.17)
LAT = (51.48, 51.64)


def tag_vocabulary() -> list[str]:
    return [t.strip() for t in TAGS.replace("\n", "").split("|") if t.strip()]


def slug(text: str, limit: int = 80) -> str:
    """A CKAN name from a German title: umlauts spelt out, lower case, dashes."""
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"),
                 ("Ä", "ae"), ("Ö", "oe"), ("Ü", "ue")):
        text = text.replace(a, b)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-")


def zipf_weights(n: int, s: float = 1.0) -> list[float]:
    return [1.0 / (rank ** s) for rank in range(1, n + 1)]


# -- output ------------------------------------------------------------------
class Progress:
    """One self-overwriting progress line on stderr."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total = label, total
        self.started = self.shown = time.monotonic()
        self.done = 0

    def step(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.shown >= 0.5 or self.done >= self.total:
            self.shown = now
            rate = self.done / max(now - self.started, 1e-9)
            sys.stderr.write(f"\r{self.label}: {self.done}/{self.total} ({rate:,.0f}/s)   ")
            sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def quiet_logging(level: int = logging.INFO) -> None:
    """Drop log records up to ``level``; the rest go to stderr, so that stdout
    holds only the report (even with an ini whose handler writes to stdout)."""
    logging.disable(level)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    for name in ("", "ckan", "ckanext", "sqlalchemy", "alembic", "werkzeug"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
            handler.setStream(sys.stderr)


# -- set-up ----------------------------------------------------------------------
def check_database(name: str) -> str:
    """The bench empties and migrates the database it is given: only its own."""
    if name != DATABASE and not name.startswith("bench_"):
        raise SystemExit(f"refusing to use database {name!r}: the bench uses {DATABASE!r} "
                         "or a database called bench_*")
    return name


def start_services(database: str = DATABASE, solr_core: bool = False) -> str | None:
    """Start or check the services; point CKAN at the bench database. With
    ``solr_core``, start the runtime's standalone Solr node with a core named
    after the database and return its URL (a real Solr in ``CKAN_SOLR_URL``
    is never used: the bench empties what it indexes into)."""
    from sqlalchemy.engine import make_url

    from ckanext.vernetztestadt.runtime import solr
    from ckanext.vernetztestadt.runtime.cli import prepare

    os.environ.pop("CKAN_SOLR_URL", None)
    os.environ.pop("SEARCH", None)
    runtime, urls = prepare(HOME, check_database(database), REDIS_DB, 5000)
    if make_url(urls.sqlalchemy_url).database != database:
        raise SystemExit(f"refusing to use database {make_url(urls.sqlalchemy_url).database!r}"
                         f": CKAN_SQLALCHEMY_URL must name a database called {database!r}")
    os.environ["CKAN_SQLALCHEMY_URL"] = urls.sqlalchemy_url
    os.environ["CKAN_REDIS_URL"] = urls.redis_url
    if urls.datastore:  # test.ini loads the DataStore (not benchmarked)
        os.environ.update(urls.datastore.environ())
    if not solr_core:
        return None
    solr.start(runtime, "solr", (database,))
    return solr.url(runtime, "solr", database)


def migrate() -> None:
    """``ckan db upgrade``: core, activity and harvest migrations (idempotent)."""
    exe = Path(sys.executable).with_name("ckan")
    done = subprocess.run([str(exe), "-c", str(INI), "db", "upgrade"], text=True,
                          capture_output=True, check=False)
    if done.returncode:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise SystemExit(f"ckan db upgrade failed: {tail}")


def load_ckan(engine: str = "postgres") -> Any:
    """Load CKAN with test.ini (plugins, search backend) and return the app.
    ``engine`` is the one CKAN must have ended up with."""
    quiet_logging(logging.WARNING)  # e.g. undeclared config options of other plugins
    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    app = make_app(load_config(str(INI)))
    quiet_logging()
    import ckan.lib.search.common as common

    from ckanext.vernetztestadt.search import backend
    ours = backend.installed() and common.make_connection is backend.make_connection
    if engine == "postgres" and not ours:
        raise SystemExit("vernetztestadt_search is not active: check ckan.plugins in test.ini")
    if engine == "solr" and (ours or not backend.solr_configured()):
        raise SystemExit("CKAN is not talking to Solr: CKAN_SOLR_URL is not set")
    return app


def clear_index() -> None:
    """Empty the bench site's documents in the engine CKAN talks to."""
    import sqlalchemy as sa
    from ckan import model
    from ckan.lib import search

    search.clear_all()
    search.commit()
    from ckanext.vernetztestadt.search import backend
    if not backend.installed():
        return
    # only this site's rows are gone; an index left empty is truncated so that
    # its size is measured without the dead rows of a previous run
    if not model.Session.execute(sa.text(f"SELECT count(*) FROM {INDEX_TABLE}")).scalar():
        model.Session.execute(sa.text(f"TRUNCATE {INDEX_TABLE}"))
    model.Session.commit()


def clear_everything() -> None:
    """Empty CKAN's tables (keeping the migration state) and the bench site's index."""
    import sqlalchemy as sa
    from ckan import model

    names = model.Session.execute(sa.text(
        "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename NOT LIKE '%alembic_version' AND tablename <> 'migrate_version'"
    )).scalars().all()
    if names:
        model.Session.execute(sa.text(f"TRUNCATE {', '.join(names)} CASCADE"))
    model.Session.commit()
    clear_index()


# -- synthetic portal ----------------------------------------------------------
@dataclass
class Catalogue:
    """Organizations, groups and tags shared by all datasets."""

    org_ids: list[str]
    org_weights: list[int]
    group_ids: list[str]
    tags: list[str]
    tag_ids: dict[str, str]
    tag_weights: list[float] = field(default_factory=list)


def create_catalogue(rng: random.Random) -> Catalogue:
    from ckan import model

    now = datetime(2024, 1, 1)
    org_ids, group_ids = [], []
    rows = []
    for title, _ in ORGANIZATIONS:
        org_ids.append(str(uuid.uuid4()))
        rows.append(_group_row(org_ids[-1], title, "organization", now))
    for title in GROUPS:
        group_ids.append(str(uuid.uuid4()))
        rows.append(_group_row(group_ids[-1], title, "group", now))
    tags = tag_vocabulary()
    rng.shuffle(tags)  # which tags are frequent is random, their spread is Zipf-like
    tag_ids = {name: str(uuid.uuid4()) for name in tags}
    _insert(model.Group, rows)
    _insert(model.Tag, [{"id": i, "name": n, "vocabulary_id": None} for n, i in tag_ids.items()])
    model.Session.commit()
    return Catalogue(org_ids, [w for _, w in ORGANIZATIONS], group_ids, tags, tag_ids,
                     zipf_weights(len(tags)))


def _group_row(id_: str, title: str, kind: str, created: datetime) -> dict[str, Any]:
    return {"id": id_, "name": slug(title), "title": title, "type": kind,
            "description": f"{title} \u2013 Daten der Stadt Gelsenkirchen", "image_url": "",
            "created": created, "is_organization": kind == "organization",
            "approval_status": "approved", "state": "active", "extras": {}}


def _insert(entity: Any, rows: list[dict[str, Any]]) -> None:
    import sqlalchemy as sa
    from ckan import model

    if rows:
        model.Session.execute(sa.insert(entity), rows)


@dataclass
class Batch:
    packages: list[dict[str, Any]] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)
    package_tags: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)


def make_dataset(rng: random.Random, cat: Catalogue, index: int, batch: Batch) -> None:
    """Append one dataset (package, resources, tags, memberships) to ``batch``."""
    topic, topic_tags = rng.choice(TOPICS)
    year = rng.randint(2010, 2025)
    words = {"topic": topic, "district": rng.choice(DISTRICTS), "year": year,
             "bezirk": rng.choice(BEZIRKE), "month": rng.choice(MONTHS),
             "street": rng.choice(STREETS), "district2": rng.choice(DISTRICTS),
             "year2": year - rng.randint(3, 10), "frequency": rng.choice(FREQUENCIES)}
    title = rng.choice(TITLE_TEMPLATES).format(**words)
    org_index = rng.choices(range(len(cat.org_ids)), weights=cat.org_weights)[0]
    words["org"] = ORGANIZATIONS[org_index][0]
    notes = " ".join(s.format(**words) for s in rng.sample(SENTENCES, rng.randint(2, 5)))
    created = datetime(2015, 1, 1) + timedelta(seconds=rng.randint(0, 10 * 365 * 86400))
    modified = created + timedelta(seconds=rng.randint(0, 400 * 86400))
    package_id = str(uuid.uuid4())
    batch.packages.append({
        "id": package_id, "name": f"{slug(title)}-{index}", "title": title, "notes": notes,
        "license_id": rng.choices(*zip(*LICENSES, strict=True))[0], "type": "dataset",
        "owner_org": cat.org_ids[org_index], "private": rng.random() < 0.05,
        "state": "active", "metadata_created": created, "metadata_modified": modified,
        "author": words["org"], "maintainer": words["org"],
        "maintainer_email": "opendata@gelsenkirchen.de",
        "url": f"https://www.gelsenkirchen.de/daten/{index}", "version": str(year),
        "extras": make_extras(rng, words), "plugin_data": None,
    })
    add_resources(rng, batch, package_id, topic, modified)
    for tag in pick_tags(rng, cat, topic_tags):
        batch.package_tags.append({"id": str(uuid.uuid4()), "package_id": package_id,
                                   "tag_id": cat.tag_ids[tag], "state": "active"})
    memberships = [(cat.org_ids[org_index], "organization")]
    memberships += [(g, "public") for g in rng.sample(cat.group_ids, rng.choice((0, 1, 1, 2)))]
    for group_id, capacity in memberships:
        batch.members.append({"id": str(uuid.uuid4()), "table_name": "package",
                              "table_id": package_id, "group_id": group_id,
                              "capacity": capacity, "state": "active"})


def pick_tags(rng: random.Random, cat: Catalogue, topic_tags: tuple[str, ...]) -> list[str]:
    wanted = rng.randint(3, 8)
    tags = list(dict.fromkeys(topic_tags))
    while len(tags) < wanted:
        tag = rng.choices(cat.tags, weights=cat.tag_weights)[0]
        if tag not in tags:
            tags.append(tag)
    return tags


def make_extras(rng: random.Random, words: dict[str, Any]) -> dict[str, str]:
    values = {
        "ags": "05513000", "update_frequency": words["frequency"],
        "contact_email": "opendata@gelsenkirchen.de",
        "temporal_start": f"{words['year2']}-01-01", "temporal_end": f"{words['year']}-12-31",
        "source": words["org"], "spatial_text": f"Gelsenkirchen-{words['district']}",
        "issued": f"{words['year']}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    }
    extras = {k: values[k] for k in rng.sample(EXTRA_KEYS, rng.randint(2, 5))}
    if rng.random() < 0.3:
        extras["spatial"] = bbox_geojson(rng)
    return extras


def bbox_geojson(rng: random.Random) -> str:
    width, height = rng.uniform(0.003, 0.06), rng.uniform(0.002, 0.04)
    x0, y0 = rng.uniform(LON[0], LON[1] - width), rng.uniform(LAT[0], LAT[1] - height)
    x1, y1 = x0 + width, y0 + height
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    ring = [[round(x, 5), round(y, 5)] for x, y in ring]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def add_resources(rng: random.Random, batch: Batch, package_id: str, topic: str,
                  modified: datetime) -> None:
    names, extensions, weights = zip(*FORMATS, strict=True)
    for position in range(rng.randint(1, 4)):
        i = rng.choices(range(len(names)), weights=weights)[0]
        fmt, ext = names[i], extensions[i]
        label = "Dokumentation" if fmt == "PDF" else f"{topic} ({fmt})"
        batch.resources.append({
            "id": str(uuid.uuid4()), "package_id": package_id,
            "url": f"https://opendata.gelsenkirchen.de/dataset/{package_id}/{position}.{ext}",
            "format": fmt, "name": label, "description": f"{topic} als {fmt}-Datei.",
            "position": position, "state": "active", "created": modified,
            "metadata_modified": modified, "url_type": None, "extras": {},
        })


def create_datasets(n: int, rng: random.Random) -> float:
    """Insert ``n`` datasets in batches; return the seconds it took."""
    from ckan import model

    started = time.monotonic()
    cat = create_catalogue(rng)
    progress = Progress("create", n)
    for first in range(0, n, BATCH):
        batch = Batch()
        for index in range(first, min(n, first + BATCH)):
            make_dataset(rng, cat, index, batch)
        _insert(model.Package, batch.packages)
        _insert(model.Resource, batch.resources)
        _insert(model.PackageTag, batch.package_tags)
        _insert(model.Member, batch.members)
        model.Session.commit()
        progress.step(len(batch.packages))
    progress.close()
    return time.monotonic() - started


# -- indexing ----------------------------------------------------------------
def rebuild_index(total: int, ids: list[str] | None = None) -> float:
    """CKAN's rebuild (package_show + index_package + add), timed: of every
    dataset, or of ``ids`` (the same per-dataset call, ``index_update_package``)."""
    import ckan.logic as logic
    from ckan.lib import search

    original = logic.index_update_package
    progress = Progress("CKAN rebuild", total)

    def counted(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        progress.step()
        return result

    logic.index_update_package = counted
    started = time.monotonic()
    try:
        search.rebuild(package_ids=ids, defer_commit=True, quiet=True)
        search.commit()
    finally:
        logic.index_update_package = original
        progress.close()
    return time.monotonic() - started


def rebuild_batched(workers: int, batch_size: int) -> tuple[float, int]:
    """``ckan vernetztestadt search-index-rebuild`` (``reindex.rebuild``), timed."""
    from ckanext.vernetztestadt import reindex

    progress: list[Progress] = []

    def step(done: int, total: int) -> None:
        if not progress:
            progress.append(Progress(f"search-index-rebuild -w {workers}", total))
        progress[0].step(done - progress[0].done)

    started = time.monotonic()
    outcome = reindex.rebuild(workers, batch_size, progress=step)
    seconds = time.monotonic() - started
    if progress:
        progress[0].close()
    if outcome.failed:
        raise SystemExit(f"{len(outcome.failed)} datasets not indexed: {outcome.failed[:3]}")
    return seconds, outcome.indexed


def vacuum_analyze() -> None:
    """What autovacuum would do shortly after a bulk load; makes runs repeatable."""
    from ckan import model

    from ckanext.vernetztestadt.search import backend
    if not backend.installed():
        return
    with model.meta.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            f"VACUUM ANALYZE {INDEX_TABLE}")


def scalar(sql: str) -> Any:
    import sqlalchemy as sa
    from ckan import model

    with model.meta.engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar()


def solr_base() -> str:
    from ckan.common import config

    return str(config["solr_url"]).rstrip("/")


def solr_get(path: str, **params: Any) -> dict[str, Any]:
    import requests

    base, core = solr_base().rsplit("/", 1)
    url = f"{base}/{path.replace('{core}', core)}"
    response = requests.get(url, params={"wt": "json", **params}, timeout=120)
    response.raise_for_status()
    return dict(response.json())


def index_size_mb(engine: str) -> float:
    if engine == "postgres":
        return float(scalar(f"SELECT pg_total_relation_size('{INDEX_TABLE}')")) / 2**20
    core = solr_base().rsplit("/", 1)[1]
    status = solr_get("admin/cores", action="STATUS", core=core)["status"][core]
    return float(status["index"]["sizeInBytes"]) / 2**20


def solr_settle() -> None:
    """A hard commit that waits for the new searcher: queries see every document."""
    from ckan.lib.search.common import make_connection

    make_connection().commit(waitSearcher=True)


def indexed_count() -> int:
    from ckan import model
    from ckan.lib import search

    return len(search.query_for(model.Package).get_all_entity_ids(max_results=10**7))


#: Fields an index adds by itself (Solr), not part of what CKAN sent.
ENGINE_FIELDS = ("_version_", "indexed_ts", "score")


def index_documents(ids: list[str]) -> dict[str, str]:
    """The stored documents of ``ids`` as the engine returns them (to check
    that both rebuild paths indexed the same)."""
    from ckan.lib import search

    docs = {}
    for package_id in ids:
        doc = {k: v for k, v in search.show(package_id).items() if k not in ENGINE_FIELDS}
        docs[package_id] = json.dumps(doc, sort_keys=True, default=str)
    return docs


# -- queries -----------------------------------------------------------------
@dataclass
class Scenario:
    name: str
    make: Callable[[random.Random], dict[str, Any]]
    target: str = ""
    limits: tuple[float, float] | None = None  # PostgreSQL's p50, p95 in ms
    counts_cache: bool = True  # False: the backend computes hit and facet counts every time
    #: PostgreSQL p50 / Solr p50 at most this, below 100,000 datasets and from then on
    ratios: tuple[float | None, float | None] = (None, None)

    def ratio_target(self, n: int) -> float | None:
        return self.ratios[0] if n < 100_000 else self.ratios[1]


@dataclass
class Timing:
    """One scenario on one engine."""

    ms: list[float] = field(default_factory=list)
    hits: list[int] = field(default_factory=list)
    sql: tuple[str, Any] | None = None

    def percentile(self, p: float) -> float:
        ordered = sorted(self.ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

def search_words() -> list[str]:
    words = {w for topic, _ in TOPICS for w in re.split("[\\s\\-\u2013]+", topic) if len(w) > 3}
    words |= {d for d in DISTRICTS if " " not in d} | set(tag_vocabulary())
    words.discard("Schalke 04")
    return sorted(w for w in words if " " not in w)


def scenarios(n: int, cat_names: dict[str, list[str]]) -> list[Scenario]:
    words, tags = search_words(), cat_names["tags"]
    tag_weights = zipf_weights(len(tags))  # people ask for popular tags more often
    formats = [f for f, _, _ in FORMATS]

    def free_text(rng: random.Random) -> dict[str, Any]:
        return {"q": " ".join(rng.sample(words, rng.randint(1, 3))), "rows": 20}

    def faceted(rng: random.Random) -> dict[str, Any]:
        return {"q": "", "facet.field": FACET_FIELDS, "facet.limit": 50,
                "rows": 20, "start": rng.choice((0, 0, 0, 20, 40)),
                "sort": rng.choice(("score desc, metadata_modified desc",
                                    "metadata_modified desc", "title_string asc"))}

    def fielded(rng: random.Random) -> dict[str, Any]:
        tag = rng.choices(tags, weights=tag_weights)[0]
        choice = rng.randrange(3)
        if choice == 0:
            fq = f'tags:"{tag}" AND res_format:"{rng.choice(formats)}"'
        elif choice == 1:
            fq = f'organization:"{rng.choice(cat_names["organizations"])}"'
        else:
            fq = f'groups:"{rng.choice(cat_names["groups"])}" AND tags:"{tag}"'
        return {"q": "", "fq": fq, "rows": 20}

    def sorted_by_date(rng: random.Random) -> dict[str, Any]:
        return {"q": "", "sort": "metadata_modified desc", "rows": 20,
                "start": rng.choice((0, 0, 20, 40, 60))}

    def deep_page(rng: random.Random) -> dict[str, Any]:
        spread = max(1, n // 20)
        return {"q": "", "rows": 20, "start": max(0, n // 2 + rng.randint(-spread, spread))}

    def spatial(rng: random.Random) -> dict[str, Any]:
        x0, y0 = rng.uniform(6.97, 7.12), rng.uniform(51.48, 51.60)
        return {"q": "", "rows": 20, "extras": {"ext_bbox": f"{x0:.4f},{y0:.4f},"
                                                            f"{x0 + 0.05:.4f},{y0 + 0.04:.4f}"}}

    return [
        Scenario("free text (1-3 words)", free_text, ratios=(1.0, 2.0)),
        Scenario("faceted (3 fields, limit 50)", faceted, "p50<=25 p95<=80", (25.0, 80.0),
                 ratios=(1.0, None)),
        Scenario("faceted, counts cache off", faceted, "p50<=25 p95<=80", (25.0, 80.0),
                 counts_cache=False, ratios=(1.0, 2.0)),
        Scenario("fielded fq", fielded),
        Scenario("sort metadata_modified", sorted_by_date),
        Scenario("deep paging (start~N/2)", deep_page),
        Scenario("spatial ext_bbox", spatial),
    ]

class SqlCapture:
    """Remembers the last search statement sent to PostgreSQL (``--explain``)."""

    def __init__(self) -> None:
        self.last: tuple[str, Any] | None = None

    def __call__(self, conn: Any, cursor: Any, statement: str, parameters: Any,
                 context: Any, executemany: bool) -> None:
        if "WITH m AS MATERIALIZED" in statement:
            self.last = (statement, parameters)


def run_queries(queries: list[dict[str, Any]], counts_cache: bool) -> tuple[list[float],
                                                                            list[int]]:
    """Time ``package_search`` (through ``get_action``, as the API calls it)
    for each of ``queries``; ms and hit counts."""
    import ckan.plugins.toolkit as tk

    from ckanext.vernetztestadt.search import cache

    action = tk.get_action("package_search")
    seconds = cache.configured()
    cache.configure(seconds if counts_cache else 0)  # only the PostgreSQL backend reads it
    ms, hits = [], []
    try:
        for params in queries:
            started = time.perf_counter()
            result = action({"ignore_auth": True}, params)
            ms.append((time.perf_counter() - started) * 1000)
            hits.append(int(result["count"]))
    finally:
        cache.configure(seconds)
    return ms, hits


def explain(sql: tuple[str, Any]) -> list[str]:
    from ckan import model

    statement, parameters = sql
    raw = model.meta.engine.raw_connection()
    try:
        cursor = raw.cursor()
        text = cursor.mogrify(statement, parameters).decode()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + text)
        lines = [row[0] for row in cursor.fetchall()]
        raw.rollback()
        return ["-- SQL:", *text.strip().splitlines(), "-- plan:", *lines]
    finally:
        raw.close()


# -- one engine's CKAN: a child process answering commands ------------------------------
def catalogue_names() -> dict[str, list[str]]:
    """Organizations, groups and tags (most used first) of the bench portal."""
    import sqlalchemy as sa
    from ckan import model

    rows = model.Session.query(model.Group.name, model.Group.is_organization).all()
    tags = model.Session.execute(sa.text(
        "SELECT t.name FROM tag t JOIN package_tag pt ON pt.tag_id = t.id "
        "GROUP BY t.name ORDER BY count(*) DESC, t.name")).scalars().all()
    return {"organizations": [n for n, org in rows if org],
            "groups": [n for n, org in rows if not org],
            "tags": list(tags) or tag_vocabulary()}


def engine_info(engine: str) -> str:
    if engine == "postgres":
        settings = ", ".join(f"{name}={scalar(f'SHOW {name}')}"
                             for name in ("shared_buffers", "work_mem", "jit"))
        return f"PostgreSQL {scalar('SHOW server_version')} ({settings})"
    system = solr_get("admin/info/system")
    heap = system.get("jvm", {}).get("memory", {}).get("max", "?")
    return (f"Solr {system.get('lucene', {}).get('solr-spec-version', '?')} standalone, "
            f"core {solr_base().rsplit('/', 1)[1]}, heap {heap} (solr/conf/solrconfig.xml)")


class Worker:
    """The commands a parent sends to one engine's CKAN process."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        self.sample_docs: dict[str, str] = {}

    def op_info(self) -> dict[str, Any]:
        return {"line": engine_info(self.engine)}

    def op_clear(self) -> dict[str, Any]:
        clear_index()
        return {}

    def op_create(self, n: int, seed: int) -> dict[str, Any]:
        note(f"[{self.engine}] clearing the bench database, creating {n:,} datasets ...")
        clear_everything()
        return {"seconds": create_datasets(n, random.Random(seed))}

    def op_count(self) -> dict[str, Any]:
        from ckan import model

        return {"count": model.Session.query(model.Package).count()}

    def op_catalogue(self) -> dict[str, Any]:
        return catalogue_names()

    def op_ckan_rebuild(self, sample: int, seed: int, batch_size: int) -> dict[str, Any]:
        """CKAN's own rebuild of ``sample`` datasets into an empty index, then
        ``search-index-rebuild -w 1`` of the same datasets."""
        from ckanext.vernetztestadt import reindex

        clear_index()
        ids = reindex.package_ids()
        chosen = random.Random(seed).sample(ids, min(sample, len(ids)))
        note(f"[{self.engine}] CKAN rebuild of {len(chosen):,} datasets ...")
        seconds = rebuild_index(len(chosen), chosen)
        if self.engine == "solr":
            solr_settle()
        self.sample_docs = index_documents(chosen[:20])
        # the same datasets through search-index-rebuild's path, one process:
        # what batching alone changes
        clear_index()
        started = time.monotonic()
        reindex.rebuild(1, batch_size, ids=chosen)
        batched = time.monotonic() - started
        return {"seconds": seconds, "count": len(chosen), "batched": batched}

    def op_rebuild(self, workers: int, batch_size: int) -> dict[str, Any]:
        """``search-index-rebuild`` of every dataset into an empty index."""
        clear_index()
        note(f"[{self.engine}] ckan vernetztestadt search-index-rebuild --workers {workers} ...")
        seconds, indexed = rebuild_batched(workers, batch_size)
        if self.engine == "solr":
            solr_settle()
        vacuum_analyze()
        again = index_documents(list(self.sample_docs))
        same = sum(again[k] == v for k, v in self.sample_docs.items())
        return {"seconds": seconds, "indexed": indexed, "documents": indexed_count(),
                "same": same, "compared": len(self.sample_docs)}

    def op_settle(self) -> dict[str, Any]:
        if self.engine == "solr":
            solr_settle()
        vacuum_analyze()
        return {"documents": indexed_count()}

    def op_size(self) -> dict[str, Any]:
        return {"mb": index_size_mb(self.engine)}

    def op_run(self, queries: list[dict[str, Any]], counts_cache: bool,
               explain_last: bool = False) -> dict[str, Any]:
        from ckan import model
        from sqlalchemy import event

        capture = SqlCapture() if explain_last and self.engine == "postgres" else None
        if capture is not None:
            event.listen(model.meta.engine, "before_cursor_execute", capture)
        try:
            ms, hits = run_queries(queries, counts_cache)
        finally:
            if capture is not None:
                event.remove(model.meta.engine, "before_cursor_execute", capture)
        plan = explain(capture.last) if capture is not None and capture.last else []
        return {"ms": ms, "hits": hits, "plan": plan}


def serve(engine: str, reply_fd: int) -> None:
    """Load CKAN for ``engine`` and answer JSON commands from stdin on ``reply_fd``."""
    app = load_ckan(engine)
    from ckan import model

    worker = Worker(engine)
    with os.fdopen(reply_fd, "w", buffering=1) as replies, \
            app._wsgi_app.test_request_context():
        replies.write(json.dumps({"ok": True, "ready": engine}) + "\n")
        for line in sys.stdin:
            command = json.loads(line)
            op = command.pop("op")
            if op == "quit":
                break
            try:
                answer = {"ok": True, **getattr(worker, f"op_{op}")(**command)}
            except (Exception, SystemExit) as exc:
                answer = {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:500]}"}
            finally:
                # no transaction left open between commands: it would hold
                # locks that the other engine's TRUNCATE (create) waits for
                model.Session.remove()
            replies.write(json.dumps(answer, default=str) + "\n")


class Engine:
    """The parent's handle on one engine's CKAN process."""

    def __init__(self, engine: str, database: str, solr_url: str | None) -> None:
        self.name = engine
        env = dict(os.environ)
        env.pop("CKAN_SOLR_URL", None)
        if engine == "solr":
            assert solr_url
            env["CKAN_SOLR_URL"] = solr_url
        read, write = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", engine,
             "--database", database, "--reply-fd", str(write)],
            stdin=subprocess.PIPE, text=True, env=env, pass_fds=(write,))
        os.close(write)
        self.replies: TextIO = os.fdopen(read)
        self._read()

    def _read(self) -> dict[str, Any]:
        line = self.replies.readline()
        if not line:
            code = self.proc.wait(timeout=30)
            raise SystemExit(f"{self.name}: the CKAN process ended (exit code {code})")
        answer = json.loads(line)
        if not answer.pop("ok"):
            raise SystemExit(f"{self.name}: {answer['error']}")
        return dict(answer)

    def call(self, op: str, **arguments: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, **arguments}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.poll() is None and self.proc.stdin is not None:
            try:
                self.proc.stdin.write('{"op": "quit"}\n')
                self.proc.stdin.close()
                self.proc.wait(timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


# -- one size, both engines --------------------------------------------------------------
@dataclass
class EngineRun:
    """Indexing figures of one engine at one size."""

    ckan_s: float | None = None
    ckan_count: int = 0
    batched_s: float | None = None
    rebuild_s: float | None = None
    indexed: int = 0
    documents: int = 0
    same: int = 0
    compared: int = 0
    size_mb: float = 0.0


@dataclass
class SizeRun:
    n: int
    create_s: float | None
    runs: dict[str, EngineRun]
    scenarios: list[Scenario]
    timings: dict[str, dict[str, Timing]]
    plans: list[str] = field(default_factory=list)


def bench_size(n: int, engines: dict[str, Engine], args: argparse.Namespace) -> SizeRun:
    creator = next(iter(engines.values()))
    create_s = None
    existing = int(creator.call("count")["count"]) if args.keep or args.reuse else -1
    if args.keep:
        n = existing
    elif existing == n:
        note(f"reusing the {n:,} datasets in {args.database} (--reuse) ...")
    else:
        for engine in engines.values():
            if engine is not creator:
                engine.call("clear")
        create_s = float(creator.call("create", n=n, seed=args.seed)["seconds"])
    runs = {name: EngineRun() for name in engines}
    for name, engine in engines.items():
        run = runs[name]
        if not args.keep and args.ckan_sample:
            done = engine.call("ckan_rebuild", sample=args.ckan_sample, seed=args.seed,
                               batch_size=args.batch_size)
            run.ckan_s, run.ckan_count = done["seconds"], done["count"]
            run.batched_s = done["batched"]
        if not args.keep:
            done = engine.call("rebuild", workers=args.workers, batch_size=args.batch_size)
            run.rebuild_s, run.indexed = done["seconds"], done["indexed"]
            run.documents, run.same, run.compared = done["documents"], done["same"], \
                done["compared"]
        else:
            run.documents = engine.call("settle")["documents"]
        run.size_mb = engine.call("size")["mb"]
    names = list(engines)
    timings: dict[str, dict[str, Timing]] = {name: {} for name in names}
    rng = random.Random(args.seed + n)
    chosen = scenarios(n, creator.call("catalogue"))
    plans: list[str] = []
    for scenario in chosen:
        warm_up = [scenario.make(rng) for _ in range(5)]  # plans, caches, imports
        queries = [scenario.make(rng) for _ in range(args.queries)]
        for name in names:
            engines[name].call("run", queries=warm_up, counts_cache=scenario.counts_cache)
            timings[name][scenario.name] = Timing()
        progress = Progress(f"{scenario.name} ({' + '.join(names)})", len(queries))
        for chunk_no, start in enumerate(range(0, len(queries), CHUNK)):
            chunk = queries[start:start + CHUNK]
            last = start + CHUNK >= len(queries)
            for name in names if chunk_no % 2 == 0 else names[::-1]:
                done = engines[name].call("run", queries=chunk,
                                          counts_cache=scenario.counts_cache,
                                          explain_last=args.explain and last)
                timing = timings[name][scenario.name]
                timing.ms += done["ms"]
                timing.hits += done["hits"]
                if done["plan"]:
                    plans += ["", f"=== EXPLAIN ANALYZE ({n:,} datasets): {scenario.name} ===",
                              *done["plan"]]
            progress.step(len(chunk))
        progress.close()
    return SizeRun(n, create_s, runs, chosen, timings, plans)


# -- report --------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _rate(count: int, seconds: float | None) -> float | None:
    return count / seconds if seconds else None


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or not b else f"{a / b:.2f}"


def indexing_table(results: list[SizeRun], names: list[str], args: argparse.Namespace
                   ) -> list[str]:
    head = ["metric"]
    for result in results:
        head += [f"{name} {result.n:,}" for name in names]
        if len(names) == 2:
            head.append("pg/solr")
    head.append("target")
    rows: list[list[str]] = [head]

    def line(label: str, value: Callable[[SizeRun, EngineRun], float | None], digits: int,
             target: str = "", check: Callable[[float], bool] | None = None,
             ratio: bool = True) -> None:
        cells, verdicts = [label], []
        for result in results:
            values = [value(result, result.runs[name]) for name in names]
            cells += [_num(v, digits) for v in values]
            if len(names) == 2:
                cells.append(_ratio(values[0], values[1]) if ratio else "")
            if check:
                verdicts += [check(v) for v in values if v is not None]
        cells.append(target + (f" ({verdict(all(verdicts))})" if check and verdicts else ""))
        rows.append(cells)

    line("create datasets (s, once)", lambda r, e: r.create_s, 1, ratio=False)
    line(f"CKAN rebuild, {args.ckan_sample:,}-dataset sample (datasets/s)",
         lambda r, e: _rate(e.ckan_count, e.ckan_s), 1)
    line("  search-index-rebuild -w 1, same sample (datasets/s)",
         lambda r, e: _rate(e.ckan_count, e.batched_s), 1)
    line(f"search-index-rebuild -w {args.workers}, all (s)", lambda r, e: e.rebuild_s, 1)
    line(f"search-index-rebuild -w {args.workers}, all (datasets/s)",
         lambda r, e: _rate(e.indexed, e.rebuild_s), 1, ">= 200", lambda v: v >= 200)
    line("  speed-up over CKAN rebuild (x)",
         lambda r, e: (_rate(e.indexed, e.rebuild_s) or 0) / (_rate(e.ckan_count, e.ckan_s)
                                                              or 1)
         if e.ckan_s and e.rebuild_s else None, 2, ratio=False)
    line("documents in the index", lambda r, e: e.documents, 0, ratio=False)
    line("  sample docs equal to CKAN rebuild's", lambda r, e: e.same if e.compared else None,
         0, ratio=False)
    line("index size (MB)", lambda r, e: e.size_mb, 1)
    return benchlib.table(rows, set(range(1, len(head) - 1)))


def query_table(result: SizeRun, names: list[str]) -> list[str]:
    both = len(names) == 2
    head = ["scenario"]
    for stat in ("p50", "p95"):
        head += [f"{name} {stat} ms" for name in names]
        if both:
            head.append(f"{stat} pg/solr")
    head += ["max ms" if not both else "same hits", "mean hits", "target"]
    rows = [head]
    for scenario in result.scenarios:
        timings = [result.timings[name][scenario.name] for name in names]
        cells = [scenario.name]
        for p in (50, 95):
            values = [t.percentile(p) for t in timings]
            cells += [f"{v:.1f}" for v in values]
            if both:
                cells.append(_ratio(values[0], values[1]))
        if both:
            same = sum(a == b for a, b in zip(timings[0].hits, timings[1].hits, strict=True))
            cells.append(f"{same}/{len(timings[0].hits)}")
            cells.append(" / ".join(f"{statistics.fmean(t.hits):,.1f}" for t in timings))
            limit = scenario.ratio_target(result.n)
            ratio = timings[0].percentile(50) / timings[1].percentile(50)
            cells.append(f"p50 ratio <= {limit:.1f} ({verdict(ratio <= limit)})"
                         if limit is not None else "")
        else:
            timing = timings[0]
            cells += [f"{max(timing.ms):.1f}", f"{statistics.fmean(timing.hits):,.1f}"]
            target = scenario.target if names == ["postgres"] else ""
            if target and scenario.limits:
                p50, p95 = scenario.limits
                ok = timing.percentile(50) <= p50 and timing.percentile(95) <= p95
                target += f" ({verdict(ok)})"
            cells.append(target)
        rows.append(cells)
    return benchlib.table(rows, set(range(1, len(head) - 1)))


def report(results: list[SizeRun], names: list[str], info: list[str],
           args: argparse.Namespace, loads: tuple[float, float]) -> list[str]:
    sizes = " and ".join(f"{r.n:,}" for r in results)
    lines = [f"Search benchmark: {' vs '.join(names)}, the same {sizes} datasets, "
             f"{args.queries} queries per scenario",
             benchlib.machine(), *info,
             f"load average (1 min): {loads[0]:.2f} before, {loads[1]:.2f} after "
             "(other processes share the cores: compare runs made under similar load)",
             "", *indexing_table(results, names, args)]
    for result in results:
        lines += ["", f"Queries, {result.n:,} datasets (p50/p95 of package_search, ms):",
                  *query_table(result, names)]
    if len(names) == 2:
        lines += ["", "pg/solr: PostgreSQL figure divided by Solr's (below 1: PostgreSQL "
                  "faster). 'counts cache off': the PostgreSQL backend counts hits and facets "
                  "on every search (ckanext.vernetztestadt.search.cache_seconds = 0); Solr "
                  "keeps its own caches as solrconfig.xml configures them. 'same hits': "
                  "queries both engines counted the same number of results for."]
    for result in results:
        lines += result.plans
    return lines


# -- main ----------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, nargs="+", default=[],
                        help="datasets to create; several sizes run one after the other")
    parser.add_argument("--engine", choices=(*ENGINES, "both"), default="postgres")
    parser.add_argument("--queries", type=int, default=200, help="timed runs per scenario")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes of search-index-rebuild (default: one per core)")
    parser.add_argument("--batch-size", type=int, default=200,
                        help="datasets per batch of search-index-rebuild")
    parser.add_argument("--ckan-sample", type=int, default=2000,
                        help="datasets CKAN's own rebuild is timed on (0: skip)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the bench database as it is (no clear, create, rebuild)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the datasets if the database holds exactly N (from an "
                             "earlier run with the same --seed); still rebuild both indexes")
    parser.add_argument("--explain", action="store_true",
                        help="print EXPLAIN ANALYZE of one PostgreSQL search per scenario")
    parser.add_argument("--database", default=DATABASE,
                        help=f"bench database: {DATABASE} or bench_* (emptied!)")
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--serve", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--reply-fd", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.serve and not args.datasets and not args.keep:
        parser.error("--datasets is required (unless --keep)")
    args.datasets = args.datasets or [0]
    check_database(args.database)
    return args


def build(args: argparse.Namespace, rng: random.Random) -> tuple[int, float | None,
                                                                   float | None]:
    """Create ``args.datasets`` datasets and index them with CKAN's rebuild, in
    this process (``bench/load.py``); ``--keep``: count what is there."""
    from ckan import model

    if args.keep:
        return model.Session.query(model.Package).count(), None, None
    note("clearing the bench database and index ...")
    clear_everything()
    create_s = create_datasets(args.datasets, rng)
    rebuild_s = rebuild_index(args.datasets)
    return args.datasets, create_s, rebuild_s


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.serve:
        serve(args.serve, args.reply_fd)
        return
    names = list(ENGINES) if args.engine == "both" else [args.engine]
    note(f"starting services ({', '.join(names)}), migrating {args.database} ...")
    solr_url = start_services(args.database, solr_core="solr" in names)
    migrate()
    load_before = os.getloadavg()[0]
    engines: dict[str, Engine] = {}
    try:
        for name in names:
            note(f"loading CKAN for {name} ...")
            engines[name] = Engine(name, args.database, solr_url)
        info = [f"{name}: {engines[name].call('info')['line']}" for name in names]
        results: list[SizeRun] = []
        for n in args.datasets:
            results.append(bench_size(n, engines, args))
            if len(args.datasets) > 1:  # what is done so far, should a later size fail
                note("\n".join(report(results, names, info, args,
                                       (load_before, os.getloadavg()[0]))))
    finally:
        for engine in engines.values():
            engine.close()
    print("\n".join(report(results, names, info, args, (load_before, os.getloadavg()[0]))))


if __name__ == "__main__":
    main()
