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
    with pytest.raises(ConfigError, match="config file not found"):
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
