"""The liveness of a running scan: `scans.heartbeat_at`, renewed by whoever runs the scan.

`Store.begin_scan` only marks a running scan `interrupted` when its heartbeat is older than the
stale timeout (its process died); a live one makes the new scan refused. Scans recorded before this
revision keep NULL, and count as alive since their start (docs/store.md).

Revision ID: 0008_scan_heartbeat
Revises: 0007_purge_unmasked_dlp_cache
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008_scan_heartbeat"
down_revision: str | None = "0007_purge_unmasked_dlp_cache"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("scans") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scans") as batch:
        batch.drop_column("heartbeat_at")
