"""Child process for test_store_kill: runs one scan and stops, waiting to be SIGKILLed, at a chosen point
inside finish_scan's transaction. The pause is injected here, through SQLAlchemy session events, so the
product code carries no test hook.

argv: database URL, integration id, pause point ("flush:N" or "before_commit"), JSON list of key ids.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session
from store_helpers import ALL_TYPES, key

from openai_casb.store import Store


def _pause() -> None:
    print("PAUSED", flush=True)
    time.sleep(600)  # the parent kills us long before this ends


def main() -> None:
    url, integration_id, point, key_ids = sys.argv[1], int(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
    store = Store.open(url)
    scan_id = store.begin_scan(integration_id, started_at=datetime(2026, 2, 1, tzinfo=UTC))
    flushes = 0

    def after_flush(_session: Session, _context: Any) -> None:
        nonlocal flushes
        flushes += 1
        if point == f"flush:{flushes}":
            _pause()

    def before_commit(_session: Session) -> None:
        if point == "before_commit" and flushes:
            _pause()

    event.listen(Session, "after_flush", after_flush)
    event.listen(Session, "before_commit", before_commit)
    store.finish_scan(scan_id, detections=[key(k) for k in key_ids], evaluated_type_ids=ALL_TYPES,
                      complete_type_ids=ALL_TYPES, finished_at=datetime(2026, 2, 1, tzinfo=UTC))
    print("FINISHED", flush=True)


if __name__ == "__main__":
    main()
