"""The index stays true to the database: CLI maintenance, rollbacks, concurrency.

The index is read and damaged behind CKAN's back in the engine's own store:
the backend's table with PostgreSQL, the core through CKAN's pysolr
connection with Solr (``SEARCH=solr``).
"""
from __future__ import annotations

import threading

import ckan.model as model
import ckan.plugins as p
import pytest
import sqlalchemy as sa
from ckan.cli.cli import ckan as ckan_cli
from ckan.lib.search.common import make_connection
from ckan.tests import factories, helpers

from ckanext.vernetztestadt.search import storage
from ckanext.vernetztestadt.testing import engines

pytestmark = [
    pytest.mark.search,
    pytest.mark.usefixtures("clean_db", "clean_index"),
    # their CSV resources point at made-up URLs; the gate has tests/validation
    pytest.mark.ckan_config("ckanext.vernetztestadt.validation.gate", "false"),
]


def indexed_names() -> list[str]:
    if engines.current() == "postgres":
        with model.meta.engine.connect() as conn:
            rows = conn.execute(sa.text(f"SELECT name FROM {storage.TABLE} ORDER BY name"))
            return [r[0] for r in rows]
    return sorted(d["name"] for d in make_connection().search(q="*:*", fl="name", rows=10_000))


def drop_index_rows(name: str | None = None) -> None:
    """Lose the documents (of ``name``) without CKAN knowing."""
    if engines.current() == "postgres":
        where = " WHERE name = :name" if name else ""
        with model.meta.engine.begin() as conn:
            conn.execute(sa.text(f"DELETE FROM {storage.TABLE}{where}"), {"name": name})
        return
    make_connection().delete(q=f'name:"{name}"' if name else "*:*", commit=True)


@pytest.fixture
def datasets():
    org = factories.Organization()
    return [factories.Dataset(name=f"datensatz-{i}", owner_org=org["id"]) for i in range(5)]


class TestSearchIndexCli:
    def test_rebuild_restores_lost_rows(self, cli, datasets):
        drop_index_rows()
        assert helpers.call_action("package_search")["count"] == 0
        result = cli.invoke(ckan_cli, ["search-index", "rebuild", "-q"])
        assert result.exit_code == 0, result.output
        assert helpers.call_action("package_search")["count"] == 5

    def test_rebuild_fast(self, cli, datasets):
        drop_index_rows()
        result = cli.invoke(ckan_cli, ["search-index", "rebuild-fast"])
        assert result.exit_code == 0, result.output
        assert indexed_names() == [f"datensatz-{i}" for i in range(5)]

    def test_list_unindexed_and_check(self, cli, datasets):
        drop_index_rows("datensatz-3")
        result = cli.invoke(ckan_cli, ["search-index", "list-unindexed"])
        assert "Found 1 unindexed package(s)." in result.output
        assert datasets[3]["id"] in result.output
        result = cli.invoke(ckan_cli, ["search-index", "check"])
        assert result.exit_code == 0
        result = cli.invoke(ckan_cli, ["search-index", "rebuild", "-o", "-q"])
        assert result.exit_code == 0, result.output
        assert len(indexed_names()) == 5

    def test_show_and_clear(self, cli, datasets):
        result = cli.invoke(ckan_cli, ["search-index", "show", "datensatz-1"])
        assert result.exit_code == 0, result.output
        assert datasets[1]["id"] in result.output
        result = cli.invoke(ckan_cli, ["search-index", "clear", "datensatz-1"])
        assert result.exit_code == 0, result.output
        assert "datensatz-1" not in indexed_names()
        result = cli.invoke(ckan_cli, ["search-index", "clear"])
        assert result.exit_code == 0, result.output
        assert indexed_names() == []

    def test_orphans_are_cleared_by_rebuild(self, cli, datasets):
        victim = model.Package.get("datensatz-0")
        model.Session.delete(victim)
        model.Session.commit()  # the index is not told: an orphan remains
        assert "datensatz-0" in indexed_names()
        result = cli.invoke(ckan_cli, ["search-index", "rebuild", "-q"])
        assert result.exit_code == 0, result.output
        assert "datensatz-0" not in indexed_names()


class FailingAfterIndex(p.SingletonPlugin):
    """Fails a dataset change after the search index saw it, before commit."""

    p.implements(p.IDomainObjectModification, inherit=True)

    def notify(self, entity, operation):
        if isinstance(entity, model.Package) and entity.name == "wird-scheitern":
            raise RuntimeError("simulated failure after indexing")


@pytest.mark.ckan_config("ckan.plugins",
                         "vernetztestadt_search vernetztestadt failing_after_index")
@pytest.mark.usefixtures("with_plugins")
@pytest.mark.provide_plugin("failing_after_index", FailingAfterIndex)
def test_failed_create_leaves_no_ghost_document(cli):
    org = factories.Organization()
    with pytest.raises(RuntimeError):
        helpers.call_action("package_create", name="wird-scheitern", owner_org=org["id"])
    model.Session.rollback()
    assert model.Package.get("wird-scheitern") is None
    # Solr took the document before the database rolled back
    ghost = engines.expected(postgres=False, solr=True,
                             difference="Transaktionen / transactions")
    assert ("wird-scheitern" in indexed_names()) is ghost
    found = helpers.call_action("package_search", q="name:wird-scheitern")["count"]
    assert found == (1 if ghost else 0)
    if ghost:  # ... until the next rebuild, which clears orphans
        result = cli.invoke(ckan_cli, ["search-index", "rebuild", "-q"])
        assert result.exit_code == 0, result.output
        assert "wird-scheitern" not in indexed_names()


def test_concurrent_writers_keep_index_consistent(app):
    admin = factories.Sysadmin()
    org = factories.Organization()
    created = [factories.Dataset(name=f"parallel-{i}", owner_org=org["id"]) for i in range(4)]
    errors: list[BaseException] = []

    def worker(dataset: dict) -> None:
        try:
            with app.flask_app.test_request_context():
                for n in range(5):
                    helpers.call_action("package_patch", context={"user": admin["name"]},
                                        id=dataset["id"], notes=f"Version {n}")
        except BaseException as exc:
            errors.append(getattr(exc, "error_dict", exc))
        finally:
            model.Session.remove()

    threads = [threading.Thread(target=worker, args=(d,)) for d in created]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    model.Session.remove()
    for dataset in created:
        shown = helpers.call_action("package_show", id=dataset["id"])
        found = helpers.call_action("package_search", fq=f'name:"{dataset["name"]}"')
        assert found["results"][0]["metadata_modified"] == shown["metadata_modified"]
        assert found["results"][0]["notes"] == "Version 4"
