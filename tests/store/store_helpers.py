"""Helpers for the store tests: a small finding-type catalog and a one-call scan."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from openai_casb.detections import AssetRef, Detection, FindingTypeInfo, Severity
from openai_casb.inventory.model import AssetKind, Source, SourceReport
from openai_casb.store import MuteRules, ScanSummary, Store

UNUSED_KEY = "49c75a36-1e64-437b-98a1-e54ec35d0a64"
INACTIVE_USER = "20ab9ddb-fd48-46a8-9fdf-9bb9b9061f21"
GPT_STORE = "c69adfa6-2362-4939-86ec-49ff34093cfd"

CATALOG = (
    FindingTypeInfo(GPT_STORE, "OpenAI: GPT publicly accessible via GPT Store", Severity.HIGH, True,
                    "GPTs visible beyond the organization", 2, (Source.GPTS,)),
    FindingTypeInfo(UNUSED_KEY, "OpenAI: Unused admin API key", Severity.MEDIUM, False,
                    "API keys", 3, (Source.ADMIN_API_KEYS,)),
    FindingTypeInfo(INACTIVE_USER, "OpenAI: Inactive user", Severity.MEDIUM, False,
                    "User and invite hygiene", 4, (Source.ADMIN_USERS, Source.ADMIN_AUDIT_LOGS)),
)
ALL_TYPES = frozenset(info.id for info in CATALOG)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def key(asset_id: str, **evidence: object) -> Detection:
    return Detection(UNUSED_KEY, AssetRef(AssetKind.ADMIN_API_KEY, asset_id, name=f"name of {asset_id}"),
                     {"redacted_value": "sk-admin...abc", **evidence})


def user(asset_id: str, email: str) -> Detection:
    return Detection(INACTIVE_USER, AssetRef(AssetKind.USER, asset_id, name=email.split("@")[0], email=email),
                     {"last_activity": None})


def gpt(asset_id: str) -> Detection:
    return Detection(GPT_STORE, AssetRef(AssetKind.GPT, asset_id, name=f"GPT {asset_id}",
                                         link=f"https://chatgpt.com/g/{asset_id}"), {"visibility": "gpt-store"})


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def scan(
    store: Store,
    integration_id: int,
    detections: Iterable[Detection],
    at: datetime,
    complete: Iterable[str] = ALL_TYPES,
    evaluated: Iterable[str] = ALL_TYPES,
    mute_rules: MuteRules | None = None,
    status: str = "complete",
) -> ScanSummary:
    complete_ids = frozenset(complete)
    scan_id = store.begin_scan(integration_id, started_at=at)
    reports = [
        SourceReport(source, "complete" if info.id in complete_ids else "failed", pages=1, objects=1)
        for info in CATALOG for source in info.sources
    ]
    return store.finish_scan(scan_id, detections=detections, mute_rules=mute_rules, evaluated_type_ids=evaluated,
                             complete_type_ids=complete_ids, source_reports=reports, status=status,
                             finished_at=at)


