"""Tables of the distributed mode (created by migration 0003_distributed, with their foreign keys), kept apart
from the store's metadata."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class DistributedBase(DeclarativeBase):
    pass


class ScheduleRow(DistributedBase):
    """When each integration is scanned next. One row per integration."""

    __tablename__ = "distributed_schedules"
    integration_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    interval_seconds: Mapped[int] = mapped_column(Integer, nullable=False)
    next_run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class ScanJobRow(DistributedBase):
    """A scan split across workers: its stage moves running -> finalizing -> done; finalizing is claimed by one task."""

    __tablename__ = "distributed_scan_jobs"
    scan_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    integration_id: Mapped[int] = mapped_column(Integer, nullable=False)
    lock_token: Mapped[str] = mapped_column(String(64), nullable=False)
    stage: Mapped[str] = mapped_column(String(16), nullable=False)
    crawl_parts: Mapped[str] = mapped_column(String(64), nullable=False)  # "admin,compliance"
    batches: Mapped[int | None] = mapped_column(Integer)
    finalizer: Mapped[str | None] = mapped_column(String(64))  # the Celery task id that claimed finalizing
    full: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    now: Mapped[float] = mapped_column(Float, nullable=False)  # the scan's clock, as a POSIX time
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ScanPartRow(DistributedBase):
    """The result of one task of a scan, keyed by (scan, part): a redelivered task inserts nothing twice."""

    __tablename__ = "distributed_scan_parts"
    scan_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    part_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    payload: Mapped[str] = mapped_column(Text, nullable=False)
