"""The publication gate attacked (issue 12, findings 1, 2, 6, 7, 9, 10, 14, 15):
it checks CKAN's permission before any work, reads no file the caller may
not update, judges tables by their bytes, keeps file, report and badge as
one unit, and answers broken or hostile files with a German 4xx."""
from __future__ import annotations

import gzip
import io
import json
import time
import uuid
from pathlib import Path

import german_csv
import pytest
from ckan.logic import ValidationError
from ckan.tests import factories, helpers

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

SECRET = "GEHEIM-" + uuid.uuid4().hex[:8]
SECRET_NAME = "Kassenbuch-" + uuid.uuid4().hex[:8]
#: a private table that fails its schema in a cell holding the secret
PRIVATE_TABLE = german_csv.with_cell(2, "latitude", SECRET)
ENUM_SCHEMA = json.dumps({"fields": [{"name": "id", "type": "string",
                                      "constraints": {"enum": ["nichts"]}}]})


@pytest.fixture
def city():
    """The city's organization with an editor, and a private dataset whose
    invalid table names and contains a secret."""
    editor = factories.UserWithToken()
    org = factories.Organization(users=[{"name": editor["name"], "capacity": "editor"}])
    dataset = factories.Dataset(owner_org=org["id"], private=True, name="kasse")
    return {"editor": editor, "org": org, "dataset": dataset,
            "context": {"user": editor["name"]}}


@pytest.fixture
def private_resource(city, create_with_upload):
    return create_with_upload(PRIVATE_TABLE, "kasse.csv", context=dict(city["context"]),
                              package_id=city["dataset"]["id"], format="CSV",
                              name=SECRET_NAME, table_schema="hotspots")


@pytest.fixture
def outsider():
    """An editor of another organization."""
    user = factories.UserWithToken()
    org = factories.Organization(users=[{"name": user["name"], "capacity": "editor"}])
    return {"user": user, "org": org}


def leaks(text: str) -> list[str]:
    return [marker for marker in (SECRET, SECRET_NAME, "/storage/", ".portal")
            if marker in text]


def api(app, action: str, body: dict, token: str | None = None, status: int | None = None):
    headers = {"Authorization": token} if token else {}
    return app.post(f"/api/3/action/{action}", json=body, headers=headers, status=status)


def text_of(response) -> str:
    """The answer as a reader sees it (the API escapes non-ASCII)."""
    return json.dumps(response.json, ensure_ascii=False)


class TestPermissionBeforeValidation:
    """Finding 1: CKAN's check_access runs before the gate does any work."""

    def test_the_private_report_is_reachable_for_the_editor(self, app, city, private_resource):
        # the control: the secret is in what the gate says to those who may know it
        response = api(app, "package_patch", {"id": city["dataset"]["id"], "private": False},
                       token=city["editor"]["token"], status=409)
        assert SECRET in text_of(response)

    def test_anonymous_package_update(self, app, city, private_resource):
        response = api(app, "package_update", {"id": city["dataset"]["id"], "private": False,
                                               "name": "kasse"}, status=403)
        assert not leaks(text_of(response))
        assert helpers.call_action("package_show", id=city["dataset"]["id"])["private"]

    def test_anonymous_bulk_update_public(self, app, city, private_resource):
        response = api(app, "bulk_update_public", {"datasets": [city["dataset"]["id"]],
                                                   "org_id": city["org"]["id"]}, status=403)
        assert not leaks(text_of(response))

    def test_bulk_update_public_of_another_org(self, app, city, private_resource, outsider):
        """Authorized for its own organization, the caller names the city's
        dataset: CKAN would not touch it, so the gate does not judge it."""
        response = api(app, "bulk_update_public", {"datasets": [city["dataset"]["id"]],
                                                   "org_id": outsider["org"]["id"]},
                       token=outsider["user"]["token"])
        assert not leaks(text_of(response))
        assert helpers.call_action("package_show", id=city["dataset"]["id"])["private"]

    def test_anonymous_create_fetches_nothing(self, app, city, httpserver):
        httpserver.expect_request("/slow.csv").respond_with_data(german_csv.valid())
        started = time.monotonic()
        api(app, "package_create", {
            "name": "anon", "owner_org": city["org"]["id"],
            "resources": [{"url": httpserver.url_for("/slow.csv"), "format": "CSV"}] * 2},
            status=403)
        assert httpserver.log == []
        assert time.monotonic() - started < 5

    def test_a_create_named_like_a_private_dataset_reads_nothing(self, city, private_resource,
                                                                 outsider):
        """package_create with the name of the city's private dataset and no
        resources: the gate must not judge that dataset's tables."""
        with pytest.raises(ValidationError) as excinfo:
            helpers.call_action("package_create", context={"user": outsider["user"]["name"]},
                                name="kasse", owner_org=outsider["org"]["id"])
        assert not leaks(str(excinfo.value.error_dict))


class TestForeignResourceIds:
    """Finding 2: the gate reads only the incoming stream or the stored file
    of a resource of the changed dataset."""

    def attack(self, private_resource) -> dict:
        return {"id": private_resource["id"], "url_type": "upload", "url": "f.csv",
                "format": "CSV", "csv_delimiter": "¤", "table_schema": ENUM_SCHEMA}

    def test_package_create_with_another_resources_id(self, app, city, private_resource,
                                                      outsider):
        response = api(app, "package_create", {
            "name": "dieb", "owner_org": outsider["org"]["id"],
            "resources": [self.attack(private_resource)]},
            token=outsider["user"]["token"], status=409)
        text = text_of(response)
        assert "gehört nicht zu diesem Datensatz" in text
        assert not leaks(text) and "Betreiber" not in text
        kept = helpers.call_action("resource_show", id=private_resource["id"])
        assert kept["package_id"] == city["dataset"]["id"]

    def test_package_update_of_an_own_dataset(self, app, city, private_resource, outsider):
        own = factories.Dataset(owner_org=outsider["org"]["id"], private=True)
        response = api(app, "package_update", {
            "id": own["id"], "name": own["name"], "owner_org": outsider["org"]["id"],
            "resources": [self.attack(private_resource)]},
            token=outsider["user"]["token"], status=409)
        assert not leaks(text_of(response))
        assert helpers.call_action("package_show", id=city["dataset"]["id"])[
            "resources"][0]["id"] == private_resource["id"]


@pytest.fixture
def public(city, create_with_upload):
    """A public dataset with a valid uploaded table."""
    dataset = factories.Dataset(owner_org=city["org"]["id"], name="oeffentlich")
    original = german_csv.valid(6)
    resource = create_with_upload(original, "hotspots.csv", context=dict(city["context"]),
                                  package_id=dataset["id"], format="CSV",
                                  table_schema="hotspots")
    return {"dataset": dataset, "resource": resource, "bytes": original}


def served(app, resource_id: str) -> bytes:
    url = helpers.call_action("resource_show", id=resource_id)["url"]
    return app.get(url).data


def state(app, public) -> tuple:
    """What visitors get: the served file, the report and the badge."""
    rid = public["resource"]["id"]
    report = helpers.call_action("resource_validation_show", resource_id=rid)
    shown = helpers.call_action("package_show", id=public["dataset"]["id"])
    return (served(app, rid), report["sha256"], report["created"], report["status"],
            shown["validation_status"], shown["resources"][0]["url"])


class TestFormatDecidedAfterNormalisation:
    """Finding 6: a table is what CKAN's normalised format or its bytes say."""

    def test_html_labelled_text_csv(self, city, public, create_with_upload):
        page = b"<!DOCTYPE html><html><body><h1>Anmeldung</h1></body></html>"
        with pytest.raises(ValidationError, match="HTML-Seite"):
            create_with_upload(page, "seite.bin", context=dict(city["context"]),
                               package_id=public["dataset"]["id"], format="text/csv")
        assert len(helpers.call_action("package_show",
                                       id=public["dataset"]["id"])["resources"]) == 1

    def test_a_broken_table_labelled_pdf(self, city, public, create_with_upload):
        broken = german_csv.with_cell(1, "latitude", "nördlich")
        with pytest.raises(ValidationError, match="Falscher Datentyp"):
            create_with_upload(broken, "bericht.pdf", context=dict(city["context"]),
                               package_id=public["dataset"]["id"], format="PDF",
                               table_schema="hotspots")

    def test_a_valid_table_labelled_pdf_is_validated_and_relabelled(self, city, public,
                                                                    create_with_upload):
        resource = create_with_upload(german_csv.valid(), "tabelle.pdf",
                                      context=dict(city["context"]),
                                      package_id=public["dataset"]["id"], format="PDF",
                                      table_schema="hotspots")
        assert resource["format"] == "CSV"
        report = helpers.call_action("resource_validation_show", resource_id=resource["id"])
        assert report["status"] == "success"

    def test_a_real_pdf_stays_a_document(self, city, public, create_with_upload):
        resource = create_with_upload(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "plan.pdf",
                                      context=dict(city["context"]),
                                      package_id=public["dataset"]["id"], format="PDF")
        assert resource["format"] == "PDF"


class TestOneUnit:
    """Finding 7: validation result, report and stored file change together."""

    def test_a_gzip_file_as_csv_is_refused_and_changes_nothing(self, app, city, public,
                                                               create_with_upload):
        before = state(app, public)
        packed = gzip.compress(german_csv.valid(50))
        with pytest.raises(ValidationError, match="gzip-Archiv"):
            create_with_upload(packed, "hotspots.csv", context=dict(city["context"]),
                               action="resource_update", id=public["resource"]["id"],
                               format="CSV", table_schema="hotspots")
        assert state(app, public) == before
        assert before[0] == public["bytes"]

    def test_a_failure_after_ckan_wrote_the_file(self, app, city, public, create_with_upload,
                                                 monkeypatch):
        """Whatever fails once CKAN stored the new upload (here the report
        store, made to fail), the previous file, report and badge stay."""
        from ckanext.vernetztestadt.validation import resource_check

        def broken_store(*args, **kwargs):
            raise RuntimeError("Speicher nicht erreichbar")

        before = state(app, public)
        monkeypatch.setattr(resource_check, "record", broken_store)
        with pytest.raises(RuntimeError):
            create_with_upload(german_csv.valid(9), "hotspots.csv",
                               context=dict(city["context"]), action="resource_update",
                               id=public["resource"]["id"], format="CSV",
                               table_schema="hotspots")
        monkeypatch.undo()
        import ckan.model as model
        model.Session.remove()
        assert state(app, public) == before
        folder = Path(helpers.call_action("resource_show", id=public["resource"]["id"])
                      and __import__("ckan.lib.uploader", fromlist=["x"]).get_storage_path())
        assert not list(folder.rglob("*.vts-previous-*"))


def xlsx_bytes(rows: int, columns: int = 3) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Daten")
    sheet.append([f"spalte{c}" for c in range(columns)])
    for row in range(rows):
        sheet.append([row, f"Wert {row}", row * 0.5][:columns])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


class TestBrokenFiles:
    """Finding 9 (and 14's binary content): a German 4xx naming the problem."""

    @pytest.mark.parametrize("data, filename, fmt, expected", [
        (bytes(range(256)) * 40, "junk.csv", "CSV", "Binärdatei"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000, "bild.csv", "CSV", "PNG-Bild"),
        (b"PK\x03\x04" + b"\x00kaputt" * 50, "kaputt.xlsx", "XLSX", "beschädigt"),
        (b"kein Excel, nur Text;\nzweite Zeile;\n", "alt.xls", "XLS", "XLS"),
        (b'[{"a": 1}, {"a": ', "abgebrochen.json", "JSON", "kein gültiges JSON"),
        (b'{"kein": "Tabellenformat"}', "objekt.json", "JSON", "JSON"),
    ], ids=["binary-junk", "png", "broken-xlsx", "junk-xls", "cut-json", "json-object"])
    def test_refused_in_german(self, app, city, create_with_upload, data, filename, fmt,
                               expected):
        dataset = factories.Dataset(owner_org=city["org"]["id"])
        response = app.post("/api/3/action/resource_create",
                            headers={"Authorization": city["editor"]["token"]},
                            data={"package_id": dataset["id"], "format": fmt,
                                  "upload": (io.BytesIO(data), filename)},
                            status=409)
        text = text_of(response)
        assert expected in text and "Traceback" not in text

    def test_nul_bytes_in_a_cell_after_the_first_kilobytes(self, city, create_with_upload):
        table = german_csv.rows(400)
        table[350][1] = "Hotspot\x00\x00Rathaus"
        dataset = factories.Dataset(owner_org=city["org"]["id"])
        with pytest.raises(ValidationError, match="Steuerzeichen"):
            create_with_upload(german_csv.encode(table), "nul.csv",
                               context=dict(city["context"]), package_id=dataset["id"],
                               format="CSV", table_schema="hotspots")

    def test_an_unterminated_quote(self, city, create_with_upload):
        data = german_csv.valid(5).replace(b"Hotspot Hoch", b'"Hotspot Hoch')
        dataset = factories.Dataset(owner_org=city["org"]["id"])
        with pytest.raises(ValidationError, match="Anführungszeichen"):
            create_with_upload(data, "quote.csv", context=dict(city["context"]),
                               package_id=dataset["id"], format="CSV")


FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"Klick\")", "@SUM(A1:A9)",
            "=cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0"]


class TestFormulaCells:
    """Finding 14: CSV injection is flagged; the site's policy decides."""

    def table(self) -> bytes:
        table = german_csv.rows(6)
        for row, formula in zip(table, FORMULAS, strict=False):
            row[1] = formula
        return german_csv.encode(table)

    def test_warned_by_default_and_listed_in_the_report(self, city, create_with_upload):
        dataset = factories.Dataset(owner_org=city["org"]["id"])
        resource = create_with_upload(self.table(), "formeln.csv",
                                      context=dict(city["context"]), package_id=dataset["id"],
                                      format="CSV", table_schema="hotspots")
        report = helpers.call_action("resource_validation_show", resource_id=resource["id"])
        warnings = " ".join(report["report"]["tasks"][0]["warnings"])
        assert report["status"] == "success"
        assert "4 Zelle(n) beginnen wie eine Tabellenkalkulations-Formel" in warnings
        assert "Zeile 2, Spalte „name“" in warnings

    @pytest.mark.ckan_config("ckanext.vernetztestadt.validation.formula_cells", "refuse")
    def test_refused_by_policy(self, city, create_with_upload):
        dataset = factories.Dataset(owner_org=city["org"]["id"])
        with pytest.raises(ValidationError, match="CSV-Injection"):
            create_with_upload(self.table(), "formeln.csv", context=dict(city["context"]),
                               package_id=dataset["id"], format="CSV", table_schema="hotspots")

    def test_negative_numbers_and_phone_numbers_are_no_formulas(self):
        from ckanext.vernetztestadt.validation.cells import is_formula

        assert not any(is_formula(v) for v in ("-5", "-1.234,5", "+49 209 169-0", "-"))
        assert all(is_formula(v) for v in FORMULAS)


class TestRequestTimeBound:
    """Finding 10: the bound is the table's real size and a deadline; beyond
    it the validation goes to the background job."""

    def test_twenty_thousand_columns_go_to_the_background(self, city, create_with_upload):
        header = ";".join(f"s{i}" for i in range(20_000))
        data = (header + "\r\n" + ";".join("1" for _ in range(20_000)) + "\r\n").encode()
        dataset = factories.Dataset(owner_org=city["org"]["id"], private=True)
        started = time.monotonic()
        resource = create_with_upload(data, "breit.csv", context=dict(city["context"]),
                                      package_id=dataset["id"], format="CSV")
        assert time.monotonic() - started < 30
        assert helpers.call_action("resource_validation_show",
                                   resource_id=resource["id"])["status"] == "created"

    def test_a_small_xlsx_with_many_rows_goes_to_the_background(self, city,
                                                                create_with_upload):
        data = xlsx_bytes(60_000)
        assert len(data) < 5 * 1024**2  # under the byte bound: rows decide
        dataset = factories.Dataset(owner_org=city["org"]["id"], private=True)
        resource = create_with_upload(data, "lang.xlsx", context=dict(city["context"]),
                                      package_id=dataset["id"], format="XLSX")
        assert helpers.call_action("resource_validation_show",
                                   resource_id=resource["id"])["status"] == "created"

    @pytest.mark.ckan_config("ckanext.vernetztestadt.validation.sync_max_seconds", "0")
    def test_past_the_deadline_goes_to_the_background(self, city, create_with_upload):
        dataset = factories.Dataset(owner_org=city["org"]["id"], private=True)
        resource = create_with_upload(german_csv.valid(), "klein.csv",
                                      context=dict(city["context"]), package_id=dataset["id"],
                                      format="CSV", table_schema="hotspots")
        assert helpers.call_action("resource_validation_show",
                                   resource_id=resource["id"])["status"] == "created"


@pytest.mark.ckan_config("ckanext.vernetztestadt.validation.sync_max_bytes", "300")
class TestStagedFiles:
    """Finding 15: a held-back file's path is never shown; its name and
    report only to those who may update the resource; no orphan file."""

    def staging_files(self) -> list[Path]:
        from ckan.lib.uploader import get_storage_path

        folder = Path(get_storage_path()) / "vernetztestadt" / "staging"
        return sorted(folder.glob("*")) if folder.exists() else []

    def test_what_anonymous_and_editors_see(self, app, city, create_with_upload):
        dataset = factories.Dataset(owner_org=city["org"]["id"])
        small = german_csv.valid(1)
        assert len(small) <= 300
        resource = create_with_upload(small, "h.csv", context=dict(city["context"]),
                                      package_id=dataset["id"], format="CSV",
                                      table_schema="hotspots")
        create_with_upload(german_csv.valid(40), "neu.csv", context=dict(city["context"]),
                           action="resource_update", id=resource["id"], format="CSV",
                           table_schema="hotspots")
        anonymous = app.get(f"/api/3/action/resource_validation_show?id={resource['id']}")
        shown = anonymous.json["result"]["staged"]
        assert shown == {"state": "created"}
        assert not leaks(text_of(anonymous))
        editor = app.get(f"/api/3/action/resource_validation_show?id={resource['id']}",
                         headers={"Authorization": city["editor"]["token"]})
        assert editor.json["result"]["staged"]["filename"] == "neu.csv"
        assert "path" not in editor.json["result"]["staged"]

    def test_no_orphan_after_a_failed_change(self, app, city, create_with_upload, monkeypatch):
        from ckanext.vernetztestadt.validation import gate

        dataset = factories.Dataset(owner_org=city["org"]["id"])
        resource = create_with_upload(german_csv.valid(1), "h.csv",
                                      context=dict(city["context"]), package_id=dataset["id"],
                                      format="CSV", table_schema="hotspots")
        before = self.staging_files()

        def broken(*args, **kwargs):
            raise RuntimeError("Abbruch nach dem Zurückhalten")

        monkeypatch.setattr(gate.Pending, "record", broken)
        with pytest.raises(RuntimeError):
            create_with_upload(german_csv.valid(40), "neu.csv", context=dict(city["context"]),
                               action="resource_update", id=resource["id"], format="CSV",
                               table_schema="hotspots")
        assert self.staging_files() == before
