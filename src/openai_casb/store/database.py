"""Where the database is, how to connect to it, and bringing its schema to the latest migration."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import platformdirs
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from openai_casb.store.records import StoreError

DB_ENV = "OPENAI_CASB_DB"
_MIGRATIONS = Path(__file__).parent / "migrations"


def default_url() -> str:
    """`OPENAI_CASB_DB` if set, else a SQLite file in the user's data directory."""
    from_env = os.environ.get(DB_ENV, "").strip()
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
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # Writers take the write lock up front, so a read-then-write transaction never fails to upgrade;
    # readers stay deferred and, in WAL mode, never wait for a writer.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("store_write") else "BEGIN")


def create_store_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the directory for {safe_url(url)}: {exc.strerror}") from None
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except (NoSuchModuleError, ArgumentError) as exc:
        raise StoreError(f"cannot use database {safe_url(url)}: {exc}") from None


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest revision (the only way tables are ever created)."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open database {safe_url(engine.url)}: {_first_line(exc)}") from None
    except Exception as exc:  # Alembic's own errors, e.g. a revision newer than this version knows
        if type(exc).__module__.startswith("alembic"):
            raise StoreError(
                f"database {safe_url(engine.url)} has a schema this version does not know ({exc}); "
                "upgrade openai-casb"
            ) from None
        raise


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
