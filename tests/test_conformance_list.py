"""The conformance run's list (tests/conformance/excluded.txt): sections per
engine, errors in one line, and which engine a run reports."""
from __future__ import annotations

from pathlib import Path

import pytest

from ckanext.vernetztestadt.testing import conformance
from ckanext.vernetztestadt.testing.conformance import ConformanceList, matches

LISTING = """\
# comment
a.py::test_before_any_header  # no header yet: excluded for all

[excluded]
a.py::test_all  # every engine

[excluded:postgres]
a.py::test_pg  # postgres only

[known-failing]
a.py::test_known  # fails everywhere

[known-failing:solr]
a.py::test_solr_gap  # solr only

[excluded:solrcloud]
a.py::TestCloud  # solrcloud only
"""


@pytest.fixture
def listing(tmp_path: Path) -> Path:
    path = tmp_path / "excluded.txt"
    path.write_text(LISTING, encoding="utf-8")
    return path


def test_common_and_engine_sections(listing: Path) -> None:
    postgres = ConformanceList.read(listing, "postgres")
    assert set(postgres.excluded) == {"a.py::test_before_any_header", "a.py::test_all",
                                      "a.py::test_pg"}
    assert postgres.known_failing == {"a.py::test_known": "fails everywhere"}

    solr = ConformanceList.read(listing, "solr")
    assert set(solr.excluded) == {"a.py::test_before_any_header", "a.py::test_all"}
    assert set(solr.known_failing) == {"a.py::test_known", "a.py::test_solr_gap"}

    cloud = ConformanceList.read(listing, "solrcloud")  # ":solr" does not cover solrcloud
    assert set(cloud.excluded) == {"a.py::test_before_any_header", "a.py::test_all",
                                   "a.py::TestCloud"}
    assert set(cloud.known_failing) == {"a.py::test_known"}


def test_default_engine_is_postgres(listing: Path) -> None:
    assert ConformanceList.read(listing) == ConformanceList.read(listing, "postgres")


def test_missing_file_is_empty(tmp_path: Path) -> None:
    assert ConformanceList.read(tmp_path / "none.txt", "solr") == ConformanceList()


@pytest.mark.parametrize("header", ["[skipped]", "[excluded:elastic]", "[excluded:]",
                                    "[known-failing:mysql]"])
def test_unknown_section(tmp_path: Path, header: str) -> None:
    path = tmp_path / "excluded.txt"
    path.write_text(f"{header}\na.py::test_x  # reason\n", encoding="utf-8")
    with pytest.raises(pytest.UsageError, match=r"excluded.txt:1: unknown section"):
        ConformanceList.read(path, "postgres")


def test_reason_required_in_every_section(tmp_path: Path) -> None:
    # also in a section of another engine: the file is checked as a whole
    path = tmp_path / "excluded.txt"
    path.write_text("[excluded:solr]\na.py::test_x\n", encoding="utf-8")
    with pytest.raises(pytest.UsageError, match=r":2: 'a.py::test_x' has no '  # reason'"):
        ConformanceList.read(path, "postgres")


def test_unknown_engine(listing: Path) -> None:
    with pytest.raises(pytest.UsageError, match="unknown engine 'elastic'"):
        ConformanceList.read(listing, "elastic")


def test_project_list_per_engine() -> None:
    """The unreachable-Solr tests run against a real Solr and are excluded
    only for the PostgreSQL backend; the schema-fixture tests for all."""
    unreachable = {"ckan/tests/controllers/test_package.py::TestPackageNew::test_new_indexerror",
                   "ckan/tests/controllers/test_api.py::test_package_search_connection_errors"}
    fixture = "ckan/tests/lib/search/test_search.py::test_check_invalid_schema"
    lists = {engine: ConformanceList.read(conformance.DEFAULT_LIST, engine)
             for engine in conformance.ENGINES}
    assert unreachable <= set(lists["postgres"].excluded)
    for engine in ("solr", "solrcloud"):
        assert not unreachable & set(lists[engine].excluded)
    assert all(fixture in listing.excluded for listing in lists.values())


def test_matches_covers_class_and_parametrisations() -> None:
    entries = {"a.py::TestX": "r", "a.py::test_y": "r"}
    assert matches("a.py::TestX::test_one", entries) == "a.py::TestX"
    assert matches("a.py::test_y[1-2]", entries) == "a.py::test_y"
    assert matches("a.py::test_y", entries) == "a.py::test_y"
    assert matches("a.py::test_yz", entries) is None


def test_min_rate_per_engine() -> None:
    assert conformance.DEFAULT_MIN_RATE["postgres"] == 98.0
    assert conformance.DEFAULT_MIN_RATE["solr"] == 99.9
    assert set(conformance.DEFAULT_MIN_RATE) == set(conformance.ENGINES)


@pytest.mark.parametrize(("solr_url", "search", "expected"), [
    ("", "postgres", "postgres"),
    ("", "solr", "postgres"),  # no Solr URL: the PostgreSQL backend is installed
    ("http://127.0.0.1:1/solr/x", "solr", "solr"),
    ("http://127.0.0.1:1/solr/x", "solrcloud", "solrcloud"),
    ("http://127.0.0.1:1/solr/x", "postgres", "solr"),  # an external Solr
])
def test_engine_of_the_run(monkeypatch: pytest.MonkeyPatch, solr_url: str, search: str,
                           expected: str) -> None:
    monkeypatch.setenv("CKAN_SOLR_URL", solr_url)
    monkeypatch.setenv("SEARCH", search)
    assert conformance.engine() == expected


def test_engines_match_the_runtime() -> None:
    from ckanext.vernetztestadt.runtime import solr

    assert conformance.ENGINES == solr.ENGINES
