"""Settings: credentials, endpoints and HTTP policy, from flags > environment > config file > defaults.

Secrets are `SecretStr`, so a repr, a log line or a traceback never shows them in plain form.
The config file is TOML with the same names as the fields of `Settings` (see docs/configuration.md).
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from openai_casb.env_files import EnvFileError, env_value
from openai_casb.private_files import BoundedReadError, read_text_bounded, warn_if_shared

DEFAULT_ADMIN_BASE_URL = "https://api.openai.com/v1"
DEFAULT_COMPLIANCE_BASE_URL = "https://api.chatgpt.com/v1"
CONFIG_FILE_ENV = "OPENAI_CASB_CONFIG"
# A config file is a few dozen lines: anything bigger is refused before it is parsed (read in full,
# `/dev/zero` or a log file given by mistake would exhaust memory).
MAX_CONFIG_FILE_BYTES = 1024 * 1024
# The settings that hold credentials: a config file giving one should be readable only by its owner.
SECRET_SETTINGS = ("admin_key", "compliance_key", "project_key")
# Longest lookback that still fits in a date (as the policy's thresholds: 1 to 36500 days).
MAX_LOOKBACK_DAYS = 36500

logger = logging.getLogger(__name__)

# Environment variable -> field. Only these are read from the environment; those of SECRET_SETTINGS
# may also come from a file named by `<NAME>_FILE` (openai_casb.env_files).
ENV_VARS: dict[str, str] = {
    "OPENAI_ADMIN_KEY": "admin_key",
    "OPENAI_ORG_ID": "org_id",
    "CHATGPT_WORKSPACE_ID": "workspace_id",
    "OPENAI_COMPLIANCE_KEY": "compliance_key",
    "OPENAI_PROJECT_KEY": "project_key",
    "OPENAI_PROJECT_ID": "project_id",
    "OPENAI_ADMIN_BASE_URL": "admin_base_url",
    "CHATGPT_COMPLIANCE_BASE_URL": "compliance_base_url",
}


class ConfigError(ValueError):
    """Settings are missing or invalid. The message is safe to show: it never holds a secret."""


class Settings(BaseModel):
    """Everything the connectors need. Immutable; build it with `load_settings`."""

    # Numbers are strict (TOML has real numbers: `timeout_seconds = true` or `max_retries = "6"` is a
    # mistake, not 1 second and 6 retries) and finite (`inf` would wait or time out never).
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    admin_key: SecretStr
    org_id: str | None = None
    workspace_id: str | None = None
    compliance_key: SecretStr | None = None
    project_key: SecretStr | None = None
    project_id: str | None = None
    admin_base_url: str = DEFAULT_ADMIN_BASE_URL
    compliance_base_url: str = DEFAULT_COMPLIANCE_BASE_URL

    # HTTP policy.
    timeout_seconds: float = Field(strict=True, default=30.0, gt=0)
    max_retries: int = Field(strict=True, default=6, ge=0, le=50)
    retry_budget_seconds: float = Field(strict=True, default=300.0, ge=0)
    backoff_base_seconds: float = Field(strict=True, default=0.5, ge=0)
    backoff_cap_seconds: float = Field(strict=True, default=8.0, ge=0)
    max_retry_after_seconds: float = Field(strict=True, default=120.0, ge=0)
    max_concurrency: int = Field(strict=True, default=8, ge=1, le=64)

    # Client-side quotas: requests per rolling window, per endpoint template.
    rate_window_seconds: float = Field(strict=True, default=60.0, gt=0)
    # Added to the window: the server stamps a request on arrival, after network latency.
    rate_margin_seconds: float = Field(strict=True, default=0.25, ge=0)
    admin_requests_per_window: int = Field(strict=True, default=100, ge=1)
    compliance_list_requests_per_window: int = Field(strict=True, default=50, ge=1)
    compliance_object_requests_per_window: int = Field(strict=True, default=100, ge=1)

    # Crawl.
    audit_log_lookback_days: int = Field(strict=True, default=400, ge=1, le=MAX_LOOKBACK_DAYS)
    conversations_page_size: int = Field(strict=True, default=200, ge=1, le=500)
    # Bytes one /conversations page should hold: `limit` adapts to it (conversations are ~2 MB).
    conversations_page_bytes: int = Field(strict=True, default=32 * 1024 * 1024, ge=64 * 1024)
    # `/compliance/.../users` pages default to 200 (spec); fewer pages at 50 a minute.
    workspace_users_page_size: int = Field(strict=True, default=200, ge=1, le=200)
    page_size: int = Field(strict=True, default=100, ge=1, le=100)
    download_max_bytes: int = Field(strict=True, default=100 * 1024 * 1024, ge=1)

    @field_validator("admin_key", "compliance_key", "project_key", mode="before")
    @classmethod
    def _strip_key(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
        return value

    @field_validator("org_id", "workspace_id", "project_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @field_validator("admin_base_url", "compliance_base_url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        # The value is never quoted: a key pasted into the wrong variable, or a URL with a password,
        # must not end up in the message.
        try:
            parts = urlsplit(value.strip())
            has_credentials = parts.username is not None or parts.password is not None
        except ValueError:
            raise ValueError("not an http(s) URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not an http(s) URL")
        if has_credentials:
            raise ValueError("must not hold credentials (user:password@); keys go in admin_key / compliance_key")
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _project_pair(self) -> Settings:
        if self.project_key is not None and self.project_id is None:
            raise ValueError("OPENAI_PROJECT_KEY is set but OPENAI_PROJECT_ID is not; give both or neither")
        return self

    @property
    def effective_compliance_key(self) -> SecretStr:
        """The Compliance API key; the admin key when none is configured."""
        return self.compliance_key if self.compliance_key is not None else self.admin_key

    @property
    def has_workspace(self) -> bool:
        return self.workspace_id is not None


# An unknown name is quoted only when it looks like a name, not like a value pasted as one.
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,60}")


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        text, mode = read_text_bounded(path, MAX_CONFIG_FILE_BYTES, "config file")
    except BoundedReadError as exc:
        raise ConfigError(str(exc)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib says what and where ("Invalid value (at line 1, column 13)"), never the text.
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    # A [openai_casb] table is accepted so the file can share a larger TOML document.
    table = data.get("openai_casb", data)
    if not isinstance(table, dict):
        raise ConfigError(f"config file {path}: [openai_casb] must be a table")
    unknown = sorted(set(table) - set(Settings.model_fields))
    if unknown:
        shown = [name if _PLAIN_NAME.fullmatch(name) else "<name>" for name in unknown]
        raise ConfigError(f"config file {path}: unknown setting(s): {', '.join(shown)}")
    # Keys in a file that the group or others can read (or write) are as good as shared.
    keys = [name for name in SECRET_SETTINGS if isinstance(table.get(name), str) and table[name].strip()]
    warn_if_shared(logger, "config", path, mode, ", ".join(keys))
    return dict(table)


def _describe_errors(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "settings"
        env = next((name for name, field in ENV_VARS.items() if field == where), None)
        label = f"{where} ({env})" if env else where
        if error["type"] == "missing":
            lines.append(f"{label} is required")
        else:
            # `msg` never echoes the input value, so secrets stay out of the message.
            lines.append(f"{label}: {error['msg']}")
    return "invalid settings: " + "; ".join(lines)


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Merge the sources, highest first: `overrides` (CLI flags) > `env` > `config_file` > defaults.

    `None` values in `overrides` mean "flag not given". When `config_file` is None, the file named
    by OPENAI_CASB_CONFIG in `env` (if any) is read. `env` defaults to `os.environ`.
    """
    environment = os.environ if env is None else env
    merged: dict[str, Any] = {}
    if config_file is None and environment.get(CONFIG_FILE_ENV):
        config_file = Path(environment[CONFIG_FILE_ENV])
    if config_file is not None:
        merged.update(_read_config_file(config_file))
    for name, field in ENV_VARS.items():
        try:
            value = env_value(name, environment) if field in SECRET_SETTINGS else environment.get(name)
        except EnvFileError as exc:
            raise ConfigError(str(exc)) from exc
        if value is not None and value.strip():
            merged[field] = value
    for field, value in (overrides or {}).items():
        if field not in Settings.model_fields:
            raise ConfigError(f"unknown setting: {field}")
        if value is not None:
            merged[field] = value
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_describe_errors(exc)) from None


# Typer options shared by every command that talks to the APIs (check, scan, demo, ...).
# Environment variables are read by `load_settings`, not by Typer, so precedence stays in one place.
ConfigFileOption = Annotated[
    Path | None,
    typer.Option("--config", help=f"TOML config file (default: ${CONFIG_FILE_ENV}).", show_default=False),
]
AdminBaseUrlOption = Annotated[
    str | None,
    typer.Option("--admin-base-url", help="Admin API base URL (env OPENAI_ADMIN_BASE_URL).", show_default=False),
]
ComplianceBaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--compliance-base-url", help="Compliance API base URL (env CHATGPT_COMPLIANCE_BASE_URL).", show_default=False
    ),
]
OrgIdOption = Annotated[
    str | None, typer.Option("--org-id", help="OpenAI organization id (env OPENAI_ORG_ID).", show_default=False)
]
WorkspaceIdOption = Annotated[
    str | None,
    typer.Option("--workspace-id", help="ChatGPT workspace id (env CHATGPT_WORKSPACE_ID).", show_default=False),
]
ProjectIdOption = Annotated[
    str | None,
    typer.Option(
        "--project-id", help="Limit Platform projects to this one (env OPENAI_PROJECT_ID).", show_default=False
    ),
]


def settings_from_options(
    config_file: Path | None = None,
    admin_base_url: str | None = None,
    compliance_base_url: str | None = None,
    org_id: str | None = None,
    workspace_id: str | None = None,
    project_id: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Build Settings from the standard flags above. Keys come only from env or file, never flags,
    so they do not end up in shell history or `ps` output."""
    overrides = {
        "admin_base_url": admin_base_url,
        "compliance_base_url": compliance_base_url,
        "org_id": org_id,
        "workspace_id": workspace_id,
        "project_id": project_id,
    }
    return load_settings(overrides, config_file, env)


MISSING_IDENTITY = (
    "set OPENAI_ORG_ID (--org-id; platform.openai.com -> Settings -> Organization -> General) or "
    "CHATGPT_WORKSPACE_ID (--workspace-id): a scan keeps its findings under the organization or workspace it read"
)


def has_identity(settings: Settings) -> bool:
    """Whether the scanned integration can be named stably across scans (its findings' home)."""
    return bool(settings.org_id or settings.workspace_id)


def settings_or_exit(**options: Any) -> Settings:
    """`settings_from_options` for CLI commands: a ConfigError becomes a clear message and exit code 2."""
    try:
        return settings_from_options(**options)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
