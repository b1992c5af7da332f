"""JSON forms of what one task hands to another through the database (never pickle: the DB is not code)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import TypeAdapter

from openai_casb.connectors.models import admin as am
from openai_casb.connectors.models import compliance as cm
from openai_casb.inventory.collect import LastSeen
from openai_casb.inventory.model import FileRef, Inventory
from openai_casb.scanning.pipeline import UNSCANNED_EXAMPLES, DlpOutcome


@dataclass(slots=True)
class CrawlPart:
    """One source group's crawl: its slice of the inventory and what persons are joined from."""

    inventory: Inventory
    org_users: list[am.OrgUser] = field(default_factory=list)
    workspace_users: list[cm.WorkspaceUser] = field(default_factory=list)
    logins: LastSeen = field(default_factory=LastSeen)
    conversations: LastSeen = field(default_factory=LastSeen)
    high_water_mark: float | None = None
    batches: int = 0  # DLP batches of files listed by this crawl
    requests: int = 0


_CRAWL_PART = TypeAdapter(CrawlPart)
_FILES = TypeAdapter(list[FileRef])
_OUTCOME = TypeAdapter(DlpOutcome)


def dump_crawl_part(part: CrawlPart) -> str:
    return _CRAWL_PART.dump_json(part).decode()


def load_crawl_part(text: str) -> CrawlPart:
    return _CRAWL_PART.validate_json(text)


def dump_files(files: list[FileRef]) -> str:
    return _FILES.dump_json(files).decode()


def load_files(text: str) -> list[FileRef]:
    return _FILES.validate_json(text)


def dump_outcome(outcome: DlpOutcome) -> str:
    return _OUTCOME.dump_json(outcome).decode()


def load_outcome(text: str) -> DlpOutcome:
    return _OUTCOME.validate_json(text)


def merge_outcomes(outcomes: list[DlpOutcome]) -> DlpOutcome:
    merged = DlpOutcome()
    for outcome in outcomes:
        merged.matched.extend(outcome.matched)
        room = UNSCANNED_EXAMPLES - len(merged.unscanned_examples)
        merged.unscanned_examples.extend(outcome.unscanned_examples[:max(room, 0)])
        merged.scanned.update(outcome.scanned)
        merged.not_scanned.update(outcome.not_scanned)
        merged.not_scanned_reasons.update(outcome.not_scanned_reasons)
        merged.failed.update(outcome.failed)
        merged.bytes_scanned += outcome.bytes_scanned
    return merged
