"""Bounded load test of the served portal (gunicorn, as ``vernetztestadt-runtime serve``).

Fills the bench database of ``bench/search.py`` (``ckan_bench``, Redis db 3)
with N generated datasets, serves it on 127.0.0.1 with the same gunicorn
command line as ``serve`` (``runtime.cli.server_command``: sync workers,
request timeout) and test.ini, then runs two phases of ``--seconds`` each:

1. baseline: ``--clients`` threads send package_search (free text, facets,
   fielded fq, sort, paging, small map boxes) and package_show (public
   datasets) in turn;
2. the same, plus one more client that keeps sending the ``ext_bbox`` that
   once spun ckanext-spatial at 100 % CPU forever (``1e308,1e308,1e308,1e308``).

It prints throughput, p50/p95/max and errors per phase, what the hostile
client got back, the others' p95 against the baseline (target: within 2x)
and how many workers gunicorn had to kill for overrunning the timeout.
Every request has a timeout; every loop stops at its deadline or after
``MAX_REQUESTS_PER_CLIENT``. Only 127.0.0.1 is contacted.

Usage::

    .venv/bin/python bench/load.py [--datasets 300] [--seconds 60] [--clients 8]
                                   [--workers N] [--timeout 60] [--keep]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import benchlib  # bench/benchlib.py, beside this script
import search as portal  # bench/search.py: services, migrations, generated datasets

from ckanext.vernetztestadt.runtime import cli, services, wsgi

HOSTILE_BBOX = "1e308,1e308,1e308,1e308"
MAX_REQUESTS_PER_CLIENT = 100_000
BOOT_SECONDS = 300  # every worker loads CKAN; on a busy 2-core machine that takes a while
REQUEST_TIMEOUT = 30.0


@dataclass
class Tally:
    """What one phase's clients saw (shared by its threads, under ``lock``)."""

    ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: str, ms: float, ok: bool) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if ok:
                self.ms.append(ms)
            else:
                self.errors += 1

    def percentile(self, p: float) -> float:
        ordered = sorted(self.ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fetch(port: int, path: str, params: dict[str, Any], timeout: float) -> tuple[str, float]:
    """GET on 127.0.0.1; returns (status or error name, milliseconds)."""
    url = f"http://127.0.0.1:{port}{path}?{urllib.parse.urlencode(params)}"
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as res:
            res.read()
            status = str(res.status)
    except urllib.error.HTTPError as exc:
        exc.read()
        status = str(exc.code)
    except (OSError, urllib.error.URLError) as exc:
        status = type(exc).__name__
    return status, (time.perf_counter() - started) * 1000


# -- what the clients ask ---------------------------------------------------------
@dataclass
class Workload:
    words: list[str]
    tags: list[str]
    organizations: list[str]
    names: list[str]  # public datasets: package_show answers anonymous callers

    def request(self, rng: random.Random, turn: int) -> tuple[str, dict[str, Any]]:
        if turn % 2:
            return "/api/3/action/package_show", {"id": rng.choice(self.names)}
        kind = rng.randrange(5)
        if kind == 0:
            return "/api/3/action/package_search", {
                "q": " ".join(rng.sample(self.words, rng.randint(1, 3))), "rows": 20}
        if kind == 1:
            return "/api/3/action/package_search", {
                "facet.field": json.dumps(portal.FACET_FIELDS), "rows": 20,
                "start": rng.choice((0, 0, 20))}
        if kind == 2:
            return "/api/3/action/package_search", {
                "fq": f'tags:"{rng.choice(self.tags)}" OR '
                      f'organization:"{rng.choice(self.organizations)}"', "rows": 20}
        if kind == 3:
            return "/api/3/action/package_search", {
                "sort": "metadata_modified desc", "rows": 20, "start": rng.choice((0, 20, 40))}
        x0, y0 = rng.uniform(6.97, 7.12), rng.uniform(51.48, 51.60)
        return "/api/3/action/package_search", {
            "ext_bbox": f"{x0:.4f},{y0:.4f},{x0 + 0.05:.4f},{y0 + 0.04:.4f}", "rows": 20}


def workload(port: int) -> Workload:
    with portal_request_context():
        names = portal.catalogue_names()
    status, _ = fetch(port, "/api/3/action/status_show", {}, REQUEST_TIMEOUT)
    assert status == "200", status
    url = (f"http://127.0.0.1:{port}/api/3/action/package_search?"
           + urllib.parse.urlencode({"fl": "name", "rows": 1000}))
    with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT) as res:
        public = [d["name"] for d in json.load(res)["result"]["results"]]
    if not public:
        raise SystemExit("no public datasets in the bench database")
    return Workload(portal.search_words(), names["tags"][:50], names["organizations"], public)


_APP: list[Any] = []


def portal_request_context() -> Any:
    return _APP[0]._wsgi_app.test_request_context()


# -- clients ------------------------------------------------------------------------
def client(port: int, load: Workload, seed: int, deadline: float, tally: Tally) -> None:
    rng = random.Random(seed)
    for turn in range(MAX_REQUESTS_PER_CLIENT):
        if time.monotonic() >= deadline:
            return
        path, params = load.request(rng, turn)
        status, ms = fetch(port, path, params, REQUEST_TIMEOUT)
        tally.add(status, ms, status == "200")


def hostile(port: int, deadline: float, tally: Tally, timeout: float) -> None:
    """Sends the box that spun ckanext-spatial forever, again and again."""
    for _ in range(MAX_REQUESTS_PER_CLIENT):
        if time.monotonic() >= deadline:
            return
        status, ms = fetch(port, "/api/3/action/package_search", {"ext_bbox": HOSTILE_BBOX},
                           timeout)
        tally.add(status, ms, True)  # every answer counts; its status is reported


def run_phase(port: int, load: Workload, args: argparse.Namespace, seed: int,
              with_hostile: bool) -> tuple[Tally, Tally | None, float]:
    deadline = time.monotonic() + args.seconds
    tally, bad = Tally(), (Tally() if with_hostile else None)
    threads = [threading.Thread(target=client, args=(port, load, seed + i, deadline, tally))
               for i in range(args.clients)]
    if bad is not None:
        # as long as the worker timeout: the request that used to hang
        threads.append(threading.Thread(target=hostile,
                                        args=(port, deadline, bad, args.timeout + 10.0)))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    # a request still under way at the deadline ends by its own timeout
    for thread in threads[:args.clients]:
        thread.join(timeout=args.seconds + REQUEST_TIMEOUT + 10)
    elapsed = time.monotonic() - started  # the regular clients' time: their throughput
    for thread in threads[args.clients:]:
        thread.join(timeout=args.seconds + args.timeout + 30)
    return tally, bad, elapsed


# -- the server -----------------------------------------------------------------------
class Server:
    """gunicorn with ``serve``'s command line, on test.ini and the bench database."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.port = args.port or services.free_port()
        self.workers = args.workers
        self.log = Path(tempfile.mkstemp(prefix="bench-load-", suffix=".log")[1])
        command = cli.server_command(portal.INI, self.port, args.workers, args.timeout)
        env = {**os.environ, "CKAN_INI": str(portal.INI)}
        with self.log.open("w") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self) -> None:
        marker = wsgi.READY.split("%")[0]
        deadline = time.monotonic() + BOOT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited: {self.log_text()[-2000:]}")
            if self.log_text().count(marker) >= self.workers:
                return
            time.sleep(0.5)
        raise SystemExit(f"the workers were not ready within {BOOT_SECONDS} s")

    def worker_timeouts(self) -> int:
        return self.log_text().count("WORKER TIMEOUT")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # what Ctrl+C sends
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.unlink(missing_ok=True)


# -- report -------------------------------------------------------------------------
def phase_row(label: str, tally: Tally, seconds: float) -> list[str]:
    done = len(tally.ms) + tally.errors
    return [label, f"{done:,}", f"{done / seconds:.1f}", f"{tally.percentile(50):.0f}",
            f"{tally.percentile(95):.0f}", f"{max(tally.ms, default=float('nan')):.0f}",
            str(tally.errors)]


def report(args: argparse.Namespace, n: int, phases: list[tuple[str, Tally, float]],
           bad: Tally, timeouts: int, load_before: float) -> list[str]:
    rows = [["phase", "requests", "req/s", "p50 ms", "p95 ms", "max ms", "errors"]]
    rows += [phase_row(label, tally, seconds) for label, tally, seconds in phases]
    base, loaded = phases[0][1].percentile(95), phases[1][1].percentile(95)
    ratio = loaded / base if base else float("nan")
    errors = sum(t.errors for _, t, _ in phases)
    verdict = "met" if ratio <= 2 and errors == 0 else "MISSED"
    return [
        f"Load benchmark: {args.clients} clients x {args.seconds:.0f} s per phase, {n:,} "
        f"datasets, gunicorn {args.workers} sync workers, timeout {args.timeout} s",
        benchlib.machine(),
        f"load average (1 min) before: {load_before:.2f}, after: {os.getloadavg()[0]:.2f}",
        "",
        *benchlib.table(rows, right={1, 2, 3, 4, 5, 6}),
        "",
        f"hostile client (ext_bbox={HOSTILE_BBOX}): {len(bad.ms) + bad.errors:,} requests, "
        f"answers {dict(sorted(bad.statuses.items()))}, p95 {bad.percentile(95):.0f} ms",
        f"others' p95 with the hostile client / baseline: {loaded:.0f} / {base:.0f} ms = "
        f"{ratio:.2f}x (target <= 2x, 0 errors: {verdict})",
        f"workers killed for overrunning the timeout: {timeouts}",
    ]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each phase")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=cli.default_workers())
    parser.add_argument("--timeout", type=int, default=cli.DEFAULT_TIMEOUT,
                        help="gunicorn's worker timeout (seconds)")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--keep", action="store_true",
                        help="keep the bench database as it is (no clear, create, rebuild)")
    parser.add_argument("--seed", type=int, default=20240611)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    note("starting services, migrating ckan_bench ...")
    portal.start_services()
    portal.migrate()
    _APP.append(portal.load_ckan())
    with portal_request_context():
        n, _, _ = portal.build(args, rng)
        portal.vacuum_analyze()
    load_before = os.getloadavg()[0]
    server = Server(args)
    try:
        note(f"gunicorn on 127.0.0.1:{server.port}, waiting for {args.workers} workers ...")
        server.wait_ready()
        load = workload(server.port)
        note("warm-up ...")
        run_phase(server.port, load, argparse.Namespace(**{**vars(args), "seconds": 5.0}),
                  args.seed, with_hostile=False)
        note(f"phase 1: baseline, {args.seconds:.0f} s ...")
        base, _, base_s = run_phase(server.port, load, args, args.seed + 100, False)
        note(f"phase 2: with the hostile client, {args.seconds:.0f} s ...")
        loaded, bad, loaded_s = run_phase(server.port, load, args, args.seed + 200, True)
        assert bad is not None
        timeouts = server.worker_timeouts()
    finally:
        server.stop()
    print("\n".join(report(args, n, [("baseline", base, base_s),
                                     ("with hostile client", loaded, loaded_s)],
                              bad, timeouts, load_before)))


if __name__ == "__main__":
    main()
