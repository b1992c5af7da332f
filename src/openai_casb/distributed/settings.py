"""Settings of the distributed mode (environment only) and where workers find integrations' credentials.

Credentials never travel through the broker: a task names a scan, and the worker that runs it
looks the integration's credentials up itself (docs/distributed.md, "Credentials").
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from openai_casb.config import ConfigError, Settings, load_settings
from openai_casb.env_files import EnvFileError, env_value
from openai_casb.scanning.run import integration_name
from openai_casb.store import DB_ENV, Integration, Store, default_url

log = logging.getLogger(__name__)

BROKER_ENV = "OPENAI_CASB_BROKER_URL"
REDIS_ENV = "OPENAI_CASB_REDIS_URL"  # locks and shared quotas; defaults to the broker's Redis
INTEGRATIONS_ENV = "OPENAI_CASB_INTEGRATIONS"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
DEFAULT_INTERVAL_HOURS = 12.0  # ChatGPT keeps chat uploads 48 hours: several chances to read each

_NUMBERS: dict[str, tuple[str, float, float]] = {
    # env -> (field, default, minimum)
    "OPENAI_CASB_LOCK_TTL_SECONDS": ("lock_ttl_seconds", 300.0, 3.0),
    "OPENAI_CASB_DLP_BATCH_FILES": ("dlp_batch_files", 50, 1),
    "OPENAI_CASB_VISIBILITY_TIMEOUT_SECONDS": ("visibility_timeout_seconds", 3600.0, 5.0),
    "OPENAI_CASB_SCHEDULER_TICK_SECONDS": ("tick_seconds", 60.0, 1.0),
    "OPENAI_CASB_SCAN_INTERVAL_HOURS": ("default_interval_hours", DEFAULT_INTERVAL_HOURS, 0.01),
    "OPENAI_CASB_SCAN_MAX_IDLE_SECONDS": ("scan_max_idle_seconds", 7200.0, 1.0),
}


class DistributedConfigError(ValueError):
    """The distributed settings are invalid, or an integration has no credentials. Safe to show."""


@dataclass(frozen=True, slots=True)
class DistributedSettings:
    broker_url: str = DEFAULT_BROKER_URL
    redis_url: str = DEFAULT_BROKER_URL
    db_url: str = ""
    lock_ttl_seconds: float = 300.0
    dlp_batch_files: int = 50
    visibility_timeout_seconds: float = 3600.0
    tick_seconds: float = 60.0
    default_interval_hours: float = DEFAULT_INTERVAL_HOURS
    # How long the workers' beat keeps a scan alive with none of its tasks finishing: past it, a scan
    # whose queued tasks were lost (a broker restarted without persistence) is taken for dead.
    scan_max_idle_seconds: float = 7200.0
    integration_configs: tuple[Path, ...] = ()


def load_distributed_settings(env: Mapping[str, str] | None = None) -> DistributedSettings:
    environment = os.environ if env is None else env
    try:  # URLs that may hold a password: each may come from a file (`<NAME>_FILE`)
        broker_env, redis_env, db_env = (env_value(name, environment) for name in (BROKER_ENV, REDIS_ENV, DB_ENV))
    except EnvFileError as exc:
        raise DistributedConfigError(str(exc)) from None
    broker = (broker_env or "").strip() or DEFAULT_BROKER_URL
    values: dict[str, float | int] = {}
    for name, (field, default, minimum) in _NUMBERS.items():
        text = environment.get(name, "").strip()
        if not text:
            values[field] = default
            continue
        try:
            number = int(text) if isinstance(default, int) else float(text)
        except ValueError:
            raise DistributedConfigError(f"{name} must be a number, not {text!r}") from None
        if number < minimum:
            raise DistributedConfigError(f"{name} must be at least {minimum:g}")
        values[field] = number
    configs = tuple(Path(p) for p in environment.get(INTEGRATIONS_ENV, "").split(os.pathsep) if p.strip())
    return DistributedSettings(
        broker_url=broker,
        redis_url=(redis_env or "").strip() or broker,
        db_url=(db_env or "").strip() or default_url(),
        lock_ttl_seconds=float(values["lock_ttl_seconds"]),
        dlp_batch_files=int(values["dlp_batch_files"]),
        visibility_timeout_seconds=float(values["visibility_timeout_seconds"]),
        tick_seconds=float(values["tick_seconds"]),
        default_interval_hours=float(values["default_interval_hours"]),
        scan_max_idle_seconds=float(values["scan_max_idle_seconds"]),
        integration_configs=configs,
    )


@dataclass(frozen=True, slots=True)
class BadConfig:
    """A file of OPENAI_CASB_INTEGRATIONS that could not be loaded. `error` is safe to show (ConfigError
    never quotes values); `identity` is its (org_id, workspace_id) when the file names them, else None."""

    path: Path
    error: str
    identity: tuple[str | None, str | None] | None


@dataclass(frozen=True, slots=True)
class Configured:
    settings: tuple[Settings, ...]
    bad: tuple[BadConfig, ...] = ()


def configured(config: DistributedSettings) -> Configured:
    """The integrations this process can scan: each file of OPENAI_CASB_INTEGRATIONS, else the usual env/config.

    A file that cannot be loaded is set aside, not raised: it must not stop the other integrations.
    """
    if not config.integration_configs:
        try:
            return Configured((load_settings(),))
        except ConfigError as exc:
            if isinstance(exc.__cause__, EnvFileError):  # keys meant for this worker that it cannot read
                log.warning("skipping the environment's integration: %s", exc)
            return Configured(())  # no credentials in the environment: only stored (web) credentials remain
    found: list[Settings] = []
    bad: list[BadConfig] = []
    for path in config.integration_configs:
        try:
            found.append(load_settings(config_file=path, env={}))
        except ConfigError as exc:
            bad.append(BadConfig(path, f"{INTEGRATIONS_ENV}: {exc}", _identity(path)))
    return Configured(tuple(found), tuple(bad))


def _identity(path: Path) -> tuple[str | None, str | None] | None:
    """The (org_id, workspace_id) a file names, read as plain TOML: a file that is not TOML, or names
    neither, cannot be matched to an integration."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    table = data.get("openai_casb", data)
    if not isinstance(table, dict):
        return None
    org, workspace = (v.strip() or None if isinstance(v, str) else None
                      for v in (table.get("org_id"), table.get("workspace_id")))
    return (org, workspace) if org or workspace else None


def _key(organization_id: str | None, workspace_id: str | None) -> tuple[str | None, str | None]:
    return organization_id or None, workspace_id or None


def report_bad_configs(found: Configured) -> None:
    for item in found.bad:
        log.warning("skipping an integration config: %s", item.error)


def register_configured(store: Store, config: DistributedSettings) -> list[Integration]:
    """Make sure every configured integration exists in the store (so it can be scheduled and triggered).

    Files that cannot be loaded are logged (once per call: the scheduler's tick) and skipped.
    """
    found = configured(config)
    report_bad_configs(found)
    return [store.ensure_integration(s.org_id, s.workspace_id, integration_name(s)) for s in found.settings]


def settings_for(store: Store, integration: Integration, config: DistributedSettings) -> Settings:
    """Credentials of `integration` for this worker: its config, else credentials stored by the web UI.

    Raises DistributedConfigError when its own config file is invalid (other files do not matter).
    """
    wanted = _key(integration.organization_id, integration.workspace_id)
    found = configured(config)
    for settings in found.settings:
        if _key(settings.org_id, settings.workspace_id) == wanted:
            return settings
    for item in found.bad:
        if item.identity is not None and _key(*item.identity) == wanted:
            raise DistributedConfigError(item.error)
    stored = _web_credentials(store, integration)
    if stored is not None:
        return stored
    unmatched = [str(item.path) for item in found.bad if item.identity is None]
    hint = f" ({', '.join(unmatched)} could not be read: see the worker's log)" if unmatched else ""
    raise DistributedConfigError(
        f"no credentials for integration {integration.id} ({integration.display_name}) on this worker: "
        f"list its config file in {INTEGRATIONS_ENV} or store them in the web UI{hint}"
    )


def _web_credentials(store: Store, integration: Integration) -> Settings | None:
    """Encrypted credentials saved through the web UI, when that layer and its secret are available."""
    try:
        from openai_casb.web.accounts import Accounts
        from openai_casb.web.keys import CredentialCipher, load_secret
        from openai_casb.web.scan_launcher import settings_from_credentials
    except ImportError:
        return None
    try:
        accounts = Accounts(store)
        if integration.id not in accounts.integrations_with_credentials():
            return None
        document = accounts.load_credentials(integration.id, CredentialCipher(load_secret()))
        return settings_from_credentials(integration, document) if document is not None else None
    except Exception as exc:  # an optional source of credentials: any failure means "none stored"
        log.warning("stored credentials of integration %s unusable: %s", integration.id, type(exc).__name__)
        return None
