"""The Data Package export (issue 17, item 5): ``/dataset/<name>/datapackage.json``
and ``.zip`` through HTTP, with files stored by package_create; frictionless
5 validates the unpacked zip and reads the rows the CSV holds; a private
dataset is refused exactly where its page is; hostile resource names give
safe zip entries and escaped JSON."""
from __future__ import annotations

import csv
import datetime
import decimal
import hashlib
import io
import json
import re
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import frictionless
import pytest
from ckan.tests import factories, helpers
from validation import german_csv
from werkzeug.datastructures import FileStorage

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

ENTRY = re.compile(r"datapackage\.json|data/[a-z0-9][a-z0-9._-]*\.[a-z0-9]{1,8}")


@pytest.fixture
def city():
    editor = factories.User()
    member = factories.User()
    org = factories.Organization(users=[{"name": editor["name"], "capacity": "editor"},
                                        {"name": member["name"], "capacity": "member"}])
    return {"editor": editor, "member": member, "org": org}


def upload(data: bytes, name: str = "Hotspots", filename: str = "hotspots.csv",
           **extra: str) -> dict:
    """A German hotspot table as the city's offices write it, declared."""
    return {"name": name, "format": "CSV", "url": filename, "url_type": "upload",
            "table_schema": "hotspots", "encoding": "cp1252", "csv_delimiter": ";",
            "csv_decimal_char": ",",
            "upload": FileStorage(io.BytesIO(data), filename=filename), **extra}


def create(city: dict, *resources: dict, **extra: object) -> dict:
    wanted = {"name": f"wlan-{uuid.uuid4().hex[:8]}", "title": "WLAN-Hotspots",
              "owner_org": city["org"]["id"], "notes": "Öffentliche WLAN-Hotspots.",
              "license_id": "dl-de-by-2.0", "resources": list(resources), **extra}
    return helpers.call_action(
        "package_create", {"user": city["editor"]["name"], "ignore_auth": False}, **wanted)


def get(app, url: str, user: dict | None = None, status: int | tuple[int, ...] = 200):
    headers = {"Authorization": factories.APIToken(user=user["name"])["token"]} if user else {}
    response = app.get(url, headers=headers)
    assert response.status_code in (status if isinstance(status, tuple) else (status,))
    return response


def unpacked(app, dataset: dict, folder: Path) -> Path:
    response = get(app, f"/dataset/{dataset['name']}/datapackage.zip")
    assert response.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert all(ENTRY.fullmatch(name) for name in archive.namelist())
        archive.extractall(folder)
    return folder / "datapackage.json"


class TestDescriptor:
    def test_a_german_table_is_described_as_the_validation_reads_it(self, app, city):
        data = german_csv.valid()
        dataset = create(city, upload(data))
        response = get(app, f"/dataset/{dataset['name']}/datapackage.json")
        assert response.headers["Content-Type"].startswith("application/json")
        package = response.json
        assert package["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
        assert package["name"] == dataset["name"] and package["title"] == "WLAN-Hotspots"
        assert package["description"] == "Öffentliche WLAN-Hotspots."
        assert package["homepage"] == f"http://test.ckan.net/dataset/{dataset['name']}"
        assert package["licenses"] == [{
            "name": "dl-de-by-2.0", "path": "http://dcat-ap.de/def/licenses/dl-by-de/2.0",
            "title": "Datenlizenz Deutschland \u2013 Namensnennung \u2013 Version 2.0"}]
        [resource] = package["resources"]
        assert resource["name"] == "hotspots" and resource["title"] == "Hotspots"
        assert resource["path"] == dataset["resources"][0]["url"]
        assert resource["path"].endswith("/download/hotspots.csv")
        assert (resource["format"], resource["mediatype"]) == ("csv", "text/csv")
        assert resource["encoding"] == "windows-1252" and resource["type"] == "table"
        assert resource["bytes"] == len(data)
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert resource["dialect"]["delimiter"] == ";" and resource["dialect"]["header"]
        numbers = [f for f in resource["schema"]["fields"] if f["type"] == "number"]
        assert [f["name"] for f in numbers] == ["latitude", "longitude"]
        assert all((f["decimalChar"], f["groupChar"]) == (",", ".") for f in numbers)
        assert frictionless.Package.validate_descriptor(package).valid

    def test_a_point_decimal_table_gets_the_point(self, app, city):
        rows = [[cell.replace(",", ".") for cell in row] for row in german_csv.rows()]
        data = german_csv.encode(rows, encoding="utf-8", delimiter=",")
        dataset = create(city, upload(data, encoding="utf-8", csv_delimiter=",",
                                      csv_decimal_char="."))
        [resource] = get(app, f"/dataset/{dataset['name']}/datapackage.json").json["resources"]
        assert resource["encoding"] == "utf-8" and resource["dialect"]["delimiter"] == ","
        numbers = [f for f in resource["schema"]["fields"] if f["type"] == "number"]
        assert all(f["decimalChar"] == "." and "groupChar" not in f for f in numbers)

    def test_a_linked_file_keeps_its_url_without_a_hash(self, app, city):
        dataset = create(city, {"name": "Plan", "format": "PDF",
                                "url": "https://example.org/plan.pdf"})
        [resource] = get(app, f"/dataset/{dataset['name']}/datapackage.json").json["resources"]
        assert resource["path"] == "https://example.org/plan.pdf"
        assert resource["format"] == "pdf" and "hash" not in resource
        assert "schema" not in resource and "dialect" not in resource

    def test_an_unknown_dataset_is_a_german_404(self, app):
        for suffix in ("json", "zip"):
            response = get(app, f"/dataset/gibt-es-nicht/datapackage.{suffix}", status=404)
            assert "Datensatz nicht gefunden" in response.body


class TestZip:
    def test_frictionless_validates_it_and_reads_the_csv_rows(self, app, city, tmp_path):
        data = german_csv.valid(count=12)
        dataset = create(city, upload(data))
        descriptor = unpacked(app, dataset, tmp_path)
        described = json.loads(descriptor.read_text(encoding="utf-8"))
        assert described["resources"][0]["path"] == "data/hotspots.csv"
        assert (tmp_path / "data" / "hotspots.csv").read_bytes() == data
        package = frictionless.Package(str(descriptor))
        report = package.validate()
        assert report.valid, report.flatten(["type", "note"])
        expected = list(csv.reader(io.StringIO(data.decode("cp1252"), newline=""),
                                   delimiter=";"))
        table = package.get_resource("hotspots")
        assert [list(row) for row in table.read_cells()] == expected
        assert [list(row.values()) for row in table.read_rows()] == [
            typed(row) for row in expected[1:]]

    def test_the_frictionless_command_passes_it(self, app, city, tmp_path):
        descriptor = unpacked(app, create(city, upload(german_csv.valid())), tmp_path)
        done = subprocess.run([sys.executable, "-m", "frictionless", "validate", "--json",
                               str(descriptor)], capture_output=True, text=True, timeout=120)
        assert json.loads(done.stdout)["valid"], done.stdout[-2000:]

    def test_several_tables_each_their_own_file(self, app, city, tmp_path):
        first, second = german_csv.valid(count=3), german_csv.valid(count=7)
        dataset = create(city, upload(first, name="Stand 2024", filename="a.csv"),
                         upload(second, name="Stand 2025", filename="b.csv"))
        descriptor = unpacked(app, dataset, tmp_path)
        assert frictionless.Package(str(descriptor)).validate().valid
        assert (tmp_path / "data" / "stand-2024.csv").read_bytes() == first
        assert (tmp_path / "data" / "stand-2025.csv").read_bytes() == second


def typed(row: list[str]) -> list[object]:
    """A hotspot row's values as the Table Schema types them (decimal comma)."""
    values: list[object] = list(row)
    for column in ("latitude", "longitude"):
        at = german_csv.HEADER.index(column)
        values[at] = decimal.Decimal(row[at].replace(".", "").replace(",", "."))
    at = german_csv.HEADER.index("last_seen")
    values[at] = datetime.date.fromisoformat(row[at])
    return values


class TestPermissions:
    @pytest.fixture
    def private(self, city):
        return create(city, upload(german_csv.valid()), private=True)

    @pytest.mark.parametrize("suffix", ["json", "zip"])
    @pytest.mark.parametrize("who", ["anonymous", "outsider"])
    def test_refused_like_the_dataset_page(self, app, private, who, suffix):
        user = factories.User() if who == "outsider" else None
        page = get(app, f"/dataset/{private['name']}", user, status=(403, 404))
        export = get(app, f"/dataset/{private['name']}/datapackage.{suffix}", user,
                     status=(403, 404))
        assert export.status_code == page.status_code
        assert "hotspots" not in export.body and private["resources"][0]["id"] not in export.body

    @pytest.mark.parametrize("suffix", ["json", "zip"])
    @pytest.mark.parametrize("who", ["member", "sysadmin"])
    def test_readers_get_it(self, app, city, private, who, suffix):
        user = city["member"] if who == "member" else factories.Sysadmin()
        response = get(app, f"/dataset/{private['name']}/datapackage.{suffix}", user)
        if suffix == "zip":
            with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
                assert archive.namelist() == ["datapackage.json", "data/hotspots.csv"]
        else:
            assert [r["name"] for r in response.json["resources"]] == ["hotspots"]

    def test_the_refusal_reads_no_file(self, app, private, monkeypatch):
        from ckanext.vernetztestadt.validation import resource_files

        def never(resource: dict) -> None:
            raise AssertionError("a file was looked up for a refused caller")

        monkeypatch.setattr(resource_files, "upload_path", never)
        get(app, f"/dataset/{private['name']}/datapackage.zip", status=(403, 404))


class TestHostileNames:
    NAMES = ["../../etc/passwd", '"><script>alert(1)</script>', "O'Brien & \"Söhne\"",
             "/absolut", "...", "Hotspots", "HOTSPOTS"]

    def test_safe_entries_and_escaped_json(self, app, city, tmp_path):
        dataset = create(city, *(upload(german_csv.valid(count=2), name=name,
                                        filename=f"f{i}.csv")
                                 for i, name in enumerate(self.NAMES)),
                         title="<b>WLAN</b> & </script>")
        response = get(app, f"/dataset/{dataset['name']}/datapackage.json")
        assert "<" not in response.body and ">" not in response.body
        package = response.json
        assert package["title"] == "<b>WLAN</b> & </script>"
        names = [r["name"] for r in package["resources"]]
        assert [r["title"] for r in package["resources"]] == self.NAMES
        assert len(set(names)) == len(names)
        assert all(re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name) for name in names)
        assert names[0] == "etc-passwd" and "hotspots-2" in names
        descriptor = unpacked(app, dataset, tmp_path)
        assert {p.parent for p in tmp_path.rglob("*.csv")} == {tmp_path / "data"}
        assert frictionless.Package(str(descriptor)).validate().valid


def test_the_dataset_page_links_both_exports(app, city):
    dataset = create(city, upload(german_csv.valid()))
    page = get(app, f"/dataset/{dataset['name']}").body
    assert f'href="/dataset/{dataset["name"]}/datapackage.json"' in page
    assert f'href="/dataset/{dataset["name"]}/datapackage.zip"' in page
    assert "Data Package (Frictionless)" in page
