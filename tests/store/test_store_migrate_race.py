"""Processes opening the same brand-new database at once (serve, workers, CLI scans) all succeed.

The first migration runs under a lock (database.py, `_migration_transaction`): without it, on
PostgreSQL all but one opener fail on duplicate catalog entries, and on SQLite with "database is
locked".
"""

from __future__ import annotations

import multiprocessing
import queue
import sqlite3
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from openai_casb.store import Store
from openai_casb.store.database import _MIGRATIONS, create_store_engine, migrate, parse_url
from openai_casb.store.schema import Base

OPENERS = 6


def _open_at_once(url: str, barrier: object, results: object) -> None:
    """Child process: wait for every sibling, then migrate the database; report the outcome."""
    engine = create_store_engine(parse_url(url))
    try:
        barrier.wait(timeout=120)  # type: ignore[attr-defined]
        results.put(("ok", migrate(engine)))  # type: ignore[attr-defined]
    except BaseException as error:
        results.put(("error", f"{type(error).__name__}: {error}"))  # type: ignore[attr-defined]
    finally:
        engine.dispose()


def _head() -> str:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1
    return heads[0]


def test_openers_of_a_new_database_all_succeed_and_one_migrates(db_url: str) -> None:
    context = multiprocessing.get_context("spawn")  # fresh interpreters, as separate programs are
    barrier = context.Barrier(OPENERS)
    results = context.Queue()
    children = [context.Process(target=_open_at_once, args=(db_url, barrier, results)) for _ in range(OPENERS)]
    for child in children:
        child.start()
    try:
        outcomes = []
        for _ in children:
            try:
                outcomes.append(results.get(timeout=180))
            except queue.Empty:
                outcomes.append(("error", "no answer"))
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
                child.join()
    assert [c.exitcode for c in children] == [0] * OPENERS
    # Every opener succeeded; exactly one of them applied the migrations.
    assert sorted(outcomes) == [("ok", False)] * (OPENERS - 1) + [("ok", True)]

    with Store.open(db_url) as store, store.engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        tables = set(inspect(connection).get_table_names())
    assert versions == [_head()]  # at head, once
    assert set(Base.metadata.tables) <= tables  # applied whole (every layer: test_all_layers_migrated.py)


def test_a_migrated_sqlite_database_opens_while_another_process_writes(tmp_path: Path) -> None:
    # The lock is only taken when there is something to migrate: opening a database at head must not
    # wait for a writer (a scan committing) on SQLite, where the migration lock is the write lock.
    path = tmp_path / "casb.db"
    Store.open(str(path)).close()
    writer = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")
        engine = create_store_engine(parse_url(str(path)))
        try:
            assert migrate(engine) is False
        finally:
            engine.dispose()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
