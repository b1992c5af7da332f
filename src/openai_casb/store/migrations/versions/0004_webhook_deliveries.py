"""Alerts layer: the webhook delivery log, so a lifecycle change is never sent twice across restarts.

The table is declared by `openai_casb.alerts.db_log` (the alerts layer owns it); this migration
creates it with the rest of the schema.

Revision ID: 0004_webhook_deliveries
Revises: 0003_distributed
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004_webhook_deliveries"
down_revision: str | None = "0003_distributed"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("destination", sa.String(100), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("http_status", sa.Integer()),
        sa.Column("error", sa.String(500)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_webhook_deliveries_destination_event", "webhook_deliveries", ["destination", "event_id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_destination_event", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
