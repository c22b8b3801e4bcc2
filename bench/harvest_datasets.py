"""Benchmark: a harvest source of many datasets through gather, fetch and import.

Serves a synthetic Breitbandatlas source from a local HTTP server on
127.0.0.1 (ETag / If-None-Match answered like a real server): one small
coded CSV (``ags;verf_300_16;…``, made-up figures) per reference date, one
document per date, so that the broadband harvester publishes one
``broadband_coverage`` dataset per date (``--datasets``, default 1,000; no
time series). The source runs through the portal's runner, the same stages
as the queue consumers, in the bench database of ``bench/search.py``:

1. full run: every dataset new (CSV upload validated by the gate in strict
   mode) — datasets/s;
2. unchanged re-run (every document answered 304) — seconds and datasets
   written (target: 0);
3. anchor: the same datasets and files written by ``package_create`` alone
   (no harvest framework, no harvest objects), in as many processes — the
   ratio says what the framework adds.

The objects are fetched and imported by ``--workers`` processes (default:
the machine's cores), as that many fetch consumers would.

Target: the full run at >= 20 datasets/s.

Usage::

    .venv/bin/python bench/harvest_datasets.py [--datasets 1000] [--workers N]
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import harvest as harvest_bench  # bench/harvest.py: set-up, clean-up, report

FIRST_DATE = datetime.date(2020, 1, 1)
HEADER = "ags;verf_300_16;verf_300_50;verf_300_1000;verf_ftth_1000;verf_5g_2"


def dates(count: int) -> list[str]:
    return [(FIRST_DATE + datetime.timedelta(days=n)).isoformat() for n in range(count)]


def document(day: str) -> bytes:
    """One reference date of a made-up area, figures rising with the date."""
    n = int(day.replace("-", "")) % 997 / 997
    values = [99.0 + n, 90.0 + 9 * n, 40.0 + 50 * n, 10.0 + 60 * n, 50.0 + 40 * n]
    cells = ";".join(f"{v:.1f}".replace(".", ",") for v in values)
    return f"{HEADER}\r\n05513000;{cells}\r\n".encode("cp1252")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        day = self.path.strip("/").removesuffix(".csv")
        body = document(day)
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/csv; charset=windows-1252")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def start_server() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def modified(tk: Any, names: list[str]) -> dict[str, str]:
    return {n: tk.get_action("package_show")({"ignore_auth": True}, {"id": n})[
        "metadata_modified"] for n in names}


def bare_create(job: tuple[str, str, str]) -> str:
    """One dataset of the anchor: parsed and written as the harvester does,
    by ``package_create`` alone (no gather, fetch, harvest objects or
    provenance)."""
    import ckan.plugins.toolkit as tk

    from ckanext.vernetztestadt.harvest import publish
    from ckanext.vernetztestadt.harvest.formats import broadband
    from ckanext.vernetztestadt.harvest.items import Item, Table

    org_id, day, suffix = job
    rows = broadband.parse(document(day), ags="05513000", reference_date=day,
                           source="Breitbandatlas (synthetisch)",
                           area_name="Synthetikstadt").rows
    item = Item(guid=day, dataset={}, tables=[
        Table(key="breitband", name=f"Breitband {day}", schema="broadband", rows=rows)])
    name = f"bench-bare-{suffix}-{day}"
    data = {"name": name, "type": "broadband_coverage", "owner_org": org_id,
            "title": f"Breitband {day} (synthetisch)", "ags": "05513000",
            "notes": "Synthetische Breitbandzahlen für den Benchmark.",
            "reference_date": day, "broadband_source": "breitbandatlas",
            "technologies": sorted({r["technology"] for r in rows}),
            "license_id": "dl-de-by-2.0"}
    tk.get_action("package_create")(publish.site_context(), {
        **data, "resources": publish._resources(item, [])})
    return name


def bare_creates(org_id: str, days: list[str], suffix: str,
                 workers: int) -> tuple[float, list[str]]:
    """The anchor, in as many processes as the harvest."""
    from ckanext.vernetztestadt import forked

    jobs = [(org_id, day, suffix) for day in days]
    started = time.perf_counter()
    names = (list(map(bare_create, jobs)) if workers <= 1
             else list(forked.unordered(bare_create, jobs, workers)))
    return time.perf_counter() - started, names


def bench(args: argparse.Namespace) -> list[list[str]]:
    import ckan.plugins.toolkit as tk

    from ckanext.vernetztestadt.harvest import publish, runner

    server = start_server()
    days = dates(args.datasets)
    context = publish.site_context()
    suffix = str(time.time_ns())
    org = tk.get_action("organization_create")(dict(context), {"name": f"bench-ds-{suffix}"})
    config = {"ags": "05513000", "series": False, "area_name": "Synthetikstadt",
              "name_pattern": f"{{name}}-{suffix}",
              "documents": [{"url": f"{server}/{day}.csv", "reference_date": day}
                            for day in days]}
    source = tk.get_action("harvest_source_create")(dict(context), {
        "name": f"bench-ds-{suffix}", "title": "Bench datasets", "url": f"{server}/",
        "source_type": "vernetztestadt_broadband", "owner_org": org["id"],
        "frequency": "MANUAL", "config": json.dumps(
            {**config, "dataset_type": "broadband_coverage"})})
    names = [f"breitband-05513000-{day}-{suffix}" for day in days]
    bare: list[str] = []
    lines = []
    try:
        note(f"full run: {args.datasets:,} datasets ...")
        started = time.perf_counter()
        result = runner.run(source["name"], workers=args.workers)
        seconds = time.perf_counter() - started
        assert not result.errors, result.errors[:3]
        added = result.counts["added"]
        rate = added / seconds
        lines.append(["harvest, full run", f"{seconds:.1f}", str(added),
                      f"{rate:.1f} datasets/s; target >= 20 "
                      f"({'met' if rate >= 20 else 'MISSED'})"])
        before = modified(tk, names)
        note("unchanged re-run ...")
        started = time.perf_counter()
        result = runner.run(source["name"], workers=args.workers)
        seconds = time.perf_counter() - started
        written = sum(1 for n, t in modified(tk, names).items() if t != before[n])
        lines.append(["harvest, unchanged (304)", f"{seconds:.1f}", str(written),
                      f"{dict(result.counts)}; target 0 writes "
                      f"({'met' if written == 0 else 'MISSED'})"])
        note("anchor: package_create alone ...")
        anchor_seconds, bare = bare_creates(org["id"], days, suffix, args.workers)
        anchor_rate = len(bare) / anchor_seconds
        lines.append(["anchor: package_create alone", f"{anchor_seconds:.1f}", str(len(bare)),
                      f"{anchor_rate:.1f} datasets/s; harvest / anchor = "
                      f"{rate / anchor_rate:.2f}"])
    finally:
        harvest_bench.remove(tk, context, names + bare, source, org)
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes that fetch and import (default: the cores)")
    args = parser.parse_args(argv)
    lines = harvest_bench.in_ckan(bench, args)
    harvest_bench.report(
        f"Harvest benchmark: synthetic broadband source, {args.datasets:,} datasets (one CSV "
        "document and dataset per reference date), gate validation in strict mode, "
        f"{args.workers} import processes (harvest and anchor)", lines)

if __name__ == "__main__":
    main()
