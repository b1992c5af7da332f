"""`openai-casb integrations rekey`: stored integration credentials re-encrypted from the old installation
secret to the current one, all or nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from openai_casb.cli.app import app as cli
from openai_casb.store import Store
from openai_casb.web.accounts import Accounts
from openai_casb.web.keys import SECRET_KEY_ENV, CredentialCipher, SecretKeyError
from openai_casb.web.models import IntegrationCredentialRow

OLD = "old-installation-secret-0123456789-abcdefgh"
NEW = "new-installation-secret-9876543210-zyxwvuts"
OTHER = "some-other-installation-secret-000000000000"


def _document(n: int) -> dict[str, str]:
    return {"admin_key": f"sk-admin-secret-value-{n}", "compliance_key": f"sk-compliance-secret-value-{n}"}


@pytest.fixture
def new_secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(f"{SECRET_KEY_ENV}_FILE", raising=False)
    monkeypatch.setenv(SECRET_KEY_ENV, NEW)


def _old_key_file(tmp_path: Path, value: str = OLD) -> Path:
    path = tmp_path / "old.key"
    path.write_text(value + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def _seed(store: Store, secrets_by_integration: list[str]) -> list[int]:
    """One integration per entry, its credentials encrypted with that secret; their ids."""
    accounts = Accounts(store)
    ids = []
    for n, secret in enumerate(secrets_by_integration):
        integration = store.ensure_integration(f"org-{n}", None, f"org {n}")
        accounts.save_credentials(integration.id, CredentialCipher(secret.encode()), _document(n))
        ids.append(integration.id)
    return ids


def _ciphertexts(store: Store) -> dict[int, bytes]:
    with Session(store.engine) as session:
        return {row.integration_id: row.ciphertext for row in session.scalars(select(IntegrationCredentialRow))}


def _rekey(db_url: str, old_key_file: Path, *extra: str) -> Result:
    return CliRunner().invoke(cli, ["integrations", "rekey", "--old-key-file", str(old_key_file), "--db", db_url,
                                    *extra])


def _assert_nothing_secret(result: Result) -> None:
    shown = result.stdout + result.stderr
    for secret in (OLD, NEW, OTHER, "secret-value"):
        assert secret not in shown


@pytest.mark.usefixtures("new_secret_env")
def test_rekey_re_encrypts_every_credential_and_a_second_run_changes_nothing(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    ids = _seed(store, [OLD, OLD])
    old_file = _old_key_file(tmp_path)

    first = _rekey(db_url, old_file)
    assert first.exit_code == 0, first.output
    assert f"integration {ids[0]}: re-encrypted" in first.stdout
    assert f"integration {ids[1]}: re-encrypted" in first.stdout
    assert "2 re-encrypted, 0 already current" in first.stdout
    _assert_nothing_secret(first)
    accounts, new, old = Accounts(store), CredentialCipher(NEW.encode()), CredentialCipher(OLD.encode())
    for n, integration_id in enumerate(ids):
        assert accounts.load_credentials(integration_id, new) == _document(n)
        with pytest.raises(SecretKeyError):
            accounts.load_credentials(integration_id, old)

    after_first = _ciphertexts(store)
    second = _rekey(db_url, old_file)
    assert second.exit_code == 0, second.output
    assert f"integration {ids[0]}: already current" in second.stdout
    assert f"integration {ids[1]}: already current" in second.stdout
    assert "0 re-encrypted, 2 already current" in second.stdout
    assert _ciphertexts(store) == after_first
    _assert_nothing_secret(second)


@pytest.mark.usefixtures("new_secret_env")
def test_an_undecryptable_credential_changes_nothing_and_exits_1(store: Store, db_url: str, tmp_path: Path) -> None:
    ids = _seed(store, [OLD, OTHER, NEW, OLD])
    before = _ciphertexts(store)

    result = _rekey(db_url, _old_key_file(tmp_path))
    assert result.exit_code == 1
    assert f"integration {ids[1]}: cannot be decrypted with the old key; left untouched" in result.stdout
    assert f"integration {ids[2]}: already current" in result.stdout
    assert "nothing was changed" in result.stderr
    assert "--skip-undecryptable" in result.stderr
    assert _ciphertexts(store) == before  # not even the two the old key opens
    _assert_nothing_secret(result)


@pytest.mark.usefixtures("new_secret_env")
def test_skip_undecryptable_re_encrypts_the_others_and_leaves_it(store: Store, db_url: str, tmp_path: Path) -> None:
    ids = _seed(store, [OLD, OTHER, NEW])
    before = _ciphertexts(store)

    result = _rekey(db_url, _old_key_file(tmp_path), "--skip-undecryptable")
    assert result.exit_code == 0, result.output
    assert f"integration {ids[0]}: re-encrypted" in result.stdout
    assert f"integration {ids[1]}: cannot be decrypted with the old key; left untouched" in result.stdout
    assert f"integration {ids[2]}: already current" in result.stdout
    assert "1 re-encrypted, 1 already current, 1 left undecryptable" in result.stdout
    after = _ciphertexts(store)
    assert after[ids[1]] == before[ids[1]]
    assert after[ids[2]] == before[ids[2]]
    assert after[ids[0]] != before[ids[0]]
    assert Accounts(store).load_credentials(ids[0], CredentialCipher(NEW.encode())) == _document(0)
    assert Accounts(store).load_credentials(ids[1], CredentialCipher(OTHER.encode())) == _document(1)
    _assert_nothing_secret(result)


def test_the_new_secret_may_come_from_a_key_file(
    store: Store, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_KEY_ENV, raising=False)
    monkeypatch.delenv(f"{SECRET_KEY_ENV}_FILE", raising=False)
    new_file = tmp_path / "secret.key"
    new_file.write_text(NEW, encoding="utf-8")
    new_file.chmod(0o600)
    ids = _seed(store, [OLD])

    result = _rekey(db_url, _old_key_file(tmp_path), "--key-file", str(new_file))
    assert result.exit_code == 0, result.output
    assert Accounts(store).load_credentials(ids[0], CredentialCipher(NEW.encode())) == _document(0)


def test_a_missing_new_secret_is_a_usage_error_and_no_key_file_is_made(
    store: Store, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_KEY_ENV, raising=False)
    monkeypatch.delenv(f"{SECRET_KEY_ENV}_FILE", raising=False)
    missing = tmp_path / "new" / "secret.key"
    _seed(store, [OLD])
    before = _ciphertexts(store)

    result = _rekey(db_url, _old_key_file(tmp_path), "--key-file", str(missing))
    assert result.exit_code == 2
    assert "no installation secret" in result.stderr
    assert not missing.exists()
    assert not missing.parent.exists()
    assert _ciphertexts(store) == before


@pytest.mark.usefixtures("new_secret_env")
@pytest.mark.parametrize("problem", ["missing", "directory", "fifo", "short", "current secret"])
def test_an_unusable_old_key_file_is_a_usage_error(
    store: Store, db_url: str, tmp_path: Path, problem: str
) -> None:
    _seed(store, [OLD])
    before = _ciphertexts(store)
    path = tmp_path / "old.key"
    if problem == "directory":
        path.mkdir()
    elif problem == "fifo":
        os.mkfifo(path)  # would block a plain read until written to
    elif problem == "short":
        path.write_text("short-secret\n", encoding="utf-8")
    elif problem == "current secret":
        path.write_text(NEW + "\n", encoding="utf-8")

    result = _rekey(db_url, path)
    assert result.exit_code == 2
    assert "--old-key-file" in result.stderr
    assert _ciphertexts(store) == before
    _assert_nothing_secret(result)


def test_an_unusable_database_is_a_usage_error(tmp_path: Path, new_secret_env: None) -> None:
    result = _rekey("nosuchdriver://nowhere", _old_key_file(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")


def test_without_stored_credentials_there_is_nothing_to_do(store: Store, db_url: str, tmp_path: Path,
                                                           new_secret_env: None) -> None:
    result = _rekey(db_url, _old_key_file(tmp_path))
    assert result.exit_code == 0, result.output
    assert "0 re-encrypted, 0 already current" in result.stdout
