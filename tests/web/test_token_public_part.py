"""API tokens are `casb_<8 hex public id>_<secret>`; the database holds the SHA-256 of the whole token and the
public part only. Tokens of the older form `casb_<secret>` keep working after migration 0011, which removes
the 7 characters of secret their stored prefix held."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from tests.db_dump import database_text
from typer.testing import CliRunner

from conftest import ADMIN_PASSWORD, WebEnv, login
from openai_casb.cli.app import app as cli
from openai_casb.store import Store
from openai_casb.store.database import _MIGRATIONS, create_store_engine, migrate, parse_url
from openai_casb.web.accounts import Accounts, Role
from openai_casb.web.keys import new_api_token, token_digest, token_public_part

_NEW_FORM = re.compile(r"(casb_[0-9a-f]{8})_([A-Za-z0-9_-]{43})")


def _pieces(secret: str, length: int = 6) -> list[str]:
    """Every substring of `secret` of `length` characters: any longer substring contains one of them."""
    assert len(secret) >= length
    return [secret[i:i + length] for i in range(len(secret) - length + 1)]


def _leaked(secret: str, haystack: str) -> list[str]:
    return [piece for piece in _pieces(secret) if piece in haystack]


def test_new_tokens_have_a_public_id_and_256_bits_of_secret() -> None:
    tokens = [new_api_token() for _ in range(50)]
    for token in tokens:
        match = _NEW_FORM.fullmatch(token)
        assert match is not None, token
        assert token_public_part(token) == match.group(1)
    assert len({token_public_part(t) for t in tokens}) == 50
    # Tokens of the older form, or anything else, have no public part but the fixed `casb_`.
    assert token_public_part("casb_" + secrets.token_urlsafe(32)) == "casb_"
    assert token_public_part("casb_0123abcd_short") == "casb_"


def test_a_new_token_round_trips_and_no_stored_column_holds_its_secret(store: Store) -> None:
    accounts = Accounts(store)
    info, token = accounts.create_token(Role.ADMIN, "siem")
    match = _NEW_FORM.fullmatch(token)
    assert match is not None
    public, secret = match.groups()
    assert info.prefix == public
    assert [t.prefix for t in accounts.list_tokens()] == [public]
    principal = accounts.verify_token(token)
    assert principal is not None
    assert principal.is_admin
    assert accounts.verify_token(f"{public}_{secrets.token_urlsafe(32)}") is None  # the public part proves nothing
    accounts.flush_token_uses()
    dump = database_text(store.url)
    assert public in dump
    assert token_digest(token) in dump
    assert _leaked(secret, dump) == []


def _old_database(url: str, token: str) -> None:
    engine = create_store_engine(parse_url(url))
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0010_web_sessions")
        # What create_token stored before: the first 12 characters of the token as its prefix.
        connection.execute(text("INSERT INTO api_tokens (name, role, token_sha256, prefix, created_at) VALUES "
                                "('old', 'admin', :digest, :prefix, '2026-11-01 00:00:00')"),
                           {"digest": token_digest(token), "prefix": token[:12]})
    assert migrate(engine) is True
    engine.dispose()


def test_old_tokens_keep_working_and_their_secret_leaves_the_database(db_url: str) -> None:
    old = "casb_" + secrets.token_urlsafe(32)
    _old_database(db_url, old)
    with Store.open(db_url) as store:
        accounts = Accounts(store)
        principal = accounts.verify_token(old)
        assert principal is not None
        assert principal.is_admin
        assert [t.prefix for t in accounts.list_tokens()] == ["casb_"]
        _info, new = accounts.create_token(Role.VIEWER, "new")
        assert accounts.verify_token(new) is not None
        accounts.flush_token_uses()
    dump = database_text(db_url)
    assert token_digest(old) in dump
    assert _leaked(old[len("casb_"):], dump) == []
    assert _leaked(new.split("_", 2)[2], dump) == []


def test_the_sqlite_file_keeps_no_trace_of_an_old_prefix(tmp_path: Path) -> None:
    """The overwritten prefix is left nowhere in the database file (the migration sets secure_delete)."""
    path = tmp_path / "old.db"
    old = "casb_" + secrets.token_urlsafe(32)
    _old_database(str(path), old)
    files = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("old.db"))
    assert _leaked(old[len("casb_"):], files.decode("latin-1")) == []


def test_tokens_list_the_api_and_the_page_show_the_public_part_only(web: WebEnv) -> None:
    info, token = web.ctx.accounts.create_token(Role.VIEWER, "shown")
    public, secret = token[:13], token[14:]
    assert info.prefix == public
    listed = CliRunner().invoke(cli, ["tokens", "list", "--db", web.store.url], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    assert public in listed.stdout
    assert _leaked(secret, listed.stdout) == []
    api = web.client(web.admin_token).get("/api/v1/tokens")
    assert api.status_code == 200
    assert {t["name"]: t["prefix"] for t in api.json()}["shown"] == public
    assert _leaked(secret, api.text) == []
    page = web.client()
    login(page, "alice", ADMIN_PASSWORD)
    html = page.get("/tokens").text
    assert f"<code>{public}…</code>" in html
    assert _leaked(secret, html) == []
