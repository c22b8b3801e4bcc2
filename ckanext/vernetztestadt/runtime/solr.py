"""Real Solr 9 nodes for ``SEARCH=solr`` and ``SEARCH=solrcloud``.

Owns: building Solr's jars once with Maven (``solr/pom.xml``), the Solr homes
under the runtime home (``.portal/solr/``), starting, checking and stopping
the JVMs (one standalone node; or a ZooKeeper server and two SolrCloud
nodes), the configset (the project's ``solr/conf/solrconfig.xml`` with
CKAN's ``schema.xml`` read from the installed ``ckan`` package; for SolrCloud
with ``_version_`` typed as Solr requires) and one core or collection per
database (``ckan``, ``ckan_test``, ...). Every JVM listens on 127.0.0.1 only.
All Solr work is Solr's own code over its HTTP API.

Must not touch: PostgreSQL and Redis (``services``), CKAN's configuration
(``ckan_config``) or the index content (CKAN writes it; only a collection
made with CKAN's string ``_version_`` is made anew, empty, once). It only
signals JVMs whose PID it recorded and whose command line names this home's
folder.

Size: over 400 lines because building, configuring, starting and checking
standalone Solr and SolrCloud share the same homes, ports and process
bookkeeping.
"""
from __future__ import annotations

import contextlib
import fcntl
import io
import os
import re
import shutil
import signal
import subprocess
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import requests

from .services import Runtime, ServiceError, ServiceState, free_port, port_is_open

#: The Maven project (top level of the checkout) and its build output.
PROJECT = Path(__file__).resolve().parents[3] / "solr"
MAIN_CLASS = "de.gelsenkirchen.vernetztestadt.solr.Node"
ZOOKEEPER_CLASS = "org.apache.zookeeper.server.ZooKeeperServerMain"
ENGINES = ("postgres", "solr", "solrcloud")
#: SolrCloud layout of every collection (issue: 2 shards x 2 replicas on 2 nodes).
SHARDS, REPLICAS, CLOUD_NODES = 2, 2, 2
NODE_HEAP, ZOOKEEPER_HEAP = "768m", "128m"
START_SECONDS = 120
#: What the launcher prints once the node serves (solr/src/.../Node.java).
READY = "solr node ready on port"


# -- engine choice --------------------------------------------------------------
def engine() -> str:
    """The search engine chosen by ``SEARCH`` (default ``postgres``)."""
    value = os.environ.get("SEARCH", "").strip().lower() or "postgres"
    if value not in ENGINES:
        raise ServiceError(f"SEARCH={value} unbekannt / unknown: choose one of "
                           + ", ".join(ENGINES))
    return value


# -- build -----------------------------------------------------------------------
def _java_major(java: str) -> int:
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)', out)
    return int(match.group(1)) if match else 0


def check_tools() -> None:
    """Java 17+ and Maven on PATH, or one line saying what is missing."""
    missing = []
    java = shutil.which("java")
    if not java:
        missing.append("java (OpenJDK 17)")
    elif _java_major(java) < 17:
        missing.append(f"Java 17 (found Java {_java_major(java)})")
    if not shutil.which("mvn"):
        missing.append("mvn (Maven 3)")
    if not (PROJECT / "pom.xml").exists():
        missing.append(f"{PROJECT / 'pom.xml'} (checkout's solr/ folder)")
    if missing:
        raise ServiceError("Solr braucht / needs " + " und ".join(missing)
                           + ": SEARCH=postgres läuft ohne / runs without")


def _sources() -> list[Path]:
    return [PROJECT / "pom.xml", *sorted((PROJECT / "src").rglob("*.java"))]


def classpath() -> str:
    """Solr's jars and the launcher, built with Maven once (rebuilt when the
    pom or the launcher changed)."""
    check_tools()
    target = PROJECT / "target"
    stamp = target / ".built"
    newest = max(path.stat().st_mtime for path in _sources())
    if not stamp.exists() or stamp.stat().st_mtime < newest:
        print("Solr: Maven lädt und baut / downloads and builds the jars (once) ...",
              flush=True)
        result = subprocess.run(["mvn", "-B", "-q", "package", "-DskipTests"], cwd=PROJECT,
                                capture_output=True, text=True)
        if result.returncode != 0:
            tail = " | ".join((result.stdout + result.stderr).strip().splitlines()[-3:])
            raise ServiceError(f"Solr: 'mvn package' in {PROJECT} failed: {tail}")
        stamp.touch()
    return f"{target / 'classes'}{os.pathsep}{target / 'lib' / '*'}"


# -- homes and configsets ------------------------------------------------------------
def ckan_schema() -> str:
    """CKAN's ``schema.xml`` from the installed package, with the five
    float fields ckanext-spatial's ``solr-bbox`` backend needs (as CKAN's
    ``-spatial`` Solr images add them): CKAN's catch-all ``*`` is a string,
    on which the backend's range function cannot compute."""
    import ckan

    text = (Path(ckan.__file__).parent / "config" / "solr" / "schema.xml").read_text()
    fields = "".join(f'    <field name="{name}" type="float" indexed="true" stored="true" '
                     'docValues="true"/>\n'
                     for name in ("bbox_area", "maxx", "maxy", "minx", "miny"))
    anchor = "    <dynamicField name=\"*_date\""
    if anchor not in text:
        raise ServiceError("CKAN's schema.xml has changed: cannot add the bbox fields")
    return text.replace(anchor, "    <!-- ckanext-spatial solr-bbox -->\n" + fields + anchor, 1)


def configset_files(conf: Path = PROJECT / "conf") -> dict[str, bytes]:
    """The files of the ``ckan`` configset, by name (``conf``: the folder
    holding the project's ``solrconfig.xml``)."""
    return {
        "solrconfig.xml": (conf / "solrconfig.xml").read_bytes(),
        "schema.xml": ckan_schema().encode(),
        "synonyms.txt": b"", "protwords.txt": b"", "stopwords.txt": b"",
    }


def write_configset(target: Path, conf: Path = PROJECT / "conf", *,
                    cloud: bool = False) -> list[str]:
    """Write the configset into ``target`` (for a Solr outside this runtime:
    docker-compose, or with ``cloud`` SolrCloud's configset upload); returns
    the file names."""
    files = cloud_configset_files(conf) if cloud else configset_files(conf)
    for name, data in files.items():
        _write_if_changed(target / name, data)
    return sorted(files)


def _write_if_changed(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def _write_core(node_home: Path, name: str) -> bool:
    """Write the configuration of core ``name`` into a standalone home; True
    if it changed. ``core.properties`` is Solr's: CoreAdmin CREATE writes it,
    and the node discovers the core from it at its next start."""
    changed = False
    for file, data in configset_files().items():
        changed |= _write_if_changed(node_home / name / "conf" / file, data)
    return changed


def _write_node_home(node_home: Path) -> None:
    _write_if_changed(node_home / "solr.xml", (PROJECT / "conf" / "solr.xml").read_bytes())
    (node_home / "logs").mkdir(parents=True, exist_ok=True)


# -- processes ---------------------------------------------------------------------
def _is_ours(pid: int | None, marker: Path) -> bool:
    """True if ``pid`` is a live JVM whose command line names ``marker``
    (its Solr home or ZooKeeper config): a stale PID reused by another
    program is never signalled."""
    if not pid or not psutil.pid_exists(pid):
        return False
    try:
        proc = psutil.Process(pid)
        return (proc.status() != psutil.STATUS_ZOMBIE and Path(proc.exe()).name == "java"
                and str(marker) in proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, OSError):
        return False


def _spawn(args: list[str], cwd: Path, log: Path) -> int:
    java = shutil.which("java") or "java"
    with log.open("ab") as out:
        proc = subprocess.Popen([java, *args], cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    return proc.pid


def _stop_pid(state: ServiceState, marker: Path, what: str) -> bool:
    if not _is_ours(state.pid, marker):
        state.pid = None
        return False
    assert state.pid is not None
    pid = state.pid
    os.kill(pid, signal.SIGTERM)  # Jetty's shutdown hook closes the cores
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _is_ours(pid, marker):
        time.sleep(0.1)
    if _is_ours(pid, marker):
        os.kill(pid, signal.SIGKILL)
        psutil.Process(pid).wait(10)
    state.pid = None
    return True


def _log_tail(log: Path) -> str:
    if not log.exists():
        return ""
    lines = [line for line in log.read_text(errors="replace").splitlines()
             if "ERROR" in line or "Exception" in line]
    return (lines[-1] if lines else "")[:300]


def _wait(predicate: Any, seconds: float, what: str, log: Path, pid: int | None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        if pid and not psutil.pid_exists(pid):
            break
        time.sleep(0.25)
    reason = _log_tail(log) or f"see {log}"
    raise ServiceError(f"{what} did not come up within {seconds:.0f} s: {reason}")


def _get(url: str, **params: Any) -> dict[str, Any]:
    """A Solr admin call; Solr's own error message when it refuses."""
    try:
        response = requests.get(url, params={"wt": "json", **params}, timeout=180)
        body = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ServiceError(f"Solr at {url} did not answer: {exc}") from None
    if response.status_code != 200:
        message = body.get("error", {}).get("msg", response.text[:300])
        raise ServiceError(f"Solr {params.get('action', '')} at {url}: {message}")
    return dict(body)


def _answers(url: str) -> bool:
    try:
        requests.get(url, timeout=2).raise_for_status()
        return True
    except requests.RequestException:
        return False


@contextlib.contextmanager
def _locked(runtime: Runtime) -> Iterator[None]:
    """One starter at a time (the suite and the conformance runs start side
    by side and would otherwise build, start or create twice)."""
    path = runtime.home / "solr" / ".lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _node_args(node_home: Path, port: int, cp: str, zk_host: str | None) -> list[str]:
    args = [f"-Xmx{NODE_HEAP}", f"-Dsolr.log.dir={node_home / 'logs'}",
            f"-Dlog4j2.configurationFile={PROJECT / 'conf' / 'log4j2.xml'}",
            f"-Dsolr.install.dir={node_home}", "-Dhost=127.0.0.1",
            "-Dsolr.disableConfigSetsCreateAuthChecks=true",
            "-Djava.net.preferIPv4Stack=true"]
    if zk_host:
        args.append(f"-DzkHost={zk_host}")
    return [*args, "-cp", cp, MAIN_CLASS, str(node_home), str(port)]


def _start_node(state: ServiceState, node_home: Path, cp: str, zk_host: str | None) -> None:
    if _is_ours(state.pid, node_home):
        return
    _write_node_home(node_home)
    if not state.port or port_is_open("127.0.0.1", state.port):
        state.port = free_port()
    log = node_home / "logs" / "solr.log"
    console = node_home / "logs" / "console.log"
    console.unlink(missing_ok=True)
    state.pid = _spawn(_node_args(node_home, state.port, cp, zk_host), node_home, console)
    # the launcher prints READY after Jetty started and the cores found in
    # the home finished loading
    _wait(lambda: READY in console.read_text(errors="replace")
          and _answers(f"http://127.0.0.1:{state.port}/solr/admin/info/system"),
          START_SECONDS, f"Solr node on port {state.port}", log, state.pid)


# -- standalone --------------------------------------------------------------------------
def standalone_home(runtime: Runtime) -> Path:
    return runtime.home / "solr" / "standalone"


def start_standalone(runtime: Runtime, cores: tuple[str, ...]) -> None:
    """One node with a core per name in ``cores`` (created or reloaded when
    its configuration changed)."""
    node_home = standalone_home(runtime)
    with _locked(runtime):
        cp = classpath()
        changed = {name: _write_core(node_home, name) for name in cores}
        _start_node(runtime.solr, node_home, cp, None)
        base = f"http://127.0.0.1:{runtime.solr.port}/solr"
        loaded = _get(f"{base}/admin/cores", action="STATUS")["status"]
        for name in cores:
            if name not in loaded or not loaded[name]:
                _get(f"{base}/admin/cores", action="CREATE", name=name, instanceDir=name)
            elif changed[name]:
                _get(f"{base}/admin/cores", action="RELOAD", core=name)
        runtime.save()


def stop_standalone(runtime: Runtime) -> bool:
    """Stop only the standalone node (the fault tests; ``start_standalone``
    brings it back on the same port with its cores)."""
    stopped = _stop_pid(runtime.solr, standalone_home(runtime), "Solr")
    runtime.save()
    return stopped


# -- SolrCloud ----------------------------------------------------------------------------
def cloud_home(runtime: Runtime) -> Path:
    return runtime.home / "solr" / "cloud"


def _zoo_cfg(runtime: Runtime) -> Path:
    zk = cloud_home(runtime) / "zookeeper"
    (zk / "data").mkdir(parents=True, exist_ok=True)
    if not runtime.zookeeper.port or port_is_open("127.0.0.1", runtime.zookeeper.port):
        runtime.zookeeper.port = free_port()
    cfg = zk / "zoo.cfg"
    cfg.write_text("\n".join([
        "tickTime=2000", f"dataDir={zk / 'data'}",
        f"clientPort={runtime.zookeeper.port}", "clientPortAddress=127.0.0.1",
        "maxClientCnxns=0", "admin.enableServer=false",
        "4lw.commands.whitelist=mntr,conf,ruok", "",
    ]))
    return cfg


def _start_zookeeper(runtime: Runtime, cp: str) -> None:
    cfg = cloud_home(runtime) / "zookeeper" / "zoo.cfg"
    if _is_ours(runtime.zookeeper.pid, cfg):
        return
    cfg = _zoo_cfg(runtime)
    log = cfg.parent / "zookeeper.log"
    runtime.zookeeper.pid = _spawn([f"-Xmx{ZOOKEEPER_HEAP}",
                                    "-Dzookeeper.admin.enableServer=false",
                                    "-cp", cp, ZOOKEEPER_CLASS, str(cfg)], cfg.parent, log)
    _wait(lambda: port_is_open("127.0.0.1", runtime.zookeeper.port), START_SECONDS,
          "ZooKeeper", log, runtime.zookeeper.pid)


def node_homes(runtime: Runtime) -> list[Path]:
    return [cloud_home(runtime) / f"node{i}" for i in range(1, CLOUD_NODES + 1)]


def zk_host(runtime: Runtime) -> str:
    return f"127.0.0.1:{runtime.zookeeper.port}"


def start_cloud_node(runtime: Runtime, index: int) -> None:
    """(Re)start SolrCloud node ``index`` (0-based) of a running cluster."""
    with _locked(runtime):
        _start_node(runtime.cloud[index], node_homes(runtime)[index], classpath(),
                    zk_host(runtime))
        runtime.save()


def stop_cloud_node(runtime: Runtime, index: int) -> bool:
    stopped = _stop_pid(runtime.cloud[index], node_homes(runtime)[index], "Solr node")
    runtime.save()
    return stopped


#: CKAN's schema.xml types ``_version_`` as a string. SolrCloud's replicas
#: read it as a long when they check the version of a forwarded update
#: (``UnsupportedOperationException`` in ``VersionInfo.getVersionFromIndex``
#: once the update log no longer holds the document): the update fails on
#: the replica, the leader sends it into recovery, and searches meanwhile
#: miss or keep documents. Solr's own configsets type it ``plong``.
VERSION_FIELD = re.compile(r'<field name="_version_"[^>]*/>')
CLOUD_VERSION_FIELD = ('<field name="_version_" type="plong" indexed="false" stored="false" '
                       'docValues="true"/>')


def cloud_configset_files(conf: Path = PROJECT / "conf") -> dict[str, bytes]:
    """The configset for SolrCloud: ``configset_files`` with ``_version_``
    as Solr requires it (standalone cores keep CKAN's field: a standalone
    node never reads it back, and a changed field type needs a new index)."""
    files = configset_files(conf)
    schema, found = VERSION_FIELD.subn(CLOUD_VERSION_FIELD, files["schema.xml"].decode(), 1)
    if not found:
        raise ServiceError("CKAN's schema.xml has changed: no _version_ field to type")
    return {**files, "schema.xml": schema.encode()}


def _configset_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(cloud_configset_files().items()):
            archive.writestr(name, data)
    return buffer.getvalue()


def _upload_configset(base: str) -> bool:
    """Upload the ``ckan`` configset; True if it changed (collections reload)."""
    data = _configset_zip()
    listed = _get(f"{base}/admin/configs", action="LIST").get("configSets", [])
    response = requests.post(f"{base}/admin/configs",
                             params={"action": "UPLOAD", "name": "ckan", "overwrite": "true",
                                     "cleanup": "true", "wt": "json"},
                             data=data, headers={"Content-Type": "application/octet-stream"},
                             timeout=60)
    if response.status_code != 200:
        raise ServiceError(f"Solr configset upload failed: {response.text[:300]}")
    return "ckan" in listed


def _collections(base: str) -> dict[str, Any]:
    status = _get(f"{base}/admin/collections", action="CLUSTERSTATUS")
    return dict(status["cluster"].get("collections", {}))


def collection_active(base: str, name: str) -> bool:
    """Every replica of every shard of ``name`` is active on a live node."""
    status = _get(f"{base}/admin/collections", action="CLUSTERSTATUS", collection=name)
    live = set(status["cluster"].get("live_nodes", []))
    shards = status["cluster"]["collections"].get(name, {}).get("shards", {})
    replicas = [r for s in shards.values() for r in s.get("replicas", {}).values()]
    return len(replicas) == SHARDS * REPLICAS and all(
        r.get("state") == "active" and r.get("node_name") in live for r in replicas)


def _version_type(base: str, name: str) -> str | None:
    """The type of ``_version_`` in the live schema of collection ``name``."""
    try:
        return str(_get(f"{base}/{name}/schema/fields/_version_")["field"]["type"])
    except (ServiceError, KeyError):
        return None


def _ensure_collections(runtime: Runtime, names: tuple[str, ...]) -> None:
    base = f"http://127.0.0.1:{runtime.cloud[0].port}/solr"
    log = node_homes(runtime)[0] / "logs" / "solr.log"
    live_wanted = CLOUD_NODES
    _wait(lambda: len(_get(f"{base}/admin/collections", action="CLUSTERSTATUS")["cluster"]
                      .get("live_nodes", [])) >= live_wanted,
          START_SECONDS, "SolrCloud live nodes", log, None)
    reload = _upload_configset(base)
    existing = _collections(base)
    for name in names:
        if name in existing and _version_type(base, name) not in (None, "plong"):
            # made with CKAN's string _version_: its index cannot take the
            # new field type, so it is made anew (CKAN re-indexes: `up`
            # rebuilds what is missing, test sessions start empty)
            _get(f"{base}/admin/collections", action="DELETE", name=name)
            del existing[name]
        if name not in existing:
            response = requests.get(f"{base}/admin/collections", timeout=180, params={
                "action": "CREATE", "name": name, "numShards": SHARDS,
                "replicationFactor": REPLICAS, "collection.configName": "ckan",
                "waitForFinalState": "true", "wt": "json"})
            if response.status_code != 200:
                raise ServiceError(f"SolrCloud: collection {name} not created: "
                                   f"{response.text[:300]}")
        elif reload:
            _get(f"{base}/admin/collections", action="RELOAD", name=name)
        _wait(lambda name=name: collection_active(base, name), START_SECONDS,
              f"SolrCloud collection {name}", log, None)


def start_cloud(runtime: Runtime, collections: tuple[str, ...]) -> None:
    """ZooKeeper, two nodes and a 2 x 2 collection per name."""
    with _locked(runtime):
        cp = classpath()
        _start_zookeeper(runtime, cp)
        while len(runtime.cloud) < CLOUD_NODES:
            runtime.cloud.append(ServiceState())
        for state, node_home in zip(runtime.cloud, node_homes(runtime), strict=True):
            _start_node(state, node_home, cp, zk_host(runtime))
        runtime.save()
        _ensure_collections(runtime, collections)


# -- common --------------------------------------------------------------------------------
def start(runtime: Runtime, search: str, names: tuple[str, ...]) -> None:
    if search == "solr":
        start_standalone(runtime, names)
    elif search == "solrcloud":
        start_cloud(runtime, names)


def url(runtime: Runtime, search: str, name: str) -> str | None:
    """CKAN's ``solr_url`` for core/collection ``name``; None for postgres."""
    if search == "solr":
        return f"http://127.0.0.1:{runtime.solr.port}/solr/{name}"
    if search == "solrcloud":
        return f"http://127.0.0.1:{runtime.cloud[0].port}/solr/{name}"
    return None


def stop(runtime: Runtime) -> list[str]:
    """Stop every JVM this home started (nodes before ZooKeeper)."""
    stopped = []
    if _stop_pid(runtime.solr, standalone_home(runtime), "Solr"):
        stopped.append("solr")
    for i, (state, node_home) in enumerate(zip(runtime.cloud, node_homes(runtime),
                                               strict=False), 1):
        if _stop_pid(state, node_home, "Solr node"):
            stopped.append(f"solrcloud-node{i}")
    if _stop_pid(runtime.zookeeper, cloud_home(runtime) / "zookeeper" / "zoo.cfg", "ZooKeeper"):
        stopped.append("zookeeper")
    return stopped


def status(runtime: Runtime) -> dict[str, dict[str, Any]]:
    report = {"solr": (runtime.solr, standalone_home(runtime)),
              "zookeeper": (runtime.zookeeper, cloud_home(runtime) / "zookeeper" / "zoo.cfg")}
    for i, (state, node_home) in enumerate(zip(runtime.cloud, node_homes(runtime),
                                               strict=False), 1):
        report[f"solrcloud{i}"] = (state, node_home)
    return {name: {"running": _is_ours(state.pid, marker), "pid": state.pid,
                   "port": state.port} for name, (state, marker) in report.items()}
