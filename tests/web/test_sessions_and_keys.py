"""Sessions, CSRF, cookie flags, the installation secret, password hashing and the tokens/users commands."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ADMIN_PASSWORD, SECRET, WebEnv, csrf_of, login
from openai_casb.cli.app import app as cli
from openai_casb.web.context import WebContext
from openai_casb.web.keys import (
    SECRET_KEY_ENV,
    CredentialCipher,
    SecretKeyError,
    hash_password,
    load_secret,
    verify_password,
)


def test_login_sets_a_hardened_cookie(web: WebEnv) -> None:
    web.ctx.secure_cookies = True
    client = web.client()
    page = client.get("/login")
    response = client.post("/login", data={"csrf": csrf_of(page.text), "username": "alice",
                                           "password": ADMIN_PASSWORD}, follow_redirects=False)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "secure" in cookie


def test_login_needs_the_forms_csrf_token(web: WebEnv) -> None:
    client = web.client()
    client.get("/login")
    response = client.post("/login", data={"csrf": "forged", "username": "alice", "password": ADMIN_PASSWORD},
                           follow_redirects=False)
    assert response.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 303


def test_state_changing_forms_need_the_session_csrf_token(web: WebEnv) -> None:
    client = web.client()
    login(client, "alice", ADMIN_PASSWORD)
    forged = client.post("/instances/1/hide", data={"csrf": "forged", "reason": "x"}, follow_redirects=False)
    assert forged.status_code == 403
    missing = client.post("/instances/1/hide", data={"reason": "x"}, follow_redirects=False)
    assert missing.status_code == 403  # as a wrong token, not 422 for a malformed form
    assert client.post("/login", data={"username": "alice", "password": "x"}).status_code == 403
    assert web.store.get_instance(1).instance.status == "active"
    token = csrf_of(client.get("/instances/1").text)
    done = client.post("/instances/1/hide", data={"csrf": token, "reason": "known"}, follow_redirects=False)
    assert done.status_code == 303
    assert web.store.get_instance(1).instance.hidden_by == "alice"


def test_tampered_or_foreign_session_cookies_are_refused(web: WebEnv, template: object) -> None:
    client = web.client()
    login(client, "alice", ADMIN_PASSWORD)
    cookie = client.cookies["casb_session"]
    client.cookies.set("casb_session", cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"))
    assert client.get("/", follow_redirects=False).status_code == 303
    other = WebContext(store=web.store, secret=b"another-secret-of-at-least-32-characters", launcher=web.launcher)
    assert other.session_key != web.ctx.session_key


def test_logout_ends_the_session(web: WebEnv) -> None:
    client = web.client()
    login(client, "alice", ADMIN_PASSWORD)
    token = csrf_of(client.get("/").text)
    assert client.post("/logout", data={"csrf": token}, follow_redirects=False).headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303


def test_key_file_is_created_0600_and_refused_when_readable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_KEY_ENV, raising=False)
    key_file = tmp_path / "data" / "secret.key"
    first = load_secret(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_secret(key_file) == first
    os.chmod(key_file, 0o644)
    with pytest.raises(SecretKeyError, match="chmod 600"):
        load_secret(key_file)
    monkeypatch.setenv(SECRET_KEY_ENV, "too-short")
    with pytest.raises(SecretKeyError, match="too short"):
        load_secret(key_file)
    monkeypatch.setenv(SECRET_KEY_ENV, "x" * 40)
    assert load_secret(key_file) == b"x" * 40


def test_a_key_file_that_is_a_fifo_or_too_short_is_refused_not_waited_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The installation key file is read as an old key for `integrations rekey` is: bounded, and a
    # regular file only (an open of a FIFO nobody writes to would wait for ever).
    monkeypatch.delenv(SECRET_KEY_ENV, raising=False)
    fifo = tmp_path / "secret.key"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(SecretKeyError, match="is not a regular file"):
        load_secret(fifo)
    short = tmp_path / "short.key"
    short.write_text("x" * 31)
    short.chmod(0o600)
    with pytest.raises(SecretKeyError, match="fewer than 32 characters; delete it"):
        load_secret(short)


def test_credentials_need_the_same_key_to_decrypt() -> None:
    sealed = CredentialCipher(SECRET).encrypt({"admin_key": "sk-admin-abcdefghijklmnop"})
    assert b"sk-admin" not in sealed
    assert CredentialCipher(SECRET).decrypt(sealed) == {"admin_key": "sk-admin-abcdefghijklmnop"}
    with pytest.raises(SecretKeyError, match="secret key changed"):
        CredentialCipher(b"another-secret-of-at-least-32-characters").decrypt(sealed)
    assert "sk-" not in repr(CredentialCipher(SECRET))


def test_password_hashes_are_salted_scrypt() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first != second
    assert first.startswith("scrypt$")
    assert verify_password("correct horse battery", first)
    assert not verify_password("wrong", first)
    assert not verify_password("x", "garbage")


def test_tokens_and_users_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    created = runner.invoke(cli, ["tokens", "create", "--role", "viewer", "--name", "siem", "--db", db])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[0]
    assert token.startswith("casb_")
    listed = runner.invoke(cli, ["tokens", "list", "--db", db])
    assert "siem" in listed.stdout
    assert token not in listed.stdout
    assert runner.invoke(cli, ["tokens", "revoke", "1", "--db", db]).exit_code == 0
    missing = runner.invoke(cli, ["tokens", "revoke", "9", "--db", db])
    assert missing.exit_code == 2
    assert "no API token with id 9" in missing.output
    bad_role = runner.invoke(cli, ["tokens", "create", "--role", "root", "--db", db])
    assert bad_role.exit_code == 2
    assert "unknown role" in bad_role.output
    user = runner.invoke(cli, ["users", "create", "bob", "--role", "admin", "--password-stdin", "--db", db],
                         input="a-long-enough-password\n")
    assert user.exit_code == 0, user.output
    short = runner.invoke(cli, ["users", "create", "eve", "--role", "admin", "--password-stdin", "--db", db],
                          input="short\n")
    assert short.exit_code == 2
    assert "at least 12" in short.output
    again = runner.invoke(cli, ["users", "create", "bob", "--role", "viewer", "--password-stdin", "--db", db],
                          input="a-long-enough-password\n")
    assert again.exit_code == 2
    assert "already exists" in again.output
    assert "bob" in runner.invoke(cli, ["users", "list", "--db", db]).stdout
