"""The runtime manager: embedded PostgreSQL/Redis and ``vernetztestadt-runtime``.

Every test that starts daemons does so in its own temporary runtime home (a
fresh embedded PostgreSQL and Redis, never the shared ``.portal``) and the
``runtime`` fixture stops them again. Checked: start is idempotent, status
reports the daemons, stale PID files are survived, ``stop`` ends exactly the
daemons of its home and never an unrelated process, and bad input (closed
ports, wrong password, busy port) ends the command with one clear line.
``serve`` runs gunicorn on loopback: with one of two workers stuck the other
answers, the stuck one is replaced after the timeout, and SIGINT (Ctrl+C)
ends server and workers.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from ckanext.vernetztestadt.runtime import cli, services, wsgi
from ckanext.vernetztestadt.runtime.services import Runtime

RUNTIME_CLI = Path(sys.executable).with_name("vernetztestadt-runtime")
DATABASE = "ckan_runtime_test"
#: Variables of the test session (pytest plugin) that must not reach the CLI.
SESSION_VARS = ("CKAN_SQLALCHEMY_URL", "CKAN_REDIS_URL", "CKAN_SOLR_URL", "CKAN_STORAGE_PATH",
                "CKAN_DATASTORE_WRITE_URL", "CKAN_DATASTORE_READ_URL",
                "CKAN_INI", "VERNETZTESTADT_HOME", "VERNETZTESTADT_SERVICES_READY")



# -- helpers -------------------------------------------------------------------
def processes_of(home: Path) -> dict[int, str]:
    """PID -> name of live processes whose command line or cwd names ``home``.

    PostgreSQL's workers are renamed ("postgres: checkpointer") and Redis
    shows only its address; their cwd is still inside ``home``.
    """
    found = {}
    for proc in psutil.process_iter():
        try:
            if proc.pid == os.getpid() or proc.status() == psutil.STATUS_ZOMBIE:
                continue
            text = " ".join(proc.cmdline()) + " " + proc.cwd()
            if str(home) in text:
                found[proc.pid] = proc.name()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def daemon_pids(home: Path) -> set[int]:
    """PIDs of the PostgreSQL and Redis processes running from ``home``."""
    return {pid for pid, name in processes_of(home).items()
            if name.startswith(("postgres", "redis-server"))}


def dead_pid() -> int:
    """The PID of a process that has just exited (crash leftover stand-in)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    assert not psutil.pid_exists(proc.pid)
    return proc.pid


def kill_leftovers(home: Path) -> None:
    """Last resort after a failed test: end daemons started from ``home``."""
    for pid in daemon_pids(home):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SESSION_VARS}
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(RUNTIME_CLI), *args], env=env, cwd=cwd, text=True,
                          capture_output=True, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def closed_port() -> int:
    port = services.free_port()
    assert not services.port_is_open("127.0.0.1", port)
    return port


# -- fixtures ------------------------------------------------------------------
@pytest.fixture
def new_home(runtime_dir: Path) -> Iterator[Callable[[str], Path]]:
    """Fresh runtime homes; whatever ran from them is stopped afterwards."""
    homes: list[Path] = []

    def make(name: str) -> Path:
        homes.append((runtime_dir / name).resolve())
        return homes[-1]

    yield make
    for path in homes:
        try:
            if path.exists():
                services.stop(Runtime.load(path))
        finally:
            kill_leftovers(path)


@pytest.fixture
def home(new_home: Callable[[str], Path]) -> Path:
    return new_home("home")


@pytest.fixture
def runtime(home: Path) -> Runtime:
    """A runtime with PostgreSQL and Redis running."""
    rt = Runtime.load(home)
    services.start(rt, (DATABASE,))
    return rt


@pytest.fixture
def unrelated() -> Iterator[subprocess.Popen[bytes]]:
    """A process the runtime did not start and must never signal."""
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait()


# -- start / status ------------------------------------------------------------
def test_start_runs_both_daemons(runtime: Runtime) -> None:
    state = services.status(runtime)
    assert state["postgres"]["running"] and state["redis"]["running"]
    assert services.port_is_open("127.0.0.1", state["postgres"]["port"])
    assert services.port_is_open("127.0.0.1", state["redis"]["port"])
    assert {state["postgres"]["pid"], state["redis"]["pid"]} <= daemon_pids(runtime.home)


def main_daemons(home: Path) -> set[int]:
    """The daemons themselves (postmaster, redis-server), not PostgreSQL's
    workers and backends, which come and go (autovacuum, a connection)."""
    pids = daemon_pids(home)
    main = set()
    for pid in pids:
        try:
            parent = psutil.Process(pid).ppid()
        except psutil.NoSuchProcess:
            continue  # a backend that has just ended
        if parent not in pids:
            main.add(pid)
    return main


def test_start_is_idempotent(runtime: Runtime) -> None:
    before = services.status(runtime)
    pids = main_daemons(runtime.home)
    again = Runtime.load(runtime.home)
    services.start(again, (DATABASE,))
    assert services.status(again) == before
    assert main_daemons(runtime.home) == pids


def test_status_command_reports_running(runtime: Runtime, tmp_path: Path) -> None:
    result = run_cli("status", "--home", str(runtime.home), env=cli_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for line, state in zip(lines, (runtime.postgres, runtime.redis), strict=True):
        assert "running" in line and f"pid={state.pid}" in line and f"port={state.port}" in line


def test_database_and_redis_accept_the_runtime_passwords(runtime: Runtime) -> None:
    services.check_postgres(runtime.database_url(DATABASE))
    services.check_redis(runtime.redis_url(0))


# -- stale state ---------------------------------------------------------------
def test_start_survives_stale_pid_files(runtime: Runtime,
                                        unrelated: subprocess.Popen[bytes]) -> None:
    """After a crash the PID files may name dead or foreign processes."""
    services.stop(runtime)
    postmaster = runtime.pgdata / "postmaster.pid"
    postmaster.write_text(f"{dead_pid()}\n{runtime.pgdata}\n")
    (runtime.redis_dir / "redis.pid").write_text(f"{unrelated.pid}\n")
    (runtime.home / services.STATE_FILE).write_text(json.dumps({
        "postgres": {"port": 0, "password": runtime.postgres.password, "pid": unrelated.pid},
        "redis": {"port": 0, "password": runtime.redis.password, "pid": dead_pid()},
    }))

    restarted = Runtime.load(runtime.home)
    services.start(restarted, (DATABASE,))

    state = services.status(restarted)
    assert state["postgres"]["running"] and state["redis"]["running"]
    assert unrelated.pid not in {state["postgres"]["pid"], state["redis"]["pid"]}
    assert unrelated.poll() is None
    services.check_postgres(restarted.database_url(DATABASE))
    services.check_redis(restarted.redis_url(0))


def test_status_with_foreign_pid_file_is_not_running(home: Path,
                                                      unrelated: subprocess.Popen[bytes]) -> None:
    rt = Runtime.load(home)
    rt.redis_dir.mkdir(parents=True)
    (rt.redis_dir / "redis.pid").write_text(f"{unrelated.pid}\n")
    assert services.status(rt)["redis"]["running"] is False


# -- stop ----------------------------------------------------------------------
def test_stop_ends_exactly_the_started_daemons(runtime: Runtime,
                                               unrelated: subprocess.Popen[bytes]) -> None:
    started = daemon_pids(runtime.home)
    assert {runtime.postgres.pid, runtime.redis.pid} < started  # and PostgreSQL's workers
    assert services.stop(runtime) == ["postgres", "redis"]
    assert daemon_pids(runtime.home) == set()
    assert processes_of(runtime.home) == {}
    assert not any(alive(pid) for pid in started)
    assert unrelated.poll() is None
    state = services.status(Runtime.load(runtime.home))
    assert not state["postgres"]["running"] and not state["redis"]["running"]


def test_stop_twice_stops_nothing(runtime: Runtime) -> None:
    services.stop(runtime)
    assert services.stop(Runtime.load(runtime.home)) == []


def test_stop_never_signals_a_foreign_pid(runtime: Runtime,
                                          unrelated: subprocess.Popen[bytes]) -> None:
    """Foreign PIDs in every place the runtime records one are left alone."""
    services.stop(runtime)
    (runtime.pgdata / "postmaster.pid").write_text(f"{unrelated.pid}\n{runtime.pgdata}\n")
    (runtime.redis_dir / "redis.pid").write_text(f"{unrelated.pid}\n")
    runtime.postgres.pid = runtime.redis.pid = unrelated.pid
    runtime.save()

    assert services.stop(Runtime.load(runtime.home)) == []
    result = run_cli("down", "--home", str(runtime.home), env=cli_env(), cwd=runtime.home)
    assert result.returncode == 0, result.stderr
    assert "nothing was running" in result.stdout
    assert unrelated.poll() is None


def test_stop_spares_foreign_process_working_in_redis_folder(runtime: Runtime) -> None:
    services.stop(runtime)
    shell = subprocess.Popen(["sleep", "60"], cwd=runtime.redis_dir)
    try:
        (runtime.redis_dir / "redis.pid").write_text(f"{shell.pid}\n")
        services.stop(Runtime.load(runtime.home))
        assert shell.poll() is None
    finally:
        shell.kill()
        shell.wait()


# -- bad input -------------------------------------------------------------------
@pytest.mark.parametrize("variable, service, url", [
    ("CKAN_SQLALCHEMY_URL", "PostgreSQL", "postgresql://ckan:geheim-pw@127.0.0.1:{port}/ckan"),
    ("CKAN_REDIS_URL", "Redis", "redis://:geheim-pw@127.0.0.1:{port}/0"),
])
def test_up_with_closed_port(home: Path, tmp_path: Path, variable: str, service: str,
                             url: str) -> None:
    url = url.format(port=closed_port())
    result = run_cli("up", "--home", str(home), "--no-demo",
                     env=cli_env(**{variable: url}), cwd=tmp_path)
    assert_one_line_error(result, service, services.mask(url))
    assert "geheim-pw" not in result.stderr + result.stdout
    assert daemon_pids(home) == set()


def test_up_with_wrong_postgres_password(runtime: Runtime, new_home: Callable[[str], Path],
                                        tmp_path: Path) -> None:
    url = f"postgresql://ckan:falsch-pw@127.0.0.1:{runtime.postgres.port}/{DATABASE}"
    other_home = new_home("other-home")
    result = run_cli("up", "--home", str(other_home), "--no-demo",
                     env=cli_env(CKAN_SQLALCHEMY_URL=url), cwd=tmp_path)
    assert_one_line_error(result, "PostgreSQL", services.mask(url), "password")
    assert "falsch-pw" not in result.stderr + result.stdout
    assert daemon_pids(other_home) == set()


def test_error_message_hides_password_with_special_characters(home: Path,
                                                              tmp_path: Path) -> None:
    url = f"postgresql://ckan:ge/heim?pw@127.0.0.1:{closed_port()}/ckan"
    result = run_cli("up", "--home", str(home), "--no-demo",
                     env=cli_env(CKAN_SQLALCHEMY_URL=url), cwd=tmp_path)
    assert_one_line_error(result, "PostgreSQL")
    assert "heim?pw" not in result.stderr


def test_serve_on_busy_port(home: Path, tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = run_cli("serve", "--home", str(home), "--port", str(port),
                         env=cli_env(), cwd=tmp_path)
    assert_one_line_error(result, str(port), "PORT=")


# -- the server ------------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]
#: The test session's services, handed to the served portal explicitly.
SERVICE_VARS = ("CKAN_SQLALCHEMY_URL", "CKAN_REDIS_URL", "CKAN_STORAGE_PATH",
                "CKAN_DATASTORE_WRITE_URL", "CKAN_DATASTORE_READ_URL")
BOOT_SECONDS = 180  # two workers load CKAN side by side on a busy 2-core machine
WORKER_TIMEOUT = 6


def get(port: int, path: str, timeout: float) -> tuple[int, float]:
    """Status and seconds of one GET on the served portal."""
    import urllib.error
    import urllib.request

    started = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as res:
            res.read()
            status = res.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.monotonic() - started


def wait_until_served(port: int, server: subprocess.Popen[str], log: Path, workers: int) -> None:
    """Until every worker has loaded CKAN (its log line) and the portal answers."""
    marker = wsgi.READY.split("%")[0]
    deadline = time.monotonic() + BOOT_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, f"the server exited: {log.read_text()[-2000:]}"
        if log.read_text().count(marker) >= workers:
            with contextlib.suppress(OSError):
                if get(port, "/api/3/action/status_show", timeout=10)[0] == 200:
                    return
        time.sleep(0.5)
    raise AssertionError(f"not served within {BOOT_SECONDS} s: {log.read_text()[-2000:]}")


@pytest.fixture
def served(tmp_path: Path, clean_db: None) -> Iterator[tuple[int, subprocess.Popen[str], Path]]:
    """``vernetztestadt-runtime serve`` with 2 workers and a short timeout,
    on test.ini and the test session's database; stopped with Ctrl+C's
    SIGINT afterwards (its process group is killed only if that fails)."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "ckan.ini").write_text((ROOT / "test.ini").read_text())
    port = services.free_port()
    log = tmp_path / "server.log"
    env = cli_env(**{k: os.environ[k] for k in SERVICE_VARS if k in os.environ})
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(RUNTIME_CLI), "serve", "--home", str(home), "--port", str(port),
             "--workers", "2", "--timeout", str(WORKER_TIMEOUT)],
            env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
    try:
        yield port, server, log
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)


def hold_a_worker(port: int) -> socket.socket:
    """A client that sends half a request and waits: a sync worker reads from
    it until gunicorn's timeout ends that worker (a slow request's stand-in)."""
    held = socket.create_connection(("127.0.0.1", port), timeout=10)
    held.sendall(b"GET /api/3/action/status_show HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return held


def test_serve_answers_while_a_worker_is_stuck_and_replaces_it(
        served: tuple[int, subprocess.Popen[str], Path]) -> None:
    """gunicorn, not CKAN's one-thread development server: with one of two
    workers stuck, the other answers at once; the stuck one is killed after
    the timeout and replaced; SIGINT (Ctrl+C) ends server and workers."""
    port, server, log = served
    wait_until_served(port, server, log, workers=2)
    assert len(psutil.Process(server.pid).children()) == 2
    held = hold_a_worker(port)
    with held:
        for _ in range(3):
            status, seconds = get(port, "/api/3/action/package_search?rows=1", timeout=30)
            assert status == 200 and seconds < 5, (status, seconds)
        held.settimeout(WORKER_TIMEOUT + 30)
        started = time.monotonic()
        answer = held.recv(64)  # the killed worker's connection ends
        assert time.monotonic() - started < WORKER_TIMEOUT + 30
    assert answer == b"" or answer.startswith(b"HTTP/1.1 500"), answer
    assert "WORKER TIMEOUT" in log.read_text()
    assert get(port, "/api/3/action/status_show", timeout=30)[0] == 200
    workers = psutil.Process(server.pid).children()

    server.send_signal(signal.SIGINT)
    assert server.wait(timeout=30) == 0
    assert not any(alive(w.pid) for w in workers)
    assert not services.port_is_open("127.0.0.1", port)


def test_server_command_is_gunicorn_on_loopback_with_a_timeout(tmp_path: Path) -> None:
    command = cli.server_command(tmp_path / "ckan.ini", 5123, workers=3, timeout=45)
    assert Path(command[0]).name == "gunicorn" and Path(command[0]).exists()
    def value(option: str) -> str:
        return command[command.index(option) + 1]

    assert value("--bind") == "127.0.0.1:5123"
    assert value("--workers") == "3" and value("--worker-class") == "sync"
    assert value("--timeout") == "45"
    assert command[-1] == cli.WSGI_APP
    assert 2 <= cli.default_workers() <= 8
