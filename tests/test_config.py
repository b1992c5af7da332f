"""Settings: precedence flags > env > file > defaults, validation, redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from openai_casb.config import (
    DEFAULT_ADMIN_BASE_URL,
    DEFAULT_COMPLIANCE_BASE_URL,
    ConfigError,
    load_settings,
    settings_from_options,
)

ADMIN = "sk-admin-SECRETadminKEYvalue0123456789"
COMP = "sk-comp-SECRETcomplianceKEY987654321"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "casb.toml"
    path.write_text(text)
    return path


def test_defaults_and_compliance_key_falls_back_to_admin_key() -> None:
    settings = load_settings({}, None, {"OPENAI_ADMIN_KEY": ADMIN})
    assert settings.admin_base_url == DEFAULT_ADMIN_BASE_URL
    assert settings.compliance_base_url == DEFAULT_COMPLIANCE_BASE_URL
    assert settings.effective_compliance_key.get_secret_value() == ADMIN
    assert not settings.has_workspace
    assert settings.audit_log_lookback_days == 400


def test_precedence_flags_over_env_over_file(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        f'admin_key = "{ADMIN}"\nworkspace_id = "ws-file"\norg_id = "org-file"\n'
        'admin_base_url = "http://file.test/v1"\nmax_retries = 3\n',
    )
    env = {"CHATGPT_WORKSPACE_ID": "ws-env", "OPENAI_ADMIN_BASE_URL": "http://env.test/v1/"}
    settings = load_settings({"workspace_id": "ws-flag", "org_id": None}, config, env)
    assert settings.workspace_id == "ws-flag"  # flag beats env and file
    assert settings.admin_base_url == "http://env.test/v1"  # env beats file; trailing slash dropped
    assert settings.org_id == "org-file"  # flag not given: file value stays
    assert settings.max_retries == 3
    assert settings.admin_key.get_secret_value() == ADMIN


def test_config_file_from_env_and_table(tmp_path: Path) -> None:
    config = write(tmp_path, f'[openai_casb]\nadmin_key = "{ADMIN}"\ncompliance_key = "{COMP}"\n')
    settings = load_settings({}, None, {"OPENAI_CASB_CONFIG": str(config)})
    assert settings.effective_compliance_key.get_secret_value() == COMP


def test_standard_options_builder(tmp_path: Path) -> None:
    settings = settings_from_options(
        workspace_id="ws-1", compliance_base_url="http://c.test/v1", env={"OPENAI_ADMIN_KEY": ADMIN}
    )
    assert settings.workspace_id == "ws-1"
    assert settings.compliance_base_url == "http://c.test/v1"


@pytest.mark.parametrize(
    ("overrides", "env", "file_text", "message"),
    [
        ({}, {}, None, "admin_key (OPENAI_ADMIN_KEY) is required"),
        ({}, {"OPENAI_ADMIN_KEY": "   "}, None, "admin_key (OPENAI_ADMIN_KEY) is required"),
        ({"admin_base_url": "api.openai.com"}, {"OPENAI_ADMIN_KEY": ADMIN}, None, "not an http(s) URL"),
        ({}, {"OPENAI_ADMIN_KEY": ADMIN, "OPENAI_PROJECT_KEY": "sk-proj-x"}, None, "give both or neither"),
        ({"max_retries": "many"}, {"OPENAI_ADMIN_KEY": ADMIN}, None, "max_retries"),
        ({}, {"OPENAI_ADMIN_KEY": ADMIN}, "admin_key = [", "not valid TOML"),
        ({}, {"OPENAI_ADMIN_KEY": ADMIN}, "admin_keyy = 'x'", "unknown setting(s): admin_keyy"),
        ({"nope": 1}, {"OPENAI_ADMIN_KEY": ADMIN}, None, "unknown setting: nope"),
    ],
)
def test_bad_input_gives_clear_errors(
    tmp_path: Path, overrides: dict[str, object], env: dict[str, str], file_text: str | None, message: str
) -> None:
    config = write(tmp_path, file_text) if file_text is not None else None
    with pytest.raises(ConfigError) as caught:
        load_settings(overrides, config, env)
    assert message in str(caught.value)
    assert ADMIN not in str(caught.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file .*absent\.toml does not exist"):
        load_settings({}, tmp_path / "absent.toml", {"OPENAI_ADMIN_KEY": ADMIN})
    with pytest.raises(ConfigError, match="is a directory"):
        load_settings({}, tmp_path, {"OPENAI_ADMIN_KEY": ADMIN})


def test_secrets_never_in_repr_or_dump() -> None:
    settings = load_settings(
        {},
        None,
        {
            "OPENAI_ADMIN_KEY": ADMIN,
            "OPENAI_COMPLIANCE_KEY": COMP,
            "OPENAI_PROJECT_KEY": "sk-proj-SECRETproj",
            "OPENAI_PROJECT_ID": "proj_1",
        },
    )
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert "SECRET" not in text


# --- Values of the config file: types, bounds, secrets in messages, file size and permissions ---


@pytest.mark.parametrize(
    ("file_text", "message"),
    [
        # TOML has real numbers: a boolean or a quoted number is a mistake, not 1 second or 6 retries.
        ("timeout_seconds = true", "timeout_seconds: Input should be a valid number"),
        ('max_retries = "6"', "max_retries: Input should be a valid integer"),
        ("max_retries = 6.5", "max_retries: Input should be a valid integer"),
        # Non-finite numbers would never time out, never give up waiting, or never open the window.
        ("timeout_seconds = inf", "timeout_seconds: Input should be a finite number"),
        ("retry_budget_seconds = inf", "retry_budget_seconds: Input should be a finite number"),
        ("rate_window_seconds = inf", "rate_window_seconds: Input should be a finite number"),
        ("backoff_cap_seconds = nan", "backoff_cap_seconds: Input should be a finite number"),
        # A lookback past year 1 would fail every scan with an OverflowError (now - timedelta(days)).
        ("audit_log_lookback_days = 1000000", "audit_log_lookback_days: Input should be less than or equal to 36500"),
    ],
)
def test_wrong_types_and_non_finite_numbers_are_refused(tmp_path: Path, file_text: str, message: str) -> None:
    config = write(tmp_path, f'admin_key = "{ADMIN}"\n{file_text}\n')
    with pytest.raises(ConfigError) as caught:
        load_settings({}, config, {})
    assert message in str(caught.value)


def test_longest_lookback_still_fits_a_date() -> None:
    from datetime import UTC, datetime, timedelta

    settings = load_settings({"admin_key": ADMIN, "audit_log_lookback_days": 36500}, None, {})
    assert datetime.now(UTC) - timedelta(days=settings.audit_log_lookback_days) > datetime.min.replace(tzinfo=UTC)
    # Integers stay valid for the float settings.
    assert load_settings({"admin_key": ADMIN, "timeout_seconds": 5}, None, {}).timeout_seconds == 5.0


@pytest.mark.parametrize(
    "url",
    [
        "sk-admin-PASTEDintoTHEurlVARIABLE",  # a key in the wrong variable
        "ftp://user:SECRETpassword@host.test/v1",
        "https://user:SECRETpassword@host.test/v1",  # a valid URL, but credentials do not belong there
    ],
)
def test_base_url_errors_never_quote_the_value(tmp_path: Path, url: str) -> None:
    env = {"OPENAI_ADMIN_KEY": ADMIN, "OPENAI_ADMIN_BASE_URL": url}
    with pytest.raises(ConfigError) as caught:
        load_settings({}, None, env)
    message = str(caught.value)
    assert "admin_base_url (OPENAI_ADMIN_BASE_URL)" in message
    assert "SECRET" not in message
    assert "PASTED" not in message


def test_unknown_name_that_looks_like_a_value_is_not_quoted(tmp_path: Path) -> None:
    config = write(tmp_path, f'admin_key = "{ADMIN}"\n"sk-admin-PASTEDasAname" = 1\ncolour = 2\n')
    with pytest.raises(ConfigError) as caught:
        load_settings({}, config, {})
    assert "unknown setting(s): colour, <name>" in str(caught.value)
    assert "PASTED" not in str(caught.value)


def test_non_utf8_config_file_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "casb.toml"
    config.write_bytes(b'admin_key = "sk-admin-\xff\xfe"\n')
    with pytest.raises(ConfigError, match="is not UTF-8"):
        load_settings({}, config, {})


def test_oversized_config_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    from openai_casb.config import MAX_CONFIG_FILE_BYTES

    config = tmp_path / "casb.toml"
    config.write_text(f'admin_key = "{ADMIN}"\n' + "# padding\n" * (MAX_CONFIG_FILE_BYTES // 10 + 1))
    with pytest.raises(ConfigError, match="is larger than"):
        load_settings({}, config, {})
    with pytest.raises(ConfigError, match="is larger than"):
        load_settings({}, Path("/dev/zero"), {})


def test_config_file_with_keys_readable_by_others_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = write(tmp_path, f'admin_key = "{ADMIN}"\n')
    config.chmod(0o644)
    with caplog.at_level("WARNING", logger="openai_casb.config"):
        load_settings({}, config, {})
    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    assert "holds admin_key" in message
    assert "0o644" in message
    assert "chmod 600" in message
    assert ADMIN not in message

    caplog.clear()
    config.chmod(0o600)
    with caplog.at_level("WARNING", logger="openai_casb.config"):
        load_settings({}, config, {})
    assert not caplog.records

    # Without a key in it, the file may be shared.
    shared = tmp_path / "shared.toml"
    shared.write_text("max_retries = 3\n")
    shared.chmod(0o644)
    with caplog.at_level("WARNING", logger="openai_casb.config"):
        load_settings({}, shared, {"OPENAI_ADMIN_KEY": ADMIN})
    assert not caplog.records


def test_cli_bad_config_file_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from openai_casb.cli.app import app

    config = tmp_path / "casb.toml"
    config.write_bytes(b'admin_key = "sk-admin-SECRET\xff"\n')
    config.chmod(0o600)
    result = CliRunner().invoke(app, ["check", "--config", str(config)], env={"OPENAI_ADMIN_KEY": ""})
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [f"error: config file {config} is not UTF-8 (byte 28)"]
    assert "SECRET" not in result.output
