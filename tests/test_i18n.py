"""The translation catalogue: German msgids, English translation, compiled files.

Checks that the ``.pot`` holds what the sources mark for translation, that
the English catalogue translates every message of the ``.pot``, that the
German catalogue (source language) repeats each msgid, that the committed
``.mo`` files are what ``pybabel compile`` makes of the ``.po`` files
(``make i18n``), and that CKAN serves the footer in both languages.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup
from ckan.tests import factories, helpers

import ckanext.vernetztestadt as package

ROOT = Path(__file__).resolve().parents[1]
PYBABEL = Path(sys.executable).with_name("pybabel")
DOMAIN = "ckanext-vernetztestadt"
I18N = Path(package.__file__).parent / "i18n"
LOCALES = ("de", "en")
FOOTER = {"de": "Die Vernetzte Stadt", "en": "The Connected City"}


def _po_path(locale: str) -> Path:
    return I18N / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def _read_po(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def _read_mo(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_mo(f)


def _messages(catalog: Catalog) -> dict[object, object]:
    """msgid -> msgstr of the real messages (no header, no obsolete entries;
    plural forms as tuples)."""
    def frozen(value: object) -> object:
        return tuple(value) if isinstance(value, list) else value

    return {frozen(m.id): frozen(m.string) for m in catalog if m.id}


def _template_ids() -> set[object]:
    return set(_messages(_read_po(I18N / f"{DOMAIN}.pot")))


def _upstream() -> dict[object, object]:
    """The hand-kept German of upstream strings (i18n/upstream/de.po)."""
    return _messages(_read_po(I18N / "upstream" / "de.po"))


def test_template_is_up_to_date_with_the_sources(tmp_path: Path) -> None:
    """Extracting now (as ``make i18n`` does) finds the same messages."""
    fresh = tmp_path / f"{DOMAIN}.pot"
    result = subprocess.run([str(PYBABEL), "-q", "extract", "-F", str(ROOT / "babel.cfg"),
                             "-o", str(fresh), "ckanext/vernetztestadt"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert set(_messages(_read_po(fresh))) == _template_ids(), "run `make i18n`"


def test_template_has_the_footer_messages() -> None:
    """The footer's own words; the portal's name comes from its texts
    (texts/gelsenkirchen.yaml, both languages)."""
    assert {"Datenlizenz Deutschland \u2013 Namensnennung 2.0", "CKAN-API"} <= _template_ids()


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_matches_template(locale: str) -> None:
    expected = _template_ids() | (set(_upstream()) if locale == "de" else set())
    assert set(_messages(_read_po(_po_path(locale)))) == expected, \
        "run `make i18n` after changing translatable strings"


def test_every_message_has_an_english_translation() -> None:
    catalog = _read_po(_po_path("en"))
    for msgid in _template_ids():
        message = catalog.get(msgid)
        assert message is not None, f"missing in en: {msgid!r}"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(s.strip() for s in strings), f"no English translation for {msgid!r}"
        assert not message.fuzzy, f"English translation of {msgid!r} is fuzzy"


def test_german_translation_is_the_msgid() -> None:
    """Own msgids are German; upstream's English ones get their German."""
    messages = _messages(_read_po(_po_path("de")))
    upstream = _upstream()
    assert {k: v for k, v in messages.items() if k not in upstream} == \
        {msgid: msgid for msgid in _template_ids()}
    assert {k: messages[k] for k in upstream} == upstream


def test_upstream_german_is_only_what_upstream_lacks() -> None:
    """Each hand-kept entry is a msgid of CKAN, ckanext-harvest or
    ckanext-scheming (spelt as there) that CKAN's German (as compiled, as
    served) leaves untranslated:
    nothing of CKAN's own German is replaced, no entry is stale."""
    import ckan
    import ckanext.harvest
    import ckanext.scheming

    core = Path(ckan.__file__).parent / "i18n"
    # what CKAN serves: its compiled catalogue (it lacks some of its .po)
    german = _messages(_read_mo(core / "de" / "LC_MESSAGES" / "ckan.mo"))
    known = set(_messages(_read_po(core / "ckan.pot")))
    known |= set(_messages(_read_po(Path(ckanext.harvest.__file__).parent / "i18n"
                                    / "ckanext-harvest.pot")))
    # strings upstream passes through _() without a catalogue entry: scheming's
    # templates, harvest's facet titles (plugin.py) and job counts
    harvest = Path(ckanext.harvest.__file__).parent
    scheming = " ".join(path.read_text(encoding="utf-8") for path in
                        [*Path(ckanext.scheming.__file__).parent.rglob("*.html"),
                         harvest / "plugin.py",
                         harvest / "templates" / "snippets" / "job_details.html"])
    search_texts = (Path(ckan.__file__).parent / "templates" / "snippets"
                    / "search_result_text.html").read_text(encoding="utf-8")
    for msgid, msgstr in _upstream().items():
        first = msgid[0] if isinstance(msgid, tuple) else msgid
        dynamic = "harvest" in first and "found" in first and "' + type + '" in search_texts
        assert msgid in known or f"'{first}'" in scheming or dynamic, f"not upstream: {msgid!r}"
        assert not german.get(msgid), f"CKAN translates {msgid!r} already"
        assert all(msgstr) if isinstance(msgstr, tuple) else msgstr, msgid


@pytest.mark.usefixtures("clean_db", "clean_index")
@pytest.mark.parametrize("locale", ["de", "en"])
def test_harvest_pages_speak_the_pages_language(app, locale: str) -> None:
    """ckanext-harvest's list page in German (its strings from the upstream
    catalogue, its facet titles and schedule codes as labels), in English as
    upstream wrote it."""
    sysadmin = factories.Sysadmin()
    helpers.call_action("harvest_source_create", context={"user": sysadmin["name"]},
                        owner_org=factories.Organization()["id"], name="quelle", title="Quelle", url="http://127.0.0.1:1/quelle.csv",
                        source_type="vernetztestadt_wifi", frequency="MANUAL")
    prefix = "" if locale == "de" else "/en"
    token = factories.APIToken(user=sysadmin["name"])["token"]
    page = app.get(f"{prefix}/harvest/", headers={"Authorization": token})
    assert page.status_code == 200
    words = {"de": ["1 Harvest-Quelle gefunden", "Harvest-Quelle hinzufügen", "Rhythmus",
                    "manuell", "Harvest-Quellen durchsuchen"],
             "en": ["1 harvest found", "Add Harvest Source", "Frequency", "manual"]}
    for word in words[locale]:
        assert word in page.body, word
    if locale == "de":
        text = BeautifulSoup(page.body, "html.parser").get_text(" ")
        for english in ("harvest found", "Add Harvest Source", "Frequency", "MANUAL"):
            assert english not in text, english


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogue_is_up_to_date(locale: str, tmp_path: Path) -> None:
    """Compiling the .po now gives the same messages as the committed .mo."""
    fresh = tmp_path / f"{DOMAIN}.mo"
    with fresh.open("wb") as f:
        write_mo(f, _read_po(_po_path(locale)))
    committed_path = _po_path(locale).with_suffix(".mo")
    assert committed_path.exists(), "run `make i18n`"
    expected = _messages(_read_mo(fresh))
    committed = _messages(_read_mo(committed_path))
    assert committed == expected, "the .mo is older than the .po: run `make i18n`"
    assert "Prüfstatus" in committed


@pytest.mark.parametrize(("url", "locale"), [("/user/login", "de"), ("/en/user/login", "en")])
def test_footer_is_translated(app, url: str, locale: str) -> None:
    res = app.get(url)
    assert res.status_code == 200
    other = "en" if locale == "de" else "de"
    assert FOOTER[locale] in res.body
    assert FOOTER[other] not in res.body


def test_own_msgids_leave_ckans_german_alone() -> None:
    """An own msgid that is also one of CKAN's (English) would give CKAN's
    string its msgid as German; only words German spells alike may be both."""
    import ckan

    core = Path(ckan.__file__).parent / "i18n"
    german = _messages(_read_po(core / "de" / "LC_MESSAGES" / "ckan.po"))
    shared = _template_ids() & set(_messages(_read_po(core / "ckan.pot")))
    assert {msgid: german.get(msgid) for msgid in shared} == {m: m for m in shared}
