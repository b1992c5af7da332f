"""Settings of one emulator instance."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

FAULT_KINDS: tuple[str, ...] = (
    "burst429",
    "error500",
    "error502",
    "error503",
    "reset",
    "stall",
    "truncated",
    "short_page",
    "repeat",
)


def new_admin_key() -> str:
    return "sk-admin-" + secrets.token_urlsafe(32)


def new_compliance_key() -> str:
    return "sk-proj-" + secrets.token_urlsafe(32)


class ConfigError(ValueError):
    """A setting the emulator cannot run with; the message says which and why."""


@dataclass
class EmulatorConfig:
    """How the emulator authenticates, limits, fails and where it listens.

    `clock` is injectable so tests can move time (signed URL expiry, rate-limit windows) without sleeping.
    """

    admin_key: str = field(default_factory=new_admin_key)
    compliance_key: str = field(default_factory=new_compliance_key)
    admin_rate_per_min: int = 600
    rate_limit_scale: float = 1.0
    fault_rate: float = 0.0
    fault_seed: int = 0
    fault_kinds: tuple[str, ...] = FAULT_KINDS
    latency_ms: float = 0.0
    host: str = "127.0.0.1"
    port: int = 0
    stall_seconds: float = 35.0
    url_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def __post_init__(self) -> None:
        if not self.admin_key or not self.compliance_key:
            raise ConfigError("admin_key and compliance_key must not be empty")
        if self.admin_rate_per_min < 1:
            raise ConfigError("admin_rate_per_min must be at least 1")
        if self.rate_limit_scale <= 0:
            raise ConfigError("rate_limit_scale must be greater than 0")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ConfigError("fault_rate must be between 0 and 1")
        unknown = [kind for kind in self.fault_kinds if kind not in FAULT_KINDS]
        if unknown:
            raise ConfigError(f"unknown fault kind(s) {', '.join(unknown)}; known: {', '.join(FAULT_KINDS)}")
        if self.fault_rate > 0 and not self.fault_kinds:
            raise ConfigError("fault_kinds must not be empty when fault_rate > 0")
        if self.latency_ms < 0:
            raise ConfigError("latency_ms must not be negative")
        if not 0 <= self.port <= 65535:
            raise ConfigError("port must be between 0 and 65535")
        if self.stall_seconds < 0 or self.stall_seconds > 300:
            raise ConfigError("stall_seconds must be between 0 and 300")

    def __repr__(self) -> str:  # keys never appear in plain form
        from openai_casb.redaction import redact_key

        return (
            f"EmulatorConfig(admin_key={redact_key(self.admin_key)!r}, "
            f"compliance_key={redact_key(self.compliance_key)!r}, host={self.host!r}, port={self.port})"
        )

    @property
    def compliance_is_admin(self) -> bool:
        return self.compliance_key == self.admin_key
