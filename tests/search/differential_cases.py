"""The seeded corpus and the seeded search parameter sets of the
differential test (``test_differential.py``).

Owns: what the datasets look like (German titles and notes with umlauts and
ß, tags, organizations, groups, extras, resources, theme lists, spatial
coverage, the four scheming types, private datasets, drafts, unowned
drafts) and which ``package_search`` parameter sets are asked (dismax free
text, Lucene syntax, filters, facets, sorts, paging, permissions, map
search). Everything is a pure function of a ``random.Random``; the test
creates the datasets through CKAN's actions and runs the searches.

Each parameter set carries its *atoms*: the smallest searches it is made of
(one dismax clause, one Lucene leaf, one filter). When the engines disagree,
the test asks the atoms alone to find out which part is analysed
differently.

Must not touch: CKAN, the database or the search engines.
"""
from __future__ import annotations

import json
import random
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

SEED = 20_260_413
DATASETS = 1_000
QUERIES = 2_200

ORGANIZATIONS = [
    ("stadt-gelsenkirchen", "Stadt Gelsenkirchen"),
    ("gelsendienste", "Gelsendienste"),
    ("gelsenwasser", "Gelsenwasser AG"),
    ("emschergenossenschaft", "Emschergenossenschaft"),
    ("vestische", "Vestische Straßenbahnen GmbH"),
]
GROUPS = [
    ("umwelt", "Umwelt und Klima"), ("verkehr", "Verkehr"), ("digitales", "Digitales"),
    ("bildung", "Bildung"), ("soziales", "Soziales"), ("wirtschaft", "Wirtschaft"),
]
#: Users the searches run as: key -> (name, sysadmin, {organization: capacity}).
USERS: dict[str, tuple[str, bool, dict[str, str]]] = {
    "sysadmin": ("diff-admin", True, {}),
    "editor": ("diff-redaktion", False, {"stadt-gelsenkirchen": "editor",
                                         "gelsenwasser": "member"}),
    "member": ("diff-leser", False, {"gelsendienste": "member"}),
    "creator": ("diff-autorin", False, {}),
    "anonymous": ("", False, {}),
}

TYPES = ["dataset", "wifi_hotspots", "broadband_coverage", "smart_city_ranking"]
TYPE_WEIGHTS = [50, 15, 15, 20]

TOPICS = [
    "Straßenbäume", "Müllabfuhr", "Grünflächen", "Bürgerbüros", "Fußgängerzonen",
    "WLAN-Hotspots", "Schülerzahlen", "Verkehrszählungen", "Luftqualität", "Wasserqualität",
    "Haushaltsplan", "Bebauungspläne", "Spielplätze", "Ladesäulen", "Radwege", "Parkhäuser",
    "Kindertagesstätten", "Friedhöfe", "Hochwasserschutz", "Lärmkarte", "Baustellen",
    "Wahlergebnisse", "Einwohnerstatistik", "Gewerbeflächen", "Straßenbeleuchtung",
    "Breitbandversorgung", "Glasfaserausbau", "Öffentliche Toiletten", "Altkleidercontainer",
    "Sitzbänke", "Bäder und Saunen", "Stadtteilbibliotheken", "Denkmäler", "Gebäudeenergie",
    "Photovoltaikanlagen", "Straßenverzeichnis", "Haltestellen", "E-Ladestationen",
    "Smart-City-Index", "FreeWiFi-Standorte", "Trinkwasserbrunnen", "Fahrradständer",
]
DISTRICTS = [
    "Buer", "Horst", "Erle", "Resser Mark", "Bismarck", "Schalke", "Altstadt", "Ückendorf",
    "Rotthausen", "Hassel", "Scholven", "Feldmark", "Heßler", "Bulmke-Hüllen", "Beckhausen",
    "Resse", "Neustadt", "Schaffrath", "Sutum", "Gelsenkirchen",
]
SENTENCES = [
    "Die Daten werden regelmäßig aktualisiert.",
    "Enthält Standorte, Öffnungszeiten und Größe der Einrichtungen.",
    "Quelle: Referat Umwelt der Stadt Gelsenkirchen.",
    "Messwerte an der Kurt-Schumacher-Straße und am Hauptbahnhof.",
    "Übersicht über öffentliche Einrichtungen im Stadtgebiet.",
    "Gemäß Informationsfreiheitsgesetz NRW veröffentlicht.",
    "Anzahl der Fußgänger pro Stunde an den Zählstellen.",
    "Barrierefreie Zugänge zu Bahnhöfen und Haltestellen.",
    "Geförderte Maßnahmen im Quartier.",
    "Die Größe wird in Quadratmetern angegeben.",
    "Straßen und Plätze mit Hausnummernbereichen.",
    "Bäume entlang der Straßen mit Art, Höhe und Pflanzjahr.",
    "Das Netz GE-WLAN bietet kostenlosen Zugang (FreeWiFi).",
    "Versorgung der Haushalte mit 1000 Mbit/s.",
    "Ergebnisse der Kommunalwahl 2020 nach Wahlbezirken.",
    "Monthly updated open data for the city of Gelsenkirchen.",
    "Counts of cyclists and pedestrians at the counting stations.",
    "Includes opening hours and accessibility information.",
    "Daten zur Luftgüte: Stickstoffdioxid (NO2) und Feinstaub (PM10).",
    "Öffnungszeiten der Bürgerbüros in Buer und in der Altstadt.",
    "Kita-Plätze für unter Dreijährige.",
    "Energieverbrauch städtischer Gebäude in kWh.",
    "Die Müllabfuhr kommt wöchentlich.",
    "Ladesäulen für E-Autos mit Anschlusstyp und Leistung.",
    "Der Datensatz enthält 1.250 Einträge.",
    "Flächen für Gewerbe und Industrie mit Größenangaben.",
    "Häuser, Wohnungen und Grundstücke im Überblick.",
    "Spielgeräte auf öffentlichen Spielplätzen.",
]
TAGS = [
    "Umwelt", "Verkehr", "Bildung", "Straßen", "Grünflächen", "WLAN", "Internet", "Breitband",
    "Soziales", "Gesundheit", "Haushalt", "Wahlen", "Mobilität", "Energie", "Klima",
    "Nahverkehr", "Bürgerservice", "Geodaten", "Statistik", "Smart City", "Bäume", "Wasser",
    "Freizeit", "Öffnungszeiten", "E-Mobilität",
]
QUELLEN = ["Stadtverwaltung", "Gelsendienste", "IT.NRW", "Emschergenossenschaft",
           "Referat Verkehr", "Bürgerbüro Buer"]
AKTUALISIERUNG = ["monatlich", "jährlich", "täglich", "unregelmäßig"]
FORMATS = ["CSV", "JSON", "GeoJSON", "XLSX", "PDF", "WMS", "ZIP", "XML"]
EXTENSIONS = {"CSV": "csv", "JSON": "json", "GeoJSON": "geojson", "XLSX": "xlsx",
              "PDF": "pdf", "WMS": "wms", "ZIP": "zip", "XML": "xml"}
RESOURCE_NAMES = ["Rohdaten", "Übersichtskarte", "Jahresbericht", "Messwerte", "Straßenliste",
                  "Standorte", "Schnittstelle", "Daten {year}"]
LICENSES = ["dl-de-by-2.0", "dl-de-zero-2.0", "cc-by-4.0", "cc-zero-1.0"]
THEME_BASE = "http://publications.europa.eu/resource/authority/data-theme/"
THEMES = [THEME_BASE + t for t in ("AGRI", "ECON", "EDUC", "ENER", "ENVI", "GOVE", "HEAL",
                                   "INTR", "JUST", "REGI", "SOCI", "TECH", "TRAN")]
FREQUENCY_BASE = "http://publications.europa.eu/resource/authority/frequency/"
FREQUENCIES = [FREQUENCY_BASE + f for f in ("DAILY", "WEEKLY", "MONTHLY", "ANNUAL", "IRREG")]
TECHNOLOGIES = ["all", "ftth_b", "fttc", "hfc", "wireless", "lte", "5g"]
AGS = ["05513000", "05562004", "05913000"]
#: Gelsenkirchen's bounding box (west, south, east, north) and a larger one
#: around the Ruhr, for the map search.
GE_BOX = (6.98, 51.48, 7.16, 51.64)
RUHR_BOX = (6.5, 51.2, 7.8, 51.8)
#: Words that occur nowhere, clauses without words, English words.
NOWHERE = ["Zebra", "xylophon", "Quaxwerk", "Nordpol"]
PUNCTUATION = ["\N{EN DASH}", "!!!", "&", "-", "+", "…", "§"]
ENGLISH = ["data", "monthly", "opening", "hours", "cyclists", "counting", "stations",
           "information", "updated", "city"]

#: Facet fields asked: CKAN's defaults, the dataset types' fields (``*``
#: strings and ``vocab_*`` lists) and an analysed one (``extras_quelle``).
FACET_FIELDS = [
    "organization", "groups", "tags", "res_format", "license_id", "dataset_type",
    "vocab_theme", "vocab_technologies", "frequency", "capacity", "state", "ags",
    "broadband_source", "operator", "network_name", "edition", "extras_aktualisierung",
    "extras_quelle",
]
#: Sorts; each ends with a key that orders every pair of datasets.
SORTS = [
    "name asc", "name desc", "title_string asc, name asc", "title_string desc, name desc",
    "metadata_modified desc", "metadata_modified asc", "metadata_created desc",
    "dataset_type asc, name asc", "organization asc, name desc",
    "license_id desc, metadata_modified desc", "reference_date asc, name asc",
    "edition desc, name asc", "frequency asc, metadata_created asc",
    "score desc, name asc", "score desc, metadata_modified desc",
]
ROWS = [0, 1, 2, 5, 10, 10, 10, 20, 50]
STARTS = [0, 0, 0, 0, 1, 5, 10, 20, 100, 500]


# -- text helpers ------------------------------------------------------------------
def slug(text: str) -> str:
    text = (text.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
            .replace("ß", "ss"))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def words(text: str) -> list[str]:
    """The words of a text as a user would type them (punctuation dropped)."""
    return [w for w in re.split(r"[\s,.:;()!?/]+", text) if w]


def umlauts_spelled_out(word: str) -> str:
    return (word.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("Ä", "Ae")
            .replace("Ö", "Oe").replace("Ü", "Ue").replace("ß", "ss"))


def umlauts_dropped(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word.replace("ß", "ss"))
                   if not unicodedata.combining(c))


# -- the corpus -----------------------------------------------------------------------
@dataclass
class Planned:
    """One dataset to create: the dict for package_create and how it is made."""

    data: dict[str, Any]
    creator: str = "sysadmin"  # key of USERS
    delete: bool = False
    patch: dict[str, Any] | None = None


def _box(rng: random.Random, area: tuple[float, float, float, float]) -> list[float]:
    west, south, east, north = area
    x1, x2 = sorted(round(rng.uniform(west, east), 3) for _ in range(2))
    y1, y2 = sorted(round(rng.uniform(south, north), 3) for _ in range(2))
    if x1 == x2:
        x2 = round(x2 + 0.001, 3)
    if y1 == y2:
        y2 = round(y2 + 0.001, 3)
    return [x1, y1, x2, y2]


def _geometry(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.15:
        return {"type": "Point", "coordinates": [round(rng.uniform(6.98, 7.16), 3),
                                                 round(rng.uniform(51.48, 51.64), 3)]}
    x1, y1, x2, y2 = _box(rng, GE_BOX if rng.random() < 0.8 else RUHR_BOX)
    return {"type": "Polygon",
            "coordinates": [[[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]]}


def _date(rng: random.Random, first: int = 2015, last: int = 2025) -> str:
    return f"{rng.randint(first, last)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _resources(rng: random.Random, name: str, year: int) -> list[dict[str, Any]]:
    out = []
    for k in range(rng.choice([0, 1, 1, 2, 2, 3])):
        fmt = rng.choice(FORMATS)
        resource = {"url": f"http://example.invalid/{name}/{k}.{EXTENSIONS[fmt]}",
                    "format": fmt,
                    "name": rng.choice(RESOURCE_NAMES).format(year=year)}
        if rng.random() < 0.5:
            resource["description"] = rng.choice(SENTENCES)
        out.append(resource)
    return out


def _type_fields(rng: random.Random, dataset_type: str) -> dict[str, Any]:
    if dataset_type == "wifi_hotspots":
        return {"operator": rng.choice(["Stadt Gelsenkirchen", "Gelsen-Net",
                                        "Emscher Lippe Energie"]),
                "network_name": rng.choice(["GE-WLAN", "FreeWiFi GE", "Ruhr-WLAN"]),
                "hotspot_count": rng.randint(5, 400)}
    if dataset_type == "broadband_coverage":
        return {"reference_date": _date(rng, 2019, 2025),
                "broadband_source": rng.choice(["breitbandatlas", "gigabit-grundbuch", "stadt"]),
                "technologies": sorted(rng.sample(TECHNOLOGIES, rng.randint(1, 4)))}
    if dataset_type == "smart_city_ranking":
        return {"ranking": rng.choice(["bitkom-smart-city-index", "haselhorst"]),
                "edition": rng.randint(2019, 2024), "cities_ranked": rng.randint(50, 100),
                "methodology_url": "https://www.bitkom.org/Smart-City-Index"}
    return {}


def plan_dataset(rng: random.Random, i: int) -> Planned:
    dataset_type = rng.choices(TYPES, TYPE_WEIGHTS)[0]
    topic, district = rng.choice(TOPICS), rng.choice(DISTRICTS)
    year = rng.randint(2015, 2025)
    title = rng.choice([f"{topic} in {district} {year}", f"{topic} {district}",
                        f"{topic} ({year})", f"Übersicht: {topic} \N{EN DASH} {district}"])
    name = f"{slug(topic)}-{slug(district)}-{i:04d}"
    notes = " ".join(rng.sample(SENTENCES, rng.randint(1, 4)))
    data: dict[str, Any] = {
        "type": dataset_type, "name": name, "title": title, "notes": notes,
        "license_id": rng.choice(LICENSES),
        "tags": [{"name": t} for t in rng.sample(TAGS, rng.randint(0, 4))],
        "resources": _resources(rng, name, year),
        "ags": rng.choice(AGS),
        **_type_fields(rng, dataset_type),
    }
    if rng.random() < 0.8:
        data["theme"] = sorted(rng.sample(THEMES, rng.randint(1, 3)))
    if rng.random() < 0.7:
        data["frequency"] = rng.choice(FREQUENCIES)
    extras = []
    roll = rng.random()
    geometry = _geometry(rng)
    if roll < 0.55 and geometry["type"] != "Point":
        data["spatial_coverage"] = [{"text": district, "geom": json.dumps(geometry)}]
    elif roll < 0.7:  # ckanext-spatial's own ``spatial`` extra (points too)
        extras.append({"key": "spatial", "value": json.dumps(geometry)})
    if rng.random() < 0.5:
        start = rng.randint(2010, 2022)
        data["temporal_coverage"] = [{"start": f"{start}-01-01",
                                      "end": f"{rng.randint(start, 2025)}-12-31"}]
    if rng.random() < 0.6:
        data["issued"] = _date(rng)
    if rng.random() < 0.4:
        data["version"] = rng.choice(["1.0", "1.1", "2.0"])
    if rng.random() < 0.5:
        extras.append({"key": "quelle", "value": rng.choice(QUELLEN)})
    if rng.random() < 0.3:
        extras.append({"key": "aktualisierung", "value": rng.choice(AKTUALISIERUNG)})
    if extras:
        data["extras"] = extras
    planned = Planned(data)
    roll = rng.random()
    if roll < 0.03:  # unowned draft of a normal user (label creator-<id>)
        planned.creator = "creator"
        data["state"] = "draft"
        return planned
    data["owner_org"] = rng.choice(ORGANIZATIONS)[0]
    data["groups"] = [{"name": g} for g, _ in rng.sample(GROUPS, rng.choice([0, 0, 1, 1, 2]))]
    if roll < 0.09:
        data["state"] = "draft"
    elif roll < 0.25:
        data["private"] = True
    if rng.random() < 0.01:
        planned.delete = True
    elif rng.random() < 0.03:
        planned.patch = {"title": f"{title} (aktualisiert)", "notes": notes + " Größe geändert."}
    return planned


def plan_corpus(rng: random.Random, count: int = DATASETS) -> list[Planned]:
    return [plan_dataset(rng, i) for i in range(count)]


# -- the searches -------------------------------------------------------------------------
@dataclass
class Known:
    """What the generator may draw on: the created datasets' visible facts."""

    names: list[str]
    title_words: list[str]
    note_words: list[str]
    phrases: list[str]
    modified: list[str]  # metadata_modified values, ISO with Z
    created: list[str]


@dataclass
class Search:
    """One package_search parameter set, the user it runs as, its atoms."""

    family: str
    params: dict[str, Any]
    user: str = "anonymous"
    atoms: list[dict[str, str]] = field(default_factory=list)

    def describe(self) -> str:
        return f"{self.family} as {self.user}: " + json.dumps(self.params, ensure_ascii=False)


def _variant(rng: random.Random, word: str) -> str:
    """How users type a word: as written, lower/upper case, umlauts spelled
    out or dropped, cut short, with a plural ending."""
    roll = rng.random()
    if roll < 0.35:
        return word
    if roll < 0.5:
        return word.lower()
    if roll < 0.55:
        return word.upper()
    if roll < 0.67:
        return umlauts_spelled_out(word)
    if roll < 0.77:
        return umlauts_dropped(word)
    if roll < 0.88 and len(word) > 5:
        return word[: rng.randint(4, len(word) - 1)]
    return word + rng.choice(["e", "en", "n", "s", "er"])


def _free_word(rng: random.Random, known: Known) -> str:
    roll = rng.random()
    if roll < 0.4:
        return _variant(rng, rng.choice(known.title_words))
    if roll < 0.7:
        return _variant(rng, rng.choice(known.note_words))
    if roll < 0.8:
        return _variant(rng, rng.choice(TAGS).split()[0])
    if roll < 0.87:
        return rng.choice(ENGLISH)
    if roll < 0.93:
        return str(rng.choice([2015, 2018, 2020, 2022, 2024, 1000, 2]))
    if roll < 0.96:  # punctuation: no words, but a clause for mm (or a bare operator)
        return rng.choice(PUNCTUATION)
    return rng.choice(NOWHERE)


def dismax_query(rng: random.Random, known: Known) -> tuple[str, list[dict[str, str]]]:
    clauses, atoms = [], []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 2, 3, 3, 4])):
        phrase = rng.random() < 0.12
        text = f'"{rng.choice(known.phrases)}"' if phrase else _free_word(rng, known)
        atoms.append({"q": text})
        prefix = rng.choices(["", "+", "-"], [85, 8, 7])[0]
        clauses.append(prefix + text)
    return " ".join(clauses), atoms


def _lucene_leaf(rng: random.Random, known: Known) -> str:
    kind = rng.randrange(24)
    if kind == 0:
        tag = rng.choice(TAGS)
        return f'tags:"{tag}"' if " " in tag or rng.random() < 0.5 else f"tags:{tag}"
    if kind == 1:
        return f"organization:{rng.choice(ORGANIZATIONS)[0]}"
    if kind == 2:
        return f"groups:{rng.choice(GROUPS)[0]}"
    if kind == 3:
        return f"res_format:{rng.choice(FORMATS)}"
    if kind == 4:
        return f'license_id:"{rng.choice(LICENSES)}"'
    if kind == 5:
        return f"dataset_type:{rng.choice(TYPES)}"
    if kind == 6:
        return f"name:{rng.choice(known.names)[: rng.randint(3, 8)]}*"
    if kind == 7:
        return f"title:{_variant(rng, rng.choice(known.title_words))}"
    if kind == 8:
        return f"notes:{_variant(rng, rng.choice(known.note_words))}"
    if kind == 9:
        return f'title:"{rng.choice(known.phrases)}"'
    if kind == 10:
        return f"extras_quelle:{rng.choice(QUELLEN).split()[0]}"
    if kind == 11:
        return f'vocab_theme:"{rng.choice(THEMES)}"'
    if kind == 12:
        return f"vocab_technologies:{rng.choice(TECHNOLOGIES)}"
    if kind == 13:
        low, high = sorted(rng.sample(known.modified, 2))
        return f"metadata_modified:{rng.choice('[{')}{low} TO {high}{rng.choice(']}')}"
    if kind == 14:
        return rng.choice(["metadata_modified:[NOW-1DAY TO *]", "metadata_created:[* TO NOW]",
                           f"metadata_created:[{rng.choice(known.created)} TO *]",
                           f"metadata_modified:{{* TO {rng.choice(known.modified)}}}"])
    if kind == 15:
        a, b = sorted([_date(rng, 2019, 2025), _date(rng, 2019, 2025)])
        return f"reference_date:[{a}T00:00:00Z TO {b}T23:59:59Z]"
    if kind == 16:
        return f"edition:{rng.randint(2019, 2024)}"
    if kind == 17:
        return f"tags:{rng.choice(TAGS)[:rng.randint(2, 4)]}*"
    if kind == 18:
        return f"title:{umlauts_dropped(rng.choice(known.title_words)).lower()[:5]}*"
    if kind == 19:
        return f"text:{_variant(rng, rng.choice(known.note_words))}"
    if kind == 20:
        return f"res_name:{rng.choice(['Rohdaten', 'Übersichtskarte', 'messwerte', 'Daten'])}"
    if kind == 21:
        return f"ags:{rng.choice(AGS)}"
    if kind == 22:
        return f"frequency:\"{rng.choice(FREQUENCIES)}\""
    return f"name:{rng.choice(known.names)}"


def lucene_query(rng: random.Random, known: Known) -> tuple[str, list[dict[str, str]]]:
    leaves = [_lucene_leaf(rng, known) for _ in range(rng.choice([1, 1, 2, 2, 3]))]
    atoms = [{"q": leaf} for leaf in leaves]
    terms = [leaf if n == 0 or rng.random() >= 0.15 else rng.choice(["NOT ", "-"]) + leaf
             for n, leaf in enumerate(leaves)]
    ops = [rng.choice(["AND", "OR", "", "AND", "OR"]) for _ in terms[1:]]
    if len(terms) == 3 and rng.random() < 0.5:
        inner = " ".join(p for p in (terms[1], ops[1], terms[2]) if p)
        return f"{terms[0]} {ops[0] or 'AND'} ({inner})", atoms
    parts = [terms[0]]
    for op, term in zip(ops, terms[1:], strict=True):
        parts += [op, term] if op else [term]
    return " ".join(parts), atoms


def _filter_leaf(rng: random.Random, known: Known) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        return f"organization:{rng.choice(ORGANIZATIONS)[0]}"
    if kind == 1:
        return f"groups:{rng.choice(GROUPS)[0]}"
    if kind == 2:
        return f'tags:"{rng.choice(TAGS)}"'
    if kind == 3:
        return f"res_format:{rng.choice(FORMATS)}"
    if kind == 4:
        return f"dataset_type:{rng.choice(TYPES)}"
    if kind == 5:
        return f'vocab_theme:"{rng.choice(THEMES)}"'
    if kind == 6:
        return f"vocab_technologies:{rng.choice(TECHNOLOGIES)}"
    if kind == 7:
        return f'license_id:"{rng.choice(LICENSES)}"'
    return f"+capacity:{rng.choice(['public', 'private'])}"


def _user(rng: random.Random, params: dict[str, Any]) -> str:
    user = rng.choices(list(USERS), [25, 15, 15, 8, 37])[0]
    if rng.random() < 0.55:
        params["include_private"] = True
    if rng.random() < 0.2:
        params["include_drafts"] = True
    return user


def _base_query(rng: random.Random, known: Known) -> tuple[dict[str, Any], list[dict[str, str]]]:
    roll = rng.random()
    if roll < 0.35:
        return {}, []
    if roll < 0.75:
        q, atoms = dismax_query(rng, known)
    else:
        q, atoms = lucene_query(rng, known)
    return {"q": q}, atoms


def generate(rng: random.Random, known: Known, count: int = QUERIES) -> list[Search]:
    """``count`` parameter sets, families mixed in fixed proportions."""
    families = [("dismax", 30), ("lucene", 22), ("filter", 15), ("facets", 12), ("sort", 12),
                ("bbox", 9)]
    out = []
    for _ in range(count):
        family = rng.choices([f for f, _ in families], [w for _, w in families])[0]
        params: dict[str, Any] = {}
        atoms: list[dict[str, str]] = []
        if family == "dismax":
            params["q"], atoms = dismax_query(rng, known)
        elif family == "lucene":
            params["q"], atoms = lucene_query(rng, known)
        elif family == "filter":
            params, atoms = _base_query(rng, known)
            leaves = [_filter_leaf(rng, known) for _ in range(rng.choice([1, 1, 2]))]
            params["fq"] = " ".join(leaves)
            atoms += [{"fq": leaf} for leaf in leaves]
            if rng.random() < 0.4:
                extra = [_filter_leaf(rng, known) for _ in range(rng.choice([1, 2]))]
                params["fq_list"] = extra
                atoms += [{"fq": leaf} for leaf in extra]
        elif family == "facets":
            params, atoms = _base_query(rng, known)
            params["facet.field"] = json.dumps(rng.sample(FACET_FIELDS, rng.randint(1, 5)))
            limit = rng.choice([None, -1, 1, 2, 3, 5, 10, 50])
            if limit is not None:
                params["facet.limit"] = limit
            mincount = rng.choice([None, None, 1, 2, 3, 10])
            if mincount is not None:
                params["facet.mincount"] = mincount
        elif family == "sort":
            params, atoms = _base_query(rng, known)
            params["sort"] = rng.choice(SORTS)
        else:  # bbox
            params, atoms = _base_query(rng, known) if rng.random() < 0.4 else ({}, [])
            area = rng.choice([GE_BOX, GE_BOX, RUHR_BOX, (8.5, 53.0, 9.0, 53.5)])
            params["ext_bbox"] = ",".join(str(v) for v in _box(rng, area))
            if rng.random() < 0.3:
                params["sort"] = rng.choice(SORTS[:8])
        if rng.random() < 0.5:
            params["rows"] = rng.choice(ROWS)
        if rng.random() < 0.3:
            params["start"] = rng.choice(STARTS)
        if family != "facets" and rng.random() < 0.15:
            params["facet.field"] = json.dumps(rng.sample(FACET_FIELDS[:6], 2))
        if rng.random() < 0.9:
            params["fl"] = ["id"]
        user = _user(rng, params)
        out.append(Search(family, params, user, atoms))
    return out
