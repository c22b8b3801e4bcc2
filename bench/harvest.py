"""Benchmark of the harvest framework with the ranking harvester.

Serves a synthetic Haselhorst-style ranking (``Jahr;Platz;Stadt;AGS;
Smart-City-Grad;Städte``, Windows-1252, decimal comma; every city is a
made-up "Synthetikstadt NNNN (synthetisch)") from a local HTTP server on
127.0.0.1 that answers ETag / If-None-Match like a real one, creates a harvest
source for it in the bench database of ``bench/search.py`` and runs it through
the portal's runner (the same stages as the queue consumers):

1. full run: every edition becomes a dataset (validated by the gate, CSV +
   JSON uploads) — datasets/s and rows/s;
2. unchanged re-run, answered 304 by the server — seconds and datasets written;
3. unchanged re-run without validators (the server ignores If-None-Match, so
   everything is downloaded, parsed and compared by checksum) — the same;
4. one row changed in one edition — seconds and datasets written.

An item of this source is a city's row; the datasets are the editions (one
``smart_city_ranking`` dataset each, all cities). Targets: re-runs write 0
datasets in <= 10 s; a one-row change writes exactly 1 dataset.

Usage::

    .venv/bin/python bench/harvest.py [--cities 1000] [--editions 10]
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import benchlib  # bench/benchlib.py, beside this script
import search as portal  # bench/search.py: services, migrations, CKAN on ckan_bench

FIRST_EDITION = 2015


def ranking_csv(cities: int, editions: int, changed: bool = False) -> bytes:
    lines = ["Jahr;Platz;Stadt;AGS;Smart-City-Grad;Städte"]
    for edition in range(FIRST_EDITION, FIRST_EDITION + editions):
        for rank in range(1, cities + 1):
            grade = 90 - rank * 80 / cities
            if changed and edition == FIRST_EDITION and rank == cities // 2:
                grade += 0.1  # the one changed item
            lines.append(f"{edition};{rank};Synthetikstadt {rank:04d} (synthetisch);;"
                         f"{grade:.1f}".replace(".", ",") + f" %;{cities}")
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


class Served:
    """What the local server answers, switchable between the runs."""

    body = b""
    honour_validators = True

    @classmethod
    def etag(cls) -> str:
        return '"' + hashlib.sha256(cls.body).hexdigest()[:16] + '"'


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if Served.honour_validators and self.headers.get("If-None-Match") == Served.etag():
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/csv; charset=windows-1252")
        self.send_header("Content-Length", str(len(Served.body)))
        self.send_header("ETag", Served.etag())
        self.end_headers()
        self.wfile.write(Served.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def start_server() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/ranking.csv"


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def modified_times(tk: Any, names: list[str]) -> dict[str, str]:
    return {n: tk.get_action("package_show")({"ignore_auth": True}, {"id": n})[
        "metadata_modified"] for n in names}


def timed_run(runner: Any, name: str) -> tuple[float, Any]:
    started = time.perf_counter()
    result = runner.run(name)
    return time.perf_counter() - started, result


def bench(args: argparse.Namespace) -> list[list[str]]:
    import ckan.plugins.toolkit as tk

    from ckanext.vernetztestadt.harvest import publish, runner

    url = start_server()
    context = publish.site_context()
    suffix = str(time.time_ns())
    org = tk.get_action("organization_create")(dict(context), {"name": f"bench-harvest-{suffix}"})
    source = tk.get_action("harvest_source_create")(dict(context), {
        "name": f"bench-harvest-{suffix}", "title": "Bench", "url": url,
        "source_type": "vernetztestadt_ranking", "owner_org": org["id"], "frequency": "MANUAL",
        "config": '{"ranking": "haselhorst", "series": false, '
                  '"dataset_type": "smart_city_ranking"}'})
    rows_total = args.cities * args.editions
    names = [f"haselhorst-smart-city-ranking-{e}"
             for e in range(FIRST_EDITION, FIRST_EDITION + args.editions)]
    lines = []
    try:
        Served.body = ranking_csv(args.cities, args.editions)
        note(f"full run: {rows_total:,} rows, {args.editions} editions ...")
        seconds, result = timed_run(runner, source["name"])
        assert not result.errors, result.errors[:3]
        lines.append(["full run", f"{seconds:.1f}", str(result.counts["added"]),
                      f"{result.counts['added'] / seconds:.2f} datasets/s, "
                      f"{rows_total / seconds:,.0f} rows/s"])
        for label, honour in (("unchanged, 304", True), ("unchanged, full parse", False)):
            Served.honour_validators = honour
            before = modified_times(tk, names)
            note(f"{label} ...")
            seconds, result = timed_run(runner, source["name"])
            written = sum(1 for n, t in modified_times(tk, names).items() if t != before[n])
            verdict = "met" if written == 0 and seconds <= 10 else "MISSED"
            lines.append([label, f"{seconds:.1f}", str(written),
                          f"{dict(result.counts)}; target 0 writes, <= 10 s ({verdict})"])
        Served.body = ranking_csv(args.cities, args.editions, changed=True)
        before = modified_times(tk, names)
        note("one row changed ...")
        seconds, result = timed_run(runner, source["name"])
        written = sum(1 for n, t in modified_times(tk, names).items() if t != before[n])
        lines.append(["one row changed", f"{seconds:.1f}", str(written),
                      f"{dict(result.counts)}; target 1 write "
                      f"({'met' if written == 1 else 'MISSED'})"])
    finally:
        remove(tk, context, names, source, org)
    return lines


def remove(tk: Any, context: dict[str, Any], names: list[str], source: dict[str, Any],
           org: dict[str, Any]) -> None:
    """What a run created: its datasets, the source and its organization."""
    for name in names:
        with contextlib.suppress(tk.ObjectNotFound):
            tk.get_action("dataset_purge")(dict(context), {"id": name})
    tk.get_action("harvest_source_clear")(dict(context), {"id": source["id"]})
    tk.get_action("dataset_purge")(dict(context), {"id": source["id"]})
    tk.get_action("organization_purge")(dict(context), {"id": org["id"]})


def in_ckan(bench: Callable[[argparse.Namespace], list[list[str]]],
            args: argparse.Namespace) -> list[list[str]]:
    """``bench(args)`` in CKAN on the bench database, inside a request context."""
    portal.start_services()
    os.environ["CKAN_STORAGE_PATH"] = str(portal.HOME / "bench-storage")
    portal.migrate()
    app = portal.load_ckan()
    with app._wsgi_app.test_request_context():
        return bench(args)


def report(title: str, lines: list[list[str]]) -> None:
    print(title)
    print(benchlib.machine())
    print()
    print("\n".join(benchlib.table([["run", "seconds", "datasets written", "rate / result"],
                                    *lines], right={1, 2})))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=1000)
    parser.add_argument("--editions", type=int, default=10)
    args = parser.parse_args(argv)
    lines = in_ckan(bench, args)
    report(f"Harvest benchmark: synthetic ranking source, {args.cities:,} cities (items) x "
           f"{args.editions} editions (datasets), CSV + JSON per edition, gate validation",
           lines)

if __name__ == "__main__":
    main()
