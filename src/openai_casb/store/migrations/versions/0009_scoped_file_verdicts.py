"""Drop the file verdicts remembered by file id alone (`file:{kind}:{file id}:{digest}`).

They named no integration, and file ids are not unique across organizations, so one org's files
were given another's DLP results (size, hash, matched profiles). Which org stored such a verdict
cannot be told: none may be used. Verdicts are now kept per integration under `ifile:` keys; the
content-hash verdicts (keyed by the bytes' SHA-256) are kept, as they depend on the bytes only.

Revision ID: 0009_scoped_file_verdicts
Revises: 0008_scan_heartbeat
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision: str = "0009_scoped_file_verdicts"
down_revision: str | None = "0008_scan_heartbeat"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Content-hash keys start with a hex digest, never with "file:".
    op.execute("DELETE FROM dlp_cache WHERE cache_key LIKE 'file:%'")


def downgrade() -> None:
    """Nothing to restore: the purged verdicts are recomputed by the next scan, per integration."""
