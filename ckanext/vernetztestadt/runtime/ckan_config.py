"""The portal's CKAN configuration file.

Owns: choosing embedded or real services from CKAN's standard environment
variables (PostgreSQL, Redis, Solr, and the DataStore's write and read URLs),
the generated secrets (kept across runs so sessions survive a restart),
writing ``<home>/ckan.ini`` from the packaged template, and reading which
plugins a CKAN ini loads.

Must not touch: running processes or roles and databases (``services``), the
database content (``portal``), or CKAN's defaults: an option is written here
only where the portal differs from CKAN's config declaration.
"""
from __future__ import annotations

import configparser
import json
import os
import secrets
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from ..harvest.registry import harvester_types
from .services import Runtime, ServiceError

SITE_ID = "gelsenkirchen"
PORTAL_DATABASE = "ckan"
TEST_DATABASE = "ckan_test"
# Placeholder for CKAN's required ``solr_url`` when the PostgreSQL search
# backend answers instead; nothing listens there.
NO_SOLR = "http://127.0.0.1:8983/solr/ckan-not-used"

#: Plugins of the portal, in load order. ``activity`` and ``harvest`` bring
#: their own migrations, which ``ckan db upgrade`` applies. The portal comes
#: first: the first plugin's templates win, and the portal's must win over
#: those of ckanext-activity (header, activity filter) as over CKAN's.
#: The harvesters come from their registry (``harvest.registry``).
#: ``datastore`` is CKAN's DataStore (tables of resources, its own database;
#: loaded data comes through its API: no DataPusher or XLoader runs).
PLUGINS = ["vernetztestadt", "activity", "scheming_datasets", "harvest",
           *harvester_types(), "vernetztestadt_chart", "vernetztestadt_map", "dcat",
           "spatial_metadata", "spatial_query", "datastore", "text_view", "image_view",
           "datatables_view"]
SEARCH_PLUGIN = "vernetztestadt_search"
DATASTORE_PLUGIN = "datastore"
#: ``datatables_view`` requires the DataStore (its ``info()``): CKAN makes it
#: only for resources with a DataStore table and only when asked for the
#: DataStore's default views (``ckan views create``, or an API client after
#: datastore_create; DataPusher and XLoader would ask, neither runs here).
DEFAULT_VIEWS = ["text_view", "image_view", "vernetztestadt_map", "datatables_view"]

#: Mail. A harvest job that ends with errors (its documents could not be had
#: or read, or single datasets were refused) mails every sysadmin and every
#: admin of the source's organisation that has an email address
#: (ckanext-harvest's status mail; successful jobs mail no one). The SMTP
#: account comes from CKAN's own environment variables, which win over these
#: lines: CKAN_SMTP_SERVER (host[:port]; unset, CKAN tries localhost:25 and
#: logs the mail it could not send), CKAN_SMTP_STARTTLS, CKAN_SMTP_USER,
#: CKAN_SMTP_PASSWORD, CKAN_SMTP_MAIL_FROM.
MAIL_OPTIONS = """\
## Mail: failed and partly failed harvest jobs mail the sysadmins and the
## admins of the source's organisation. SMTP from CKAN_SMTP_SERVER,
## CKAN_SMTP_STARTTLS, CKAN_SMTP_USER, CKAN_SMTP_PASSWORD, CKAN_SMTP_MAIL_FROM.
ckan.harvest.status_mail.errored = true
smtp.mail_from = noreply@localhost
"""


#: CKAN's own variables for the DataStore's URLs (CKAN reads them over the
#: ini, as CKAN_SQLALCHEMY_URL); keys as in ``real_service_urls``.
DATASTORE_VARS = {"datastore_write": "CKAN_DATASTORE_WRITE_URL",
                  "datastore_read": "CKAN_DATASTORE_READ_URL"}


@dataclass(frozen=True)
class DatastoreUrls:
    """``ckan.datastore.write_url`` / ``read_url``; ``embedded``: in the
    embedded PostgreSQL, where the runtime also sets the permissions."""

    write_url: str
    read_url: str
    embedded: bool

    def environ(self) -> dict[str, str]:
        """The two URLs as CKAN's variables (over any ini's values)."""
        return {DATASTORE_VARS["datastore_write"]: self.write_url,
                DATASTORE_VARS["datastore_read"]: self.read_url}


@dataclass(frozen=True)
class ServiceUrls:
    """Where CKAN finds its services (``datastore``: None when the
    configuration loads no DataStore)."""

    sqlalchemy_url: str
    redis_url: str
    solr_url: str | None
    datastore: DatastoreUrls | None = None

    @property
    def uses_solr(self) -> bool:
        return bool(self.solr_url)


def real_service_urls(prefix: str = "") -> dict[str, str]:
    """The real services named in the environment (``prefix`` e.g. ``TEST_``)."""
    names = {"sqlalchemy": "CKAN_SQLALCHEMY_URL", "redis": "CKAN_REDIS_URL",
             "solr": "CKAN_SOLR_URL", **DATASTORE_VARS}
    found = {}
    for key, var in names.items():
        value = os.environ.get(prefix + var, "").strip()
        if value:
            found[key] = value
    return found


def embedded_datastore(real: dict[str, str]) -> bool:
    """True if the DataStore goes into the embedded PostgreSQL: neither its
    URLs nor CKAN's database are real. CKAN's database on a real server
    needs the DataStore's URLs too (set-permissions names both databases,
    which must live on one server)."""
    given = [key for key in DATASTORE_VARS if key in real]
    if len(given) == 1:
        raise ServiceError("CKAN_DATASTORE_WRITE_URL und CKAN_DATASTORE_READ_URL nur zusammen "
                           "/ only both together")
    if not given and "sqlalchemy" in real:
        raise ServiceError("CKAN_SQLALCHEMY_URL ist gesetzt, CKAN_DATASTORE_WRITE_URL / "
                           "CKAN_DATASTORE_READ_URL fehlen / are missing")
    return not given


def datastore_urls(runtime: Runtime, database: str, real: dict[str, str]) -> DatastoreUrls:
    """The real DataStore of the environment, else the embedded one of ``database``."""
    if not embedded_datastore(real):
        return DatastoreUrls(real["datastore_write"], real["datastore_read"], embedded=False)
    write, read = runtime.datastore_urls(database)
    return DatastoreUrls(write, read, embedded=True)


def service_urls(runtime: Runtime, database: str, redis_db: int, prefix: str = "",
                 solr_url: str | None = None, *, datastore: bool = True) -> ServiceUrls:
    """``solr_url``: the embedded Solr's core (``SEARCH=solr|solrcloud``);
    a real one in the environment wins, as do the DataStore's URLs."""
    real = real_service_urls(prefix)
    return ServiceUrls(
        sqlalchemy_url=real.get("sqlalchemy") or runtime.database_url(database),
        redis_url=real.get("redis") or runtime.redis_url(redis_db),
        solr_url=real.get("solr") or solr_url,
        datastore=datastore_urls(runtime, database, real) if datastore else None,
    )


def loads_datastore(ini: Path) -> bool:
    """True if the CKAN ini ``ini`` names the DataStore in ``ckan.plugins``."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read(ini, encoding="utf-8")
    plugins = parser.get("app:main", "ckan.plugins", fallback="").split()
    return DATASTORE_PLUGIN in plugins


def load_secrets(home: Path) -> dict[str, str]:
    path = home / "secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    for key in ("secret_key", "csrf_secret", "jwt_secret"):
        stored.setdefault(key, secrets.token_urlsafe(32))
    path.write_text(json.dumps(stored, indent=2))
    path.chmod(0o600)
    return stored


def plugins_for(urls: ServiceUrls) -> list[str]:
    """The plugin list: with no Solr configured, the PostgreSQL search backend
    comes first so it is in place before any other plugin searches."""
    return list(PLUGINS) if urls.uses_solr else [SEARCH_PLUGIN, *PLUGINS]


def write_config(runtime: Runtime, urls: ServiceUrls, port: int) -> Path:
    """Write ``<home>/ckan.ini`` and return its path (``urls`` with the
    DataStore: the portal loads it)."""
    if urls.datastore is None:
        raise ValueError("the portal's ckan.ini needs the DataStore's URLs")
    template = resources.files(__package__).joinpath("ckan.ini.tmpl").read_text()
    storage = runtime.home / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    values = {
        "home": str(runtime.home),
        "site_id": SITE_ID,
        "site_url": f"http://127.0.0.1:{port}",
        "sqlalchemy_url": urls.sqlalchemy_url,
        "redis_url": urls.redis_url,
        "solr_url": urls.solr_url or NO_SOLR,
        "datastore_write_url": urls.datastore.write_url,
        "datastore_read_url": urls.datastore.read_url,
        "storage_path": str(storage),
        "plugins": " ".join(plugins_for(urls)),
        "default_views": " ".join(DEFAULT_VIEWS),
        "extension_options": MAIL_OPTIONS,
        **load_secrets(runtime.home),
    }
    # '%' would be taken as interpolation by CKAN's config parser
    text = Template(template).substitute({k: v.replace("%", "%%") for k, v in values.items()})
    path = runtime.home / "ckan.ini"
    path.write_text(text)
    path.chmod(0o600)
    return path
