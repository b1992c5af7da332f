"""Verdicts of files with a DLP match, spooled to disk as they complete, so a scan's memory does not
grow with the number of matched files.

A scan must hand every matched file's verdict to the DLP checks and their detections to the
store's one transaction at the end. Kept in memory, 10,000 matched files cost about 60 MiB; kept in
a private temporary SQLite database (like `openai_casb.seen`, deleted when closed, bounded page
cache), they cost a few MiB of disk. What is spooled is a `FileScan`: counts, masked samples and
salted hashes, never a matched value (the same content the store's dlp_cache already holds).

Nothing here needs to survive the process: a scan killed before its commit leaves the previous
results standing, and the verdicts a resumed scan needs are remembered by file id in the store.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
from collections.abc import Iterator

from pydantic import TypeAdapter

from openai_casb.inventory.model import FileScan

_CACHE_KIB = 2048
_SCAN = TypeAdapter(FileScan)


class SpoolClosedError(RuntimeError):
    """The spool was read after its scan ended (its temporary database is gone)."""


class MatchedFiles:
    """An append-only collection of `FileScan`s on disk. Read back grouped by (kind, file id).

    `add` may be called from several threads. The database is opened on the first `add`, so an
    empty collection costs nothing.
    """

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._count = 0
        self._closed = False

    def _open(self) -> sqlite3.Connection:
        if self._closed:
            raise SpoolClosedError("the matched files of this scan were released when it ended")
        if self._db is None:
            # "" opens a private, temporary on-disk database, removed when the connection closes.
            db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
            for pragma in ("journal_mode=OFF", "synchronous=OFF", f"cache_size=-{_CACHE_KIB}", "temp_store=FILE"):
                db.execute(f"PRAGMA {pragma}")
            db.execute(
                "CREATE TABLE matched (kind TEXT NOT NULL, file_id TEXT NOT NULL, seq INTEGER NOT NULL,"
                " scan BLOB NOT NULL, PRIMARY KEY (kind, file_id, seq)) WITHOUT ROWID"
            )
            db.execute("BEGIN")  # one transaction for the spool's life: nothing here needs to survive
            self._db = db
        return self._db

    def add(self, scan: FileScan) -> None:
        with self._lock:
            db = self._open()
            db.execute(
                "INSERT INTO matched VALUES (?, ?, ?, ?)",
                (scan.file.kind.value, scan.file.file_id, self._count, _SCAN.dump_json(scan)),
            )
            self._count += 1

    def extend(self, scans: Iterator[FileScan] | list[FileScan]) -> None:
        for scan in scans:
            self.add(scan)

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self) -> Iterator[FileScan]:
        """Every verdict, grouped by (kind, file id), in the order added within a group."""
        for group in self.by_file():
            yield from group

    def by_file(self) -> Iterator[list[FileScan]]:
        """The verdicts of one file (same kind and id, maybe in several containers) at a time."""
        if self._closed:
            raise SpoolClosedError("the matched files of this scan were released when it ended")
        if self._db is None:
            return
        rows = self._db.execute("SELECT kind, file_id, scan FROM matched ORDER BY kind, file_id, seq")
        for _key, group in itertools.groupby(rows, key=lambda row: (row[0], row[1])):
            yield [_SCAN.validate_json(row[2]) for row in group]

    def close(self) -> None:
        """Delete the spool. Its length stays readable; reading its verdicts raises SpoolClosedError."""
        with self._lock:
            self._closed = True
            if self._db is not None:
                self._db.close()
                self._db = None
