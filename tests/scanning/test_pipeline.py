"""The DLP pipeline of a scan under failure: a dead scanner never hangs the scan nor leaves files behind."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from openai_casb.inventory.model import AssetKind, FileRef, FileScan
from openai_casb.scanning.pipeline import DlpPipeline, Fetched

LISTED = datetime(2026, 11, 24, tzinfo=UTC)  # a live upload is listed with its created_at


class DyingScanner:
    """Takes one file, then fails the way a sandbox that cannot start its workers does."""

    workers = 1

    def scan_files(self, files: Iterable[tuple[Path, FileRef]]) -> Iterator[FileScan]:
        for _path, _file in files:
            raise OSError("cannot start sandbox workers")
        return iter(())


def test_a_dead_scanner_ends_the_scan_with_its_error_and_no_file_left(tmp_path: Path) -> None:
    made: list[Path] = []

    async def fetch(file: FileRef, folder: Path) -> Fetched:
        path = folder / file.file_id
        path.write_bytes(b"sensitive")
        made.append(path)
        return path, None, None

    async def scan() -> None:
        pipeline = DlpPipeline(DyingScanner(), fetch, downloaders=2)  # type: ignore[arg-type]
        async with pipeline:
            for i in range(50):  # far more than the queues hold
                await pipeline.submit(
                    FileRef(AssetKind.CONVERSATION_FILE, f"file-{i}", "a.txt", "conv-1", created_at=LISTED)
                )

    with pytest.raises(OSError, match="cannot start sandbox workers"):
        asyncio.run(asyncio.wait_for(scan(), timeout=120))  # a guard against a hang, not a timing assertion
    assert made, "files were downloaded"
    assert [path for path in made if path.exists()] == []
