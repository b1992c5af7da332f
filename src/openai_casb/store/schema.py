"""The database schema as typed SQLAlchemy 2 declarative models.

The tables are created only by the Alembic migrations in `store/migrations`; these models must
match them (a test compares the two).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    literal_column,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere.
JsonType = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no timezone support, so values are stored as naive UTC and made aware on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given to the store; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class IntegrationRow(Base):
    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "<org id>|<workspace id>": one row per pair, whichever of the two is absent.
    integration_key: Mapped[str] = mapped_column(String(300), unique=True)
    organization_id: Mapped[str | None] = mapped_column(String(128))
    workspace_id: Mapped[str | None] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ScanRow(Base):
    __tablename__ = "scans"
    __table_args__ = (Index("ix_scans_integration_status", "integration_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16))
    source_reports: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    errors: Mapped[list[str]] = mapped_column(JsonType, default=list)
    severity_counts: Mapped[dict[str, int]] = mapped_column(JsonType, default=dict)
    new_count: Mapped[int] = mapped_column(Integer, default=0)
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    resolved_count: Mapped[int] = mapped_column(Integer, default=0)
    high_water_mark: Mapped[float | None] = mapped_column(Float)
    # The newest event id when the scan finished: `events --since SCAN` starts after it, so events
    # without a scan (hide, unhide) between two scans are shipped once, even by a scan with no events.
    last_event_id: Mapped[int | None] = mapped_column(Integer)
    # Renewed while the scan runs (Store.touch_scan); a running scan whose heartbeat is older than
    # the stale timeout is dead, and the next begin_scan of its integration marks it interrupted.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class UserActivityRow(Base):
    __tablename__ = "user_activity"

    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True)
    user_key: Mapped[str] = mapped_column(String(320), primary_key=True)
    last_active_at: Mapped[datetime] = mapped_column(UtcDateTime())


class FindingTypeRow(Base):
    __tablename__ = "finding_types"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    severity: Mapped[int] = mapped_column(Integer)
    enterprise: Mapped[bool] = mapped_column(Boolean)
    group_name: Mapped[str] = mapped_column(String(200))
    group_order: Mapped[int] = mapped_column(Integer)
    sources: Mapped[list[str]] = mapped_column(JsonType, default=list)


class FindingRow(Base):
    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("integration_id", "finding_type_id", name="uq_findings_integration_type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    finding_type_id: Mapped[str] = mapped_column(ForeignKey("finding_types.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    severity_override: Mapped[int | None] = mapped_column(Integer)
    # The override, else the type's default: kept in step by the store so severity filters need no join.
    effective_severity: Mapped[int] = mapped_column(Integer)


class AssetRow(Base):
    __tablename__ = "assets"
    __table_args__ = (
        UniqueConstraint("integration_id", "kind", "external_id", name="uq_assets_integration_kind_external"),
        Index("ix_assets_email", "email"),
        # Substring search (ILIKE) on PostgreSQL: trigram indexes (migration 0005), absent elsewhere. Declared
        # as expressions, which autogenerate cannot reflect on SQLite and so does not expect there.
        *(
            Index(f"ix_assets_{column}_trgm", literal_column(column), postgresql_using="gin",
                  postgresql_ops={column: "gin_trgm_ops"}).ddl_if(dialect="postgresql")
            for column in ("name", "email", "external_id")
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(300))
    name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(320))
    link: Mapped[str | None] = mapped_column(Text)
    asset_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JsonType, default=dict)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime())


class InstanceRow(Base):
    __tablename__ = "instances"
    __table_args__ = (
        UniqueConstraint("finding_id", "asset_id", name="uq_instances_finding_asset"),
        Index("ix_instances_finding_status", "finding_id", "status", "id"),
        Index("ix_instances_status_last_detected", "status", "last_detected"),
        Index("ix_instances_asset", "asset_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"))
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    first_detected: Mapped[datetime] = mapped_column(UtcDateTime())
    last_detected: Mapped[datetime] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    hidden_by: Mapped[str | None] = mapped_column(String(200))
    hidden_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    evidence: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    new_in_scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id", ondelete="SET NULL"), index=True)
    last_scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id", ondelete="SET NULL"))


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_scan", "scan_id"), Index("ix_events_instance", "instance_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id", ondelete="SET NULL"))
    event_type: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)


class DlpCacheRow(Base):
    __tablename__ = "dlp_cache"

    cache_key: Mapped[str] = mapped_column(Text, primary_key=True)
    verdict: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
