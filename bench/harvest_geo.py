"""Benchmark of the WiFi and broadband parsers behind the geo harvesters.

Generates synthetic inputs (made-up nodes and percentages) and measures,
each in a fresh subprocess so that peak memory belongs to that one run:

* a Freifunk ``meshviewer.json`` with N nodes (default 10,000) inside
  Gelsenkirchen's extent: parse (salted ids, privacy scrubbing) items/s,
  then the area filter and the merge with a city list of N/10 hotspots of
  which half lie within 10 m of a node with a compatible name (dedupe time);
* a Breitbandatlas coded CSV with M rows (default 50,000 municipalities x
  20 columns): parse and select one AGS, rows/s.

Usage::

    .venv/bin/python bench/harvest_geo.py [--nodes 10000] [--rows 50000]
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from typing import Any

import benchlib  # bench/benchlib.py, beside this script

WEST, SOUTH, EAST, NORTH = 6.98, 51.48, 7.16, 51.63
CODES = [f"verf_300_{n}" for n in (1, 2, 6, 16, 30, 50, 100, 200, 400, 1000)] + \
    [f"verf_100_{n}" for n in (50, 100, 1000)] + ["verf_ftth_1000", "verf_hfc_1000",
                                                  "verf_fttc_50", "verf_lte_2", "verf_5g_2",
                                                  "verf_200_6", "verf_dsl_16"]


def meshviewer(nodes: int, rng: random.Random) -> bytes:
    entries = [{"node_id": f"{rng.getrandbits(48):012x}", "hostname": f"ffge-synth-{i:05d}",
                "location": {"latitude": rng.uniform(SOUTH, NORTH),
                             "longitude": rng.uniform(WEST, EAST)},
                "is_online": True, "clients": rng.randint(0, 30),
                "lastseen": "2025-06-30T12:00:00+0200", "domain": "ffge",
                "owner": {"contact": f"owner{i}@example.invalid"}} for i in range(nodes)]
    return json.dumps({"timestamp": "2025-06-30T12:00:00+0200", "nodes": entries,
                       "links": []}).encode()


def city_rows(mesh: list[dict[str, Any]], count: int, rng: random.Random,
              ) -> list[dict[str, Any]]:
    rows = []
    for i in range(count):
        near = mesh[i] if i % 2 == 0 else None
        lat = near["latitude"] + 0.00005 if near else rng.uniform(SOUTH, NORTH)
        lon = near["longitude"] if near else rng.uniform(WEST, EAST)
        rows.append({"id": f"stadt-{i}", "name": near["name"] if near else f"Platz {i}",
                     "street": None, "postcode": None, "district": None,
                     "latitude": round(lat, 6), "longitude": round(lon, 6), "operator": None,
                     "ssid": None, "source": "stadt", "last_seen": None})
    return rows


def coded_csv(rows: int, rng: random.Random) -> bytes:
    lines = ["ags;" + ";".join(CODES)]
    for i in range(rows):
        ags = "05513000" if i == rows // 2 else f"{9_000_000 + i:08d}"
        lines.append(ags + ";" + ";".join(f"{rng.uniform(0, 100):.1f}" for _ in CODES))
    return ("\n".join(lines) + "\n").encode()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_wifi(nodes: int) -> dict[str, Any]:
    from ckanext.vernetztestadt.harvest.formats import hotspot_rows
    from ckanext.vernetztestadt.harvest.harvesters import hotspot_merge

    rng = random.Random(7)
    data = meshviewer(nodes, rng)
    started = time.perf_counter()
    parsed = hotspot_rows.parse(data, "meshviewer", salt="bench")
    parse_s = time.perf_counter() - started
    kept, _ = hotspot_merge.filter_area(parsed.rows)
    city = city_rows(kept, nodes // 10, rng)
    started = time.perf_counter()
    merged = hotspot_merge.merge([city, kept])
    merge_s = time.perf_counter() - started
    return {"items": nodes, "parse_s": parse_s, "merge_s": merge_s, "merged": len(merged),
            "input": len(city) + len(kept), "peak_mb": peak_mb()}


def child_broadband(rows: int) -> dict[str, Any]:
    from ckanext.vernetztestadt.harvest.formats import broadband

    data = coded_csv(rows, random.Random(11))
    started = time.perf_counter()
    parsed = broadband.parse(data, ags="05513000", reference_date="2025-06-30")
    return {"items": rows, "parse_s": time.perf_counter() - started,
            "selected": len(parsed.rows), "peak_mb": peak_mb()}


def run_child(kind: str, size: int) -> dict[str, Any]:
    result = subprocess.run([sys.executable, __file__, "--child", kind, str(size)],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, size = args.child[0], int(args.child[1])
        print(json.dumps(child_wifi(size) if kind == "wifi" else child_broadband(size)))
        return
    wifi, bb = run_child("wifi", args.nodes), run_child("broadband", args.rows)
    print("Geo harvest parsers: synthetic meshviewer.json and Breitbandatlas coded CSV")
    print(benchlib.machine())
    print()
    print("\n".join(benchlib.table([
        ["input", "items", "seconds", "items/s", "peak MB", "result"],
        ["meshviewer parse", f"{wifi['items']:,}", f"{wifi['parse_s']:.2f}",
         f"{wifi['items'] / wifi['parse_s']:,.0f}", f"{wifi['peak_mb']:.0f}",
         "salted ids, privacy scrub"],
        ["dedupe (merge)", f"{wifi['input']:,}", f"{wifi['merge_s']:.2f}",
         f"{wifi['input'] / wifi['merge_s']:,.0f}", "",
         f"{wifi['input']:,} -> {wifi['merged']:,} hotspots"],
        ["broadband CSV", f"{bb['items']:,}", f"{bb['parse_s']:.2f}",
         f"{bb['items'] / bb['parse_s']:,.0f}", f"{bb['peak_mb']:.0f}",
         f"{bb['selected']} rows for 05513000"],
    ], right={1, 2, 3, 4})))


if __name__ == "__main__":
    main()
