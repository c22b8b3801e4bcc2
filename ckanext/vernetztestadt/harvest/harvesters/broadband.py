"""Harvester ``vernetztestadt_broadband``: broadband coverage as datasets.

Owns: turning a broadband source's documents (Breitbandatlas CSV variants,
XLSX, mobile long format; see ``broadband``) into items — one
``broadband_coverage`` dataset per reference date for the configured AGS
(named by ``area_name`` where the files name no area), and one time series
across the dates with a chart of the shares of households with at least 50
and 1000 Mbit/s (all technologies), FTTH/B with 1000 Mbit/s and 5G (older
exports have no gigabit class; 50 Mbit/s, the former federal target, gives
the line across all dates).
Values the parser skips (dash markers, columns outside the schema) are
counted in the job log.

Must not touch: the file layouts (``broadband``), HTTP (``documents``) or
publishing (``framework``/``publish``).
"""
from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from .. import config as source_config
from .. import formats
from ..config import Key
from ..formats import broadband
from ..framework import Harvester, InputError, SourceRun, job_log
from ..items import Item, Table

#: the technologies the dataset field ``technologies`` can name
TECHNOLOGY_CHOICES = ("all", "ftth_b", "fttc", "hfc", "wireless", "lte", "5g")
CHART = {"type": "line", "x": "reference_date", "y": "households_pct",
         "series_label": "{technology} ≥ {min_mbit} Mbit/s",
         "value_labels": {"technology": {"all": "alle Technologien", "ftth_b": "FTTH/B",
                                         "5g": "5G"}},
         "where": [{"technology": "all", "min_mbit": "50"},
                   {"technology": "all", "min_mbit": "1000"},
                   {"technology": "ftth_b", "min_mbit": "1000"},
                   {"technology": "5g"}],
         "title": "Anteil der Haushalte je Stichtag", "x_label": "Stichtag",
         "y_label": "Haushalte in %", "y_range": [0, 100]}


def _iso_date(value: Any) -> str:
    try:
        return datetime.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValueError("muss ein Datum JJJJ-MM-TT sein") from None


def _german_date(iso: str) -> str:
    return datetime.date.fromisoformat(iso).strftime("%d.%m.%Y")


class BroadbandHarvester(Harvester):
    source_type = "vernetztestadt_broadband"
    title = "Breitbandverfügbarkeit (Breitbandatlas)"
    description = ("Breitbandatlas der Bundesnetzagentur (CSV-Varianten, XLSX, Mobilfunk im "
                   "Langformat): ein Datensatz je Stichtag für den Gemeindeschlüssel der "
                   "Quelle und eine Zeitreihe mit Diagramm.")
    format_family = broadband.FAMILY
    config_keys = (
        Key("format", "Layout der Dokumente (ein registriertes Breitband-Layout); ohne "
            "Angabe am Inhalt erkannt.", formats.config_check(broadband.FAMILY)),
        Key("reference_date", "Stichtag JJJJ-MM-TT, wenn die Datei keinen nennt.", _iso_date),
        Key("broadband_source", "breitbandatlas, gigabit-grundbuch oder stadt.",
            source_config.choice("breitbandatlas", "gigabit-grundbuch", "stadt"),
            "breitbandatlas"),
        Key("series", "Zeitreihe mit Diagramm veröffentlichen.", source_config.boolean, True),
        Key("area_name", "Name des Gebiets (AGS der Quelle), wenn die Datei keinen nennt; "
            "sonst steht dort der Gemeindeschlüssel.", source_config.nonempty_text),
    )

    def read(self, run: SourceRun) -> list[Item]:
        by_date: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for entry in run.declared():
            parsed = self._document(run, entry)
            by_date[parsed.reference_date] += parsed.rows
        if not by_date:
            raise InputError("Die Quelle nennt keine Dokumente.")
        config = run.config
        found = [self._date_item(config, day, rows, run) for day, rows in sorted(by_date.items())]
        if config["series"]:
            rows = [row for day in sorted(by_date) for row in by_date[day]]
            found.append(self._series_item(config, rows, run))
        return found

    def _document(self, run: SourceRun, entry: dict[str, Any]) -> broadband.Parsed:
        url, config = entry["url"], run.config
        document = run.get(url)
        try:
            parsed = broadband.parse(
                document.data, ags=config["ags"],
                layout=entry.get("format") or config.get("format"),
                reference_date=entry.get("reference_date") or config.get("reference_date"),
                source=str(entry.get("source") or f"Breitbandatlas ({url})"),
                area_name=config.get("area_name"))
        except broadband.BroadbandFormatError as error:
            raise InputError(f"{url}: {error.message_de}") from None
        if parsed.skipped:
            counts = ", ".join(f"{reason}: {n}" for reason, n in sorted(parsed.skipped.items()))
            job_log().info("Quelle „%s“: %s: übersprungen: %s", run.title, url, counts)
        return parsed

    @staticmethod
    def _area(rows: list[dict[str, Any]], ags: str) -> str:
        names = {row["area_name"] for row in rows}
        return names.pop() if len(names) == 1 else f"AGS {ags}"

    def _date_item(self, config: dict[str, Any], day: str, rows: list[dict[str, Any]],
                   run: SourceRun) -> Item:
        ags, area = config["ags"], self._area(rows, config["ags"])
        technologies = sorted({r["technology"] for r in rows} & set(TECHNOLOGY_CHOICES),
                              key=TECHNOLOGY_CHOICES.index)
        dataset = {"title": f"Breitbandverfügbarkeit {area}, Stand {_german_date(day)}",
                   "notes": f"Anteil der Haushalte in {area} (AGS {ags}), die Breitband je "
                            f"Technologie und Mindestbandbreite erreichen kann; Stichtag "
                            f"{_german_date(day)}. Quelle: Spalte „source“.",
                   "ags": ags, "reference_date": day,
                   "broadband_source": config["broadband_source"],
                   "technologies": technologies}
        table = Table(key="breitband", name=f"Breitband {area} {day}", schema="broadband",
                      rows=rows, description="Eine Zeile je Technologie und Mindestbandbreite.")
        return Item(guid=f"breitband-{ags}-{day}", dataset=dataset, tables=[table],
                    documents=sorted(run.validators))

    def _series_item(self, config: dict[str, Any], rows: list[dict[str, Any]],
                     run: SourceRun) -> Item:
        ags, area = config["ags"], self._area(rows, config["ags"])
        days = sorted({row["reference_date"] for row in rows})
        dataset = {"title": f"Breitbandverfügbarkeit {area} (Zeitreihe)", "ags": ags,
                   "notes": f"Breitbandverfügbarkeit in {area} (AGS {ags}) über alle "
                            f"Stichtage der Quelle ({_german_date(days[0])} bis "
                            f"{_german_date(days[-1])}).",
                   "broadband_source": config["broadband_source"],
                   # all dates, so no single reference date: not a member of the
                   # series of dated datasets (series.py), but its whole period
                   "temporal_coverage": [{"start": days[0], "end": days[-1]}]}
        table = Table(key="zeitreihe", name=f"Breitband {area} je Stichtag", schema="broadband",
                      rows=rows, chart=dict(CHART),
                      description="Alle Stichtage, eine Zeile je Technologie und Klasse.")
        return Item(guid=f"breitband-{ags}-zeitreihe", dataset=dataset, tables=[table],
                    documents=sorted(run.validators))
