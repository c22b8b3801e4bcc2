"""Shared by the real-Solr fault tests (``test_solrcloud.py``,
``test_solr_faults.py``): when they run, the runtime home whose Solr JVMs
they stop and start, Solr's own counts, and CKAN's ``ckan`` command as a
subprocess.

Owns nothing of the project: it only reads the runtime's state
(``runtime.solr``) and asks Solr over its HTTP API. Stopping and starting
nodes is ``runtime.solr``'s (``stop_standalone``, ``stop_cloud_node``, ...).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from ckanext.vernetztestadt.runtime import solr
from ckanext.vernetztestadt.runtime.services import Runtime, ServiceError

CHECKOUT = Path(__file__).resolve().parents[2]
#: The runtime home every other test run shares (make test, make portal).
SHARED_HOME = CHECKOUT / ".portal"
CKAN = str(Path(sys.executable).with_name("ckan"))


def home() -> Path:
    """The home the pytest plugin started the services in."""
    return Path(os.environ.get("VERNETZTESTADT_HOME") or SHARED_HOME).resolve()


def skip_reason(engine: str) -> str | None:
    """Why a test that stops ``engine``'s Solr JVMs cannot run here, or None."""
    try:
        solr.check_tools()
    except ServiceError as exc:
        return str(exc)
    try:
        current = solr.engine()
    except ServiceError as exc:
        return str(exc)
    if current != engine:
        return (f"braucht / needs SEARCH={engine} and a runtime home of its own "
                f"(VERNETZTESTADT_HOME); SEARCH={current} here")
    if home() == SHARED_HOME.resolve():
        return (f"stoppt Solr / stops Solr: needs a runtime home of its own "
                f"(VERNETZTESTADT_HOME), not the shared {SHARED_HOME}")
    return None


def runtime() -> Runtime:
    return Runtime.load(home())


def solr_url() -> str:
    """CKAN's ``solr_url`` (the core or collection), as the plugin set it."""
    return os.environ["CKAN_SOLR_URL"].rstrip("/")


def node_base(url: str) -> str:
    """``http://host:port/solr`` of a core or collection URL."""
    return url.rsplit("/", 1)[0]


def select(url: str, **params: Any) -> dict[str, Any]:
    response = requests.get(f"{url}/select", params={"wt": "json", **params}, timeout=30)
    response.raise_for_status()
    return dict(response.json())


def num_found(url: str, site_id: str, **params: Any) -> int:
    """Solr's own count of this site's datasets (as CKAN indexes them)."""
    body = select(url, q="*:*", fq=f'+site_id:"{site_id}" +entity_type:package', rows=0,
                  **params)
    return int(body["response"]["numFound"])


def wait_for(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (requests.RequestException, ServiceError, KeyError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {seconds:.0f} s")


def ckan_cli(ini: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``ckan -c ini ARGS`` in a subprocess with this session's services
    (the plugin put them into ``CKAN_*`` of the environment)."""
    return subprocess.run([CKAN, "-c", str(ini), *args], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ), check=False)


def ckan_popen(ini: Path, *args: str) -> subprocess.Popen[str]:
    """``ckan -c ini ARGS`` started in the background, stdout and stderr
    merged (read it while it runs)."""
    return subprocess.Popen([CKAN, "-c", str(ini), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=dict(os.environ),
                            bufsize=1)
