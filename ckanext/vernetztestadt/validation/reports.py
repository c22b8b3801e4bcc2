"""Stored validation reports: one row per resource.

Owns: the table ``vernetztestadt_validation`` (created by this extension's
migrations, ``ckan db upgrade -p vernetztestadt``) and reading/writing its
rows in CKAN's session, so that a report commits or rolls back together with
the resource change it belongs to. Rows are shaped like ckanext-validation's
(``id``, ``resource_id``, ``status``, ``report``, ``error``, ``created``,
``finished``).

Must not touch: running validations (``engine``), permissions (``actions``).
"""
from __future__ import annotations

import datetime
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert

from .status import FINAL

_metadata = sa.MetaData()
TABLE = sa.Table(
    "vernetztestadt_validation", _metadata,
    sa.Column("id", sa.UnicodeText, primary_key=True),
    sa.Column("resource_id", sa.UnicodeText, nullable=False, unique=True),
    sa.Column("package_id", sa.UnicodeText, nullable=False),
    sa.Column("status", sa.UnicodeText, nullable=False),
    sa.Column("created", sa.DateTime, nullable=False),
    sa.Column("finished", sa.DateTime),
    sa.Column("report", JSONB),
    sa.Column("error", JSONB),
    sa.Column("url", sa.UnicodeText),
    sa.Column("sha256", sa.UnicodeText),
    sa.Column("job_id", sa.UnicodeText),
    sa.Column("publish_when_valid", sa.Boolean, nullable=False, server_default="false"),
    # a new file for a published resource, held back until it passes
    sa.Column("staged", JSONB),
)


def _session() -> Any:
    import ckan.model as model

    return model.Session


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def as_dict(row: Any) -> dict[str, Any]:
    """A row as ckanext-validation's ``resource_validation_show`` returns it."""
    data = dict(row._mapping)
    for key in ("created", "finished"):
        data[key] = data[key].isoformat() if data[key] else None
    return data


def get(resource_id: str) -> dict[str, Any] | None:
    row = _session().execute(sa.select(TABLE).where(TABLE.c.resource_id == resource_id)).first()
    return as_dict(row) if row else None


def for_package(package_id: str) -> dict[str, dict[str, Any]]:
    rows = _session().execute(sa.select(TABLE).where(TABLE.c.package_id == package_id))
    return {row.resource_id: as_dict(row) for row in rows}


_table_seen: list[bool] = []


def table_exists() -> bool:
    """False until ``ckan db upgrade`` created the table (then remembered):
    a query on a missing table would abort the request's transaction."""
    if not _table_seen:
        found = _session().execute(sa.select(sa.func.to_regclass(TABLE.name))).scalar()
        if found is None:
            return False
        _table_seen.append(True)
    return True


def statuses(package_id: str) -> dict[str, str]:
    """resource id -> status, for a dataset's resources (one cheap query)."""
    if not table_exists():
        return {}
    rows = _session().execute(sa.select(TABLE.c.resource_id, TABLE.c.status)
                              .where(TABLE.c.package_id == package_id))
    return {row.resource_id: row.status for row in rows}


def json_safe(value: Any) -> Any:
    """``value`` with NUL characters replaced: PostgreSQL's JSONB cannot hold
    them, and a report quotes whatever a broken file contains."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {json_safe(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def save(resource_id: str, package_id: str, status: str, **values: Any) -> None:
    """Insert or replace the resource's report; ``created`` marks each new run."""
    values = {key: json_safe(value) if key in ("report", "error", "staged") else value
              for key, value in values.items()}
    now = _now()
    row = {"resource_id": resource_id, "package_id": package_id, "status": status,
           "created": values.pop("created", now),
           "finished": now if status in FINAL else None,
           "report": None, "error": None, "url": None, "sha256": None, "job_id": None,
           "publish_when_valid": False, **values}
    statement = insert(TABLE).values(id=str(uuid.uuid4()), **row)
    statement = statement.on_conflict_do_update(index_elements=[TABLE.c.resource_id], set_=row)
    _session().execute(statement)


def set_staged(resource_id: str, staged: dict[str, Any] | None) -> None:
    """Record (or clear) a held-back replacement; the report itself, which
    belongs to the file being served, stays as it is."""
    _session().execute(sa.update(TABLE).where(TABLE.c.resource_id == resource_id)
                       .values(staged=json_safe(staged)))


def clear_publish_request(package_id: str) -> None:
    _session().execute(sa.update(TABLE).where(TABLE.c.package_id == package_id)
                       .values(publish_when_valid=False))


def delete(resource_id: str) -> bool:
    result = _session().execute(sa.delete(TABLE).where(TABLE.c.resource_id == resource_id))
    return bool(result.rowcount)


def resource_ids(statuses: tuple[str, ...] | None = None) -> list[str]:
    query = sa.select(TABLE.c.resource_id)
    if statuses:
        query = query.where(TABLE.c.status.in_(statuses))
    return [row.resource_id for row in _session().execute(query)]
