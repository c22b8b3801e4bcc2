"""Harvest sources declared in YAML: what a valid file gives, and the German
message naming every problem of a broken one."""
from __future__ import annotations

import json

import pytest

from ckanext.vernetztestadt.harvest.sources import SourceDefinitionError, parse, shipped

VALID = """
name: bitkom-smart-city-index
type: vernetztestadt_ranking
title: Bitkom Smart City Index
url: https://www.bitkom.org/Smart-City-Index
organization: stadt-gelsenkirchen
frequency: weekly
dataset_type: smart_city_ranking
config:
  ags: "05513000"
  allowed_hosts: [www.bitkom.org]
"""


def test_a_valid_definition():
    source = parse(VALID, "bitkom.yaml")
    assert (source.name, source.type, source.frequency) == \
        ("bitkom-smart-city-index", "vernetztestadt_ranking", "WEEKLY")
    data = source.action_data("org-id")
    assert data["source_type"] == "vernetztestadt_ranking" and data["owner_org"] == "org-id"
    config = json.loads(data["config"])
    assert config == {"dataset_type": "smart_city_ranking", "ags": "05513000",
                      "allowed_hosts": ["www.bitkom.org"]}


@pytest.mark.parametrize("text, expected", [
    ("name: x\n", "Angabe „type“ fehlt"),
    (VALID.replace("vernetztestadt_ranking", "ftp_harvester"), "unbekannter Typ „ftp_harvester“"),
    (VALID.replace("weekly", "hourly"), "„frequency“ muss einer von"),
    (VALID.replace("bitkom-smart-city-index", "Bitkom Index"), "„name“ darf nur"),
    (VALID.replace("https://www.bitkom.org/Smart-City-Index", "file:///etc/passwd"),
     "„url“ muss eine http(s)-Adresse"),
    ("- a\n- b\n", "keine Zuordnung"),
    ("name: [unclosed\n", "kein gültiges YAML"),
])
def test_problems_are_named(text, expected):
    with pytest.raises(SourceDefinitionError, match=r"^quelle\.yaml: ") as excinfo:
        parse(text, "quelle.yaml")
    assert expected in str(excinfo.value)


def test_shipped_definitions_parse():
    # every file in harvesters/ must be a valid definition (none yet is fine)
    assert all(source.file.endswith((".yaml", ".yml")) for source in shipped())
