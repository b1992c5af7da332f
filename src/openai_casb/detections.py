"""What checks emit and the store keeps: shared by `checks`, `scanning` and `store`.

Neutral ground so that the store never imports checks or connectors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from openai_casb.inventory.model import AssetKind, Source
from openai_casb.redaction import redact_keys_in, redact_keys_in_text


class Severity(IntEnum):
    """Ordered so that `>=` works for `--fail-on` and sorting."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.capitalize()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r}; expected one of {names}") from None


@dataclass(frozen=True, slots=True)
class AssetRef:
    """The asset an instance is about. `id` is the API's own id (stable across scans)."""

    kind: AssetKind
    id: str
    name: str | None = None
    email: str | None = None  # users and invites; owner email for GPTs, projects and files
    link: str | None = None  # the console page where a person can look at or fix it
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Names come from users of the workspace: a GPT or conversation may be named after a key.
        # Redacted here, so no store, export, event or log line downstream ever holds it in full.
        for name in ("name", "email", "link"):
            text = getattr(self, name)
            if text is not None:
                object.__setattr__(self, name, redact_keys_in_text(text))
        object.__setattr__(self, "metadata", redact_keys_in(self.metadata))


@dataclass(frozen=True, slots=True)
class Detection:
    """One finding instance seen in one scan: (finding type, asset) plus the evidence that decided."""

    finding_type_id: str
    asset: AssetRef
    evidence: dict[str, Any]

    def __post_init__(self) -> None:
        object.__setattr__(self, "evidence", redact_keys_in(self.evidence))  # as AssetRef's names


@dataclass(frozen=True, slots=True)
class FindingTypeInfo:
    """The part of a finding type's metadata that the store and interfaces need."""

    id: str
    name: str
    severity: Severity
    enterprise: bool
    group: str
    group_order: int
    sources: tuple[Source, ...]  # read completely => instances not seen are resolved
