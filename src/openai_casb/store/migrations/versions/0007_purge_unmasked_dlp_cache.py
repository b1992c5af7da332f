"""Drop every cached DLP verdict: verdicts cached before engine version 3 could hold the names of
archive entries in plain form in their notes (`entry AKIA....txt not scanned: encrypted`). The
cache is only a cache: files are read and matched again at the next scan, and stored masked.

Revision ID: 0007_purge_unmasked_dlp_cache
Revises: 0006_scan_event_cursor
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision: str = "0007_purge_unmasked_dlp_cache"
down_revision: str | None = "0006_scan_event_cursor"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute("DELETE FROM dlp_cache")


def downgrade() -> None:
    """Nothing to restore: the purged verdicts are recomputed by the next scan."""
