"""The `webhooks:` list of the policy file (and later the API): one entry per destination."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator

from openai_casb.detections import Severity
from openai_casb.exports.model import EventType


class BearerAuth(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["bearer"] = "bearer"
    token: SecretStr


class BasicAuth(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["basic"] = "basic"
    username: str = Field(min_length=1)
    password: SecretStr


class WebhookFilters(BaseModel):
    """Empty lists mean "all"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    finding_types: tuple[str, ...] = ()  # finding type ids
    min_severity: Severity = Severity.INFO
    event_types: tuple[EventType, ...] = ()

    @field_validator("min_severity", mode="before")
    @classmethod
    def _parse_severity(cls, value: object) -> object:
        return Severity.parse(value) if isinstance(value, str) else value


class WebhookDestination(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    url: HttpUrl
    format: Literal["generic", "slack"] = "generic"
    secret: SecretStr | None = None  # HMAC-SHA256 signing key; strongly recommended for `generic`
    auth: BearerAuth | BasicAuth | None = Field(default=None, discriminator="type")
    filters: WebhookFilters = WebhookFilters()
    enabled: bool = True
    # Destinations on private, loopback or link-local addresses are refused unless allowed here
    # (an internal SIEM collector, say): a policy file must not be a way to reach internal services.
    allow_private: bool = False
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    max_attempts: int = Field(default=4, ge=1, le=10)
    backoff_seconds: float = Field(default=1.0, ge=0, le=60)

    @field_validator("url")
    @classmethod
    def _http_or_https(cls, value: HttpUrl) -> HttpUrl:
        if value.scheme not in ("http", "https"):
            raise ValueError("webhook url must be http or https")
        if value.username or value.password:
            raise ValueError("put credentials in `auth`, not in the url")
        return value


def _unique_names(destinations: tuple[WebhookDestination, ...]) -> tuple[WebhookDestination, ...]:
    names = [d.name for d in destinations]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate webhook names: {', '.join(duplicates)}")
    return destinations


# The policy file's `webhooks:` list, for the policy model: `webhooks: WebhookList = ()`.
# Names must be unique: they key the delivery log.
WebhookList = Annotated[tuple[WebhookDestination, ...], AfterValidator(_unique_names)]
