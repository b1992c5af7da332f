"""Request and response models of the REST API (the OpenAPI document is generated from them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

SeverityName = Literal["info", "low", "medium", "high", "critical"]
_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"
_URL_PATTERN = r"^https?://[^\s/$.?#][^\s]{0,2000}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IntegrationCreate(_Strict):
    display_name: str = Field(min_length=1, max_length=300)
    organization_id: str | None = Field(default=None, pattern=_ID_PATTERN)
    workspace_id: str | None = Field(default=None, pattern=_ID_PATTERN)
    admin_key: SecretStr = Field(min_length=8, max_length=500, description="an Admin API key (sk-admin-...)")
    compliance_key: SecretStr | None = Field(default=None, min_length=8, max_length=500)
    admin_base_url: str | None = Field(default=None, pattern=_URL_PATTERN)
    compliance_base_url: str | None = Field(default=None, pattern=_URL_PATTERN)

    @field_validator("display_name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @model_validator(mode="after")
    def _identifies_something(self) -> IntegrationCreate:
        if not self.organization_id and not self.workspace_id:
            raise ValueError("give organization_id, workspace_id or both")
        if self.workspace_id and self.compliance_key is None:
            raise ValueError("a workspace needs compliance_key (a Compliance API key)")
        return self


class SourceHealth(BaseModel):
    source: str
    state: str
    reason: str | None = None


class IntegrationOut(BaseModel):
    id: int
    display_name: str
    organization_id: str | None
    workspace_id: str | None
    has_credentials: bool


class IntegrationHealth(BaseModel):
    integration: IntegrationOut
    last_scan_id: int | None
    last_scan_status: str | None
    last_scan_finished_at: datetime | None
    sources: list[SourceHealth]


class ScanProgressOut(BaseModel):
    stage: str
    done: int
    total: int | None
    message: str | None


class ScanOut(BaseModel):
    id: int
    integration_id: int
    integration_name: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    new: int
    reopened: int
    resolved: int
    severity_counts: dict[str, int]
    errors: list[str]
    sources: list[SourceHealth]
    progress: ScanProgressOut | None = None


class ScanPage(BaseModel):
    items: list[ScanOut]
    total: int
    limit: int
    offset: int


class ScanStarted(BaseModel):
    scan_id: int


class RemediationOut(BaseModel):
    console_url: str
    steps: list[str]
    api_calls: list[str]
    notes: list[str]


class FindingTypeOut(BaseModel):
    id: str
    name: str
    severity: SeverityName
    enterprise: bool
    group: str
    asset_kind: str
    description: str
    risk: str
    remediation: RemediationOut
    references: list[str]


class SeverityOverride(_Strict):
    severity: SeverityName | None = Field(description="null returns to the type's default severity")


class FindingSettingOut(BaseModel):
    integration_id: int
    finding_type_id: str
    ignored: bool
    severity_override: SeverityName | None


class FindingOut(BaseModel):
    integration_id: int
    integration_name: str
    finding_type_id: str
    finding_type: str
    group: str
    severity: SeverityName
    default_severity: SeverityName
    ignored: bool
    active: int
    hidden: int
    resolved: int


class InstanceOut(BaseModel):
    id: int
    integration_id: int
    finding_type_id: str
    finding_type: str
    group: str
    severity: SeverityName
    ignored: bool
    status: str
    asset_kind: str
    asset_id: str
    asset_name: str | None
    asset_email: str | None
    evidence: dict[str, Any]
    first_detected: datetime
    last_detected: datetime
    hidden_reason: str | None
    hidden_by: str | None


class InstancePage(BaseModel):
    items: list[InstanceOut]
    total: int
    limit: int
    offset: int


class EventOut(BaseModel):
    id: int
    scan_id: int | None
    event_type: str
    at: datetime
    details: dict[str, Any]


class InstanceDetailOut(InstanceOut):
    asset_link: str | None
    resolved_at: datetime | None
    hidden_until: datetime | None
    events: list[EventOut]


class HideRequest(_Strict):
    reason: str = Field(min_length=1, max_length=2000)
    until: datetime | None = Field(default=None, description="timezone-aware; hidden until then")

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("until", mode="before")
    @classmethod
    def _iso_text(cls, value: object) -> object:
        # A bare number would be read as seconds or milliseconds by magnitude: 99999999999 -> 1973.
        if value is not None and not isinstance(value, str):
            raise ValueError("must be an ISO-8601 time with a timezone, e.g. 2027-01-01T00:00:00Z")
        return value

    @field_validator("until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("must carry a timezone, e.g. 2027-01-01T00:00:00Z")
        try:  # 9999-12-31T23:59:59-12:00 is past the last representable UTC instant
            value = value.astimezone(UTC)
        except OverflowError:
            raise ValueError("is out of range once converted to UTC") from None
        if value <= datetime.now(UTC):
            raise ValueError("must be in the future (a hide until a past time would end at once)")
        return value


class AssetOut(BaseModel):
    id: int
    integration_id: int
    kind: str
    external_id: str
    name: str | None
    email: str | None
    link: str | None
    first_seen: datetime
    last_seen: datetime
    active_instances: int


class AssetPage(BaseModel):
    items: list[AssetOut]
    total: int
    limit: int
    offset: int


class DlpProfileOut(BaseModel):
    name: str
    predefined: bool
    entries: list[str]
    match_count: int
    confidence: str


class TokenCreate(_Strict):
    name: str = Field(min_length=1, max_length=200, description="a label, e.g. siem")
    role: Literal["admin", "viewer"] = Field(description="viewer reads; admin may also change things")

    @field_validator("name")
    @classmethod
    def _plain_label(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        # Names are shown in listings and logs: no line breaks or other control characters.
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ValueError("must not contain control characters")
        return value.strip()


class TokenOut(BaseModel):
    """An API token as listed: never its value, hash or any part of its secret."""

    id: int
    name: str
    role: Literal["admin", "viewer"]
    prefix: str = Field(description="the token's public part `casb_<8 hex>` (`casb_` alone for tokens of the "
                                    "older form, which carry no public id); never any of its secret")
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="the token itself; shown only in this response (only its SHA-256 is stored)")
