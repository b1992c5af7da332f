"""What the in-process distributed tests share: a clock they move and a dispatcher that only records
(the scan's tasks wait in the queue for as long as a test says), and a scan's row as stored.
Fixtures: conftest.py."""

from __future__ import annotations

from datetime import UTC, datetime

from openai_casb.store import Store
from openai_casb.store.schema import ScanRow

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class RecordingDispatch:
    def __init__(self) -> None:
        self.sent: list[tuple[str, int, object]] = []

    def crawl_part(self, scan_id: int, group: str) -> None:
        self.sent.append(("crawl", scan_id, group))

    def dlp_batch(self, scan_id: int, batch: str) -> None:
        self.sent.append(("dlp", scan_id, batch))

    def finalize(self, scan_id: int) -> None:
        self.sent.append(("finalize", scan_id, None))


def scan_row(store: Store, scan_id: int) -> ScanRow:
    with store._session() as session:
        row = session.get(ScanRow, scan_id)
        assert row is not None
        return row
