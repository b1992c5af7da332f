"""The database and the data directory are readable by their owner only (0600 / 0700), whatever the
umask, and an existing database file that others can read is used with a warning."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from openai_casb.dlp.settings import installation_salt
from openai_casb.store import Store
from openai_casb.store.database import create_store_engine, parse_url
from openai_casb.web.keys import load_secret


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """The usual 022: SQLite and mkdir would then make files 0644 and folders 0755."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_and_its_wal_files_are_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "openai-casb"
    db = folder / "casb.db"
    with Store.open(str(db)) as store:
        store.ensure_integration("org-acme", None, "Acme")
        with store.engine.connect() as connection:  # an open reader keeps -wal and -shm in place
            connection.execute(text("SELECT 1"))
            sidecars = [Path(f"{db}{suffix}") for suffix in ("-wal", "-shm")]
            assert all(path.exists() for path in sidecars)
            assert {path.name: _mode(path) for path in sidecars} == {"casb.db-wal": 0o600, "casb.db-shm": 0o600}
    assert _mode(db) == 0o600
    assert _mode(folder) == 0o700


def test_a_rollback_journal_is_owner_only_too(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    create_store_engine(parse_url(str(db))).dispose()  # the file exists before SQLite opens it
    connection = sqlite3.connect(db)
    try:
        connection.execute("PRAGMA journal_mode=PERSIST")  # the journal stays after the commit
        connection.execute("CREATE TABLE scratch (x INTEGER)")
        connection.commit()
    finally:
        connection.close()
    journal = Path(f"{db}-journal")
    assert journal.exists()
    assert (_mode(db), _mode(journal)) == (0o600, 0o600)


def test_an_existing_database_readable_by_others_is_used_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "old.db"
    Store.open(str(db)).close()
    db.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="openai_casb.store.database"), Store.open(str(db)) as store:
        assert store.integrations() == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("readable by group or others" in m and "-rw-r--r--" in m and f"chmod 600 {db}" in m
               for m in warnings), warnings
    assert _mode(db) == 0o644  # warned about, not changed behind the user's back


def test_an_owner_only_database_opens_without_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "ok.db"
    Store.open(str(db)).close()
    with caplog.at_level(logging.WARNING), Store.open(str(db)):
        pass
    assert not [r for r in caplog.records if "readable by group or others" in r.getMessage()]


def test_the_data_directory_made_for_the_key_file_or_the_salt_is_owner_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_CASB_SECRET_KEY", raising=False)
    load_secret(tmp_path / "keys" / "secret.key")
    assert _mode(tmp_path / "keys") == 0o700

    monkeypatch.delenv("OPENAI_CASB_DLP_SALT", raising=False)
    monkeypatch.setattr("platformdirs.user_data_dir", lambda *_a, **_k: str(tmp_path / "salted"))
    installation_salt()
    assert _mode(tmp_path / "salted") == 0o700
    assert _mode(tmp_path / "salted" / "dlp-salt") == 0o600
