"""Fast filters at a million instances: a denormalized effective severity on findings, and (on
PostgreSQL) pg_trgm GIN indexes for the substring search of assets.

`findings.effective_severity` is the override, else the type's default; the store keeps it in step.
The trigram indexes serve the search's `column ILIKE '%…%'` (SQLAlchemy's `icontains` on PostgreSQL).

Revision ID: 0005_fast_filters
Revises: 0004_webhook_deliveries
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005_fast_filters"
down_revision: str | None = "0004_webhook_deliveries"
branch_labels: str | None = None
depends_on: str | None = None

TRIGRAM_COLUMNS = ("name", "email", "external_id")


def upgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("effective_severity", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE findings SET effective_severity = COALESCE(severity_override, "
        "(SELECT finding_types.severity FROM finding_types WHERE finding_types.id = findings.finding_type_id))"
    )
    with op.batch_alter_table("findings") as batch:
        batch.alter_column("effective_severity", existing_type=sa.Integer(), nullable=False)
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).first():  # without the contrib package search still works, it just scans
        return
    # One extension per database, in the schema it was first created in: in `public` when we create it
    # (never in this database's own schema, whose drop would take every other schema's indexes along).
    extension_schema = _trigram_schema(bind)
    if extension_schema is None:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
        extension_schema = _trigram_schema(bind) or "public"
    for column in TRIGRAM_COLUMNS:
        op.execute(f"CREATE INDEX IF NOT EXISTS ix_assets_{column}_trgm ON assets "
                   f'USING gin ({column} "{extension_schema}".gin_trgm_ops)')


def _trigram_schema(bind: sa.Connection) -> str | None:
    return bind.execute(sa.text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
    )).scalar_one_or_none()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in TRIGRAM_COLUMNS:
            op.execute(f"DROP INDEX IF EXISTS ix_assets_{column}_trgm")
    with op.batch_alter_table("findings") as batch:
        batch.drop_column("effective_severity")
