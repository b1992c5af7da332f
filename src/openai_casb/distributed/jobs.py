"""The database side of a distributed scan: its job row, its parts, and stage changes claimed exactly once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from openai_casb.distributed.models import ScanJobRow, ScanPartRow
from openai_casb.store import ScanStatus
from openai_casb.store.schema import ScanRow

RUNNING, FINALIZING, DONE = "running", "finalizing", "done"


@dataclass(frozen=True, slots=True)
class ScanJob:
    scan_id: int
    integration_id: int
    lock_token: str
    stage: str
    crawl_parts: tuple[str, ...]
    batches: int | None
    full: bool
    now: datetime


def _job(row: ScanJobRow) -> ScanJob:
    return ScanJob(
        scan_id=row.scan_id,
        integration_id=row.integration_id,
        lock_token=row.lock_token,
        stage=row.stage,
        crawl_parts=tuple(p for p in row.crawl_parts.split(",") if p),
        batches=row.batches,
        full=row.full,
        now=datetime.fromtimestamp(row.now, UTC),
    )


def create_job(engine: Engine, scan_id: int, integration_id: int, lock_token: str, crawl_parts: tuple[str, ...],
               *, full: bool, now: datetime) -> None:
    with Session(engine) as session, session.begin():
        session.add(ScanJobRow(
            scan_id=scan_id, integration_id=integration_id, lock_token=lock_token, stage=RUNNING,
            crawl_parts=",".join(crawl_parts), batches=None, full=full, now=now.timestamp(),
            updated_at=datetime.now(UTC),
        ))


def get_job(engine: Engine, scan_id: int) -> ScanJob | None:
    with Session(engine) as session:
        row = session.get(ScanJobRow, scan_id)
        return _job(row) if row is not None else None


def jobs_in_stage(engine: Engine, *stages: str) -> list[ScanJob]:
    with Session(engine) as session:
        return [_job(r) for r in session.scalars(select(ScanJobRow).where(ScanJobRow.stage.in_(stages)))]


@dataclass(frozen=True, slots=True)
class BeatenScan:
    scan_id: int
    integration_id: int
    lock_token: str


def beat_unfinished_scans(engine: Engine, now: datetime, progress_since: datetime) -> list[BeatenScan]:
    """Renew the heartbeat of every running scan whose job is not done and stored a part (or began)
    since `progress_since`, in one statement; returns them with their lock tokens. Only a scan still
    `running` is touched: a concluded or interrupted scan is never revived, even if its job row was
    left behind (the status check and the write are one UPDATE)."""
    token = select(ScanJobRow.lock_token).where(ScanJobRow.scan_id == ScanRow.id).scalar_subquery()
    unfinished = select(ScanJobRow.scan_id).where(ScanJobRow.stage != DONE, ScanJobRow.updated_at >= progress_since)
    statement = (
        update(ScanRow)
        .where(ScanRow.status == ScanStatus.RUNNING, ScanRow.id.in_(unfinished))
        .values(heartbeat_at=now)
        .returning(ScanRow.id, ScanRow.integration_id, token)
        .execution_options(synchronize_session=False)
    )
    # store_write: BEGIN IMMEDIATE on SQLite, like the store's own writes (database.py); ignored elsewhere.
    with Session(engine.execution_options(store_write=True)) as session, session.begin():
        return [BeatenScan(scan_id, integration_id, lock_token)
                for scan_id, integration_id, lock_token in session.execute(statement)]


def ended_jobs(engine: Engine) -> list[ScanJob]:
    """Jobs not done whose scan is no longer running: taken for dead (`interrupted`) by a later scan, or
    concluded by a finalizer that died before its clean-up. Their parts and lock are left to clean."""
    ended = select(ScanRow.id).where(ScanRow.status != ScanStatus.RUNNING)
    with Session(engine) as session:
        rows = session.scalars(select(ScanJobRow).where(ScanJobRow.stage != DONE, ScanJobRow.scan_id.in_(ended)))
        return [_job(r) for r in rows]


def put_parts(engine: Engine, scan_id: int, parts: Mapping[str, str]) -> bool:
    """Insert the parts that are not there yet, in one transaction (a redelivered task adds nothing),
    and mark the job as having progressed (`updated_at`, which the workers' beat reads).

    Nothing is stored once the job is done (or gone): a task that was still running when its scan
    concluded (an orphan batch of a duplicate crawl, a redelivered task) would otherwise leave parts
    that nobody drops. The job's row is read FOR SHARE, so the clean-up's `set_stage(DONE)` waits for
    this insert to commit and its `drop_parts` then sees it. Returns whether the parts were offered.
    """
    if not parts:
        return True
    rows = [{"scan_id": scan_id, "part_id": part_id, "payload": payload} for part_id, payload in parts.items()]
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(ScanPartRow).values(rows).on_conflict_do_nothing(
        index_elements=[ScanPartRow.scan_id, ScanPartRow.part_id]
    )
    progressed = update(ScanJobRow).where(ScanJobRow.scan_id == scan_id).values(updated_at=datetime.now(UTC))
    with Session(engine) as session, session.begin():
        stage = session.scalar(select(ScanJobRow.stage).where(ScanJobRow.scan_id == scan_id).with_for_update(read=True))
        if stage is None or stage == DONE:
            return False
        session.execute(statement)
        session.execute(progressed)
    return True


def get_part(engine: Engine, scan_id: int, part_id: str) -> str | None:
    with Session(engine) as session:
        row = session.get(ScanPartRow, (scan_id, part_id))
        return row.payload if row is not None else None


def parts_with_prefix(engine: Engine, scan_id: int, prefix: str) -> dict[str, str]:
    with Session(engine) as session:
        rows = session.scalars(
            select(ScanPartRow).where(ScanPartRow.scan_id == scan_id, ScanPartRow.part_id.startswith(prefix))
        )
        return {row.part_id: row.payload for row in rows}


def part_ids_with_prefix(engine: Engine, scan_id: int, prefix: str) -> set[str]:
    """The names only (a scan's DLP outcomes are read after every batch: never their payloads)."""
    with Session(engine) as session:
        return set(session.scalars(
            select(ScanPartRow.part_id).where(ScanPartRow.scan_id == scan_id, ScanPartRow.part_id.startswith(prefix))
        ))


def claim_finalizing(engine: Engine, scan_id: int, claimant: str) -> bool:
    """True for exactly one finalizer of a scan, however many race; again for the same claimant
    (a redelivered task keeps its id), so a finalizer killed midway is retried, never doubled."""
    with Session(engine) as session, session.begin():
        result = session.execute(
            update(ScanJobRow)
            .where(
                ScanJobRow.scan_id == scan_id,
                or_(ScanJobRow.stage == RUNNING,
                    and_(ScanJobRow.stage == FINALIZING, ScanJobRow.finalizer == claimant)),
            )
            .values(stage=FINALIZING, finalizer=claimant, updated_at=datetime.now(UTC))
        )
        return bool(getattr(result, "rowcount", 0) == 1)


def set_stage(engine: Engine, scan_id: int, stage: str) -> None:
    with Session(engine) as session, session.begin():
        session.execute(
            update(ScanJobRow).where(ScanJobRow.scan_id == scan_id).values(stage=stage, updated_at=datetime.now(UTC))
        )


def drop_parts(engine: Engine, scan_id: int) -> None:
    with Session(engine) as session, session.begin():
        session.execute(delete(ScanPartRow).where(ScanPartRow.scan_id == scan_id))
