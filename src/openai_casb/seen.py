"""A set of ids kept on disk, so that a crawl's memory does not grow with what it reads.

A crawl must remember every conversation, file and log event it has seen (the APIs repeat them
across pages and deliveries) but needs only "seen before?" of each. Kept in a private temporary
SQLite database (deleted when closed) with a bounded page cache, a million ids cost a few MiB of
disk and no more memory than a thousand.
"""

from __future__ import annotations

import hashlib
import sqlite3

_CACHE_KIB = 2048  # SQLite's page cache for the set: memory stays at about this, whatever the count


class SeenIds:
    def __init__(self) -> None:
        # "" opens a private, temporary on-disk database, removed when the connection closes.
        self._db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", f"cache_size=-{_CACHE_KIB}", "temp_store=FILE"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute("CREATE TABLE seen (digest BLOB PRIMARY KEY) WITHOUT ROWID")
        self._db.execute("BEGIN")  # one transaction for the set's life: nothing here needs to survive
        self._count = 0

    def add(self, key: str) -> bool:
        """Remember `key`; True when it had not been seen before."""
        digest = hashlib.blake2b(key.encode(), digest_size=12).digest()
        added = self._db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (digest,)).rowcount == 1
        self._count += added
        return added

    def __len__(self) -> int:
        return self._count

    def close(self) -> None:
        self._db.close()
