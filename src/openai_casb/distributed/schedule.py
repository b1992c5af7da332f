"""When each integration is scanned: its own interval (default 12 hours), kept in the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from openai_casb.distributed.models import ScheduleRow


@dataclass(frozen=True, slots=True)
class Schedule:
    integration_id: int
    interval: timedelta
    next_run_at: datetime
    enabled: bool


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)  # SQLite drops the zone


def _schedule(row: ScheduleRow) -> Schedule:
    return Schedule(row.integration_id, timedelta(seconds=row.interval_seconds), _aware(row.next_run_at), row.enabled)


def ensure_schedule(engine: Engine, integration_id: int, default_hours: float, now: datetime) -> Schedule:
    """The integration's schedule; a new one is due at once (its first scan should not wait 12 hours)."""
    with Session(engine) as session, session.begin():
        row = session.get(ScheduleRow, integration_id)
        if row is None:
            row = ScheduleRow(integration_id=integration_id, interval_seconds=round(default_hours * 3600),
                              next_run_at=now, enabled=True)
            session.add(row)
            session.flush()
        return _schedule(row)


def set_schedule(engine: Engine, integration_id: int, *, hours: float | None, enabled: bool | None,
                 now: datetime) -> Schedule:
    if hours is not None and hours <= 0:
        raise ValueError("the interval must be positive")
    with Session(engine) as session, session.begin():
        row = session.get(ScheduleRow, integration_id)
        if row is None:
            row = ScheduleRow(integration_id=integration_id, interval_seconds=round((hours or 12) * 3600),
                              next_run_at=now, enabled=True)
            session.add(row)
        if hours is not None:
            row.interval_seconds = max(1, round(hours * 3600))
            # The next run follows the new interval from now, or stays sooner if it already was.
            row.next_run_at = min(_aware(row.next_run_at), now + timedelta(seconds=row.interval_seconds))
        if enabled is not None:
            row.enabled = enabled
        session.flush()
        return _schedule(row)


def schedules(engine: Engine) -> list[Schedule]:
    with Session(engine) as session:
        return [_schedule(r) for r in session.scalars(select(ScheduleRow).order_by(ScheduleRow.integration_id))]


def due(engine: Engine, now: datetime) -> list[int]:
    return [s.integration_id for s in schedules(engine) if s.enabled and s.next_run_at <= now]


def mark_started(engine: Engine, integration_id: int, now: datetime) -> None:
    with Session(engine) as session, session.begin():
        row = session.get(ScheduleRow, integration_id)
        if row is not None:
            row.next_run_at = now + timedelta(seconds=row.interval_seconds)
