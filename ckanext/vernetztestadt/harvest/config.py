"""The ``config`` of a harvest source: documented keys, checked with clear errors.

Owns: the keys every harvest source understands (``format``, ``ags``,
``bbox``, ``allowed_hosts``, ``documents``, ``withdraw``, ``private``,
``dataset``, ``max_bytes``, ``timeout``, ``dataset_type``, ``title_note``,
``name_pattern``, ``replaces``), the checks of each key, their defaults (a
value, or a site option named by ``config_default``, whose default is
declared in ``config_declaration.yaml``), the rule turning a harvester's
name into a dataset name (``dataset_name``), and the German message naming
every problem at once, which ckanext-harvest shows on the source form
(``validate_config``). A harvester adds its own keys as a tuple of ``Key``;
nothing else is code.

Must not touch: fetching or harvesting itself (``allowed_hosts`` is read with
the host rules of ``fetching``, the one URL policy; nothing is fetched here).
"""
from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import ckan.plugins.toolkit as tk

from .. import fetching

WITHDRAW = ("outdated", "delete")


class ConfigError(ValueError):
    """A source config that cannot be used (German message naming each problem)."""


@dataclass(frozen=True)
class Key:
    """One documented config key: its check turns the raw value into the one
    the harvester uses or raises ``ValueError`` with a German reason."""

    name: str
    help_de: str
    check: Callable[[Any], Any]
    default: Any = None
    required: bool = False
    #: the site option whose (declared) value is the default instead of ``default``
    config_default: str | None = None


def nonempty_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("muss ein nicht leerer Text sein")
    return value.strip()


def choice(*allowed: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = nonempty_text(value).lower()
        if text not in allowed:
            raise ValueError(f"muss einer von {', '.join(allowed)} sein")
        return text
    return check


def _ags(value: Any) -> str:
    text = str(value).strip()
    if not re.fullmatch(r"[0-9]{2}([0-9]{1,6})?", text):
        raise ValueError("muss ein Gemeindeschlüssel aus Ziffern sein (z. B. 05513000)")
    return text


def _bbox(value: Any) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError("muss [West, Süd, Ost, Nord] in Grad (WGS84) sein") from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ValueError("liegt nicht in Grad (WGS84) oder West/Süd ist nicht kleiner als "
                         "Ost/Nord")
    return west, south, east, north


def _hosts(value: Any) -> tuple[str, ...]:
    """Servers a source may also fetch from, only at public addresses: an
    organisation editor writes this config, and internal servers are the site
    configuration's decision (``documents.policy`` applies it when fetching;
    an internal IP here is refused now, so the editor learns it at once)."""
    values = value.split() if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip()
                                               for v in values):
        raise ValueError("muss eine Liste von Servernamen sein")
    hosts = tuple(fetching.canonical_host(v) for v in values)
    internal = [h for h in hosts if (address := fetching.literal_address(h)) is not None
                and not fetching.is_public(address)]
    if internal:
        raise ValueError(f"nennt die interne Adresse „{internal[0]}“; interne Server gibt "
                         "nur die Site-Konfiguration frei "
                         "(ckanext.vernetztestadt.harvest.allowed_hosts)")
    return hosts


def positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("muss eine positive ganze Zahl sein")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("muss true oder false sein")
    return value


def text_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not all(
            isinstance(v, str) and v.strip() for v in value):
        raise ValueError("muss eine nicht leere Liste von Texten sein")
    return [v.strip() for v in value]


def mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("muss eine Zuordnung sein")
    return value


def url(value: Any) -> str:
    text = nonempty_text(value)
    if not text.startswith(("http://", "https://", "package:")):
        raise ValueError("muss eine http(s)-Adresse oder package:… sein")
    return text


def _documents(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise ValueError("muss eine nicht leere Liste von {url: …} sein")
    documents = []
    for number, entry in enumerate(value, 1):
        if not isinstance(entry, dict) or "url" not in entry:
            raise ValueError(f"Eintrag {number} braucht eine „url“")
        try:
            documents.append({**entry, "url": url(entry["url"])})
        except ValueError as error:
            raise ValueError(f"Eintrag {number}: „url“ {error}") from None
    return documents


#: the placeholders of ``name_pattern``
NAME_PLACEHOLDERS = ("name", "source")
DEFAULT_NAME_PATTERN = "{name}"
#: CKAN's rule for dataset names (``name_validator``), which a pattern must keep
_CKAN_NAME = re.compile(r"[a-z0-9_-]{2,100}")
_NAME_TEXT = re.compile(r"[a-z0-9_-]*")


def _name_pattern(value: Any) -> str:
    text = nonempty_text(value)
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        raise ValueError("ist kein gültiges Muster (geschweifte Klammern nur um "
                         "Platzhalter wie {name})") from None
    fields = [(name, spec, conversion) for _, name, spec, conversion in parts
              if name is not None]
    for name, spec, conversion in fields:
        if name not in NAME_PLACEHOLDERS or spec or conversion:
            raise ValueError(f"kennt den Platzhalter „{{{name}}}“ nicht (erlaubt: "
                             "{name}, {source})")
    if "name" not in (name for name, _, _ in fields):
        raise ValueError("muss {name} enthalten (den Namen, den der Harvester vergibt)")
    if not _NAME_TEXT.fullmatch("".join(literal for literal, *_ in parts)):
        raise ValueError("darf außer den Platzhaltern nur Kleinbuchstaben a-z, Ziffern, "
                         "„-“ und „_“ enthalten")
    return text


def _source_name(value: Any) -> str:
    text = nonempty_text(value)
    if not _CKAN_NAME.fullmatch(text):
        raise ValueError("muss der Name einer Harvest-Quelle sein (Kleinbuchstaben a-z, "
                         "Ziffern, „-“ und „_“)")
    return text


def dataset_name(pattern: str, name: str, source: str) -> str:
    """The dataset name ``pattern`` gives the harvester's ``name`` in source
    ``source``; ValueError (German) when CKAN would refuse it."""
    result = pattern.format(name=name, source=source)
    if not _CKAN_NAME.fullmatch(result):
        raise ValueError(f"Der Datensatzname „{result}“ (aus „name_pattern“ {pattern}) ist "
                         "kein gültiger CKAN-Name: 2 bis 100 Zeichen, nur Kleinbuchstaben "
                         "a-z, Ziffern, „-“ und „_“.")
    return result


#: Keys every source understands.
COMMON_KEYS = (
    Key("format", "Format der Dokumente; ohne Angabe am Inhalt erkannt.", nonempty_text),
    Key("ags", "Gemeindeschlüssel der Stadt (AGS), Standard 05513000.", _ags,
        config_default="ckanext.vernetztestadt.default_ags"),
    Key("bbox", "Gebietsfilter [West, Süd, Ost, Nord] in Grad (WGS84).", _bbox),
    Key("allowed_hosts", "Weitere erlaubte Server, nur mit öffentlichen Adressen (interne "
        "gibt nur die Site-Konfiguration frei).", _hosts, ()),
    Key("documents", "Dokumente statt der einen URL der Quelle: Liste von {url, …}.",
        _documents),
    Key("withdraw", "Upstream verschwundene Datensätze: outdated (als veraltet markieren) "
        "oder delete (löschen).", choice(*WITHDRAW), "outdated"),
    Key("private", "Datensätze nicht öffentlich anlegen.", boolean, False),
    Key("dataset", "Metadaten für jeden Datensatz der Quelle (z. B. license_id).",
        mapping, {}),
    Key("max_bytes", "Größte Antwort in Bytes.", positive_int,
        config_default="ckanext.vernetztestadt.harvest.max_bytes"),
    Key("timeout", "Zeitlimit für Verbindung und Antwort in Sekunden.", positive_int,
        config_default="ckanext.vernetztestadt.harvest.timeout"),
    Key("dataset_type", "Datensatztyp (scheming) der veröffentlichten Datensätze.", nonempty_text),
    Key("title_note", "Zusatz in Klammern an jedem Titel, z. B. „synthetische Demo-Daten“.",
        nonempty_text),
    Key("name_pattern", "Muster der Datensatznamen mit den Platzhaltern {name} (Name, den "
        "der Harvester vergibt; Pflicht) und {source} (Name der Quelle), z. B. "
        "{name}-mobilfunk; für eine zweite Quelle mit denselben Datensätzen. Geändert, "
        "benennt der nächste Lauf die Datensätze um (Kennung bleibt).", _name_pattern,
        DEFAULT_NAME_PATTERN),
    Key("replaces", "Name einer Quelle derselben Organisation, die diese Quelle ersetzt: "
        "deren Datensätze mit denselben Namen werden übernommen (Kennung und Adresse "
        "bleiben), die ersetzte Quelle lässt sie danach in Ruhe.", _source_name),
)


def parse(text: str | None, extra: Iterable[Key] = ()) -> dict[str, Any]:
    """The checked config with defaults; ConfigError names every problem."""
    keys = {key.name: key for key in (*COMMON_KEYS, *extra)}
    try:
        raw = json.loads(text) if text and text.strip() else {}
    except json.JSONDecodeError as error:
        raise ConfigError(f"Die Konfiguration ist kein gültiges JSON: {error.msg} "
                          f"(Zeile {error.lineno}).") from None
    if not isinstance(raw, dict):
        raise ConfigError("Die Konfiguration muss ein JSON-Objekt sein.")
    problems = [f"unbekannte Angabe „{name}“ (bekannt: {', '.join(sorted(keys))})"
                for name in raw if name not in keys]
    checked: dict[str, Any] = {}
    for name, key in keys.items():
        if name not in raw or raw[name] is None:
            if key.required:
                problems.append(f"„{name}“ fehlt ({key.help_de})")
            checked[name] = _default(key)
            continue
        try:
            checked[name] = key.check(raw[name])
        except ValueError as error:
            problems.append(f"„{name}“ {error}")
    if problems:
        raise ConfigError("Konfiguration der Harvest-Quelle: " + "; ".join(problems) + ".")
    return checked


def _default(key: Key) -> Any:
    if key.config_default:
        # CKAN fills in the declared default, so there is none to repeat here
        return tk.config.get(key.config_default)
    # a fresh copy: callers may extend what they get
    return type(key.default)(key.default) if isinstance(key.default, (dict, list)) \
        else key.default
