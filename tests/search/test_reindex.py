"""``ckan vernetztestadt search-index-rebuild`` indexes exactly what CKAN's
own rebuild indexes: on the PostgreSQL backend the index rows are compared
column by column; with ``SEARCH=solr`` the stored Solr documents."""
from __future__ import annotations

import json
from typing import Any

import ckan.lib.search.common as search_common
import ckan.model as model
import pytest
import sqlalchemy as sa
from ckan.cli.cli import ckan as ckan_cli
from ckan.common import config
from ckan.lib import search
from ckan.tests import factories, helpers
from sqlalchemy.sql import false, select

from ckanext.vernetztestadt import reindex
from ckanext.vernetztestadt.search import backend, storage

pytestmark = [
    pytest.mark.usefixtures("clean_db", "clean_index"),
    # the CSV resource points at a made-up URL; the gate has tests/validation
    pytest.mark.ckan_config("ckanext.vernetztestadt.validation.gate", "false"),
]

#: Every column of an index row except the write's sequence number and time.
COLUMNS = ("index_id, site_id, id, name, entity_type, dataset_type, state, capacity, "
           "title_string, permission_labels, facet_terms, doc, fields, texts, dates, numbers, "
           "tsv::text")
POLYGON = {"type": "Polygon", "coordinates": [[
    [6.98, 51.48], [7.16, 51.48], [7.16, 51.64], [6.98, 51.64], [6.98, 51.48]]]}


def index_rows() -> list[Any]:
    """The index rows (PostgreSQL backend), or with ``SEARCH=solr`` the stored
    documents without the fields Solr adds itself."""
    if backend.installed():
        with model.meta.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(
                sa.text(f"SELECT {COLUMNS} FROM {storage.TABLE} ORDER BY index_id"))]
    solr = search_common.make_connection()
    solr.commit(waitSearcher=True)
    docs = solr.search("*:*", fq=f'+site_id:"{config["ckan.site_id"]}"', rows=1000, fl="*")
    return sorted(json.dumps({k: v for k, v in doc.items()
                              if k not in ("_version_", "indexed_ts", "score")},
                             sort_keys=True, default=str) for doc in docs)


def drop_index_rows() -> None:
    search.clear_all()
    search.commit()


@pytest.fixture
def portal():
    """A handful of datasets with what indexing reads: organization and group
    with members, tags, resources (one deleted), a schema type with lists
    and a coverage area, a private dataset, a dataset that
    left its group, a deleted dataset."""
    admin = {"user": factories.Sysadmin()["name"]}
    editor, reader = factories.User(), factories.User()
    org = factories.Organization(users=[{"name": editor["name"], "capacity": "editor"}])
    group = factories.Group(title="Digitales",
                            users=[{"name": reader["name"], "capacity": "member"}])
    other = factories.Group(title="Umwelt")
    wifi = helpers.call_action(
        "package_create", context=dict(admin), type="wifi_hotspots", name="wlan-hotspots",
        owner_org=org["id"], title="WLAN-Hotspots", notes="Standorte der Hotspots.",
        license_id="dl-de-by-2.0", tag_string="WLAN,Internet",
        theme=["http://publications.europa.eu/resource/authority/data-theme/TECH"],
        spatial_coverage=[{"text": "Gelsenkirchen", "geom": json.dumps(POLYGON)}],
        operator="Stadt Gelsenkirchen", network_name="GE-WLAN", hotspot_count=260,
        groups=[{"id": group["id"]}],
        resources=[{"url": "http://example.invalid/hotspots.csv", "name": "Hotspots",
                    "format": "CSV"}])
    private = factories.Dataset(owner_org=org["id"], private=True, title="Intern",
                                tags=[{"name": "Haushalt"}],
                                resources=[{"url": "http://example.invalid/a.json",
                                            "format": "JSON"},
                                           {"url": "http://example.invalid/b.pdf",
                                            "format": "PDF"}])
    helpers.call_action("resource_delete", context=dict(admin), id=private["resources"][1]["id"])
    moved = factories.Dataset(owner_org=org["id"], title="Bäume",
                              groups=[{"id": other["id"]}, {"id": group["id"]}])
    helpers.call_action("member_delete", context=dict(admin), id=other["id"], object=moved["id"],
                        object_type="package")
    gone = factories.Dataset(owner_org=org["id"])
    helpers.call_action("package_delete", context=dict(admin), id=gone["id"])
    factories.Dataset(owner_org=org["id"], title="Straßenbäume", notes="Kataster \u2013 2024",
                      extras=[{"key": "quelle", "value": "Referat Umwelt"}])
    return {"wifi": wifi, "private": private, "moved": moved, "other_group": other}


def ckan_rebuild_rows() -> list[tuple]:
    """The rows CKAN's rebuild writes, read as a fresh ``ckan`` command reads
    the datasets (not from objects the fixture's session still holds: their
    extras keep the order they were written in, the database's JSONB sorts)."""
    drop_index_rows()
    model.Session.remove()
    search.rebuild(defer_commit=True, quiet=True)
    search.commit()
    rows = index_rows()
    drop_index_rows()
    return rows


def test_same_rows_as_ckan_rebuild(portal):
    expected = ckan_rebuild_rows()
    assert len(expected) == 4  # the deleted dataset is not indexed
    model.Session.remove()
    outcome = reindex.rebuild(workers=1, batch_size=2)
    assert outcome.indexed == 4 and not outcome.failed
    assert index_rows() == expected
    # every per-dataset statement was answered from the batch: none asked
    # (a CKAN upgrade that changes one makes the rebuild slower, not wrong)
    assert outcome.missed == 0
    assert set(outcome.answered) == {t.name for t in reindex.templates()}


def test_cli_with_workers(cli, portal):
    expected = ckan_rebuild_rows()
    result = cli.invoke(ckan_cli, ["vernetztestadt", "search-index-rebuild",
                                   "--workers", "2", "--batch-size", "2", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "4 Datensätze indiziert / datasets indexed" in result.output
    assert index_rows() == expected
    assert helpers.call_action("package_search", q="WLAN")["count"] == 1


def test_orphans_removed_unless_kept(cli, portal):
    reindex.rebuild()
    victim = model.Package.get(portal["moved"]["id"])
    model.Session.delete(victim)
    model.Session.commit()  # the index is not told
    result = cli.invoke(ckan_cli, ["vernetztestadt", "search-index-rebuild", "-q",
                                   "--keep-orphans"])
    assert result.exit_code == 0, result.output
    assert len(index_rows()) == 4
    result = cli.invoke(ckan_cli, ["vernetztestadt", "search-index-rebuild", "-q"])
    assert result.exit_code == 0, result.output
    assert "1 verwaiste entfernt / orphans removed" in result.output
    assert len(index_rows()) == 3


def test_other_statements_are_not_answered(portal):
    """Only CKAN's exact statement is answered from the batch: the same
    query for deleted memberships still reads the database."""
    moved, other = portal["moved"], portal["other_group"]
    group, member = model.group_table, model.member_table

    def groups_of(state: str) -> list[str]:
        rows = model.Session.execute(
            select(group, member.c["capacity"]).join(member, group.c["id"] == member.c["group_id"])
            .where(member.c["table_id"] == moved["id"], member.c["state"] == state,
                   group.c["is_organization"] == false()))
        return [row.id for row in rows]

    with reindex.batch_mode(reindex.templates()) as (listener, _):
        listener.prefetch = reindex.Prefetch([moved["id"]]).load({"validation_statuses"})
        assert groups_of("active") and other["id"] not in groups_of("active")
        assert listener.prefetch.hits["groups"] == 2
        assert groups_of("deleted") == [other["id"]]
        assert listener.prefetch.hits["groups"] == 2
        listener.prefetch = None


def test_only_missing(cli, portal):
    reindex.rebuild()
    search.clear(portal["private"]["id"])
    search.commit()
    result = cli.invoke(ckan_cli, ["vernetztestadt", "search-index-rebuild", "-q", "-o"])
    assert result.exit_code == 0, result.output
    assert "1 Datensätze indiziert / datasets indexed" in result.output
    assert len(index_rows()) == 4
