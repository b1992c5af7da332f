"""Dashboard sessions that end on the server, token owners and the failed-login throttle.

`web_users.session_generation` is carried in each session cookie and bumped at logout, password
change and role change: older cookies stop working at once. `api_tokens.owner` names the dashboard
user whose session or token made the token (NULL: the command line), so deleting a user revokes its
tokens. `web_login_failures` holds failed logins for the throttle window (docs/web.md).

Revision ID: 0010_web_sessions
Revises: 0009_scoped_file_verdicts
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010_web_sessions"
down_revision: str | None = "0009_scoped_file_verdicts"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("web_users") as batch:
        batch.add_column(sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("owner", sa.String(100), nullable=True))
        batch.create_index("ix_api_tokens_owner", ["owner"])
    op.create_table(
        "web_login_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("client", sa.String(100), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_web_login_failures_who", "web_login_failures", ["username", "client", "failed_at"])
    op.create_index("ix_web_login_failures_failed_at", "web_login_failures", ["failed_at"])


def downgrade() -> None:
    op.drop_table("web_login_failures")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_index("ix_api_tokens_owner")
        batch.drop_column("owner")
    with op.batch_alter_table("web_users") as batch:
        batch.drop_column("session_generation")
