"""`<NAME>_FILE` for the variables holding secrets or URLs with passwords (openai_casb.env_files): the
rules (both set refused, bounded UTF-8 read, one trailing newline dropped, empty refused, a shared file
warned about, the value never in a message) and one end-to-end use per kind of variable: the API keys
(`check` and `scan` against the emulator), the database URL, the web secret key, the DLP salt and the
distributed mode's URLs."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from openai_casb import private_files
from openai_casb.cli.app import app
from openai_casb.config import ConfigError, load_settings
from openai_casb.distributed.settings import DistributedConfigError, configured, load_distributed_settings
from openai_casb.dlp.engine import DlpEngine
from openai_casb.dlp.settings import DlpSettings
from openai_casb.emulator import EmulatorConfig, RunningEmulator, generate_org, running_emulator
from openai_casb.env_files import MAX_SECRET_FILE_BYTES, EnvFileError, env_value, with_dlp_salt_file
from openai_casb.store import Store, StoreError, default_url
from openai_casb.web.accounts import Accounts
from openai_casb.web.keys import CredentialCipher, SecretKeyError, load_secret
from openai_casb.web.scan_launcher import ScanUnavailableError, configured_launcher
from tests.emulated_cli import emulator_cli_env
from tests.serve_process import request_when_serving

VARIABLES = (
    "OPENAI_ADMIN_KEY", "OPENAI_COMPLIANCE_KEY", "OPENAI_PROJECT_KEY", "OPENAI_CASB_SECRET_KEY",
    "OPENAI_CASB_DLP_SALT", "OPENAI_CASB_DB", "OPENAI_CASB_BROKER_URL", "OPENAI_CASB_REDIS_URL",
)
SECRET = "s3cr3t-value-that-must-never-be-shown-0123456789"
CLI = [sys.executable, "-m", "openai_casb.cli"]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name + "_FILE", raising=False)


def secret_file(directory: Path, content: str | bytes, name: str = "secret", mode: int = 0o600) -> Path:
    path = directory / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    path.chmod(mode)
    return path


def refused(env: dict[str, str], match: str, name: str = "OPENAI_ADMIN_KEY") -> str:
    with pytest.raises(EnvFileError, match=match) as caught:
        env_value(name, env)
    message = str(caught.value)
    assert SECRET not in message
    return message


def assert_both_refused(run: Result, name: str, value: str) -> None:
    """A command run with both `name` and `name_FILE` set: exit 2, the error said, the value never shown."""
    assert run.exit_code == 2
    assert f"error: both {name} and {name}_FILE are set" in run.stderr
    assert value not in run.output


# --- The rules -----------------------------------------------------------------------------------------


def test_neither_set_is_none_and_the_plain_variable_is_unchanged() -> None:
    assert env_value("OPENAI_ADMIN_KEY", {}) is None
    assert env_value("OPENAI_ADMIN_KEY", {"OPENAI_ADMIN_KEY": f" {SECRET}\n"}) == f" {SECRET}\n"
    assert env_value("OPENAI_ADMIN_KEY", {"OPENAI_ADMIN_KEY": "", "OPENAI_ADMIN_KEY_FILE": " "}) == ""


@pytest.mark.parametrize(("content", "value"), [
    (SECRET, SECRET),
    (SECRET + "\n", SECRET),
    (SECRET + "\r\n", SECRET),
    (SECRET + "\n\n", SECRET + "\n"),  # one newline, as `echo` leaves, not every trailing character
    ("  " + SECRET + " \n", "  " + SECRET + " "),
    ("pässwörd-ünicode\n", "pässwörd-ünicode"),
])
def test_the_file_gives_the_value_less_one_trailing_newline(tmp_path: Path, content: str, value: str) -> None:
    path = secret_file(tmp_path, content)
    assert env_value("OPENAI_ADMIN_KEY", {"OPENAI_ADMIN_KEY_FILE": str(path)}) == value
    # A blank plain variable is unset, as it always was: the file is used.
    assert env_value("OPENAI_ADMIN_KEY", {"OPENAI_ADMIN_KEY": " ", "OPENAI_ADMIN_KEY_FILE": str(path)}) == value


def test_both_set_is_refused_naming_the_two_variables_and_not_the_value(tmp_path: Path) -> None:
    path = secret_file(tmp_path, SECRET)
    message = refused({"OPENAI_ADMIN_KEY": SECRET, "OPENAI_ADMIN_KEY_FILE": str(path)}, "both")
    assert "OPENAI_ADMIN_KEY and OPENAI_ADMIN_KEY_FILE" in message


def test_a_missing_file_a_directory_or_an_unusable_path_is_refused_with_its_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    assert str(missing) in refused({"OPENAI_ADMIN_KEY_FILE": str(missing)}, "does not exist")
    assert str(tmp_path) in refused({"OPENAI_ADMIN_KEY_FILE": str(tmp_path)}, "is a directory")
    under_a_file = secret_file(tmp_path, SECRET) / "x"
    message = refused({"OPENAI_ADMIN_KEY_FILE": str(under_a_file)}, "cannot be read")
    assert "OPENAI_ADMIN_KEY_FILE" in message
    assert str(under_a_file) in message


def test_an_unreadable_file_is_refused_with_its_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The suite may run as root, who reads a 0000 file: the refusal of `open` is made here instead.
    path = secret_file(tmp_path, SECRET, mode=0o000)

    def denied(_path: Path, _limit: int, _regular_only: bool = False) -> tuple[bytes, int]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(private_files, "read_bounded", denied)
    message = refused({"OPENAI_CASB_DB_FILE": str(path)}, "not readable", name="OPENAI_CASB_DB")
    assert f"OPENAI_CASB_DB_FILE: {path}" in message


@pytest.mark.parametrize("content", ["", "\n", "\r\n", "  \n"])
def test_an_empty_file_is_refused(tmp_path: Path, content: str) -> None:
    path = secret_file(tmp_path, content)
    assert str(path) in refused({"OPENAI_ADMIN_KEY_FILE": str(path)}, "is empty")


def test_a_file_that_is_not_utf8_is_refused_without_quoting_it(tmp_path: Path) -> None:
    path = secret_file(tmp_path, SECRET.encode() + b"\xff\xfe" + b"tail")
    message = refused({"OPENAI_ADMIN_KEY_FILE": str(path)}, "not UTF-8")
    assert "tail" not in message
    assert f"byte {len(SECRET)}" in message


def test_the_read_is_bounded(tmp_path: Path) -> None:
    big = secret_file(tmp_path, "k" * (MAX_SECRET_FILE_BYTES + 1))
    refused({"OPENAI_ADMIN_KEY_FILE": str(big)}, "larger than")
    at_limit = secret_file(tmp_path, "k" * MAX_SECRET_FILE_BYTES, name="at-limit")
    assert env_value("OPENAI_ADMIN_KEY", {"OPENAI_ADMIN_KEY_FILE": str(at_limit)}) == "k" * MAX_SECRET_FILE_BYTES
    # An endless device given by mistake is refused before any read (only regular files are read).
    refused({"OPENAI_ADMIN_KEY_FILE": "/dev/zero"}, "is not a regular file")


def test_a_file_others_may_read_is_used_with_a_warning_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    shared = secret_file(tmp_path, SECRET, name="shared", mode=0o644)
    with caplog.at_level(logging.WARNING, logger="openai_casb.env_files"):
        assert env_value("OPENAI_CASB_SECRET_KEY", {"OPENAI_CASB_SECRET_KEY_FILE": str(shared)}) == SECRET
        assert env_value("OPENAI_CASB_SECRET_KEY", {"OPENAI_CASB_SECRET_KEY_FILE": str(shared)}) == SECRET
    assert len(caplog.records) == 1  # a worker reads its settings on every tick: once is enough
    message = caplog.records[0].getMessage()
    assert message.startswith("warning: ")
    assert str(shared) in message
    assert "OPENAI_CASB_SECRET_KEY" in message
    assert f"chmod 600 {shared}" in message
    assert SECRET not in message
    caplog.clear()
    private = secret_file(tmp_path, SECRET, name="private", mode=0o600)
    group = secret_file(tmp_path, SECRET, name="group", mode=0o640)
    with caplog.at_level(logging.WARNING, logger="openai_casb.env_files"):
        env_value("OPENAI_CASB_SECRET_KEY", {"OPENAI_CASB_SECRET_KEY_FILE": str(private)})
        assert not caplog.records
        env_value("OPENAI_CASB_SECRET_KEY", {"OPENAI_CASB_SECRET_KEY_FILE": str(group)})
    assert [str(group) in r.getMessage() for r in caplog.records] == [True]


# --- API keys: settings and the CLI against the emulator -----------------------------------------------


def test_settings_read_each_key_from_its_file(tmp_path: Path) -> None:
    admin = secret_file(tmp_path, "sk-admin-from-a-file-0123456789\n", name="admin")
    compliance = secret_file(tmp_path, "sk-compliance-from-a-file-01234\n", name="compliance")
    project = secret_file(tmp_path, "sk-proj-from-a-file-0123456789\n", name="project")
    settings = load_settings(env={
        "OPENAI_ADMIN_KEY_FILE": str(admin), "OPENAI_COMPLIANCE_KEY_FILE": str(compliance),
        "OPENAI_PROJECT_KEY_FILE": str(project), "OPENAI_PROJECT_ID": "proj_1",
    })
    assert settings.admin_key.get_secret_value() == "sk-admin-from-a-file-0123456789"
    assert settings.effective_compliance_key.get_secret_value() == "sk-compliance-from-a-file-01234"
    assert settings.project_key is not None
    assert settings.project_key.get_secret_value() == "sk-proj-from-a-file-0123456789"
    with pytest.raises(ConfigError, match="both OPENAI_COMPLIANCE_KEY and OPENAI_COMPLIANCE_KEY_FILE") as caught:
        load_settings(env={"OPENAI_ADMIN_KEY_FILE": str(admin), "OPENAI_COMPLIANCE_KEY": SECRET,
                           "OPENAI_COMPLIANCE_KEY_FILE": str(compliance)})
    assert SECRET not in str(caught.value)


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    org = generate_org("users=3,gpts=1,conversations=3,files=1", seed=2, now=datetime(2026, 11, 1, tzinfo=UTC))
    with running_emulator(org, EmulatorConfig(rate_limit_scale=100)) as running:
        yield running


def check(emulator: RunningEmulator, **env: str | None) -> Result:
    return CliRunner().invoke(app, ["check", "--format", "json"], env=emulator_cli_env(emulator, **env))


def test_check_reads_the_admin_key_from_its_file(emulator: RunningEmulator, tmp_path: Path) -> None:
    admin = secret_file(tmp_path, emulator.admin_key + "\n", name="admin")
    compliance = secret_file(tmp_path, emulator.compliance_key + "\n", name="compliance")
    run = check(emulator, OPENAI_ADMIN_KEY_FILE=str(admin), OPENAI_COMPLIANCE_KEY_FILE=str(compliance))
    assert run.exit_code == 0, run.output
    assert '"healthy": true' in run.stdout
    assert emulator.admin_key not in run.output


def test_check_refuses_both_and_a_bad_file_with_exit_2(emulator: RunningEmulator, tmp_path: Path) -> None:
    admin = secret_file(tmp_path, emulator.admin_key, name="admin")
    both = check(emulator, OPENAI_ADMIN_KEY=emulator.admin_key, OPENAI_ADMIN_KEY_FILE=str(admin))
    assert_both_refused(both, "OPENAI_ADMIN_KEY", emulator.admin_key)
    missing = check(emulator, OPENAI_ADMIN_KEY_FILE=str(tmp_path / "absent"))
    assert missing.exit_code == 2
    assert f"error: OPENAI_ADMIN_KEY_FILE: {tmp_path / 'absent'} does not exist" in missing.stderr


# --- The database URL -----------------------------------------------------------------------------------


def test_scan_reads_its_keys_and_database_url_from_files(
    emulator: RunningEmulator, tmp_path: Path, db_url: str
) -> None:
    admin = secret_file(tmp_path, emulator.admin_key + "\n", name="admin")
    compliance = secret_file(tmp_path, emulator.compliance_key + "\n", name="compliance")
    database = secret_file(tmp_path, db_url + "\n", name="db")
    env = emulator_cli_env(emulator, OPENAI_ADMIN_KEY_FILE=str(admin), OPENAI_COMPLIANCE_KEY_FILE=str(compliance),
                  OPENAI_CASB_DB_FILE=str(database), OPENAI_CASB_DB=None)
    run = CliRunner().invoke(app, ["scan"], env=env)  # no --db: the URL comes from the file
    assert run.exit_code == 0, run.output
    with Store.open(db_url) as store:
        assert len(store.list_scans()) == 1
    assert emulator.admin_key not in run.output
    both = CliRunner().invoke(app, ["findings"], env={**env, "OPENAI_CASB_DB": db_url})
    assert_both_refused(both, "OPENAI_CASB_DB", db_url)


def test_a_database_url_file_with_a_password_stays_out_of_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"postgresql+psycopg://casb:{SECRET}@db.invalid:5432/casb"
    monkeypatch.setenv("OPENAI_CASB_DB_FILE", str(secret_file(tmp_path, url + "\n")))
    assert default_url() == url
    monkeypatch.setenv("OPENAI_CASB_DB", url)
    with pytest.raises(StoreError, match="both OPENAI_CASB_DB and OPENAI_CASB_DB_FILE") as caught:
        default_url()
    assert SECRET not in str(caught.value)


# --- The web secret key ---------------------------------------------------------------------------------


def test_serve_takes_its_secret_key_and_database_from_files(tmp_path: Path) -> None:
    key = "k" * 20 + "-from-a-docker-secret-" + "k" * 20
    url = f"sqlite:///{tmp_path / 'web.db'}"
    env = {name: value for name, value in os.environ.items() if not name.startswith(VARIABLES)}
    env |= {"OPENAI_CASB_SECRET_KEY_FILE": str(secret_file(tmp_path, key + "\n", name="key")),
            "OPENAI_CASB_DB_FILE": str(secret_file(tmp_path, url + "\n", name="db")),
            "XDG_DATA_HOME": str(tmp_path / "data"), "OPENAI_CASB_POLICY": ""}
    created = subprocess.run([*CLI, "tokens", "create", "--role", "admin"],
                             env=env, capture_output=True, text=True, timeout=120, check=True)
    admin = next(word for word in created.stdout.split() if word.startswith("casb_"))
    port = free_port()
    server = subprocess.Popen([*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        body = {"display_name": "from files", "organization_id": "org-envfiles", "admin_key": "sk-admin-stored-0123"}
        made = request_when_serving(server, "POST", f"http://127.0.0.1:{port}/api/v1/integrations", json=body,
                                    headers={"Authorization": f"Bearer {admin}"})
        assert made.status_code == 201, made.text
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    assert f"database {url}" in out  # the URL came from OPENAI_CASB_DB_FILE
    assert key not in out + err
    # The credentials were sealed with the file's key (no key file was made in the data directory).
    assert not (tmp_path / "data" / "openai-casb" / "secret.key").exists()
    with Store.open(url) as store:
        stored = Accounts(store).load_credentials(made.json()["id"], CredentialCipher(key.encode()))
    assert stored is not None
    assert stored["admin_key"] == "sk-admin-stored-0123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_secret_key_file_follows_the_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = "x" * 40
    monkeypatch.setenv("OPENAI_CASB_SECRET_KEY_FILE", str(secret_file(tmp_path, key + "\r\n")))
    assert load_secret(tmp_path / "unused.key") == key.encode()
    assert not (tmp_path / "unused.key").exists()
    monkeypatch.setenv("OPENAI_CASB_SECRET_KEY_FILE", str(secret_file(tmp_path, "short\n", name="short")))
    with pytest.raises(SecretKeyError, match="too short"):
        load_secret(tmp_path / "unused.key")
    monkeypatch.setenv("OPENAI_CASB_SECRET_KEY", key)
    with pytest.raises(SecretKeyError, match="both OPENAI_CASB_SECRET_KEY and OPENAI_CASB_SECRET_KEY_FILE"):
        load_secret(tmp_path / "unused.key")


def test_serve_refuses_both_secret_variables_with_exit_2(tmp_path: Path) -> None:
    key = "y" * 40
    env = {"OPENAI_CASB_SECRET_KEY": key, "OPENAI_CASB_SECRET_KEY_FILE": str(secret_file(tmp_path, key)),
           "OPENAI_CASB_DB": f"sqlite:///{tmp_path / 'web.db'}", "OPENAI_CASB_POLICY": ""}
    with socket.socket() as busy:  # were the secret accepted, serve would stop at this taken port, not run on
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        run = CliRunner().invoke(app, ["serve", "--host", "127.0.0.1", "--port", port], env=env)
    assert_both_refused(run, "OPENAI_CASB_SECRET_KEY", key)


# --- The DLP salt ---------------------------------------------------------------------------------------


def test_the_dlp_salt_file_gives_the_same_engine_as_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    salt = "salt-" + "5" * 40
    monkeypatch.setenv("OPENAI_CASB_DLP_SALT", salt)
    from_variable = DlpEngine.from_settings(with_dlp_salt_file(DlpSettings()))
    monkeypatch.delenv("OPENAI_CASB_DLP_SALT")
    monkeypatch.setenv("OPENAI_CASB_DLP_SALT_FILE", str(secret_file(tmp_path, salt + "\n")))
    settings = with_dlp_salt_file(DlpSettings())
    assert settings.salt == salt
    assert DlpEngine.from_settings(settings).profile_set_digest == from_variable.profile_set_digest
    other = DlpEngine.from_settings(DlpSettings(salt="another-salt-" + "6" * 30))
    assert other.profile_set_digest != from_variable.profile_set_digest
    # A salt in the policy's DLP settings still wins, as it wins over the variable.
    assert with_dlp_salt_file(DlpSettings(salt="policy-salt-123")).salt == "policy-salt-123"
    monkeypatch.setenv("OPENAI_CASB_DLP_SALT", salt)
    with pytest.raises(EnvFileError, match="both OPENAI_CASB_DLP_SALT and OPENAI_CASB_DLP_SALT_FILE"):
        with_dlp_salt_file(DlpSettings())


def test_dlp_scan_uses_the_salt_file_and_refuses_a_missing_one(tmp_path: Path) -> None:
    sample = tmp_path / "card.txt"
    sample.write_text("card number 4111 1111 1111 1111\n")
    salt = secret_file(tmp_path, "salt-" + "7" * 40 + "\n", name="salt")
    run = CliRunner().invoke(app, ["dlp", "scan", str(sample)], env={"OPENAI_CASB_DLP_SALT_FILE": str(salt),
                                                                   "OPENAI_CASB_POLICY": ""})
    assert run.exit_code == 0, run.output
    absent = tmp_path / "no-salt"
    missing = CliRunner().invoke(app, ["dlp", "scan", str(sample)],
                                 env={"OPENAI_CASB_DLP_SALT_FILE": str(absent), "OPENAI_CASB_POLICY": ""})
    assert missing.exit_code == 2
    assert f"error: OPENAI_CASB_DLP_SALT_FILE: {absent} does not exist" in missing.stderr


# --- The distributed mode's URLs ------------------------------------------------------------------------


def test_broker_redis_and_database_urls_come_from_files(tmp_path: Path) -> None:
    broker = f"redis://:{SECRET}@broker.invalid:6379/0"
    redis = f"redis://:{SECRET}@locks.invalid:6379/1"
    database = f"postgresql+psycopg://casb:{SECRET}@db.invalid/casb"
    env = {"OPENAI_CASB_BROKER_URL_FILE": str(secret_file(tmp_path, broker + "\n", name="broker")),
           "OPENAI_CASB_REDIS_URL_FILE": str(secret_file(tmp_path, redis + "\n", name="redis")),
           "OPENAI_CASB_DB_FILE": str(secret_file(tmp_path, database + "\n", name="db"))}
    config = load_distributed_settings(env)
    assert (config.broker_url, config.redis_url, config.db_url) == (broker, redis, database)
    # The Redis URL defaults to the broker's, from a file as from the variable.
    assert load_distributed_settings({"OPENAI_CASB_BROKER_URL_FILE": env["OPENAI_CASB_BROKER_URL_FILE"]}).redis_url \
        == broker
    for name in ("OPENAI_CASB_BROKER_URL", "OPENAI_CASB_REDIS_URL", "OPENAI_CASB_DB"):
        with pytest.raises(DistributedConfigError, match=f"both {name} and {name}_FILE") as caught:
            load_distributed_settings({**env, name: "redis://set-as-well"})
        assert SECRET not in str(caught.value)


def test_serve_refuses_both_broker_variables(tmp_path: Path) -> None:
    env = {"OPENAI_CASB_BROKER_URL": "redis://127.0.0.1:6379/0",
           "OPENAI_CASB_BROKER_URL_FILE": str(secret_file(tmp_path, "redis://127.0.0.1:6379/0"))}
    with Store.open(f"sqlite:///{tmp_path / 'casb.db'}") as store, \
            pytest.raises(ScanUnavailableError, match="both OPENAI_CASB_BROKER_URL and OPENAI_CASB_BROKER_URL_FILE"):
        configured_launcher(store, _default_policy(), env)


def _default_policy() -> Any:
    from openai_casb.policy import Policy

    return Policy()


def test_a_worker_says_why_it_skips_the_environments_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPENAI_ADMIN_KEY_FILE", str(tmp_path / "absent"))
    monkeypatch.setenv("OPENAI_CASB_CONFIG", "")
    with caplog.at_level(logging.WARNING, logger="openai_casb.distributed.settings"):
        assert configured(load_distributed_settings({})).settings == ()
    assert any(f"OPENAI_ADMIN_KEY_FILE: {tmp_path / 'absent'} does not exist" in r.getMessage()
               for r in caplog.records)


# --- Found by review: a secret in the _FILE variable, a FIFO, a short salt ------------------------------


@pytest.mark.parametrize("value", [SECRET, "postgresql://casb:hunter2-password@db/casb", "salt with spaces ok"])
def test_a_secret_set_in_the_file_variable_by_mistake_is_not_printed_back(value: str) -> None:
    with pytest.raises(EnvFileError, match=r"OPENAI_ADMIN_KEY_FILE: .*not shown") as caught:
        env_value("OPENAI_ADMIN_KEY", {"OPENAI_ADMIN_KEY_FILE": value})
    assert value not in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "key"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []
    reader = threading.Thread(target=lambda: outcome.extend(_raised(fifo)), daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "reading the FIFO blocked"
    assert len(outcome) == 1
    assert isinstance(outcome[0], EnvFileError)
    assert "is not a regular file" in str(outcome[0])
    assert str(fifo) in str(outcome[0])


def _raised(path: Path) -> list[BaseException]:
    try:
        env_value("OPENAI_ADMIN_KEY", {"OPENAI_ADMIN_KEY_FILE": str(path)})
    except BaseException as exc:
        return [exc]
    return []


def test_a_salt_file_too_short_for_a_salt_is_refused_without_quoting_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    salt = secret_file(tmp_path, "shrt5\n", name="salt")
    monkeypatch.setenv("OPENAI_CASB_DLP_SALT_FILE", str(salt))
    monkeypatch.delenv("OPENAI_CASB_DLP_SALT", raising=False)
    with pytest.raises(EnvFileError, match="8 to 512 characters") as caught:
        with_dlp_salt_file(DlpSettings())
    assert "shrt5" not in str(caught.value)
