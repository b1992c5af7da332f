"""API tokens' last use: written when a token authenticates a request, at most once a minute per token,
never on the request's path; shown by `openai-casb tokens list`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event
from typer.testing import CliRunner

from conftest import WebEnv
from openai_casb.cli.app import app as cli
from openai_casb.store import Store
from openai_casb.web.accounts import Accounts, Role

T0 = datetime(2026, 11, 24, 9, 30, 15, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def token_updates(store: Store) -> list[str]:
    """Every UPDATE of api_tokens the engine runs, as it runs."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", before)
    return seen


def last_used(accounts: Accounts, token_id: int) -> datetime | None:
    return next(t.last_used_at for t in accounts.list_tokens() if t.id == token_id)


def test_last_use_is_written_at_most_once_a_minute(web: WebEnv) -> None:
    clock = Clock(T0)
    accounts = Accounts(web.store, clock=clock)
    info, token = accounts.create_token(Role.VIEWER, "siem")
    assert info.last_used_at is None
    updates = token_updates(web.store)

    assert accounts.verify_token(token) is not None
    accounts.flush_token_uses()
    assert last_used(accounts, info.id) == T0
    for seconds in (1, 30, 59):  # within the minute: nothing written
        clock.now = T0 + timedelta(seconds=seconds)
        assert accounts.verify_token(token) is not None
    accounts.flush_token_uses()
    assert last_used(accounts, info.id) == T0
    assert len(updates) == 1
    clock.now = T0 + timedelta(seconds=61)
    accounts.verify_token(token)
    accounts.flush_token_uses()
    assert last_used(accounts, info.id) == T0 + timedelta(seconds=61)
    assert len(updates) == 2


def test_invalid_and_revoked_tokens_record_nothing(web: WebEnv) -> None:
    accounts = Accounts(web.store, clock=Clock(T0))
    info, token = accounts.create_token(Role.ADMIN)
    accounts.revoke_token(info.id)
    assert accounts.verify_token(token) is None
    assert accounts.verify_token("casb_" + "x" * 43) is None
    accounts.flush_token_uses()
    assert last_used(accounts, info.id) is None


def test_another_process_within_the_minute_does_not_write_again(web: WebEnv) -> None:
    first = Accounts(web.store, clock=Clock(T0))
    info, token = first.create_token(Role.VIEWER)
    first.verify_token(token)
    first.flush_token_uses()
    updates = token_updates(web.store)
    # A second server process sees the stored time and does not write; its clock past the minute does.
    second_clock = Clock(T0 + timedelta(seconds=20))
    second = Accounts(web.store, clock=second_clock)
    second.verify_token(token)
    second.flush_token_uses()
    assert updates == []
    # Past the minute, one process writes; another that decided to write before that landed (it read
    # the older value) finds the conditional UPDATE matching nothing: the stored time moves once.
    second_clock.now = T0 + timedelta(seconds=95)
    second.verify_token(token)
    second.flush_token_uses()
    assert last_used(first, info.id) == T0 + timedelta(seconds=95)
    third = Accounts(web.store, clock=Clock(T0 + timedelta(seconds=100)))
    third._uses.record(info.id, T0 + timedelta(seconds=100))  # as its verify_token would after reading T0
    third.flush_token_uses()
    assert last_used(first, info.id) == T0 + timedelta(seconds=95)
    assert len(updates) == 2


def test_api_requests_update_last_use_shown_by_tokens_list(web: WebEnv) -> None:
    clock = Clock(T0)
    web.ctx.accounts = Accounts(web.store, clock=clock)
    updates = token_updates(web.store)
    client = web.client(web.viewer_token)
    for _ in range(20):
        assert client.get("/api/v1/findings").status_code == 200
    web.ctx.accounts.flush_token_uses()
    assert len(updates) == 1  # twenty requests, one write
    tokens = {t.name: t for t in web.ctx.accounts.list_tokens()}
    assert tokens["tests viewer"].last_used_at == T0
    assert tokens["tests admin"].last_used_at is None
    assert client.get("/api/v1/findings", headers={"Authorization": "Bearer casb_wrong"}).status_code == 401

    listed = CliRunner().invoke(cli, ["tokens", "list", "--db", web.store.engine.url.render_as_string()])
    assert listed.exit_code == 0, listed.output
    used = [line for line in listed.stdout.splitlines() if "2026-11-24 09:30" in line]
    assert len(used) == 1
    assert "viewer" in used[0]
    assert any("admin" in line and "never" in line for line in listed.stdout.splitlines())
