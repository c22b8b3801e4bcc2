"""The README's configuration table matches config_declaration.yaml."""
from pathlib import Path

import pytest

from ckanext.vernetztestadt import docs

README = Path(__file__).resolve().parents[1] / "README.md"

DECLARATION = """
version: 1
groups:
  - annotation: test
    options:
      - key: ckanext.example.pipe
        default: "a|b"
        description: |
          Two lines,
          one cell.
      - key: ckanext.example.flag
        default: false
      - key: ckanext.example.no_default
      - key: ckanext.example.hidden
        internal: true
"""


def test_readme_table_is_up_to_date():
    """Regenerate with: python -m ckanext.vernetztestadt.docs --update README.md"""
    assert docs.extract_table(README.read_text(encoding="utf-8")) == docs.current_table()


def test_every_declared_option_is_in_the_table():
    table = docs.current_table()
    for option in docs.load_options():
        assert f"`{option.key}`" in table


def test_render_table_keeps_one_row_per_option():
    options = docs.load_options(DECLARATION)
    assert [o.key for o in options] == [
        "ckanext.example.pipe", "ckanext.example.flag", "ckanext.example.no_default"]
    rows = docs.render_table(options).splitlines()
    assert len(rows) == 2 + 3
    assert rows[2] == "| `ckanext.example.pipe` | `a\\|b` | Two lines, one cell. |"
    assert rows[3].startswith("| `ckanext.example.flag` | `false` |")
    assert rows[4].startswith(f"| `ckanext.example.no_default` | {docs.NO_DEFAULT} |")


def test_replace_table_touches_only_the_text_between_the_markers():
    document = f"before\n{docs.START_MARKER}\nold\n{docs.END_MARKER}\nafter\n"
    updated = docs.replace_table(document, "| new |")
    assert updated == f"before\n{docs.START_MARKER}\n| new |\n{docs.END_MARKER}\nafter\n"
    assert docs.extract_table(updated) == "| new |"
    assert docs.replace_table(updated, "| new |") == updated


def test_missing_markers_are_an_error():
    with pytest.raises(docs.MarkerError):
        docs.extract_table("no markers here")
    with pytest.raises(docs.MarkerError):
        docs.replace_table(f"{docs.END_MARKER}\n{docs.START_MARKER}", "x")


def test_main_check_and_update(tmp_path, capsys):
    target = tmp_path / "README.md"
    start, end = docs.FORMATS_MARKERS
    target.write_text(f"# x\n{docs.START_MARKER}\n{docs.END_MARKER}\n## y\n{start}\n{end}\n",
                      encoding="utf-8")
    assert docs.main(["--check", str(target)]) == 1
    assert docs.main(["--update", str(target)]) == 0
    assert docs.main(["--check", str(target)]) == 0
    written = target.read_text(encoding="utf-8")
    assert docs.extract_table(written) == docs.current_table()
    assert docs.extract_table(written, docs.FORMATS_MARKERS) == docs.formats_table()
    assert docs.main([]) == 0
    printed = capsys.readouterr().out
    assert docs.current_table() in printed and docs.formats_table() in printed


def test_module_docstrings_name_files_that_exist():
    """A ``name.py`` in a module's docstring is a file of the project (a
    docstring naming a module that was renamed or removed is stale)."""
    import ast
    import re

    root = Path(__file__).parents[1]
    files = {p.name for p in root.rglob("*.py") if ".venv" not in p.parts}
    stale = []
    for module in (root / "ckanext" / "vernetztestadt").rglob("*.py"):
        text = ast.get_docstring(ast.parse(module.read_text(encoding="utf-8"))) or ""
        stale += [f"{module.relative_to(root)}: {name}.py"
                  for name in set(re.findall(r"\b([a-z_]+)\.py\b", text))
                  if f"{name}.py" not in files]
    assert not stale
