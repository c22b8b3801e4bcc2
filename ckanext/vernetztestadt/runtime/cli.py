"""``vernetztestadt-runtime``: the command behind ``make portal/test/down``.

Owns: the order of set-up steps (services, config, database, DataStore
permissions, demo content, server), the production-like server command
(gunicorn: several sync workers, each killed and replaced when one request
takes longer than the timeout) and turning failures into one clear line
with a non-zero exit.

Must not touch: what each step does inside (``services``, ``ckan_config``);
CKAN itself is only driven through its own ``ckan`` command, and served
through the application factory in ``wsgi``.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from . import ckan_config, services, solr
from .services import Runtime, ServiceError

T = TypeVar("T")
DEFAULT_HOME = Path(os.environ.get("VERNETZTESTADT_HOME", ".portal"))
home_option = click.option("--home", type=click.Path(path_type=Path), default=DEFAULT_HOME,
                           show_default=True, help="Runtime folder (data, config, logs).")
#: The application gunicorn serves: CKAN built from $CKAN_INI in each worker.
WSGI_APP = "ckanext.vernetztestadt.runtime.wsgi:make_application()"
#: Seconds a worker may spend on one request before gunicorn kills and
#: replaces it (the ckan-docker image's uwsgi harakiri is set to the same).
DEFAULT_TIMEOUT = 60
#: Seconds workers get to finish their requests on Ctrl+C / SIGTERM.
GRACEFUL_TIMEOUT = 10


def default_workers() -> int:
    """Two sync workers per core (at least 2, at most 8): one busy or stuck
    request never holds up the others, and memory stays bounded."""
    return min(8, max(2, 2 * (os.cpu_count() or 1)))


def server_command(ini: Path, port: int, workers: int, timeout: int) -> list[str]:
    """The gunicorn command line serving ``ini`` on 127.0.0.1:``port``
    (``CKAN_INI`` must name ``ini`` in its environment). Sync workers: the
    timeout kills a worker whose one thread is stuck (a thread of gthread
    workers can spin while its worker keeps reporting alive). No control
    socket: nothing but the port is opened, and several servers can run."""
    exe = Path(sys.executable).with_name("gunicorn")
    return [str(exe), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--worker-class", "sync", "--timeout", str(timeout),
            "--graceful-timeout", str(GRACEFUL_TIMEOUT), "--no-control-socket",
            "--name", "vernetztestadt-portal", WSGI_APP]


def _ckan(ini: Path, *args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("ckan")
    return subprocess.run([str(exe), "-c", str(ini), *args], check=True, text=True,
                          capture_output=capture)


def _check_real_services(real: dict[str, str]) -> None:
    """Reach every real service named in the environment, before anything starts."""
    if "sqlalchemy" in real:
        services.check_postgres(real["sqlalchemy"])
    for key in ckan_config.DATASTORE_VARS:
        if key in real:
            services.check_postgres(real[key])
    if "redis" in real:
        services.check_redis(real["redis"])
    if "solr" in real:
        services.check_solr(real["solr"])


def prepare(home: Path, database: str, redis_db: int, port: int,
            env_prefix: str = "", *, datastore: bool = True,
            ) -> tuple[Runtime, ckan_config.ServiceUrls]:
    """Start or check services and create the database (and, for
    ``SEARCH=solr|solrcloud``, its Solr core or collection; with
    ``datastore``, for configurations that load it, the DataStore database);
    no CKAN calls yet. A real Solr named by ``CKAN_SOLR_URL`` wins over
    ``SEARCH``."""
    runtime = Runtime.load(home)
    real = ckan_config.real_service_urls(env_prefix)
    search = "external" if "solr" in real else solr.engine()
    if search in ("solr", "solrcloud"):
        solr.check_tools()  # before anything starts: one line on what is missing
    _check_real_services(real)
    embedded_datastore = datastore and ckan_config.embedded_datastore(real)
    services.start(runtime, (database,), postgres="sqlalchemy" not in real,
                   redis="redis" not in real, datastore=embedded_datastore)
    solr.start(runtime, search, (database,))
    urls = ckan_config.service_urls(runtime, database, redis_db, env_prefix,
                                    solr_url=solr.url(runtime, search, database),
                                    datastore=datastore)
    return runtime, urls


def set_datastore_permissions(runtime: Runtime, database: str, ini: Path,
                              urls: ckan_config.ServiceUrls) -> None:
    """Apply ``ckan datastore set-permissions`` of ``ini`` (CKAN's SQL, for
    the databases and roles that ``ini`` and the ``CKAN_*`` variables name)
    to the embedded DataStore of ``database``. After the ini is written:
    the command needs it. A real DataStore is its administrator's (README)."""
    if urls.datastore is None or not urls.datastore.embedded:
        return
    sql = _ckan(ini, "datastore", "set-permissions", capture=True).stdout
    services.apply_datastore_permissions(runtime, database, sql)


def _fail(message: str) -> None:
    click.secho(f"Fehler / error: {message}", fg="red", err=True)
    sys.exit(1)


def _or_fail(step: Callable[[], T]) -> T:
    """Run ``step``; a ServiceError becomes one error line and exit 1."""
    try:
        return step()
    except ServiceError as exc:
        _fail(str(exc))
        raise  # not reached: _fail exits


@click.group()
def main() -> None:
    """Embedded PostgreSQL + Redis (+ Solr with SEARCH=solr|solrcloud)
    runtime for the Gelsenkirchen portal."""


@main.command()
@home_option
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", 5000)))
@click.option("--demo/--no-demo", default=True, help="Load the bundled demo content.")
def up(home: Path, port: int, demo: bool) -> None:
    """Start services, write ckan.ini, migrate the database, load demo data."""
    started = time.monotonic()
    try:
        runtime, urls = prepare(home, ckan_config.PORTAL_DATABASE, 0, port)
    except ServiceError as exc:
        _fail(str(exc))
    ini = ckan_config.write_config(runtime, urls, port)
    try:
        _ckan(ini, "db", "upgrade", capture=True)
        set_datastore_permissions(runtime, ckan_config.PORTAL_DATABASE, ini, urls)
        # indexes datasets the index lacks, e.g. after the search table's
        # layout changed with an update; a no-op when nothing is missing
        _ckan(ini, "search-index", "rebuild", "--only-missing", "--quiet", capture=True)
        _ckan(ini, "vernetztestadt", "init-portal", *(["--demo"] if demo else []))
        # the scripts' translations (CKAN's and the plugins'), which `ckan run`
        # builds on start and gunicorn does not: else every JS string is English
        _ckan(ini, "translation", "js", capture=True)
    except subprocess.CalledProcessError as exc:
        tail = (exc.stderr or "").strip().splitlines()[-3:]
        _fail(f"'{' '.join(exc.cmd[3:])}' failed: {' | '.join(tail)}")
    except ServiceError as exc:
        _fail(str(exc))
    click.echo(f"Portal bereit / ready: {ini} ({time.monotonic() - started:.1f} s)")


@main.command()
@home_option
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", 5000)))
@click.option("--workers", type=click.IntRange(min=1),
              default=lambda: int(os.environ.get("VERNETZTESTADT_WORKERS", default_workers())),
              help="gunicorn worker processes [default: 2 per core, 2 to 8; "
                   "env VERNETZTESTADT_WORKERS].")
@click.option("--timeout", type=click.IntRange(min=1),
              default=lambda: int(os.environ.get("VERNETZTESTADT_TIMEOUT", DEFAULT_TIMEOUT)),
              help=f"Seconds per request before its worker is replaced [default: "
                   f"{DEFAULT_TIMEOUT}; env VERNETZTESTADT_TIMEOUT].")
def serve(home: Path, port: int, workers: int, timeout: int) -> None:
    """Serve the portal on 127.0.0.1 in the foreground (gunicorn)."""
    if services.port_is_open("127.0.0.1", port):
        _fail(f"Port {port} ist belegt / is busy. Choose another: PORT={port + 1} make portal")
    ini = home.resolve() / "ckan.ini"
    if not ini.exists():
        _fail(f"{ini} fehlt / is missing: run 'vernetztestadt-runtime up' first")
    click.echo(f"Portal: http://127.0.0.1:{port}  ({workers} workers, {timeout} s timeout; "
               "Ctrl+C beendet / stops)")
    command = server_command(ini, port, workers, timeout)
    os.execve(command[0], command, {**os.environ, "CKAN_INI": str(ini)})


@main.command("services")
@home_option
@click.option("--database", "databases", multiple=True, help="Database to create if missing.")
@click.option("--datastore/--no-datastore", default=True, show_default=True,
              help="Je Datenbank auch ihre DataStore-Datenbank (für Konfigurationen mit "
                   "dem Plugin datastore, wie test.ini) / also a DataStore database per "
                   "database (for configurations that load the datastore plugin).")
def services_command(home: Path, databases: tuple[str, ...], datastore: bool) -> None:
    """Start the embedded services and create databases (before test runs
    that start side by side, so that they find them running). The
    DataStore's permissions need a CKAN configuration: the pytest plugin
    sets them when its session starts."""
    for name in databases:  # the test runs' services (TEST_CKAN_* real ones)
        _or_fail(lambda name=name: prepare(home, name, 0, 5000, env_prefix="TEST_",
                                           datastore=datastore))
    click.echo("Dienste bereit / services ready: " + ", ".join(databases or ("-",)))


@main.command()
@home_option
def down(home: Path) -> None:
    """Stop the PostgreSQL, Redis and Solr daemons started from this home."""
    def stop_all() -> list[str]:
        runtime = Runtime.load(home)
        stopped = solr.stop(runtime) + services.stop(runtime)
        runtime.save()
        return stopped

    stopped = _or_fail(stop_all)
    click.echo("Gestoppt / stopped: " + (", ".join(stopped) or "nichts lief / nothing was running"))


@main.command("solr-configset")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
@click.option("--conf", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=solr.PROJECT / "conf", show_default=True,
              help="Folder with the project's solrconfig.xml.")
@click.option("--cloud", is_flag=True,
              help="For SolrCloud (_version_ typed as SolrCloud's replicas need it).")
def solr_configset(target: Path, conf: Path, cloud: bool) -> None:
    """Write the Solr configset "ckan" (the project's solrconfig.xml, CKAN's
    schema.xml from the installed ckan package) into TARGET, for a Solr run
    elsewhere (docker-compose; with --cloud a SolrCloud configset upload)."""
    names = solr.write_configset(target, conf, cloud=cloud)
    click.echo(f"Solr-Configset / configset: {target} ({', '.join(names)})")


@main.command("solr-check")
def solr_check() -> None:
    """Exit 0 if Solr can be built and started here (Java 17, Maven, the
    checkout's solr/); else print what is missing and exit 1 (``make test``
    then skips the Solr runs, saying why)."""
    try:
        solr.check_tools()
    except ServiceError as exc:
        click.echo(f"Solr-Läufe übersprungen / Solr runs skipped: {exc}")
        sys.exit(1)


@main.command()
@home_option
def status(home: Path) -> None:
    """Report the daemons of this home."""
    def both() -> dict[str, dict[str, object]]:
        runtime = Runtime.load(home)
        return {**services.status(runtime), **solr.status(runtime)}

    report = _or_fail(both)
    for name, info in report.items():
        if name not in ("postgres", "redis") and not info["port"]:
            continue  # a Solr JVM this home never started
        state = "läuft / running" if info["running"] else "gestoppt / stopped"
        click.echo(f"{name:11} {state:20} pid={info['pid']} port={info['port']}")


if __name__ == "__main__":  # pragma: no cover
    main()
