"""``ckan search-index ...`` as the portal registers it
(``upstream.search_index``): CKAN's own commands, ending in one line when the
search engine fails. The failure itself (Solr stopped under a rebuild) is in
``test_solr_faults.py``; here, on the PostgreSQL backend, the group is CKAN's
and the line is what it should be."""
from __future__ import annotations

import pytest
from ckan.cli.cli import ckan as ckan_cli
from ckan.cli.search_index import search_index
from ckan.lib.search.common import SearchIndexError, SolrConnectionError
from ckan.tests import factories

from ckanext.vernetztestadt.upstream import search_index as guard


def test_same_commands_options_and_help_as_ckans() -> None:
    (group,) = guard.get_commands()
    assert group.name == "search-index" and group is not search_index
    assert sorted(group.commands) == sorted(search_index.commands)
    for name, command in group.commands.items():
        original = search_index.commands[name]
        assert command is not original
        assert [p.name for p in command.params] == [p.name for p in original.params]
        assert command.help == original.help
        assert command.callback is not None
        assert command.callback.__wrapped__ is original.callback  # type: ignore[attr-defined]
    assert search_index.commands["rebuild"].callback.__module__ == "ckan.cli.search_index"


@pytest.mark.parametrize("exc, expected", [
    (SearchIndexError("Solr returned an error: Failed to connect to server at http://x/"),
     "nicht erreichbar / not reachable"),
    (SolrConnectionError("Solr returned an error while searching."),
     "nicht erreichbar / not reachable"),
    (SearchIndexError("Connection to server 'http://x' timed out: ..."),
     "antwortet nicht rechtzeitig / timed out"),
    (SearchIndexError("Solr returned an error: undefined field foo\n more"),
     "Solr returned an error: undefined field foo more"),
    (SearchIndexError(""), "SearchIndexError"),
])
def test_reason_is_one_short_line(exc: Exception, expected: str) -> None:
    assert guard.reason(exc) == expected
    assert len(guard.reason(SearchIndexError("x" * 5000))) == guard.MAX_REASON


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_the_portal_registers_it_and_it_runs_ckans_code(cli) -> None:
    factories.Dataset(owner_org=factories.Organization()["id"])
    result = cli.invoke(ckan_cli, ["search-index", "check"])
    assert result.exit_code == 0, result.output
    assert "Packages not indexed = 0 out of 1" in result.output
    assert guard.engine_name() == "PostgreSQL-Suche / PostgreSQL search"
