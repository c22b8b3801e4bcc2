"""The README's generated tables (configuration, harvest formats) and test.ini's plugin line.

Owns: reading the packaged config declaration (through ``importlib.resources``,
so it works from an installed wheel as well as from the source tree),
rendering its options as a Markdown table (key, default, description), the
table of the registered harvest formats and harvester types (from their
registries, ``harvest.formats`` and ``harvest.registry``), and replacing the
text between each table's README markers (``<!-- config-table:start -->`` …
``<!-- config-table:end -->``, ``<!-- harvest-formats:start -->`` …
``<!-- harvest-formats:end -->``); and test.ini's ``ckan.plugins`` line, the
portal's plugin list (``runtime.ckan_config``, harvesters from their
registry), so that a new harvester type needs no edit there.

Must not touch: CKAN itself (no ``ckan`` import, so it runs without a config
file or services) or any part of the README outside the markers.

Usage::

    python -m ckanext.vernetztestadt.docs                     # print the table
    python -m ckanext.vernetztestadt.docs --update README.md  # rewrite the table
    python -m ckanext.vernetztestadt.docs --check README.md   # exit 1 if stale
    python -m ckanext.vernetztestadt.docs --update test.ini   # the plugin line
"""
from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

PACKAGE = "ckanext.vernetztestadt"
DECLARATION = "config_declaration.yaml"
START_MARKER = "<!-- config-table:start -->"
END_MARKER = "<!-- config-table:end -->"
FORMATS_MARKERS = ("<!-- harvest-formats:start -->", "<!-- harvest-formats:end -->")
HEADER = ("Option", "Standardwert / Default", "Beschreibung / Description")
NO_DEFAULT = "\N{EN DASH}"  # shown when an option declares no default


class MarkerError(ValueError):
    """The document lacks the table markers or has them in the wrong order."""


@dataclass(frozen=True)
class Option:
    """One declared configuration option, as the table shows it."""

    key: str
    default: Any
    description: str
    has_default: bool = True


def declaration_text() -> str:
    """The packaged ``config_declaration.yaml``."""
    return resources.files(PACKAGE).joinpath(DECLARATION).read_text(encoding="utf-8")


def load_options(text: str | None = None) -> list[Option]:
    """The declared options in declaration order; ``internal`` ones are left out."""
    data = yaml.safe_load(declaration_text() if text is None else text) or {}
    options = []
    for group in data.get("groups") or []:
        for raw in group.get("options") or []:
            if raw.get("internal"):
                continue
            options.append(Option(
                key=str(raw["key"]),
                default=raw.get("default"),
                description=str(raw.get("description") or ""),
                has_default="default" in raw,
            ))
    return options


def _cell(text: str) -> str:
    """One line of table-safe text: whitespace collapsed, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _default(option: Option) -> str:
    if not option.has_default or option.default is None:
        return NO_DEFAULT
    value = option.default
    if isinstance(value, bool):
        value = "true" if value else "false"
    text = _cell(str(value))
    return f"`{text}`" if text else '`""`'


def render_table(options: Iterable[Option]) -> str:
    """The Markdown table (no trailing newline)."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for option in options:
        lines.append(f"| `{_cell(option.key)}` | {_default(option)} | "
                     f"{_cell(option.description)} |")
    return "\n".join(lines)


def current_table() -> str:
    """The table for the packaged declaration."""
    return render_table(load_options())


def formats_table() -> str:
    """The registered harvest formats and the harvester types (no trailing newline)."""
    from .harvest import formats, registry  # neither imports CKAN

    lines = ["| Format | Familie / family | Beschreibung / Description |", "|---|---|---|"]
    lines += [f"| `{_cell(name)}` | `{_cell(cls.family)}` | {_cell(cls.title)} |"
              for name, cls in formats.registered().items()]
    types = ", ".join(f"`{name}`" for name in registry.harvester_types())
    return "\n".join([*lines, "", f"Harvester-Typen / harvester types: {types}"])


def test_ini_plugins() -> str:
    """test.ini's plugin line: the portal's plugins (``runtime.ckan_config``,
    with the harvesters from their registry), the PostgreSQL search first."""
    from .runtime import ckan_config  # imports no CKAN

    return "ckan.plugins = " + " ".join([ckan_config.SEARCH_PLUGIN, *ckan_config.PLUGINS])


_PLUGINS_LINE = re.compile(r"^ckan\.plugins = .*$", re.MULTILINE)


def updated_text(target: Path, document: str) -> str:
    """``document`` (the text of ``target``) with its generated parts
    renewed: an ini's plugin line, or a README's tables."""
    if target.suffix == ".ini":
        if not _PLUGINS_LINE.search(document):
            raise MarkerError("no line 'ckan.plugins = ...'")
        return _PLUGINS_LINE.sub(lambda _: test_ini_plugins(), document, count=1)
    for markers, table in _tables().items():
        document = replace_table(document, table, markers)
    return document


def _tables() -> dict[tuple[str, str], str]:
    return {(START_MARKER, END_MARKER): current_table(), FORMATS_MARKERS: formats_table()}


def _marker_positions(document: str, markers: tuple[str, str]) -> tuple[int, int]:
    start_marker, end_marker = markers
    start = document.find(start_marker)
    end = document.find(end_marker)
    if start < 0 or end < 0 or end < start:
        raise MarkerError(f"markers {start_marker} ... {end_marker} not found in order")
    return start + len(start_marker), end


def extract_table(document: str, markers: tuple[str, str] = (START_MARKER, END_MARKER)) -> str:
    """The text between the markers, without surrounding blank lines."""
    begin, end = _marker_positions(document, markers)
    return document[begin:end].strip("\n")


def replace_table(document: str, table: str,
                  markers: tuple[str, str] = (START_MARKER, END_MARKER)) -> str:
    """``document`` with the text between the markers replaced by ``table``."""
    begin, end = _marker_positions(document, markers)
    return document[:begin] + "\n" + table + "\n" + document[end:]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ckanext.vernetztestadt.docs",
        description="Render the README's tables: configuration, harvest formats.")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--update", metavar="FILE", type=Path,
                        help="replace the table between the markers in FILE")
    action.add_argument("--check", metavar="FILE", type=Path,
                        help="exit 1 if the table in FILE is not up to date")
    args = parser.parse_args(argv)

    target: Path | None = args.update or args.check
    if target is None:
        print("\n\n".join(_tables().values()))
        return 0
    try:
        document = target.read_text(encoding="utf-8")
        updated = updated_text(target, document)
    except (OSError, MarkerError) as exc:
        print(f"Fehler / error: {target}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if updated != document:
            print(f"{target}: veraltet / out of date", file=sys.stderr)
            return 1
        return 0
    if updated != document:
        target.write_text(updated, encoding="utf-8")
        print(f"{target}: aktualisiert / updated")
    else:
        print(f"{target}: aktuell / up to date")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
