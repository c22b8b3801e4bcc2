"""Validation reports, one row per resource.

Revision ID: 0001_validation_reports
Revises:
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_validation_reports"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vernetztestadt_validation",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("resource_id", sa.UnicodeText, nullable=False, unique=True),
        sa.Column("package_id", sa.UnicodeText, nullable=False, index=True),
        sa.Column("status", sa.UnicodeText, nullable=False),
        sa.Column("created", sa.DateTime, nullable=False),
        sa.Column("finished", sa.DateTime),
        sa.Column("report", sa.dialects.postgresql.JSONB),
        sa.Column("error", sa.dialects.postgresql.JSONB),
        # what was validated: the file that passed is the one being served
        sa.Column("url", sa.UnicodeText),
        sa.Column("sha256", sa.UnicodeText),
        sa.Column("job_id", sa.UnicodeText),
        # the steward asked to publish; the job does it once every table passed
        sa.Column("publish_when_valid", sa.Boolean, nullable=False, server_default="false"),
        # a new file for a published resource, held back until it passes
        sa.Column("staged", sa.dialects.postgresql.JSONB),
    )


def downgrade() -> None:
    op.drop_table("vernetztestadt_validation")
