"""Sessions end on the server (logout, user management from the CLI), a deleted user's tokens stop working,
and failed logins are logged and throttled per username and address."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from conftest import ADMIN_PASSWORD, SECRET, VIEWER_PASSWORD, WebEnv, csrf_of, login
from openai_casb.cli.app import app as cli
from openai_casb.store import Store
from openai_casb.store.database import _MIGRATIONS, create_store_engine, migrate, parse_url
from openai_casb.web.accounts import LOGIN_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW, Accounts, Role
from openai_casb.web.app import create_app
from openai_casb.web.context import WebContext
from openai_casb.web.keys import hash_password, token_digest


def _cli(web: WebEnv, *args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(cli, [*args, "--db", web.store.url], input=stdin)
    assert result.exit_code == 0, result.output
    return result.stdout


def _token_from_page(client: TestClient, role: str = "admin") -> str:
    made = client.post("/tokens", data={"csrf": csrf_of(client.get("/tokens").text), "name": "mine", "role": role})
    assert made.status_code == 201, made.text
    found = re.findall(r'<code class="token-value">(casb_[A-Za-z0-9_-]+)</code>', made.text)
    assert len(found) == 1
    return str(found[0])


def test_a_cookie_saved_before_logout_no_longer_works(web: WebEnv) -> None:
    client = web.client()
    login(client, "alice", ADMIN_PASSWORD)
    saved = client.cookies["casb_session"]
    csrf = csrf_of(client.get("/tokens").text)
    assert client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    replay = web.client()
    replay.cookies.set("casb_session", saved)
    assert replay.get("/tokens", follow_redirects=False).status_code == 303
    made = replay.post("/tokens", data={"csrf": csrf, "name": "x", "role": "admin"}, follow_redirects=False)
    assert made.status_code == 303  # to the login page: no token
    assert web.ctx.accounts.list_tokens()[-1].name == "tests viewer"
    login(replay, "alice", ADMIN_PASSWORD)  # a new login works
    assert replay.get("/tokens", follow_redirects=False).status_code == 200


def test_logout_on_one_server_process_ends_the_session_on_another(web: WebEnv) -> None:
    other = create_app(WebContext(store=web.store, secret=SECRET, launcher=web.launcher, secure_cookies=False))
    client = web.client()
    login(client, "alice", ADMIN_PASSWORD)
    elsewhere = TestClient(other, base_url="http://127.0.0.1")
    elsewhere.cookies.set("casb_session", client.cookies["casb_session"])
    assert elsewhere.get("/", follow_redirects=False).status_code == 200
    client.post("/logout", data={"csrf": csrf_of(client.get("/").text)}, follow_redirects=False)
    assert elsewhere.get("/", follow_redirects=False).status_code == 303


def test_users_delete_ends_sessions_and_revokes_the_users_tokens(web: WebEnv) -> None:
    client = web.client()
    login(client, "alice", ADMIN_PASSWORD)
    mine = _token_from_page(client)
    api = web.client(mine)
    child = api.post("/api/v1/tokens", json={"name": "child", "role": "viewer"})
    assert child.status_code == 201  # made by alice's token: alice's too
    child_token = child.json()["token"]
    assert web.client(child_token).get("/api/v1/tokens").status_code == 403  # viewer, but authenticated
    out = _cli(web, "users", "delete", "alice")
    assert "2 API token(s)" in out
    assert client.get("/", follow_redirects=False).status_code == 303
    assert api.get("/api/v1/findings").status_code == 401
    assert web.client(child_token).get("/api/v1/findings").status_code == 401
    assert web.client(web.admin_token).get("/api/v1/findings").status_code == 200  # the CLI's tokens stay
    names = {t.name: t for t in web.ctx.accounts.list_tokens()}
    assert names["mine"].revoked_at is not None
    assert names["child"].revoked_at is not None
    assert "alice" not in _cli(web, "users", "list")
    page = web.client()
    page.get("/login")
    assert page.post("/login", data={"csrf": csrf_of(page.get("/login").text), "username": "alice",
                                     "password": ADMIN_PASSWORD}, follow_redirects=False).status_code == 401


def test_a_token_whose_owner_is_gone_or_demoted_never_outranks_it(web: WebEnv) -> None:
    """Checked when the token is used, not only by the revocations of the commands."""
    client = web.client()
    login(client, "alice", ADMIN_PASSWORD)
    mine = _token_from_page(client)
    with web.store.engine.begin() as connection:  # behind the commands' back
        connection.exec_driver_sql("UPDATE web_users SET role = 'viewer' WHERE username = 'alice'")
    assert web.client(mine).get("/api/v1/tokens").status_code == 403
    assert web.client(mine).get("/api/v1/findings").status_code == 200
    with web.store.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM web_users WHERE username = 'alice'")
    assert web.client(mine).get("/api/v1/findings").status_code == 401


def test_users_set_role_ends_sessions_and_revokes_admin_tokens_on_demotion(web: WebEnv) -> None:
    client = web.client()
    login(client, "alice", ADMIN_PASSWORD)
    admin_token = _token_from_page(client, "admin")
    viewer_token = _token_from_page(client, "viewer")
    out = _cli(web, "users", "set-role", "alice", "--role", "viewer")
    assert "now viewer" in out
    assert "1 admin API token(s)" in out
    assert client.get("/", follow_redirects=False).status_code == 303
    assert web.client(admin_token).get("/api/v1/findings").status_code == 401
    assert web.client(viewer_token).get("/api/v1/findings").status_code == 200
    login(client, "alice", ADMIN_PASSWORD)
    assert client.get("/tokens", follow_redirects=False).status_code == 403
    _cli(web, "users", "set-role", "alice", "--role", "admin")
    assert client.get("/tokens", follow_redirects=False).status_code == 303  # promoted: sign in again
    login(client, "alice", ADMIN_PASSWORD)
    assert client.get("/tokens", follow_redirects=False).status_code == 200


def test_users_set_password_ends_sessions_and_replaces_the_password(web: WebEnv) -> None:
    client = web.client()
    login(client, "victor", VIEWER_PASSWORD)
    out = _cli(web, "users", "set-password", "victor", "--password-stdin", stdin="a-brand-new-password\n")
    assert "sessions ended" in out
    assert client.get("/", follow_redirects=False).status_code == 303
    assert web.ctx.accounts.authenticate("victor", VIEWER_PASSWORD) is None
    login(client, "victor", "a-brand-new-password")


def test_user_commands_refuse_unknown_users_and_bad_input(web: WebEnv) -> None:
    runner = CliRunner()
    for args in (["users", "delete", "nobody"], ["users", "set-role", "nobody", "--role", "viewer"]):
        result = runner.invoke(cli, [*args, "--db", web.store.url])
        assert result.exit_code == 2
        assert "no user 'nobody'" in result.output
    short = runner.invoke(cli, ["users", "set-password", "alice", "--password-stdin", "--db", web.store.url],
                          input="short\n")
    assert short.exit_code == 2
    assert "at least 12" in short.output
    bad_role = runner.invoke(cli, ["users", "set-role", "alice", "--role", "root", "--db", web.store.url])
    assert bad_role.exit_code == 2
    assert web.ctx.accounts.authenticate("alice", ADMIN_PASSWORD) is not None


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _attempt(client: TestClient, password: str, username: str = "alice") -> int:
    csrf = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"csrf": csrf, "username": username, "password": password},
                           follow_redirects=False)
    if response.status_code == 429:
        retry = int(response.headers["retry-after"])
        assert 0 < retry <= LOGIN_FAILURE_WINDOW.total_seconds()
    return response.status_code


def test_failed_logins_are_logged_then_throttled_per_username_and_address(
    web: WebEnv, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    web.ctx.accounts = Accounts(web.store, clock=clock)
    attacker = TestClient(web.app, base_url="http://127.0.0.1", client=("203.0.113.9", 4000))
    caplog.set_level(logging.INFO, logger="openai_casb.web.accounts")
    start = clock.now
    for _ in range(LOGIN_FAILURE_LIMIT):
        assert _attempt(attacker, "wrong-password-guess") == 401
        clock.now += timedelta(seconds=10)
    failures = [r.getMessage() for r in caplog.records if "failed dashboard login" in r.getMessage()]
    assert failures == ["failed dashboard login for 'alice' from 203.0.113.9"] * LOGIN_FAILURE_LIMIT
    assert all("wrong-password-guess" not in r.getMessage() for r in caplog.records)
    assert _attempt(attacker, ADMIN_PASSWORD) == 429  # even the right password, from this address
    assert _attempt(attacker, "another-guess") == 429
    assert any("refused" in r.getMessage() and "203.0.113.9" in r.getMessage() for r in caplog.records)
    same_address = TestClient(web.app, base_url="http://127.0.0.1", client=("203.0.113.9", 4001))
    assert _attempt(same_address, VIEWER_PASSWORD, "victor") == 303  # another username from there: not throttled
    user = TestClient(web.app, base_url="http://127.0.0.1", client=("198.51.100.7", 5000))
    assert _attempt(user, ADMIN_PASSWORD) == 303  # the real user, from another address
    clock.now = start + LOGIN_FAILURE_WINDOW + timedelta(seconds=1)  # the first failure left the window: one try
    assert _attempt(attacker, "yet-another-guess") == 401
    assert _attempt(attacker, ADMIN_PASSWORD) == 429
    clock.now += LOGIN_FAILURE_WINDOW
    assert _attempt(attacker, ADMIN_PASSWORD) == 303
    assert web.ctx.accounts.login_retry_after("alice", "203.0.113.9") is None  # success cleared them


def test_the_throttle_is_shared_by_server_processes(web: WebEnv) -> None:
    """Failures are kept in the database: a second server on the same database counts them too."""
    clock = Clock()
    web.ctx.accounts = Accounts(web.store, clock=clock)
    other_ctx = WebContext(store=web.store, secret=SECRET, launcher=web.launcher, secure_cookies=False)
    other_ctx.accounts = Accounts(web.store, clock=clock)
    first = TestClient(web.app, base_url="http://127.0.0.1", client=("203.0.113.9", 4000))
    second = TestClient(create_app(other_ctx), base_url="http://127.0.0.1", client=("203.0.113.9", 4001))
    for attempt in range(LOGIN_FAILURE_LIMIT):
        assert _attempt(first if attempt % 2 else second, "wrong-password-guess", "nobody") == 401
    assert _attempt(first, "wrong-password-guess", "nobody") == 429
    assert _attempt(second, "wrong-password-guess", "nobody") == 429


def test_users_and_tokens_made_before_the_migration_keep_working(tmp_path: Path) -> None:
    engine = create_store_engine(parse_url(str(tmp_path / "old.db")))
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    token = "casb_" + "t" * 43
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0009_scoped_file_verdicts")
        connection.execute(text("INSERT INTO web_users (username, role, password_hash, created_at) VALUES "
                                "('old', 'admin', :hash, '2026-11-01 00:00:00')"),
                           {"hash": hash_password(ADMIN_PASSWORD)})
        connection.execute(text("INSERT INTO api_tokens (name, role, token_sha256, prefix, created_at) VALUES "
                                "('old', 'admin', :digest, 'casb_ttttttt', '2026-11-01 00:00:00')"),
                           {"digest": token_digest(token)})
    assert migrate(engine) is True
    engine.dispose()
    with Store.open(str(tmp_path / "old.db")) as store:
        accounts = Accounts(store)
        outcome = accounts.login("old", ADMIN_PASSWORD, "127.0.0.1")
        assert outcome.principal is not None
        assert accounts.session_user("old", outcome.generation) is not None
        found = accounts.verify_token(token)
        assert found is not None
        assert found.is_admin
        accounts.flush_token_uses()


def test_accounts_end_sessions_revoke_and_throttle_on_every_backend(store: Store) -> None:
    clock = Clock()
    accounts = Accounts(store, clock=clock)
    accounts.create_user("carol", Role.ADMIN, ADMIN_PASSWORD)
    first = accounts.login("carol", ADMIN_PASSWORD, "192.0.2.1")
    assert first.principal is not None
    assert accounts.session_user("carol", first.generation) is not None
    accounts.end_sessions("carol")
    assert accounts.session_user("carol", first.generation) is None
    _info, token = accounts.create_token(Role.ADMIN, "carol's", owner="carol")
    _info, cli_token = accounts.create_token(Role.ADMIN, "cli")
    assert accounts.set_role("carol", Role.VIEWER) == 1
    assert accounts.verify_token(token) is None
    assert accounts.delete_user("carol") == 0  # already revoked
    assert accounts.verify_token(cli_token) is not None
    for _ in range(LOGIN_FAILURE_LIMIT):
        assert accounts.login("carol", "wrong-password-guess", "192.0.2.1").principal is None
    clock.now += timedelta(minutes=5)
    assert accounts.login_retry_after("carol", "192.0.2.1") == (LOGIN_FAILURE_WINDOW - timedelta(minutes=5)).seconds
    assert accounts.login_retry_after("carol", "192.0.2.2") is None
    clock.now += LOGIN_FAILURE_WINDOW
    assert accounts.login_retry_after("carol", "192.0.2.1") is None
    accounts.flush_token_uses()
