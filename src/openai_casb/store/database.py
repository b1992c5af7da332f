"""Where the database is, how to connect to it, and bringing its schema to the latest migration."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import platformdirs
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from openai_casb.env_files import EnvFileError, env_value
from openai_casb.private_files import create_private_file, ensure_private_dir, exposure
from openai_casb.store.records import StoreError

DB_ENV = "OPENAI_CASB_DB"
_MIGRATIONS = Path(__file__).parent / "migrations"
_SQLITE_BUSY_MS = 30_000  # how long a SQLite connection waits for another's lock
_SQLITE_SIDECARS = ("-wal", "-shm", "-journal")

log = logging.getLogger(__name__)


def default_url() -> str:
    """`OPENAI_CASB_DB` (or the file `OPENAI_CASB_DB_FILE` names) if set, else a SQLite file in the
    user's data directory. Raises StoreError when both are set or the file cannot be used."""
    try:
        from_env = (env_value(DB_ENV) or "").strip()
    except EnvFileError as exc:
        raise StoreError(str(exc)) from None
    if from_env:
        return from_env
    directory = Path(platformdirs.user_data_dir("openai-casb"))
    return f"sqlite:///{directory / 'openai-casb.db'}"


def parse_url(text: str | None) -> URL:
    """A SQLAlchemy URL from `--db`: a URL, or a bare file path meaning a SQLite file."""
    raw = (text or "").strip() or default_url()
    if "://" not in raw:
        raw = f"sqlite:///{Path(raw).expanduser().resolve()}"
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise StoreError(f"cannot parse database URL {raw!r}; expected e.g. sqlite:///path/to/file.db "
                         "or postgresql+psycopg://user@host:5432/dbname") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(f"unsupported database {url.get_backend_name()!r}; use SQLite or PostgreSQL")
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")  # the driver this package ships with
    return url


def safe_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy (pysqlite's implicit BEGIN is not atomic for DDL).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    _sqlite_wal(cursor)
    cursor.close()


def _sqlite_wal(cursor: Any) -> None:
    """Switch the file to WAL (persistent: after the first connection of a new file, a no-op).

    Connections converting the same brand-new file at once each hold a shared lock and want an
    exclusive one; SQLite breaks that deadlock by failing one of them at once with "database is
    locked", without calling the busy handler. Retrying is safe: the winner converts the file and
    the retry then finds it in WAL already.
    """
    deadline = time.monotonic() + _SQLITE_BUSY_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlite_begin(conn: Any) -> None:
    # Writers take the write lock up front, so a read-then-write transaction never fails to upgrade;
    # readers stay deferred and, in WAL mode, never wait for a writer.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("store_write") else "BEGIN")


def _prepare_sqlite_file(path: Path, url: URL) -> None:
    """Create the database file owner-only (0600, in a 0700 directory when this makes it) before
    SQLite does, which would use 0644; SQLite gives its `-wal`, `-shm` and `-journal` files the
    database file's mode. An existing file readable by group or others is used, with a warning."""
    try:
        ensure_private_dir(path.parent)
    except OSError as exc:
        raise StoreError(f"cannot create the directory for {safe_url(url)}: {exc.strerror}") from None
    try:
        if create_private_file(path):
            return
    except OSError as exc:
        raise StoreError(f"cannot create the database file {safe_url(url)}: {exc.strerror}") from None
    for file in (path, *(Path(f"{path}{suffix}") for suffix in _SQLITE_SIDECARS)):
        reason = exposure(file)
        if reason:
            log.warning("warning: database file %s is readable by group or others (%s); it holds password and "
                        "token hashes, encrypted credentials and findings: run `chmod 600 %s*`", file, reason, path)
            return


def create_store_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            _prepare_sqlite_file(Path(database), url)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except (NoSuchModuleError, ArgumentError) as exc:
        raise StoreError(f"cannot use database {safe_url(url)}: {exc}") from None


# Advisory lock key (classid) held by whoever migrates a PostgreSQL schema; the objid is the schema.
_PG_MIGRATION_LOCK = 0x0CA5B001


def migrate(engine: Engine) -> bool:
    """Bring the schema to the latest revision (the only way tables are ever created).

    Safe when several processes open the same brand-new database at once (`serve`, workers, CLI
    scans): the upgrade runs under a lock, so exactly one of them migrates and the others, once it
    has committed, find the schema at head. Returns whether this call changed the schema.
    """
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    try:
        head = set(ScriptDirectory.from_config(config).get_heads())
        # Fast path without the lock: a database already at head is opened even while another
        # process holds the write lock (on SQLite the migration lock is the write lock).
        with engine.connect() as connection:
            if _current_heads(connection) == head:
                return False
        with _migration_transaction(engine) as connection:
            if _current_heads(connection) == head:  # migrated by another process while we waited
                return False
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            return True
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open database {safe_url(engine.url)}: {_first_line(exc)}") from None
    except Exception as exc:  # Alembic's own errors, e.g. a revision newer than this version knows
        if type(exc).__module__.startswith("alembic"):
            raise StoreError(
                f"database {safe_url(engine.url)} has a schema this version does not know ({exc}); "
                "upgrade openai-casb"
            ) from None
        raise


def _current_heads(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


@contextmanager
def _migration_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the database's migration lock until it commits or rolls back.

    Without it, two processes migrating a new database both see no tables and both create them:
    on PostgreSQL all but one fail on duplicate catalog entries, on SQLite (WAL) all but one fail
    with "database is locked" when their read transaction tries to become a writer.

    - SQLite: `BEGIN IMMEDIATE` on the database itself (WAL mode makes EXCLUSIVE the same). The
      file's own lock is what SQLite trusts for every write, needs no lock file beside the
      database (none to leave behind, none for a directory the user cannot write), and is released
      by the OS if the process dies. Waiters wait `busy_timeout` (30 s), far more than a migration
      of this schema takes.
    - PostgreSQL: `pg_advisory_xact_lock` keyed by the schema (the first of `search_path`), taken as
      the transaction's first statement. A transaction-level lock is released by COMMIT, ROLLBACK or
      a dropped connection, so a crashed migrator cannot leave it held and a pooled connection
      never carries it to other work, unlike a session lock; the migration's DDL is transactional,
      so waiters see either no schema or all of it.
    """
    if engine.url.get_backend_name() == "sqlite":
        with engine.execution_options(store_write=True).begin() as connection:  # BEGIN IMMEDIATE
            yield connection
        return
    with engine.begin() as connection:
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:classid, hashtext(coalesce(current_schema(), '')))"),
            {"classid": _PG_MIGRATION_LOCK},
        )
        yield connection


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
