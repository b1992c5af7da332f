"""Distributed mode: per-integration schedules, scans split across workers and their parts.

Revision ID: 0003_distributed
Revises: 0002_web
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003_distributed"
down_revision: str | None = "0002_web"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "distributed_schedules",
        sa.Column("integration_id", sa.Integer(), sa.ForeignKey("integrations.id"), primary_key=True),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "distributed_scan_jobs",
        sa.Column("scan_id", sa.Integer(), sa.ForeignKey("scans.id"), primary_key=True),
        sa.Column("integration_id", sa.Integer(), sa.ForeignKey("integrations.id"), nullable=False),
        sa.Column("lock_token", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("crawl_parts", sa.String(64), nullable=False),
        sa.Column("batches", sa.Integer()),
        sa.Column("finalizer", sa.String(64)),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("now", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "distributed_scan_parts",
        sa.Column("scan_id", sa.Integer(), sa.ForeignKey("scans.id"), primary_key=True),
        sa.Column("part_id", sa.String(64), primary_key=True),
        sa.Column("payload", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("distributed_scan_parts")
    op.drop_table("distributed_scan_jobs")
    op.drop_table("distributed_schedules")
