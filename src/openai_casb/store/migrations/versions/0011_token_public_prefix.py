"""API tokens keep only a public part in `api_tokens.prefix`.

Tokens used to be `casb_<secret>` and `prefix` held their first 12 characters, i.e. 7 characters of the
secret. New tokens are `casb_<8 hex public id>_<secret>` and `prefix` holds `casb_<public id>`. This
migration replaces every prefix that is not of that form with `casb_` alone, so that nothing of a
secret stays stored; those tokens keep working, as they are checked by the SHA-256 of the whole token.
On SQLite, secure_delete makes the overwritten values zeroed in the database file too.

Revision ID: 0011_token_public_prefix
Revises: 0010_web_sessions
Create Date: 2026-11-25
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision: str = "0011_token_public_prefix"
down_revision: str | None = "0010_web_sessions"
branch_labels: str | None = None
depends_on: str | None = None

_PUBLIC = re.compile(r"casb_[0-9a-f]{8}")


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        previous = bind.exec_driver_sql("PRAGMA secure_delete").scalar()
        bind.exec_driver_sql("PRAGMA secure_delete = ON")
    rows = bind.execute(sa.text("SELECT id, prefix FROM api_tokens")).all()
    stale = [row.id for row in rows if not _PUBLIC.fullmatch(row.prefix or "")]
    for token_id in stale:
        bind.execute(sa.text("UPDATE api_tokens SET prefix = 'casb_' WHERE id = :id"), {"id": token_id})
    if sqlite:
        bind.exec_driver_sql(f"PRAGMA secure_delete = {int(previous or 0)}")


def downgrade() -> None:
    """Nothing to restore: the removed characters were secret and are not kept anywhere."""
