"""Initial schema: integrations, scans, user activity, finding types, findings, assets, instances,
lifecycle events and the DLP cache.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "integrations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("integration_key", sa.String(300), nullable=False, unique=True),
        sa.Column("organization_id", sa.String(128)),
        sa.Column("workspace_id", sa.String(128)),
        sa.Column("display_name", sa.String(300), nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "scans",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("integration_id", sa.Integer(), sa.ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source_reports", _JSON, nullable=False),
        sa.Column("errors", _JSON, nullable=False),
        sa.Column("severity_counts", _JSON, nullable=False),
        sa.Column("new_count", sa.Integer(), nullable=False),
        sa.Column("reopened_count", sa.Integer(), nullable=False),
        sa.Column("resolved_count", sa.Integer(), nullable=False),
        sa.Column("high_water_mark", sa.Float()),
    )
    op.create_index("ix_scans_integration_status", "scans", ["integration_id", "status"])
    op.create_table(
        "user_activity",
        sa.Column(
            "integration_id",
            sa.Integer(),
            sa.ForeignKey("integrations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("user_key", sa.String(320), primary_key=True),
        _ts("last_active_at"),
    )
    op.create_table(
        "finding_types",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False, unique=True),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("enterprise", sa.Boolean(), nullable=False),
        sa.Column("group_name", sa.String(200), nullable=False),
        sa.Column("group_order", sa.Integer(), nullable=False),
        sa.Column("sources", _JSON, nullable=False),
    )
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("integration_id", sa.Integer(), sa.ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("finding_type_id", sa.String(64), sa.ForeignKey("finding_types.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity_override", sa.Integer()),
        sa.UniqueConstraint("integration_id", "finding_type_id", name="uq_findings_integration_type"),
    )
    op.create_index("ix_findings_finding_type_id", "findings", ["finding_type_id"])
    op.create_table(
        "assets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("integration_id", sa.Integer(), sa.ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(300), nullable=False),
        sa.Column("name", sa.Text()),
        sa.Column("email", sa.String(320)),
        sa.Column("link", sa.Text()),
        sa.Column("metadata", _JSON, nullable=False),
        _ts("first_seen"),
        _ts("last_seen"),
        sa.UniqueConstraint("integration_id", "kind", "external_id", name="uq_assets_integration_kind_external"),
    )
    op.create_index("ix_assets_email", "assets", ["email"])
    op.create_table(
        "instances",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("finding_id", sa.Integer(), sa.ForeignKey("findings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("asset_id", sa.Integer(), sa.ForeignKey("assets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("first_detected"),
        _ts("last_detected"),
        _ts("resolved_at", nullable=True),
        sa.Column("hidden_reason", sa.Text()),
        sa.Column("hidden_by", sa.String(200)),
        _ts("hidden_until", nullable=True),
        sa.Column("evidence", _JSON, nullable=False),
        sa.Column("new_in_scan_id", sa.Integer(), sa.ForeignKey("scans.id", ondelete="SET NULL")),
        sa.Column("last_scan_id", sa.Integer(), sa.ForeignKey("scans.id", ondelete="SET NULL")),
        sa.UniqueConstraint("finding_id", "asset_id", name="uq_instances_finding_asset"),
    )
    op.create_index("ix_instances_finding_status", "instances", ["finding_id", "status", "id"])
    op.create_index("ix_instances_status_last_detected", "instances", ["status", "last_detected"])
    op.create_index("ix_instances_asset", "instances", ["asset_id"])
    op.create_index("ix_instances_new_in_scan_id", "instances", ["new_in_scan_id"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("instances.id", ondelete="CASCADE"), nullable=False),
        sa.Column("scan_id", sa.Integer(), sa.ForeignKey("scans.id", ondelete="SET NULL")),
        sa.Column("event_type", sa.String(16), nullable=False),
        _ts("at"),
        sa.Column("details", _JSON, nullable=False),
    )
    op.create_index("ix_events_scan", "events", ["scan_id"])
    op.create_index("ix_events_instance", "events", ["instance_id"])
    op.create_table(
        "dlp_cache",
        sa.Column("cache_key", sa.Text(), primary_key=True),
        sa.Column("verdict", _JSON, nullable=False),
        _ts("created_at"),
    )


def downgrade() -> None:
    for table in ("dlp_cache", "events", "instances", "assets", "findings", "finding_types", "user_activity", "scans"):
        op.drop_table(table)
    op.drop_table("integrations")
