"""Benchmark of the PostgreSQL search backend (plugin ``vernetztestadt_search``).

Fills the database ``ckan_bench`` (Redis db 3) with N synthetic but realistic
Gelsenkirchen datasets through CKAN's model (bulk ORM inserts, batches of
500), builds the index through CKAN's real indexing path
(``ckan.lib.search.rebuild``: package_show -> index_package -> our
connection's ``add``) and times ``package_search`` in several scenarios.

Usage::

    .venv/bin/python bench/search.py --datasets 10000 [--queries 200] [--keep]
                                     [--explain] [--no-rebuild-fast]

Only the bench database is written; it is emptied at the start unless
``--keep`` is given (then the existing datasets are searched as they are).
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
from typing import Any

import benchlib  # bench/benchlib.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
INI = ROOT / "test.ini"
HOME = Path(os.environ.get("VERNETZTESTADT_HOME") or ROOT / ".portal")
DATABASE = "ckan_bench"
REDIS_DB = 3
BATCH = 500
INDEX_TABLE = "vernetztestadt_search.documents"
FACET_FIELDS = ["tags", "organization", "res_format"]

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
    holds only the report (test.ini's handler writes to stdout)."""
    logging.disable(level)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    for name in ("", "ckan", "ckanext", "sqlalchemy", "alembic", "werkzeug"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
            handler.setStream(sys.stderr)


# -- set-up ----------------------------------------------------------------------
def start_services() -> None:
    """Start or check the services; point CKAN at the bench database."""
    from sqlalchemy.engine import make_url

    from ckanext.vernetztestadt.runtime.cli import prepare

    _, urls = prepare(HOME, DATABASE, REDIS_DB, 5000)
    database = make_url(urls.sqlalchemy_url).database
    if database != DATABASE:  # it migrates and empties the database it is given
        raise SystemExit(f"refusing to use database {database!r}: CKAN_SQLALCHEMY_URL must "
                         f"name a database called {DATABASE!r}")
    os.environ["CKAN_SQLALCHEMY_URL"] = urls.sqlalchemy_url
    os.environ["CKAN_REDIS_URL"] = urls.redis_url
    os.environ.pop("CKAN_SOLR_URL", None)


def migrate() -> None:
    """``ckan db upgrade``: core, activity and harvest migrations (idempotent)."""
    exe = Path(sys.executable).with_name("ckan")
    done = subprocess.run([str(exe), "-c", str(INI), "db", "upgrade"], text=True,
                          capture_output=True, check=False)
    if done.returncode:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise SystemExit(f"ckan db upgrade failed: {tail}")


def load_ckan() -> Any:
    """Load CKAN with test.ini (plugins, search backend) and return the app."""
    quiet_logging(logging.WARNING)  # e.g. undeclared config options of other plugins
    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    app = make_app(load_config(str(INI)))
    quiet_logging()
    import ckan.lib.search.common as common

    from ckanext.vernetztestadt.search import backend
    if not backend.installed() or common.make_connection is not backend.make_connection:
        raise SystemExit("vernetztestadt_search is not active: check ckan.plugins in test.ini")
    return app


def clear_everything() -> None:
    """Empty CKAN's tables (keeping the migration state) and the bench site's index."""
    import sqlalchemy as sa
    from ckan import model
    from ckan.lib import search

    names = model.Session.execute(sa.text(
        "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename NOT LIKE '%alembic_version' AND tablename <> 'migrate_version'"
    )).scalars().all()
    if names:
        model.Session.execute(sa.text(f"TRUNCATE {', '.join(names)} CASCADE"))
    model.Session.commit()
    search.clear_all()
    # only this site's rows are gone; an index left empty is truncated so that
    # its size is measured without the dead rows of a previous run
    if not model.Session.execute(sa.text(f"SELECT count(*) FROM {INDEX_TABLE}")).scalar():
        model.Session.execute(sa.text(f"TRUNCATE {INDEX_TABLE}"))
    model.Session.commit()


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
def rebuild_index(total: int) -> float:
    """CKAN's full rebuild (package_show + index_package + add), timed."""
    import ckan.logic as logic
    from ckan.lib import search

    original = logic.index_update_package
    progress = Progress("rebuild", total)

    def counted(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        progress.step()
        return result

    logic.index_update_package = counted
    started = time.monotonic()
    try:
        search.rebuild(defer_commit=True, quiet=True)
    finally:
        logic.index_update_package = original
        progress.close()
    return time.monotonic() - started


def rebuild_fast() -> float:
    """``ckan search-index rebuild-fast`` (one process per core), timed."""
    exe = Path(sys.executable).with_name("ckan")
    started = time.monotonic()
    done = subprocess.run([str(exe), "-c", str(INI), "search-index", "rebuild-fast"],
                          text=True, capture_output=True, check=False)
    if done.returncode:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise SystemExit(f"ckan search-index rebuild-fast failed: {tail}")
    return time.monotonic() - started


def vacuum_analyze() -> None:
    """What autovacuum would do shortly after a bulk load; makes runs repeatable."""
    from ckan import model

    with model.meta.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            f"VACUUM ANALYZE {INDEX_TABLE}")


def scalar(sql: str) -> Any:
    import sqlalchemy as sa
    from ckan import model

    with model.meta.engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar()


# -- queries -----------------------------------------------------------------
@dataclass
class Scenario:
    name: str
    make: Callable[[random.Random], dict[str, Any]]
    target: str = ""
    limits: tuple[float, float] | None = None  # p50, p95 in ms
    counts_cache: bool = True  # False: hit and facet counts computed every time


@dataclass
class Timing:
    scenario: Scenario
    ms: list[float]
    hits: list[int]
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
        Scenario("free text (1-3 words)", free_text),
        Scenario("faceted (3 fields, limit 50)", faceted, "p50<=25 p95<=80", (25.0, 80.0)),
        Scenario("faceted, counts cache off", faceted, "p50<=25 p95<=80", (25.0, 80.0),
                 counts_cache=False),
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


def run_scenario(scenario: Scenario, count: int, rng: random.Random,
                 capture: SqlCapture | None) -> Timing:
    import ckan.plugins.toolkit as tk

    from ckanext.vernetztestadt.search import cache

    action = tk.get_action("package_search")
    seconds = cache.configured()
    cache.configure(seconds if scenario.counts_cache else 0)
    try:
        for _ in range(5):  # warm-up: plans, caches, Python imports
            action({"ignore_auth": True}, scenario.make(rng))
        timing = Timing(scenario, [], [])
        progress = Progress(scenario.name, count)
        for _ in range(count):
            params = scenario.make(rng)
            started = time.perf_counter()
            result = action({"ignore_auth": True}, params)
            timing.ms.append((time.perf_counter() - started) * 1000)
            timing.hits.append(int(result["count"]))
            progress.step()
        progress.close()
    finally:
        cache.configure(seconds)
    if capture is not None:
        timing.sql = capture.last
    return timing


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


# -- report --------------------------------------------------------------------
def machine_info() -> list[str]:
    settings = ", ".join(f"{name}={scalar(f'SHOW {name}')}"
                         for name in ("shared_buffers", "work_mem", "jit"))
    return [benchlib.machine(),
            f"database: PostgreSQL {scalar('SHOW server_version')} ({settings})"]


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


@dataclass
class Report:
    datasets: int
    create_s: float | None
    rebuild_s: float | None
    rebuild_fast_s: float | None
    size_mb: float
    timings: list[Timing]

    def lines(self) -> list[str]:
        rate = self.datasets / self.rebuild_s if self.rebuild_s else None
        summary = [["metric", "value", "target"],
                   ["datasets", f"{self.datasets:,}", ""],
                   ["create (s)", _num(self.create_s, 1), ""],
                   ["rebuild (s)", _num(self.rebuild_s, 1), ""],
                   ["rebuild (datasets/s)", _num(rate, 0),
                    ">= 200" + (f" ({verdict(rate >= 200)})" if rate else "")],
                   ["rebuild-fast (s)", _num(self.rebuild_fast_s, 1), ""],
                   ["rebuild-fast (datasets/s)",
                    _num(self.datasets / self.rebuild_fast_s if self.rebuild_fast_s else None, 0),
                    ""],
                   ["index table size (MB)", f"{self.size_mb:.1f}", ""]]
        queries = [["scenario", "p50 ms", "p95 ms", "max ms", "mean hits", "target"]]
        for t in self.timings:
            target = t.scenario.target
            if t.scenario.limits:
                p50, p95 = t.scenario.limits
                ok = t.percentile(50) <= p50 and t.percentile(95) <= p95
                target += f" ({verdict(ok)})"
            queries.append([t.scenario.name, f"{t.percentile(50):.1f}",
                            f"{t.percentile(95):.1f}", f"{max(t.ms):.1f}",
                            f"{statistics.fmean(t.hits):,.1f}", target])
        return [*benchlib.table(summary, {1}), "", *benchlib.table(queries, {1, 2, 3, 4})]


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


# -- main ----------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, required=True, help="datasets to create")
    parser.add_argument("--queries", type=int, default=200, help="timed runs per scenario")
    parser.add_argument("--keep", action="store_true",
                        help="keep the bench database as it is (no clear, create, rebuild)")
    parser.add_argument("--explain", action="store_true",
                        help="print EXPLAIN ANALYZE of one search per scenario")
    parser.add_argument("--no-rebuild-fast", action="store_true",
                        help="skip timing 'ckan search-index rebuild-fast'")
    parser.add_argument("--seed", type=int, default=20240611)
    return parser.parse_args(argv)


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


def build(args: argparse.Namespace, rng: random.Random) -> tuple[int, float | None,
                                                                   float | None]:
    from ckan import model

    if args.keep:
        return model.Session.query(model.Package).count(), None, None
    note("clearing the bench database and index ...")
    clear_everything()
    create_s = create_datasets(args.datasets, rng)
    rebuild_s = rebuild_index(args.datasets)
    return args.datasets, create_s, rebuild_s


def measure(args: argparse.Namespace, rng: random.Random, n: int) -> list[Timing]:
    from ckan import model
    from sqlalchemy import event

    capture = SqlCapture() if args.explain else None
    if capture is not None:
        event.listen(model.meta.engine, "before_cursor_execute", capture)
    timings = [run_scenario(s, args.queries, rng, capture)
               for s in scenarios(n, catalogue_names())]
    if capture is not None:
        event.remove(model.meta.engine, "before_cursor_execute", capture)
    return timings


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    note("starting services, migrating ckan_bench ...")
    start_services()
    migrate()
    app = load_ckan()
    with app._wsgi_app.test_request_context():
        n, create_s, rebuild_s = build(args, rng)
        vacuum_analyze()
        size_mb = scalar(f"SELECT pg_total_relation_size('{INDEX_TABLE}')") / 2**20
        timings = measure(args, rng, n)
        plans = explain_all(timings) if args.explain else []  # before rebuild-fast churns
        fast_s = None
        if not args.keep and not args.no_rebuild_fast:
            note("timing ckan search-index rebuild-fast ...")
            fast_s = rebuild_fast()
        report = Report(n, create_s, rebuild_s, fast_s, size_mb, timings)
        print(f"Search benchmark: vernetztestadt_search (PostgreSQL), {n:,} datasets, "
              f"{args.queries} queries per scenario")
        print("\n".join(machine_info()))
        print()
        print("\n".join(report.lines()))
        for line in plans:
            print(line)


def explain_all(timings: list[Timing]) -> list[str]:
    """EXPLAIN ANALYZE of the last search of each scenario, as printable lines."""
    lines = []
    for timing in timings:
        if timing.sql:
            lines += ["", f"=== EXPLAIN ANALYZE: {timing.scenario.name} ===", *explain(timing.sql)]
    return lines


if __name__ == "__main__":
    main()
