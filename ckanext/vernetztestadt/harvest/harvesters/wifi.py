"""Harvester ``vernetztestadt_wifi``: public WiFi hotspots as one dataset.

Owns: reading every document of a hotspot source in the registered formats
of family ``hotspots`` (``formats.hotspot_rows``: city lists, GeoJSON and OGC
API Features pages, Freifunk meshviewer/ffmap/hopglass files and OLSR node
maps, Overpass JSON), keeping what lies in the area (``bbox``, default
Gelsenkirchen's), merging the same hotspot seen by several sources
(``hotspot_merge``), and the
one item this gives: a ``wifi_hotspots`` dataset with CSV and GeoJSON, its
spatial extent and a map. Skipped points are counted in the job log.
Privacy: node ids are salted hashes (salt: ``harvest.id_salt``, else derived
from the site's secret key); a last scan refuses anything that still looks
like an e-mail, MAC or IP address.

Must not touch: the formats (``formats``), HTTP (``documents``) or
publishing (``framework``/``publish``).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from typing import Any

import ckan.plugins.toolkit as tk

from .. import config as source_config
from .. import formats
from ..config import Key
from ..formats import hotspot_rows
from ..formats.privacy import find_private
from ..framework import Harvester, InputError, SourceRun, job_log
from ..items import Item, Table
from . import hotspot_merge

MAP = {"label": "name", "title": "Karte der Hotspots"}


def _distance(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 500:
        raise ValueError("muss eine Zahl zwischen 0 und 500 (Meter) sein")
    return float(value)


def id_salt() -> str:
    """Stable per site, never published; without ``harvest.id_salt`` derived
    from the secret key, so that it is not the same on every portal."""
    salt = tk.config.get("ckanext.vernetztestadt.harvest.id_salt")
    if salt:
        return str(salt)
    secret = str(tk.config.get("SECRET_KEY") or tk.config.get("beaker.session.secret") or "")
    return hmac.new(secret.encode(), b"vernetztestadt hotspot ids", hashlib.sha256).hexdigest()


def _extent(rows: list[dict[str, Any]]) -> str:
    lats, lons = [r["latitude"] for r in rows], [r["longitude"] for r in rows]
    west, south, east, north = min(lons), min(lats), max(lons), max(lats)
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


class WifiHarvester(Harvester):
    source_type = "vernetztestadt_wifi"
    title = "Öffentliche WLAN-Hotspots"
    description = "Hotspot-Listen, zusammengeführt zu einem Datensatz mit Karte."
    format_family = hotspot_rows.FAMILY
    config_keys = (
        Key("format", "Format der Dokumente (ein registriertes Hotspot-Format); ohne Angabe "
            "am Inhalt erkannt.", formats.config_check(hotspot_rows.FAMILY)),
        Key("merge_distance_m", "Abstand in Metern, bis zu dem zwei Einträge mit "
            "verträglichen Namen derselbe Hotspot sind (Standard 25).", _distance, 25.0),
        Key("max_pages", "Höchstens so viele Seiten je OGC-API-Dokument (next-Links).",
            source_config.positive_int, 50),
        Key("city", "Name des Gebiets im Titel, Standard Gelsenkirchen.",
            source_config.nonempty_text, "Gelsenkirchen"),
    )

    def read(self, run: SourceRun) -> list[Item]:
        skipped: Counter[str] = Counter()
        by_source = [self._document_rows(run, entry, skipped) for entry in run.declared()]
        merged = hotspot_merge.merge(by_source, run.config["merge_distance_m"])
        if skipped:
            counts = ", ".join(f"{reason}: {n}" for reason, n in sorted(skipped.items()))
            job_log().info("Quelle „%s“: übersprungen: %s", run.title, counts)
        if not merged:
            raise InputError("Die Dokumente enthalten keinen Hotspot im Gebiet; es wird nichts "
                             "veröffentlicht.")
        self._check_private(merged)
        return [self._item(run, merged)]

    def _document_rows(self, run: SourceRun, entry: dict[str, Any],
                       skipped: Counter[str]) -> list[dict[str, Any]]:
        url, fmt = entry["url"], entry.get("format") or run.config.get("format")
        rows: list[dict[str, Any]] = []
        next_url: str | None = url
        for _ in range(run.config["max_pages"]):
            if next_url is None:
                break
            document = run.get(next_url)
            try:
                parsed = hotspot_rows.parse(document.data, fmt, salt=id_salt(), source_url=next_url)
            except hotspot_rows.HotspotFormatError as error:
                raise InputError(f"{next_url}: {error.message_de}") from None
            rows += parsed.rows
            skipped.update(parsed.skipped)
            next_url = parsed.next_url
        else:
            if next_url is not None:
                raise InputError(f"{url}: mehr als {run.config['max_pages']} Seiten "
                                 "(„max_pages“).")
        kept, dropped = hotspot_merge.filter_area(rows, run.config["bbox"] or
                                                  hotspot_rows.GELSENKIRCHEN_BBOX)
        if dropped:
            skipped["außerhalb des Gebiets"] += dropped
        return kept

    @staticmethod
    def _check_private(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            for value in row.values():
                if value is not None and find_private(str(value)):
                    raise InputError(f"Hotspot „{row['id']}“ enthält etwas, das wie eine "
                                     "E-Mail-, MAC- oder IP-Adresse aussieht; nichts wird "
                                     "veröffentlicht.")

    def _item(self, run: SourceRun, rows: list[dict[str, Any]]) -> Item:
        city, ags = run.config["city"], run.config["ags"]
        sources = sorted({tag for row in rows for tag in row["source"].split("|")})
        dataset = {"title": f"Öffentliche WLAN-Hotspots {city}",
                   "notes": f"Öffentlich zugängliche WLAN-Hotspots in {city}, zusammengeführt "
                            f"aus: {', '.join(sources)} (Spalte „source“). Derselbe Standort aus "
                            "mehreren Quellen erscheint einmal.",
                   "ags": ags, "hotspot_count": len(rows),
                   "spatial_coverage": [{"text": city, "geom": _extent(rows)}]}
        table = Table(key="hotspots", name=f"WLAN-Hotspots {city}", schema="hotspots",
                      rows=rows, description="Ein Hotspot je Zeile, WGS84.",
                      with_geojson=True, map=dict(MAP))
        return Item(guid=f"wlan-hotspots-{ags}", dataset=dataset, tables=[table],
                    documents=sorted(run.validators))
