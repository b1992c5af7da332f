"""The events cursor of a scan: the newest event id when it finished (`openai-casb events --since`).

Scans finished before this revision keep NULL; `events --since` falls back to their events' ids.

Revision ID: 0006_scan_event_cursor
Revises: 0005_fast_filters
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006_scan_event_cursor"
down_revision: str | None = "0005_fast_filters"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("scans") as batch:
        batch.add_column(sa.Column("last_event_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scans") as batch:
        batch.drop_column("last_event_id")
