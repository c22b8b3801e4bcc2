"""The portal's CKAN configuration file.

Owns: choosing embedded or real services from CKAN's standard environment
variables, the generated secrets (kept across runs so sessions survive a
restart), and writing ``<home>/ckan.ini`` from the packaged template.

Must not touch: running processes (``services``) or the database (``portal``).
"""
from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from ..harvest.registry import harvester_types
from .services import Runtime

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
PLUGINS = ["vernetztestadt", "activity", "scheming_datasets", "harvest",
           *harvester_types(), "vernetztestadt_chart", "vernetztestadt_map", "dcat",
           "spatial_metadata", "spatial_query", "text_view", "image_view"]
SEARCH_PLUGIN = "vernetztestadt_search"
DEFAULT_VIEWS = ["text_view", "image_view", "vernetztestadt_map"]

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


@dataclass(frozen=True)
class ServiceUrls:
    """Where CKAN finds its services; ``embedded_*`` says who runs them."""

    sqlalchemy_url: str
    redis_url: str
    solr_url: str | None

    @property
    def uses_solr(self) -> bool:
        return bool(self.solr_url)


def real_service_urls(prefix: str = "") -> dict[str, str]:
    """The real services named in the environment (``prefix`` e.g. ``TEST_``)."""
    names = {"sqlalchemy": "CKAN_SQLALCHEMY_URL", "redis": "CKAN_REDIS_URL",
             "solr": "CKAN_SOLR_URL"}
    found = {}
    for key, var in names.items():
        value = os.environ.get(prefix + var, "").strip()
        if value:
            found[key] = value
    return found


def service_urls(runtime: Runtime, database: str, redis_db: int, prefix: str = "",
                 solr_url: str | None = None) -> ServiceUrls:
    """``solr_url``: the embedded Solr's core (``SEARCH=solr|solrcloud``);
    a real one in the environment wins."""
    real = real_service_urls(prefix)
    return ServiceUrls(
        sqlalchemy_url=real.get("sqlalchemy") or runtime.database_url(database),
        redis_url=real.get("redis") or runtime.redis_url(redis_db),
        solr_url=real.get("solr") or solr_url,
    )


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
    """Write ``<home>/ckan.ini`` and return its path."""
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
