"""Benchmark of the extension's validation function (``validate_file``).

Writes German-dialect CSV files (Windows-1252, ``;`` delimiter, decimal
comma, CRLF) that are valid against the Table Schemas ``hotspots`` and
``broadband``, N rows each, and validates every file twice, each time in a
fresh subprocess so that peak memory belongs to that one run:

* extension: ``validate_file(path, schema, fmt="csv")`` with nothing
  declared, so it detects encoding, delimiter and decimal mark itself;
* frictionless: frictionless' Python API with the dialect given by hand
  (``encoding="cp1252"``, ``CsvControl(delimiter=";")``, ``decimalChar``
  and ``groupChar`` on the number fields), as a user would run it.

It prints rows/s and peak RSS of both, the ratio of their rates (target:
the extension reaches >= 0.9 x frictionless) and how peak memory grows with
N. Progress goes to stderr.

Usage::

    .venv/bin/python bench/validation.py [--rows 100000 1000000] [--dir PATH]
                                         [--schemas hotspots broadband]
                                         [--repeat K] [--seed S]
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import benchlib  # bench/benchlib.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "schemas" / "tables"
ENCODING, DELIMITER, DECIMAL, GROUP = "cp1252", ";", ",", "."
#: What validate_file must detect on the generated files (no declared dialect).
EXPECTED_DIALECT = {"encoding": ENCODING, "delimiter": DELIMITER, "decimal_char": DECIMAL}
#: Large enough that neither limit cuts the largest file short.
MAX_BYTES, MAX_ROWS = 2 * 1024**3, 5_000_000
MAX_ERRORS = 1000
RATIO_TARGET = 0.9
RUNNERS = ("extension", "frictionless")
PROGRESS_EVERY = 100_000

# -- vocabulary (every character is in Windows-1252, ß and the en dash too) -----
DISTRICTS = ["Altstadt", "Schalke", "Schalke-Nord", "Bulmke-Hüllen", "Feldmark", "Heßler",
             "Neustadt", "Bismarck", "Ückendorf", "Rotthausen", "Horst", "Beckhausen", "Buer",
             "Hassel", "Scholven", "Erle", "Resse", "Resser Mark", "Sutum", "Buer-Mitte"]
STREETS = ["Bahnhofstraße", "Hauptstraße", "Kurt-Schumacher-Straße", "Ebertstraße",
           "Hochstraße", "Florastraße", "Overwegstraße", "Cranger Straße", "Horster Straße",
           "Goldbergstraße", "Bochumer Straße", "Grothusstraße", "Münsterstraße",
           "Heinrich-König-Platz", "Vattmannstraße", "Husemannstraße", "Ringstraße"]
PLACES = ["Rathaus", "Hauptbahnhof", "Stadtbibliothek", "Bürgerzentrum", "Jugendzentrum",
          "Volkshochschule", "Musiktheater im Revier", "Schloss Horst", "Nordsternpark",
          "Wissenschaftspark", "Marktplatz", "Freibad", "Bürgerbüro", "Stadtteilbüro"]
POSTCODES = ["45879", "45881", "45883", "45884", "45886", "45888", "45889", "45891",
             "45892", "45894", "45896", "45897", "45899"]
OPERATORS = ["Stadt Gelsenkirchen", "Gelsen-Net", "Freifunk Rhein-Ruhr e. V.",
             "Stadtwerke Gelsenkirchen", "BOGESTRA", "Gelsendienste", "Bürgerverein Ückendorf"]
SSIDS = ["GE-Frei", "Freifunk", "Gelsenkirchen WLAN", "BOGESTRA-Gäste", "Bücherei-Gäste",
         "ge.freifunk.net"]
# "synthetic" marks made-up data, as in the schemas' sample files.
HOTSPOT_SOURCES = ["synthetic", "synthetic|stadt", "synthetic|osm", "synthetic|osm|freifunk",
                   "synthetic|stadt|osm"]
MUNICIPALITIES = ["Gelsenkirchen", "Düsseldorf", "Köln", "Münster", "Mülheim an der Ruhr",
                  "Lüdenscheid", "Gütersloh", "Bünde", "Nörvenich", "Übach-Palenberg", "Hürth",
                  "Jülich", "Königswinter", "Lünen", "Schöppingen", "Brühl", "Bösingfeld"]
# The en dash is 0x96 in Windows-1252 but a control character in Latin-1.
BROADBAND_SOURCES = ["synthetic \u2013 Breitbandatlas", "synthetic \u2013 Gigabit-Grundbuch",
                     "synthetic \u2013 Mobilfunk-Monitoring der Bundesnetzagentur", ""]
#: Speed classes of the German broadband atlas, in Mbit/s.
SPEEDS = [0, 2, 6, 16, 30, 50, 100, 200, 400, 1000]
#: Half-yearly reference dates, 2015 to 2024.
REFERENCE_DATES = [f"{year}-{day}" for year in range(2015, 2025) for day in ("06-30", "12-31")]
LAST_SEEN = [(date(2024, 1, 1) + timedelta(days=d)).isoformat() for d in range(600)]
LAT, LON = (51.48, 51.64), (6.97, 7.17)


# -- generating files ------------------------------------------------------------
def load_schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8"))


@cache
def enum_of(schema_name: str, field_name: str) -> tuple[str, ...]:
    """A field's allowed values, read from the schema so the data stay valid."""
    fields = {f["name"]: f for f in load_schema(schema_name)["fields"]}
    return tuple(fields[field_name]["constraints"]["enum"])


def decimal(value: float, digits: int) -> str:
    """A number as German offices write it: ``51,507812``."""
    return f"{value:.{digits}f}".replace(".", DECIMAL)


def sometimes(rng: random.Random, value: str, blank_share: float) -> str:
    """``value``, or empty in ``blank_share`` of the rows (optional columns)."""
    return "" if rng.random() < blank_share else value


def hotspot_row(rng: random.Random, index: int) -> list[str]:
    district, street = rng.choice(DISTRICTS), rng.choice(STREETS)
    # the comma in the name is a trap for delimiter detection, as in real files
    name = f"{rng.choice(PLACES)} {district}, {street}"
    return [f"hs-{index:07d}", name, street, sometimes(rng, rng.choice(POSTCODES), 0.05),
            district, decimal(rng.uniform(*LAT), 6), decimal(rng.uniform(*LON), 6),
            rng.choice(OPERATORS), sometimes(rng, rng.choice(SSIDS), 0.1),
            rng.choice(HOTSPOT_SOURCES), sometimes(rng, rng.choice(LAST_SEEN), 0.1)]


def broadband_row(rng: random.Random, index: int) -> list[str]:
    # The primary key spans five columns: the row number, read in mixed radix,
    # gives every row its own (area, date, technology, speed) combination.
    technologies = enum_of("broadband", "technology")
    rest, speed = divmod(index, len(SPEEDS))
    rest, technology = divmod(rest, len(technologies))
    area, reference_date = divmod(rest, len(REFERENCE_DATES))
    return [f"{5_111_000 + area:08d}", MUNICIPALITIES[area % len(MUNICIPALITIES)],
            REFERENCE_DATES[reference_date], technologies[technology], str(SPEEDS[speed]),
            decimal(rng.uniform(0, 100), 1), rng.choice(BROADBAND_SOURCES)]


ROW_MAKERS: dict[str, Callable[[random.Random, int], list[str]]] = {
    "hotspots": hotspot_row, "broadband": broadband_row}


def rows(schema_name: str, count: int, rng: random.Random) -> Iterator[list[str]]:
    make = ROW_MAKERS[schema_name]
    started = time.monotonic()
    for index in range(count):
        if index and index % PROGRESS_EVERY == 0:
            rate = index / (time.monotonic() - started)
            note(f"  {schema_name}: {index:,}/{count:,} rows ({rate:,.0f}/s)")
        yield make(rng, index)


def generate(schema_name: str, count: int, seed: int, folder: Path) -> Path:
    """The CSV file of ``count`` rows; an existing one (same seed) is reused."""
    path = folder / f"{schema_name}-{count}-seed{seed}.csv"
    if path.exists():
        note(f"reusing {path}")
        return path
    note(f"writing {path} ...")
    started = time.monotonic()
    # a string seed is hashed with SHA-512: the same data in every process
    rng = random.Random(f"{seed}:{schema_name}:{count}")
    header = [f["name"] for f in load_schema(schema_name)["fields"]]
    partial = path.with_suffix(".part")  # an interrupted run leaves no truncated .csv
    with partial.open("w", encoding=ENCODING, newline="") as handle:
        writer = csv.writer(handle, delimiter=DELIMITER, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows(schema_name, count, rng))  # streams: one row at a time
    partial.replace(path)
    note(f"  wrote {count:,} rows in {time.monotonic() - started:.1f} s")
    return path


# -- one validation, in a child process ----------------------------------------------
Validator = Callable[[Path, dict[str, Any]], dict[str, Any]]


def extension_validator() -> Validator:
    from ckanext.vernetztestadt.validation import Limits, validate_file

    limits = Limits(max_bytes=MAX_BYTES, max_rows=MAX_ROWS, max_errors=MAX_ERRORS)

    def run(path: Path, schema: dict[str, Any]) -> dict[str, Any]:
        outcome = validate_file(path, schema, fmt="csv", limits=limits)
        dialect = outcome.dialect
        return {"valid": outcome.valid, "status": outcome.status, "rows": outcome.rows,
                "errors": outcome.errors[:5],
                "dialect": None if dialect is None else {
                    "encoding": dialect.encoding, "delimiter": dialect.delimiter,
                    "decimal_char": dialect.decimal_char}}
    return run


def german_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with the decimal comma and thousands point a user would add."""
    fields = [{**f, "decimalChar": DECIMAL, "groupChar": GROUP} if f["type"] == "number" else f
              for f in schema["fields"]]
    return {**schema, "fields": fields}


def frictionless_validator() -> Validator:
    from frictionless import Resource, Schema, formats

    def run(path: Path, schema: dict[str, Any]) -> dict[str, Any]:
        report = Resource(path.name, basepath=str(path.parent), format="csv",
                          encoding=ENCODING, control=formats.CsvControl(delimiter=DELIMITER),
                          schema=Schema.from_descriptor(german_schema(schema)),
                          ).validate(limit_errors=MAX_ERRORS)
        task = report.tasks[0] if report.tasks else None
        errors = [*report.errors, *(task.errors if task else [])]
        return {"valid": report.valid, "status": "success" if report.valid else "failure",
                "rows": int(task.stats.get("rows") or 0) if task else 0,
                "errors": [e.to_descriptor() for e in errors[:5]]}
    return run


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def child(runner: str, schema_name: str, path: Path) -> None:
    """Validate once and print the figures as one JSON line on stdout."""
    # Imports happen before the clock starts, frictionless' too: validate_file
    # imports it on first use, but a running CKAN worker has it loaded.
    import frictionless  # noqa: F401

    validate = {"extension": extension_validator,
                "frictionless": frictionless_validator}[runner]()
    schema = load_schema(schema_name)
    base_mb = peak_rss_mb()
    started = time.perf_counter()
    result = validate(path, schema)
    seconds = time.perf_counter() - started
    print(json.dumps({**result, "seconds": seconds, "peak_mb": peak_rss_mb(),
                      "base_mb": base_mb}, default=str))


# -- the parent: runs and report -------------------------------------------------
@dataclass
class Run:
    runner: str
    seconds: float
    rows: int
    peak_mb: float
    base_mb: float
    dialect: dict[str, str] | None

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


@dataclass
class FileResult:
    schema: str
    rows: int
    megabytes: float
    runs: dict[str, Run]

    @property
    def ratio(self) -> float:
        return self.runs["extension"].rate / self.runs["frictionless"].rate


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_child(runner: str, schema_name: str, path: Path, expected_rows: int) -> Run:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", runner, schema_name,
               str(path)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{runner} on {path.name} crashed (exit {done.returncode})")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if not result["valid"] or result["rows"] != expected_rows:
        raise SystemExit(f"{runner} on {path.name}: status {result['status']}, "
                         f"{result['rows']:,} of {expected_rows:,} rows; first errors:\n"
                         + json.dumps(result["errors"], indent=2, ensure_ascii=False))
    return Run(runner, result["seconds"], result["rows"], result["peak_mb"], result["base_mb"],
               result.get("dialect"))


def measure(schema_name: str, count: int, path: Path, repeat: int) -> FileResult:
    """Best of ``repeat`` runs per runner, alternating so that load hits both alike."""
    best: dict[str, Run] = {}
    for attempt in range(1, repeat + 1):
        for runner in RUNNERS:
            run = run_child(runner, schema_name, path, count)
            note(f"  {runner:<12} run {attempt}/{repeat}: {run.seconds:6.1f} s, "
                 f"{run.rate:9,.0f} rows/s, peak {run.peak_mb:6.0f} MB")
            if runner not in best or run.seconds < best[runner].seconds:
                best[runner] = run
    return FileResult(schema_name, count, path.stat().st_size / 2**20, best)


def results_table(results: list[FileResult]) -> list[str]:
    rows = [["schema", "rows", "MB", "ext s", "ext rows/s", "ext peak MB", "fl s",
             "fl rows/s", "fl peak MB", "ext/fl", f"target >= {RATIO_TARGET}"]]
    for r in results:
        ext, fl = r.runs["extension"], r.runs["frictionless"]
        rows.append([r.schema, f"{r.rows:,}", f"{r.megabytes:.1f}", f"{ext.seconds:.1f}",
                     f"{ext.rate:,.0f}", f"{ext.peak_mb:.0f}", f"{fl.seconds:.1f}",
                     f"{fl.rate:,.0f}", f"{fl.peak_mb:.0f}", f"{r.ratio:.2f}",
                     "met" if r.ratio >= RATIO_TARGET else "MISSED"])
    return benchlib.table(rows, set(range(1, 10)))


def growth_lines(results: list[FileResult]) -> list[str]:
    """Peak memory at the largest N over the smallest, per schema and runner.

    Besides the whole peak, the growth of the part above the imports is shown:
    that part is what the validation itself holds.
    """
    lines = []
    for schema_name in dict.fromkeys(r.schema for r in results):
        mine = sorted((r for r in results if r.schema == schema_name), key=lambda r: r.rows)
        small, large = mine[0], mine[-1]
        if small.rows == large.rows:
            continue
        factor = large.rows / small.rows
        lines.append(f"memory growth {schema_name}, {small.rows:,} -> {large.rows:,} rows "
                     f"(x{factor:.0f}):")
        for runner in RUNNERS:
            a, b = small.runs[runner], large.runs[runner]
            above = (b.peak_mb - b.base_mb) / max(a.peak_mb - a.base_mb, 1.0)
            lines.append(f"  {runner:<12} peak {a.peak_mb:.0f} -> {b.peak_mb:.0f} MB "
                         f"(x{b.peak_mb / a.peak_mb:.2f}); above imports "
                         f"{a.peak_mb - a.base_mb:.0f} -> {b.peak_mb - b.base_mb:.0f} MB "
                         f"(x{above:.1f}): {growth_verdict(above, factor)}")
    if lines:
        # measured: without primaryKey/unique, frictionless' peak stays flat
        lines.append("  (frictionless holds every primaryKey/unique value to find duplicates; "
                     "the extension keeps one batch in memory, the rest in SQLite on disk)")
    return lines


def growth_verdict(growth: float, factor: float) -> str:
    """Judge by the exponent: memory ~ N**slope (1 = linear, 0 = constant)."""
    slope = math.log(max(growth, 1.0)) / math.log(factor)
    if slope < 0.3:
        return "bounded"
    return "grows sublinearly" if slope < 0.7 else "grows ~linearly with N"


def dialect_lines(results: list[FileResult]) -> list[str]:
    wrong = [f"  {r.schema} {r.rows:,}: detected {r.runs['extension'].dialect}"
             for r in results if r.runs["extension"].dialect != EXPECTED_DIALECT]
    if wrong:
        return ["WRONG DIALECT detected by validate_file (expected "
                f"{EXPECTED_DIALECT}):", *wrong]
    return [f"validate_file detected the dialect of every file: {EXPECTED_DIALECT}"]


def machine_info() -> list[str]:
    return [f"{benchlib.machine()}, frictionless {version('frictionless')}"]


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


# -- main --------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="rows per file; one file per schema and count")
    parser.add_argument("--dir", type=Path,
                        help="write (and keep, and reuse) the files here; default: a temp dir")
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--schemas", nargs="+", choices=sorted(ROW_MAKERS),
                        default=["hotspots", "broadband"])
    parser.add_argument("--repeat", type=int, default=1, help="best of K runs per path")
    parser.add_argument("--upload-rows", type=int, default=10_000,
                        help="rows of the upload timed through CKAN (0: skip; uses ckan_bench)")
    # internal: one measured validation (the parent starts these)
    parser.add_argument("--child", nargs=3, metavar=("RUNNER", "SCHEMA", "FILE"),
                        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def bench(args: argparse.Namespace, folder: Path) -> list[FileResult]:
    results = []
    for count in sorted(set(args.rows)):
        for schema_name in args.schemas:
            path = generate(schema_name, count, args.seed, folder)
            note(f"validating {path.name} ({path.stat().st_size / 2**20:.1f} MB) ...")
            results.append(measure(schema_name, count, path, args.repeat))
    return results


# -- a 10k-row upload to a public dataset, through CKAN ---------------------------
def upload_to_public(path: Path) -> tuple[float, str, bool]:
    """Seconds of ``resource_create`` with an upload to a public dataset (the
    gate validates it within the request), the report's status, and whether the
    dataset is still public. Uses ``bench/search.py``'s services and database."""
    import search as portal  # bench/search.py: services, migrations, CKAN on ckan_bench
    from werkzeug.datastructures import FileStorage

    portal.start_services()
    # uploads need CKAN's file storage; the bench keeps its own beside the services
    os.environ["CKAN_STORAGE_PATH"] = str(portal.HOME / "bench-storage")
    portal.migrate()
    app = portal.load_ckan()
    with app._wsgi_app.test_request_context():
        import ckan.plugins.toolkit as tk

        user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]

        def call(action: str, **data: Any) -> Any:
            return tk.get_action(action)({"user": user}, data)

        suffix = str(time.time_ns())
        org = call("organization_create", name=f"bench-upload-{suffix}")
        dataset = call("package_create", name=f"bench-upload-{suffix}", owner_org=org["id"],
                       notes="Benchmark", private=False)
        with path.open("rb") as handle:
            started = time.perf_counter()
            resource = call("resource_create", package_id=dataset["id"], format="CSV",
                            name="Hotspots", table_schema="hotspots",
                            upload=FileStorage(handle, filename=path.name))
            seconds = time.perf_counter() - started
        status = call("resource_validation_show", resource_id=resource["id"])["status"]
        public = not call("package_show", id=dataset["id"])["private"]
        call("dataset_purge", id=dataset["id"])
        call("organization_purge", id=org["id"])
    return seconds, status, public


def upload_lines(args: argparse.Namespace, folder: Path) -> list[str]:
    if not args.upload_rows:
        return []
    path = generate("hotspots", args.upload_rows, args.seed, folder)
    note(f"uploading {path.name} to a public dataset through resource_create ...")
    seconds, status, public = upload_to_public(path)
    verdict = "met" if seconds <= 5 and status == "success" and public else "MISSED"
    return [f"upload to public: {args.upload_rows:,} rows ({path.stat().st_size / 2**20:.1f} MB) "
            f"via resource_create, validated in the request: {seconds:.2f} s, report "
            f"{status}, dataset public: {public}; target <= 5 s ({verdict})"]


def report(args: argparse.Namespace, results: list[FileResult], load_before: str,
           extra: list[str]) -> None:
    print(f"Validation benchmark: validate_file vs. bare frictionless, German CSV "
          f"(cp1252, ';', decimal comma, CRLF), best of {args.repeat}, seed {args.seed}")
    print("\n".join(machine_info()))
    print(f"load average (1/5/15 min): {load_before} before, {load()} after")
    print()
    print("\n".join(results_table(results)))
    print()
    print("\n".join([*growth_lines(results), *dialect_lines(results), *extra]))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        runner, schema_name, path = args.child
        child(runner, schema_name, Path(path))
        return
    load_before = load()
    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
        results, extra = bench(args, args.dir), upload_lines(args, args.dir)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-validation-") as folder:
            results, extra = bench(args, Path(folder)), upload_lines(args, Path(folder))
    report(args, results, load_before, extra)


if __name__ == "__main__":
    main()
