"""JSON forms of what one task hands to another through the database (never pickle: the DB is not code)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pydantic import TypeAdapter

from openai_casb.inventory.collect import LastSeen, OrgUserRecord, WorkspaceUserRecord
from openai_casb.inventory.model import FileRef, FileScan, Inventory, Source
from openai_casb.scanning.pipeline import UNSCANNED_EXAMPLES, DlpOutcome


@dataclass(slots=True)
class CrawlPart:
    """One source group's crawl: its slice of the inventory and what persons are joined from."""

    inventory: Inventory
    org_users: list[OrgUserRecord] = field(default_factory=list)
    workspace_users: list[WorkspaceUserRecord] = field(default_factory=list)
    logins: LastSeen = field(default_factory=LastSeen)
    conversations: LastSeen = field(default_factory=LastSeen)
    high_water_mark: float | None = None
    requests: int = 0


@dataclass(frozen=True, slots=True)
class Listing:
    """The DLP batches a completed crawl part handed off: those of its one committed attempt.

    Each run of a crawl task is an attempt with its own batch keys, so the batches of a run that
    was killed, or lost the race to store its part, are never counted: only this record's are.
    """

    group: str
    attempt: str
    batches: int

    def batch_keys(self) -> list[str]:
        return [batch_key(self.group, self.attempt, n) for n in range(self.batches)]


def batch_key(group: str, attempt: str, n: int) -> str:
    """Names one DLP batch of a scan (its `files:` and `dlp:` parts); what a dlp_batch task carries."""
    return f"{group}-{attempt}-{n:06d}"


@dataclass(slots=True)
class OutcomePart:
    """The JSON form of one DLP batch's `DlpOutcome` (a batch is bounded, so its verdicts fit in memory;
    the merged outcome of a whole scan spools them to disk)."""

    matched: list[FileScan] = field(default_factory=list)
    unscanned_examples: list[FileScan] = field(default_factory=list)
    scanned: Counter[Source] = field(default_factory=Counter)
    not_scanned: Counter[Source] = field(default_factory=Counter)
    not_scanned_reasons: Counter[str] = field(default_factory=Counter)
    failed: Counter[Source] = field(default_factory=Counter)
    bytes_scanned: int = 0
    partial: Counter[Source] = field(default_factory=Counter)  # absent in parts stored before it


_CRAWL_PART = TypeAdapter(CrawlPart)
_FILES = TypeAdapter(list[FileRef])
_OUTCOME = TypeAdapter(OutcomePart)
_LISTING = TypeAdapter(Listing)


def dump_crawl_part(part: CrawlPart) -> str:
    return _CRAWL_PART.dump_json(part).decode()


def load_crawl_part(text: str) -> CrawlPart:
    return _CRAWL_PART.validate_json(text)


def dump_listing(listing: Listing) -> str:
    return _LISTING.dump_json(listing).decode()


def load_listing(text: str) -> Listing:
    return _LISTING.validate_json(text)


def dump_files(files: list[FileRef]) -> str:
    return _FILES.dump_json(files).decode()


def load_files(text: str) -> list[FileRef]:
    return _FILES.validate_json(text)


def dump_outcome(outcome: DlpOutcome) -> str:
    part = OutcomePart(
        matched=list(outcome.matched),
        unscanned_examples=outcome.unscanned_examples,
        scanned=outcome.scanned,
        not_scanned=outcome.not_scanned,
        not_scanned_reasons=outcome.not_scanned_reasons,
        failed=outcome.failed,
        bytes_scanned=outcome.bytes_scanned,
        partial=outcome.partial,
    )
    return _OUTCOME.dump_json(part).decode()


def load_outcome(text: str) -> OutcomePart:
    return _OUTCOME.validate_json(text)


def merge_outcome(merged: DlpOutcome, outcome: OutcomePart) -> None:
    """Add one batch's outcome to a scan's: its matched verdicts go to the scan's spool."""
    merged.matched.extend(outcome.matched)
    room = UNSCANNED_EXAMPLES - len(merged.unscanned_examples)
    merged.unscanned_examples.extend(outcome.unscanned_examples[:max(room, 0)])
    merged.scanned.update(outcome.scanned)
    merged.not_scanned.update(outcome.not_scanned)
    merged.not_scanned_reasons.update(outcome.not_scanned_reasons)
    merged.failed.update(outcome.failed)
    merged.bytes_scanned += outcome.bytes_scanned
    merged.partial.update(outcome.partial)
