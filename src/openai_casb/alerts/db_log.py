"""A delivery log in the database, so that idempotency survives restarts and spans workers.

The table is declared here on its own MetaData; the store's migration 0004_webhook_deliveries
creates it with the rest of the schema. `create_table` remains for a log kept in another database.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    delete,
    exists,
    insert,
    select,
)

from openai_casb.alerts.delivery_log import DeliveryRecord

metadata = MetaData()

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("destination", String(100), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("http_status", Integer),
    Column("error", String(500)),
    Column("at", DateTime(timezone=True), nullable=False),
    # one row per delivery outcome; looked up by (destination, event id)
    Index("ix_webhook_deliveries_destination_event", "destination", "event_id"),
)


class SqlDeliveryLog:
    """`DeliveryLog` over a SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create_table(self) -> None:
        metadata.create_all(self._engine, tables=[webhook_deliveries])

    def was_delivered(self, destination: str, event_id: str) -> bool:
        condition = and_(
            webhook_deliveries.c.destination == destination,
            webhook_deliveries.c.event_id == event_id,
            webhook_deliveries.c.status == "delivered",
        )
        with self._engine.connect() as connection:
            return bool(connection.execute(select(exists().where(condition))).scalar())

    def record(self, entry: DeliveryRecord) -> None:
        """Insert `entry`; a refusal repeated (the pair's latest row is `refused`) replaces that row.

        The replacement is a new row (delete, then insert): the table keeps one row per refused
        (destination, event), and ids still follow the order of the latest records.
        """
        with self._engine.begin() as connection:
            if entry.status == "refused":
                latest = connection.execute(
                    select(webhook_deliveries.c.id, webhook_deliveries.c.status)
                    .where(
                        webhook_deliveries.c.destination == entry.destination,
                        webhook_deliveries.c.event_id == entry.event_id,
                    )
                    .order_by(webhook_deliveries.c.id.desc())
                    .limit(1)
                ).one_or_none()
                if latest is not None and latest.status == "refused":
                    connection.execute(delete(webhook_deliveries).where(webhook_deliveries.c.id == latest.id))
            connection.execute(
                insert(webhook_deliveries).values(
                    destination=entry.destination,
                    event_id=entry.event_id,
                    status=entry.status,
                    attempts=entry.attempts,
                    http_status=entry.http_status,
                    error=(entry.error or "")[:500] or None,
                    at=entry.at,
                )
            )

    def undelivered_since(self, destination: str, since: datetime) -> set[str]:
        delivered = webhook_deliveries.alias("delivered")
        query = (
            select(webhook_deliveries.c.event_id)
            .distinct()
            .where(
                webhook_deliveries.c.destination == destination,
                webhook_deliveries.c.status != "delivered",
                webhook_deliveries.c.at >= since,
                ~exists().where(
                    delivered.c.destination == destination,
                    delivered.c.event_id == webhook_deliveries.c.event_id,
                    delivered.c.status == "delivered",
                ),
            )
        )
        with self._engine.connect() as connection:
            return {str(event_id) for event_id in connection.execute(query).scalars()}

    def last_recorded(self, destination: str) -> tuple[str, datetime] | None:
        query = (
            select(webhook_deliveries.c.event_id, webhook_deliveries.c.at)
            .where(webhook_deliveries.c.destination == destination)
            .order_by(webhook_deliveries.c.id.desc())
            .limit(1)
        )
        with self._engine.connect() as connection:
            found = connection.execute(query).one_or_none()
        return None if found is None else (str(found.event_id), found.at)

    def delivered_among(self, destination: str, event_ids: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(event_ids))
        found: set[str] = set()
        with self._engine.connect() as connection:
            for start in range(0, len(wanted), 500):  # bounded IN lists
                query = (
                    select(webhook_deliveries.c.event_id)
                    .distinct()
                    .where(
                        webhook_deliveries.c.destination == destination,
                        webhook_deliveries.c.status == "delivered",
                        webhook_deliveries.c.event_id.in_(wanted[start : start + 500]),
                    )
                )
                found.update(str(event_id) for event_id in connection.execute(query).scalars())
        return found

    def entries(self, destination: str | None = None) -> list[DeliveryRecord]:
        query = select(webhook_deliveries).order_by(webhook_deliveries.c.id)
        if destination is not None:
            query = query.where(webhook_deliveries.c.destination == destination)
        with self._engine.connect() as connection:
            return [
                DeliveryRecord(
                    destination=row.destination,
                    event_id=row.event_id,
                    status=row.status,
                    attempts=row.attempts,
                    at=row.at,
                    http_status=row.http_status,
                    error=row.error,
                )
                for row in connection.execute(query)
            ]
