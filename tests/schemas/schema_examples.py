"""Complete example datasets of every type, as an API client would send them."""
from __future__ import annotations

import json

GE_POLYGON = {"type": "Polygon", "coordinates": [[
    [6.98, 51.48], [7.16, 51.48], [7.16, 51.64], [6.98, 51.64], [6.98, 51.48]]]}

BASE = {
    "title": "WLAN-Hotspots in Gelsenkirchen",
    "notes": "Standorte der öffentlichen WLAN-Hotspots.",
    "tag_string": "WLAN,Internet",
    "license_id": "dl-de-by-2.0",
    "license_attribution": "Datenquelle: Stadt Gelsenkirchen",
    "theme": ["http://publications.europa.eu/resource/authority/data-theme/TECH",
              "http://publications.europa.eu/resource/authority/data-theme/REGI"],
    "frequency": "http://publications.europa.eu/resource/authority/frequency/MONTHLY",
    "temporal_coverage": [{"start": "2017-01-01", "end": "2025-12-31"}],
    "spatial_coverage": [{"text": "Gelsenkirchen", "geom": json.dumps(GE_POLYGON),
                          "uri": "http://dcat-ap.de/def/politicalGeocoding/municipalityKey/05513000"}],
    "ags": "05513000",
    "political_geocoding_level": "http://dcat-ap.de/def/politicalGeocoding/Level/municipality",
    "contributor_id": "http://dcat-ap.de/def/contributors/stadtGelsenkirchen",
    "musterdatensatz": "https://musterdatenkatalog.de/def/musterdatensatz/"
                       "infrastruktur/wlan-hotspots",
    "contact": [{"name": "Open-Data-Team", "email": "opendata@example.invalid",
                 "url": "https://www.gelsenkirchen.de"}],
    "publisher": [{"name": "Stadt Gelsenkirchen", "url": "https://www.gelsenkirchen.de",
                   "email": "info@example.invalid"}],
    "issued": "2024-03-01",
    "modified": "2025-06-30",
    "url": "https://www.gelsenkirchen.de/de/infrastruktur/vernetzte_stadt/",
    "version": "1.2",
    "resources": [{"url": "http://example.invalid/hotspots.csv", "name": "Hotspots",
                   "format": "CSV", "table_schema": "hotspots", "csv_delimiter": ";",
                   "csv_decimal_char": ",", "encoding": "cp1252"}],
}

TYPE_FIELDS = {
    "dataset": {},
    "wifi_hotspots": {"operator": "Stadt Gelsenkirchen", "network_name": "GE-WLAN",
                      "hotspot_count": 260},
    "broadband_coverage": {"reference_date": "2025-12-31", "broadband_source": "breitbandatlas",
                           "technologies": ["all", "ftth_b", "5g"]},
    "smart_city_ranking": {"ranking": "bitkom-smart-city-index", "edition": 2022,
                           "cities_ranked": 81,
                           "methodology_url": "https://www.bitkom.org/Smart-City-Index"},
}


def example(dataset_type: str, name: str | None = None) -> dict:
    data = json.loads(json.dumps(BASE))
    data.update(TYPE_FIELDS[dataset_type], type=dataset_type,
                name=name or dataset_type.replace("_", "-") + "-beispiel")
    return data
