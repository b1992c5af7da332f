"""Shared fixtures: a migrated store on SQLite (always) and on PostgreSQL (when configured).

PostgreSQL runs when OPENAI_CASB_TEST_POSTGRES_URL is set; each test gets a fresh schema (selected
through search_path in the URL, so child processes opened with the same URL see it too). With
OPENAI_CASB_REQUIRE_SERVICES=1 (CI), a missing PostgreSQL fails instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from openai_casb.store import Store

POSTGRES_ENV = "OPENAI_CASB_TEST_POSTGRES_URL"
# Fails the session if the product sent any emulator a non-GET request (tests/readonly_guard.py).
pytest_plugins = ["tests.readonly_guard"]


def _postgres_base_url() -> str:
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if not url:
        if os.environ.get("OPENAI_CASB_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{POSTGRES_ENV} is not set but OPENAI_CASB_REQUIRE_SERVICES=1")
        pytest.skip(f"{POSTGRES_ENV} not set")
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL to a fresh, empty PostgreSQL schema, dropped after the test."""
    base = make_url(_postgres_base_url())
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'casb.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A URL to an empty database, once per backend."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A store migrated to the latest schema, on each backend."""
    opened = Store.open(db_url)
    yield opened
    opened.close()
