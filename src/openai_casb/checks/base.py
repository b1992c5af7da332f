"""What a finding type is: its metadata (validated when loaded) and the shape of its rule.

Every finding type lives in its own module under `openai_casb.checks.findings` and exposes
`METADATA: CheckMetadata` plus either `evaluate(inventory, policy)` (an inventory check) or
`evaluate_files(file_scans, policy)` (a file check over DLP verdicts). The registry discovers them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from openai_casb.detections import Detection, FindingTypeInfo, Severity
from openai_casb.inventory.model import AssetKind, FileScan, Inventory, Source

if TYPE_CHECKING:
    from openai_casb.policy import Policy

# Bumped whenever a finding type is added, removed or its rule or default severity changes;
# CHANGELOG.md carries an entry for every version.
CATALOG_VERSION = "1.0.0"


class Group(StrEnum):
    """The five groups of the catalog, declared in display order."""

    MODEL_AND_TOOL_GOVERNANCE = "Model and tool governance"
    PUBLISHING_AND_SHARING = "Publishing and sharing"
    API_KEY_HYGIENE = "API key hygiene"
    ACCESS_SECURITY = "Access security"
    DATA_LOSS_PREVENTION = "Data Loss Prevention"

    @property
    def order(self) -> int:
        return list(Group).index(self) + 1


_FILE_KINDS = frozenset({AssetKind.CONVERSATION_FILE, AssetKind.GPT_FILE, AssetKind.PROJECT_FILE})


class Remediation(BaseModel):
    """How a person fixes it. The scanner never calls `api_calls`; they are shown as guidance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    console_url: HttpUrl
    steps: tuple[str, ...] = Field(min_length=1)
    api_calls: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @field_validator("steps", "api_calls", "notes")
    @classmethod
    def _no_blank_lines(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if any(not text.strip() for text in values):
            raise ValueError("must not contain blank entries")
        return values


class CheckMetadata(BaseModel):
    """Everything known about a finding type except its rule."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str = Field(min_length=1)
    severity: Severity
    enterprise: bool
    group: Group
    asset_kind: AssetKind
    description: str = Field(min_length=1)
    risk: str = Field(min_length=1)
    remediation: Remediation
    references: tuple[HttpUrl, ...] = Field(min_length=1)
    # Must all be read completely for this type to resolve instances; a skipped one means the
    # type is not evaluated at all in that scan.
    sources: tuple[Source, ...] = Field(min_length=1)
    # Read only when configured (e.g. a workspace). When read, they must be complete too for the
    # type to resolve instances; when skipped the type is still evaluated without them.
    optional_sources: tuple[Source, ...] = ()
    # Human-readable rule with its default threshold, for the catalog and docs.
    rule: str = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _canonical_uuid(cls, value: str) -> str:
        try:
            canonical = str(UUID(value))
        except ValueError:
            raise ValueError(f"finding type id {value!r} is not a UUID") from None
        if canonical != value:
            raise ValueError(f"finding type id {value!r} must be a lower-case canonical UUID ({canonical})")
        return value

    @field_validator("name")
    @classmethod
    def _name_prefix(cls, value: str) -> str:
        if not value.startswith("OpenAI: "):
            raise ValueError(f"finding type name {value!r} must start with 'OpenAI: '")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CheckMetadata:
        overlap = set(self.sources) & set(self.optional_sources)
        if overlap:
            raise ValueError(f"sources listed as both required and optional: {sorted(overlap)}")
        if (self.group is Group.DATA_LOSS_PREVENTION) != (self.asset_kind in _FILE_KINDS):
            raise ValueError("only DLP finding types (and all of them) are about files")
        return self

    def info(self) -> FindingTypeInfo:
        """The part the store and interfaces keep. Its `sources` are the required ones."""
        return FindingTypeInfo(
            id=self.id,
            name=self.name,
            severity=self.severity,
            enterprise=self.enterprise,
            group=self.group.value,
            group_order=self.group.order,
            sources=self.sources,
        )


InventoryRule = Callable[[Inventory, "Policy"], Iterable[Detection]]
FileRule = Callable[[Iterable[FileScan], "Policy"], Iterable[Detection]]
CheckKind = Literal["inventory", "file"]


@dataclass(frozen=True, slots=True)
class Check:
    """A finding type with its rule: exactly one of `inventory_rule` / `file_rule` is set."""

    metadata: CheckMetadata
    module: str
    inventory_rule: InventoryRule | None = None
    file_rule: FileRule | None = None

    @property
    def kind(self) -> CheckKind:
        return "file" if self.file_rule is not None else "inventory"

    @property
    def id(self) -> str:
        return self.metadata.id
