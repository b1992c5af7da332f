"""The database delivery log keeps idempotency across dispatcher instances (a restart)."""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import create_engine
from webhook_receiver import running_receiver

from openai_casb.alerts.config import WebhookDestination
from openai_casb.alerts.db_log import SqlDeliveryLog
from openai_casb.alerts.dispatcher import WebhookDispatcher

sys.path.insert(0, str(Path(__file__).parent.parent / "exports"))
from export_fixtures import sample_events


def test_restart_does_not_resend(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'deliveries.db'}")
    SqlDeliveryLog(engine).create_table()
    with running_receiver(statuses=[500]) as receiver:
        target = WebhookDestination.model_validate(
            {"name": "siem", "url": receiver.url, "allow_private": True, "max_attempts": 1}
        )
        first = WebhookDispatcher([target], SqlDeliveryLog(engine), sleep=lambda _: None).dispatch(sample_events())
        second = WebhookDispatcher([target], SqlDeliveryLog(engine), sleep=lambda _: None).dispatch(sample_events())
        third = WebhookDispatcher([target], SqlDeliveryLog(engine), sleep=lambda _: None).dispatch(sample_events())
    assert [r.status for r in first] == ["failed", "delivered", "delivered", "delivered", "delivered"]
    assert [(r.event_id, r.status) for r in second] == [("ev-1", "delivered")]  # only the failed one again
    assert third == []
    assert len(receiver.requests) == 6
    entries = SqlDeliveryLog(engine).entries("siem")
    assert [(e.event_id, e.status, e.http_status) for e in entries][:2] == [("ev-1", "failed", 500),
                                                                          ("ev-2", "delivered", 200)]  # fmt: skip
    engine.dispose()
