"""Solr's query semantics where the differential test found the PostgreSQL
backend answering differently (fixed since): Lucene's clause-by-clause
boolean logic, dismax operators and punctuation clauses, edismax with
``mm``, sorting of missing dates, German quotation marks and slashes.

Every expectation here is Solr's: marked ``search``, the same tests run
against a real Solr with ``make test-solr``.
"""
from __future__ import annotations

import json

import pytest
from ckan.lib.search.common import SearchError
from ckan.tests import factories, helpers

pytestmark = [
    pytest.mark.search,
    pytest.mark.usefixtures("clean_db", "clean_index"),
    pytest.mark.ckan_config("ckanext.vernetztestadt.validation.gate", "false"),
]


@pytest.fixture
def corpus(clean_db, clean_index):
    org = factories.Organization(name="stadt")
    datasets = [
        ("umwelt-verkehr", "Grünflächen und Radwege", ["Umwelt", "Verkehr"], None),
        ("verkehr-wlan", "Ladesäulen in Buer", ["Verkehr", "WLAN"], "2021-05-01"),
        ("nur-umwelt", "„Baumkataster“ der Stadt", ["Umwelt"], "2019-01-01"),
        ("nur-wlan", "Hotspots und/oder Router", ["WLAN"], None),
        ("ohne-tags", "Haushaltsplan Buer", [], "2023-07-01"),
    ]
    for name, title, tags, issued in datasets:
        extras = [{"key": "stichtag_date", "value": issued}] if issued else []
        factories.Dataset(name=name, title=title, owner_org=org["id"], notes="Daten der Stadt.",
                          tags=[{"name": t} for t in tags], extras=extras)


def names(**params) -> list[str]:
    params.setdefault("rows", 100)
    return sorted(d["name"] for d in helpers.call_action("package_search", **params)["results"])


@pytest.mark.usefixtures("corpus")
class TestLuceneClauses:
    @pytest.mark.parametrize("q, expected", [
        # no precedence: "a OR b AND c" is "a +b +c", a only scores
        ("tags:Umwelt OR tags:Verkehr AND tags:WLAN", ["verkehr-wlan"]),
        ("tags:Umwelt AND NOT tags:Verkehr OR tags:WLAN", ["nur-umwelt"]),
        # q.op=AND (CKAN's): "+" after OR does not make the clause required
        ("tags:Umwelt OR +tags:WLAN", ["nur-umwelt", "nur-wlan", "umwelt-verkehr",
                                       "verkehr-wlan"]),
        # a purely negative query gets Solr's *:* ...
        ("-tags:Umwelt", ["nur-wlan", "ohne-tags", "verkehr-wlan"]),
        # ... but not inside brackets, where it matches nothing
        ("(-tags:Umwelt)", []),
        ("tags:WLAN AND (-tags:Verkehr)", []),
        ("tags:(-Umwelt)", []),
    ])
    def test_q(self, q, expected):
        assert names(q=q) == expected

    def test_fq_is_read_with_q_op(self):
        # CKAN sends q.op=AND: the implicit operator of an fq is AND as well
        assert names(fq="tags:Umwelt tags:Verkehr") == ["umwelt-verkehr"]


@pytest.mark.usefixtures("corpus")
class TestDismax:
    @pytest.mark.parametrize("q, expected", [
        ("Buer NOT Ladesäulen", ["ohne-tags"]),          # NOT prohibits
        ("-Buer", []),                                   # dismax adds no *:*
        ("Buer !!!", []),                                # "!!!" counts for mm, matches nothing
        ("Buer -", ["ohne-tags", "verkehr-wlan"]),       # a dangling "-" is dropped
        ('"Buer Haushaltsplan', ["ohne-tags"]),          # odd quotes are dropped
        ('-- +"Haushaltsplan Buer"', ["ohne-tags"]),     # "-" then a bare "-" clause
    ])
    def test_operators_and_punctuation(self, q, expected):
        assert names(q=q) == expected

    @pytest.mark.parametrize("q", ["AND Buer", "Buer AND", "+AND Buer", "Buer NOT NOT Stadt",
                                   "-", "--Buer"])
    def test_misplaced_operators_are_search_errors(self, q):
        with pytest.raises(SearchError, match=r"(?i)parse"):
            helpers.call_action("package_search", q=q)


@pytest.mark.usefixtures("corpus")
class TestEdismax:
    """ckanext-spatial sets defType=edismax for every map search."""

    @pytest.mark.parametrize("q, expected", [
        ("tags:Umwelt OR tags:Verkehr", ["umwelt-verkehr"]),    # mm 2<-1: both needed
        ("Buer Ladesäulen", ["verkehr-wlan"]),                   # q.op=AND
        ("-tags:Umwelt", ["nur-wlan", "ohne-tags", "verkehr-wlan"]),
        ("Ladesäulen …", ["verkehr-wlan"]),     # read together: "…" adds nothing
        ("Ladesäulen OR …", []),                # a clause of its own: mm needs both
    ])
    def test_edismax(self, q, expected):
        assert names(q=q, defType="edismax") == expected


@pytest.mark.usefixtures("corpus")
def test_missing_dates_sort_as_1970():
    """CKAN's schema has no sortMissingLast on dates: Solr sorts them as 0."""
    result = helpers.call_action("package_search", sort="stichtag_date asc, name asc", rows=10)
    assert [d["name"] for d in result["results"]] == [
        "nur-wlan", "umwelt-verkehr", "nur-umwelt", "verkehr-wlan", "ohne-tags"]


@pytest.mark.usefixtures("corpus")
@pytest.mark.parametrize("q, expected", [
    ("Baumkataster", ["nur-umwelt"]),   # inside German quotation marks
    ("oder", ["nur-wlan"]),             # "und/oder" are two words
])
def test_punctuation_splits_words(q, expected):
    assert names(q=q) == expected


@pytest.mark.usefixtures("corpus")
def test_fl_returns_only_the_fields_asked():
    result = helpers.call_action("package_search", q="*:*", fl="id,name", rows=1)
    assert set(result["results"][0]) == {"id", "name"}
    assert json.dumps(result)  # plain values only

