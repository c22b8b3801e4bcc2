"""The German catalogue's last build step (``make i18n``, after pybabel).

Owns: German as the source language (each of the extension's own msgids is
its German msgstr) and the hand-kept German of upstream strings the portal
shows and upstream leaves in English (``i18n/upstream/de.po``: ckanext-harvest,
ckanext-scheming, a few of CKAN's), merged into the German catalogue so that
CKAN, which lets a plugin's catalogue win over its own, shows them in German.

Must not touch: the ``.pot``, the English catalogue or compiling (pybabel
does those); upstream msgids are never the extension's own (its msgids are
German), and one that is fails the build instead of being overwritten.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

DOMAIN = "ckanext-vernetztestadt"


def upstream_path(i18n: Path) -> Path:
    return i18n / "upstream" / "de.po"


def read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def german_catalogue(own: Catalog, upstream: Catalog) -> Catalog:
    """``own`` (pybabel's German catalogue) with msgstr = msgid and the
    upstream messages added; the upstream ones pybabel marked obsolete
    (they are in no source of the extension) are dropped first."""
    own.obsolete.clear()
    upstream_ids = {message.id for message in upstream if message.id}
    for message in list(own):
        if message.id and message.id not in upstream_ids:
            message.string = message.id
            message.flags.discard("fuzzy")
    clashes = [m.id for m in own if m.id in upstream_ids and m.locations]
    if clashes:
        raise SystemExit(f"{upstream_path(Path('i18n'))}: msgids used by the extension's own "
                         f"sources too (give those German msgids): {clashes}")
    for message in upstream:
        if message.id:
            own[message.id] = message
    return own


def main(i18n: Path) -> None:
    path = i18n / "de" / "LC_MESSAGES" / f"{DOMAIN}.po"
    catalogue = german_catalogue(read(path), read(upstream_path(i18n)))
    with path.open("wb") as handle:
        write_po(handle, catalogue)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
