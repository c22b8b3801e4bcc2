"""The runtime manager's Solr: ``SEARCH=solr|solrcloud`` and the configset.

The JVM tests start a standalone node in their own temporary runtime home
(never the shared ``.portal``) and skip, naming what is missing, without Java
17 or Maven. Checked: the node answers with CKAN's schema on loopback only,
start is idempotent, a stale or foreign PID is never signalled, ``down``
leaves no JVM of the home, and a missing Java or an unknown ``SEARCH`` ends
the command with one clear line. The configset and docker-compose are read
without a JVM.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests
import yaml

from ckanext.vernetztestadt.runtime import services, solr
from ckanext.vernetztestadt.runtime.services import Runtime, ServiceError

RUNTIME_CLI = Path(sys.executable).with_name("vernetztestadt-runtime")
ROOT = Path(__file__).resolve().parents[1]
SESSION_VARS = ("CKAN_SQLALCHEMY_URL", "CKAN_REDIS_URL", "CKAN_SOLR_URL", "CKAN_STORAGE_PATH",
                "CKAN_DATASTORE_WRITE_URL", "CKAN_DATASTORE_READ_URL",
                "CKAN_INI", "VERNETZTESTADT_HOME", "VERNETZTESTADT_SERVICES_READY", "SEARCH")


def _tools_missing() -> str | None:
    try:
        solr.check_tools()
    except ServiceError as exc:
        return str(exc)
    return None


needs_java = pytest.mark.skipif(_tools_missing() is not None,
                                reason=f"Solr nicht startbar / cannot start: {_tools_missing()}")


def java_processes_of(home: Path) -> list[int]:
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.name() == "java" and any(str(home) in arg for arg in proc.cmdline()):
                found.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in SESSION_VARS}
    return subprocess.run([str(RUNTIME_CLI), *args], capture_output=True, text=True,
                          env={**base, **(env or {})}, timeout=300)


@pytest.fixture
def solr_home(runtime_dir: Path) -> Iterator[Path]:
    home = runtime_dir / "home"
    yield home
    runtime = Runtime.load(home)
    solr.stop(runtime)
    services.stop(runtime)  # saves


# -- without a JVM ---------------------------------------------------------------
def test_configset_is_ckans_schema_plus_the_bbox_fields() -> None:
    import ckan

    ckan_schema = (Path(ckan.__file__).parent / "config/solr/schema.xml").read_text()
    files = solr.configset_files()
    schema = files["schema.xml"].decode()
    added = [line for line in schema.splitlines() if line not in ckan_schema.splitlines()]
    assert len(added) == 6  # the comment and the five fields, nothing else
    for name in ("bbox_area", "maxx", "maxy", "minx", "miny"):
        assert f'<field name="{name}" type="float"' in schema
    assert '<schema name="ckan-2.12"' in schema
    config = files["solrconfig.xml"].decode()
    assert "<updateLog>" in config and "<autoSoftCommit>" in config
    assert "ClassicIndexSchemaFactory" in config


def test_compose_solr_uses_the_same_configset_and_version() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    writer = services["solr-configset"]
    assert writer["command"][:2] == ["vernetztestadt-runtime", "solr-configset"]
    assert "./solr/conf:/srv/solr-conf:ro" in writer["volumes"]
    node = services["solr"]
    assert node["command"] == ["solr-precreate", "ckan", "/configset"]
    pom = (ROOT / "solr" / "pom.xml").read_text()
    version = re.search(r"<solr.version>([^<]+)</solr.version>", pom)
    assert version and node["image"].endswith(f":-{version.group(1)}}}")


def test_configset_command_writes_the_files(tmp_path: Path) -> None:
    result = run_cli("solr-configset", str(tmp_path / "cs"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "cs").iterdir()) == sorted(solr.configset_files())
    assert (tmp_path / "cs/schema.xml").read_bytes() == solr.configset_files()["schema.xml"]


def test_unknown_search_engine_is_one_line(tmp_path: Path) -> None:
    result = run_cli("services", "--home", str(tmp_path / "h"), "--database", "x",
                     env={"SEARCH": "elastic"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Fehler / error: SEARCH=elastic unbekannt / unknown: choose one of "
        "postgres, solr, solrcloud"]


@pytest.mark.parametrize("missing", ["java", "mvn"])
def test_without_java_or_maven_one_line_and_exit_1(tmp_path: Path, solr_home: Path,
                                                   missing: str) -> None:
    """A PATH with everything but ``missing``: one line naming it, and
    nothing started (``solr_home`` stops whatever would have been)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("java", "mvn"):
        found = shutil.which(tool)
        if tool != missing and found:
            (bin_dir / tool).symlink_to(found)
    result = run_cli("up", "--home", str(solr_home), "--no-demo",
                     env={"SEARCH": "solr", "PATH": str(bin_dir)})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Fehler / error: Solr braucht / needs ")
    assert ("java" if missing == "java" else "mvn") in lines[0]
    assert java_processes_of(solr_home) == [] and not (solr_home / "postgres").exists()


# -- a real node ----------------------------------------------------------------------
@needs_java
def test_standalone_node_serves_ckans_schema_on_loopback(solr_home: Path) -> None:
    runtime = Runtime.load(solr_home)
    solr.start(runtime, "solr", ("ckan_a", "ckan_b"))
    url = solr.url(runtime, "solr", "ckan_a")
    assert url == f"http://127.0.0.1:{runtime.solr.port}/solr/ckan_a"
    schema = requests.get(f"{url}/schema/name", params={"wt": "json"}, timeout=10).json()
    assert schema["name"] == "ckan-2.12"
    assert requests.get(f"{solr.url(runtime, 'solr', 'ckan_b')}/admin/ping",
                        timeout=10).ok
    listening = {c.laddr.ip for c in psutil.Process(runtime.solr.pid).net_connections("tcp")
                 if c.status == psutil.CONN_LISTEN}
    assert listening == {"127.0.0.1"}
    pid = runtime.solr.pid
    solr.start(Runtime.load(solr_home), "solr", ("ckan_a",))  # idempotent
    assert Runtime.load(solr_home).solr.pid == pid
    assert java_processes_of(solr_home) == [pid]


@needs_java
def test_stale_and_foreign_pids_are_never_signalled(solr_home: Path) -> None:
    runtime = Runtime.load(solr_home)
    foreign = subprocess.Popen(["sleep", "60"])
    try:
        runtime.solr.pid = foreign.pid  # a reused PID: not a JVM of this home
        runtime.save()
        assert solr.status(Runtime.load(solr_home))["solr"]["running"] is False
        assert solr.stop(Runtime.load(solr_home)) == []
        assert foreign.poll() is None
        solr.start(Runtime.load(solr_home), "solr", ("ckan_a",))  # starts a fresh node
        assert Runtime.load(solr_home).solr.pid != foreign.pid
    finally:
        foreign.kill()
        foreign.wait()


@needs_java
def test_down_leaves_no_java_process_of_the_home(solr_home: Path) -> None:
    result = run_cli("services", "--home", str(solr_home), "--database", "ckan_x",
                     env={"SEARCH": "solr"})
    assert result.returncode == 0, result.stderr
    status = run_cli("status", "--home", str(solr_home))
    assert re.search(r"^solr\s+läuft / running", status.stdout, re.M), status.stdout
    assert java_processes_of(solr_home)
    down = run_cli("down", "--home", str(solr_home))
    assert down.returncode == 0 and "solr" in down.stdout
    assert java_processes_of(solr_home) == []
