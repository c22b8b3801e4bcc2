"""CKAN's DataStore in the runtime: its database, read-only role and
permissions, through CKAN's real actions on the embedded PostgreSQL.

Checked: ``vernetztestadt-runtime services`` creates ``<name>_datastore`` and
the read-only role (``--no-datastore`` neither), a second run changes
nothing; the test session's DataStore (set up by the pytest plugin with
CKAN's ``datastore set-permissions``) takes tables, rows and a DataTables
view from ``datastore_create`` and answers ``datastore_search`` (filter, full
text) and ``datastore_search_sql``; writes through ``datastore_search_sql``
are refused (CKAN's SQL check first) and the read URL's role may not write
even when asked directly; a private dataset's table is closed to anonymous
users and non-members and open to members. Without a database:
``CKAN_DATASTORE_WRITE_URL`` / ``CKAN_DATASTORE_READ_URL`` win over the
embedded DataStore, and the ini that is written names them.
"""
from __future__ import annotations

import configparser
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ckan.plugins.toolkit as tk
import psycopg2
import psycopg2.errors
import pytest
from ckan.tests import factories, helpers
from sqlalchemy.engine import make_url

from ckanext.vernetztestadt.runtime import ckan_config, services
from ckanext.vernetztestadt.runtime.services import Runtime

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_CLI = Path(sys.executable).with_name("vernetztestadt-runtime")
SERVICE_VARS = ("CKAN_SQLALCHEMY_URL", "CKAN_REDIS_URL", "CKAN_SOLR_URL",
                *ckan_config.DATASTORE_VARS.values())
#: The session's DataStore is the embedded one unless TEST_CKAN_* name a real one.
EMBEDDED = not os.environ.get("TEST_CKAN_DATASTORE_WRITE_URL")
FIELDS = [{"id": "stadtteil", "type": "text"}, {"id": "hotspots", "type": "int"},
          {"id": "betreiber", "type": "text"}]
RECORDS = [{"stadtteil": "Buer", "hotspots": 12, "betreiber": "Stadtwerke"},
           {"stadtteil": "Altstadt", "hotspots": 30, "betreiber": "Stadtwerke"},
           {"stadtteil": "Horst", "hotspots": 7, "betreiber": "Freifunk Emscher"}]


# -- helpers -------------------------------------------------------------------
def superuser(runtime: Runtime, database: str = "postgres") -> Any:
    conn = psycopg2.connect(services._pg_superuser_url(runtime, database), connect_timeout=10)
    conn.autocommit = True
    return conn


def catalogue(runtime: Runtime) -> tuple[set[str], set[str]]:
    """Databases and login roles of the embedded PostgreSQL."""
    conn = superuser(runtime)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT datname FROM pg_database")
            databases = {row[0] for row in cur.fetchall()}
            cur.execute("SELECT rolname FROM pg_roles WHERE rolcanlogin")
            roles = {row[0] for row in cur.fetchall()}
    finally:
        conn.close()
    return databases, roles


def run_services(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command as ``make test`` runs it, without this session's services."""
    env = {k: v for k, v in os.environ.items() if k not in (*SERVICE_VARS, "SEARCH")
           and not k.startswith(("TEST_CKAN_", "VERNETZTESTADT_"))}
    return subprocess.run([str(RUNTIME_CLI), "services", "--home", str(home), *args],
                          env=env, cwd=home.parent, text=True, capture_output=True, timeout=120)


def call_as(user: str | None, action: str, **data: Any) -> Any:
    """``action`` with CKAN's auth checks as ``user`` (None: anonymous)."""
    return helpers.call_action(action, context={"user": user or "", "ignore_auth": False},
                               **data)


def read_url() -> str:
    return tk.config["ckan.datastore.read_url"]


# -- fixtures ------------------------------------------------------------------
@pytest.fixture
def fresh_home(runtime_dir: Path) -> Iterator[Path]:
    """A runtime home of its own; its daemons are stopped afterwards."""
    home = runtime_dir / "home"
    yield home
    if home.exists():
        services.stop(Runtime.load(home))


@pytest.fixture
def clean_datastore(clean_db: None) -> None:
    """CKAN's own clean-up of the DataStore tests: every resource table of
    the session's DataStore dropped (CKAN's views and functions stay)."""
    import ckanext.datastore.backend.postgres as datastore_db
    from ckanext.datastore.tests.helpers import clear_db
    from sqlalchemy import orm

    engine = datastore_db.get_write_engine()
    clear_db(orm.scoped_session(orm.sessionmaker(bind=engine)))


@pytest.fixture
def table(clean_datastore: None) -> dict[str, Any]:
    """A private dataset's resource with a DataStore table, both created by
    a sysadmin with ``datastore_create`` (a resource for data entered through
    the API, as no DataPusher loads files); and the organisation's member."""
    sysadmin = factories.Sysadmin()
    member = factories.User()
    org = factories.Organization(users=[{"name": member["name"], "capacity": "member"}])
    dataset = factories.Dataset(owner_org=org["id"], private=True,
                                notes="WLAN-Hotspots je Stadtteil.")
    created = call_as(sysadmin["name"], "datastore_create",
                      resource={"package_id": dataset["id"], "name": "Hotspots je Stadtteil"},
                      fields=FIELDS, records=RECORDS)
    return {"id": created["resource_id"], "sysadmin": sysadmin["name"],
            "member": member["name"]}


# -- the runtime ---------------------------------------------------------------
@pytest.mark.skipif(not EMBEDDED, reason="TEST_CKAN_DATASTORE_* name a real DataStore")
def test_services_creates_datastore_database_and_read_role_once(fresh_home: Path) -> None:
    first = run_services(fresh_home, "--database", "ckan_a")
    assert first.returncode == 0, first.stderr
    runtime = Runtime.load(fresh_home)
    databases, roles = catalogue(runtime)
    assert {"ckan_a", "ckan_a_datastore"} <= databases
    assert {services.PG_ROLE, services.DATASTORE_READ_ROLE} <= roles
    state = (fresh_home / services.STATE_FILE).read_text()

    again = run_services(fresh_home, "--database", "ckan_a")
    assert again.returncode == 0, again.stderr
    assert catalogue(Runtime.load(fresh_home)) == (databases, roles)
    assert (fresh_home / services.STATE_FILE).read_text() == state  # password kept


@pytest.mark.skipif(not EMBEDDED, reason="TEST_CKAN_DATASTORE_* name a real DataStore")
def test_services_without_datastore_creates_none(fresh_home: Path) -> None:
    result = run_services(fresh_home, "--no-datastore", "--database", "ckan_conformance_x")
    assert result.returncode == 0, result.stderr
    databases, _ = catalogue(Runtime.load(fresh_home))
    assert "ckan_conformance_x" in databases
    assert "ckan_conformance_x_datastore" not in databases


@pytest.mark.skipif(not EMBEDDED, reason="TEST_CKAN_DATASTORE_* name a real DataStore")
def test_session_datastore_is_its_own_database_with_another_role() -> None:
    write, read = (make_url(tk.config[f"ckan.datastore.{k}_url"]) for k in ("write", "read"))
    main = make_url(tk.config["sqlalchemy.url"])
    assert write.database == read.database == services.datastore_database(main.database)
    assert write.username == main.username == services.PG_ROLE
    assert read.username == services.DATASTORE_READ_ROLE


@pytest.mark.parametrize("statement", [
    "CREATE TABLE eingeschleust (x int)",
    "CREATE VIEW eingeschleust AS SELECT 1",
])
def test_read_role_may_not_create(statement: str) -> None:
    conn = psycopg2.connect(read_url(), connect_timeout=10)
    try:
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute(statement)
    finally:
        conn.close()


@pytest.mark.parametrize("statement", [
    'INSERT INTO "{id}" (stadtteil, hotspots) VALUES (\'Erle\', 1)',
    'UPDATE "{id}" SET hotspots = 0',
    'DELETE FROM "{id}"',
    'DROP TABLE "{id}"',
])
def test_read_role_may_not_write_a_table(table: dict[str, Any], statement: str) -> None:
    conn = psycopg2.connect(read_url(), connect_timeout=10)
    try:
        with conn.cursor() as cur:
            cur.execute(f'SELECT count(*) FROM "{table["id"]}"')  # it may read
            assert cur.fetchone() == (len(RECORDS),)
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(statement.format(id=table["id"]))
    finally:
        conn.close()


# -- CKAN's actions --------------------------------------------------------------
def test_datastore_search_filters_and_full_text(table: dict[str, Any]) -> None:
    everything = call_as(table["sysadmin"], "datastore_search", resource_id=table["id"])
    assert everything["total"] == len(RECORDS)
    assert [f["id"] for f in everything["fields"]] == ["_id", *(f["id"] for f in FIELDS)]

    buer = call_as(table["sysadmin"], "datastore_search", resource_id=table["id"],
                   filters={"stadtteil": "Buer"})
    assert [(r["stadtteil"], r["hotspots"]) for r in buer["records"]] == [("Buer", 12)]

    freifunk = call_as(table["sysadmin"], "datastore_search", resource_id=table["id"],
                       q="Freifunk")
    assert [r["stadtteil"] for r in freifunk["records"]] == ["Horst"]


def test_datastore_resource_gets_the_table_view_when_views_are_made(
        table: dict[str, Any]) -> None:
    """datastore_create marks the resource; its DataTables view (a default
    view that needs the DataStore) comes when the default views are made
    with the DataStore's ones, as ``ckan views create`` does (DataPusher or
    XLoader would ask after loading; neither runs here)."""
    resource = helpers.call_action("resource_show", id=table["id"])
    assert resource["datastore_active"] is True
    made = call_as(table["sysadmin"], "resource_create_default_resource_views",
                   resource=resource, create_datastore_views=True)
    assert [view["view_type"] for view in made] == ["datatables_view"]
    views = helpers.call_action("resource_view_list", id=table["id"])
    assert [view["view_type"] for view in views] == ["datatables_view"]


def test_datastore_search_sql_select(table: dict[str, Any]) -> None:
    sql = (f'SELECT stadtteil, hotspots FROM "{table["id"]}" '
           "WHERE hotspots > 10 ORDER BY hotspots DESC")
    result = call_as(table["sysadmin"], "datastore_search_sql", sql=sql)
    assert [(r["stadtteil"], r["hotspots"]) for r in result["records"]] == [
        ("Altstadt", 30), ("Buer", 12)]


@pytest.mark.parametrize("statement", [
    'DROP TABLE "{id}"',
    'INSERT INTO "{id}" (stadtteil, hotspots) VALUES (\'Erle\', 1)',
    'UPDATE "{id}" SET hotspots = 0',
    'WITH weg AS (DELETE FROM "{id}" RETURNING *) SELECT * FROM weg',
    'SELECT 1; DROP TABLE "{id}"',
])
def test_datastore_search_sql_refuses_writes(table: dict[str, Any], statement: str) -> None:
    with pytest.raises((tk.ValidationError, tk.NotAuthorized)):
        call_as(table["sysadmin"], "datastore_search_sql",
                sql=statement.format(id=table["id"]))
    after = call_as(table["sysadmin"], "datastore_search", resource_id=table["id"])
    assert sorted(r["hotspots"] for r in after["records"]) == [7, 12, 30]


# -- who may read ------------------------------------------------------------------
@pytest.mark.parametrize("who", ["anonymous", "non-member"])
def test_private_table_is_closed_to_outsiders(table: dict[str, Any], who: str) -> None:
    user = None if who == "anonymous" else factories.User()["name"]
    with pytest.raises(tk.NotAuthorized):
        call_as(user, "datastore_search", resource_id=table["id"])


def test_private_table_is_open_to_a_member(table: dict[str, Any]) -> None:
    result = call_as(table["member"], "datastore_search", resource_id=table["id"])
    assert result["total"] == len(RECORDS)


# -- configuration (no database) ---------------------------------------------------
@pytest.fixture
def no_service_vars(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """None of CKAN's service variables (the session sets them)."""
    for var in SERVICE_VARS:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_embedded_datastore_urls_without_variables(tmp_path: Path,
                                                   no_service_vars: pytest.MonkeyPatch) -> None:
    urls = ckan_config.service_urls(Runtime(tmp_path), "ckan", 0)
    assert urls.datastore is not None and urls.datastore.embedded
    write, read = make_url(urls.datastore.write_url), make_url(urls.datastore.read_url)
    assert write.database == read.database == "ckan_datastore"
    assert (write.username, read.username) == (services.PG_ROLE, services.DATASTORE_READ_ROLE)
    assert write.password != read.password


def test_datastore_variables_win_over_the_embedded_ones(
        tmp_path: Path, no_service_vars: pytest.MonkeyPatch) -> None:
    write = "postgresql://ckan:pw@db.example.invalid/datastore"
    read = "postgresql://datastore_ro:pw@db.example.invalid/datastore"
    no_service_vars.setenv("CKAN_DATASTORE_WRITE_URL", write)
    no_service_vars.setenv("CKAN_DATASTORE_READ_URL", read)
    runtime = Runtime(tmp_path)
    urls = ckan_config.service_urls(runtime, "ckan", 0)
    assert urls.datastore == ckan_config.DatastoreUrls(write, read, embedded=False)

    ini = configparser.ConfigParser(interpolation=None)
    ini.read(ckan_config.write_config(runtime, urls, 5000))
    assert ini["app:main"]["ckan.datastore.write_url"] == write
    assert ini["app:main"]["ckan.datastore.read_url"] == read
    assert "datastore" in ini["app:main"]["ckan.plugins"].split()


@pytest.mark.parametrize("variables", [
    {"CKAN_DATASTORE_WRITE_URL": "postgresql://ckan:pw@db.example.invalid/datastore"},
    {"CKAN_SQLALCHEMY_URL": "postgresql://ckan:pw@db.example.invalid/ckan"},
])
def test_incomplete_datastore_variables_are_an_error(
        tmp_path: Path, no_service_vars: pytest.MonkeyPatch, variables: dict[str, str]) -> None:
    for var, value in variables.items():
        no_service_vars.setenv(var, value)
    with pytest.raises(services.ServiceError, match="CKAN_DATASTORE_READ_URL"):
        ckan_config.service_urls(Runtime(tmp_path), "ckan", 0)


def test_which_configurations_load_the_datastore() -> None:
    assert ckan_config.loads_datastore(ROOT / "test.ini")
    assert not ckan_config.loads_datastore(ROOT / "tests" / "conformance" / "test-core.ini")
    assert ckan_config.DATASTORE_PLUGIN in ckan_config.PLUGINS
