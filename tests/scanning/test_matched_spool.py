"""Matched files' verdicts are spooled to disk, and the spooled path stores exactly what the in-memory one did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from openai_casb.checks.evaluate import evaluate_file_scans, evaluate_inventory
from openai_casb.checks.registry import default_registry
from openai_casb.inventory.model import AssetKind, EntryMatch, FileRef, FileScan, Inventory, Source, SourceReport
from openai_casb.policy import Policy, parse_policy
from openai_casb.scanning.matched import MatchedFiles, SpoolClosedError
from openai_casb.scanning.pipeline import DlpOutcome
from openai_casb.scanning.run import conclude, mute_rules_for, scan_status
from openai_casb.store import Store

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DLP_CONVERSATION = "9aca654d-b331-4052-a5b4-2ceecced8676"


def verdict(kind: AssetKind, file_id: str, container: str, *, matched: bool = True, count: int = 3) -> FileScan:
    file = FileRef(
        kind=kind,
        file_id=file_id,
        name=f"{file_id}.csv",
        container_id=container,
        container_name=f"title of {container}",
        owner_user_id="user-1",
        owner_email="a@example.com",
        created_at=NOW - timedelta(days=1),
        download_url=None,
    )
    matches = (EntryMatch("PII", "Credit card number", count, ("****-****-****-1234",), ("ab" * 32,)),)
    return FileScan(
        file=file,
        status="scanned",
        matched_profiles=("PII",) if matched else (),
        matches=matches if matched else (),
        size_bytes=1000,
        content_sha256="cd" * 32,
    )


def verdicts() -> list[FileScan]:
    """Files of the three kinds; one file in two conversations; one scanned without a match."""
    return [
        verdict(AssetKind.CONVERSATION_FILE, "file-c2", "conv-1"),
        verdict(AssetKind.CONVERSATION_FILE, "file-c1", "conv-1", count=5),
        verdict(AssetKind.GPT_FILE, "file-g1", "g-1"),
        verdict(AssetKind.CONVERSATION_FILE, "file-c2", "conv-2"),
        verdict(AssetKind.PROJECT_FILE, "file-p1", "g-p-1"),
        verdict(AssetKind.CONVERSATION_FILE, "file-c3", "conv-3", matched=False),
        verdict(AssetKind.CONVERSATION_FILE, "file-c2", "conv-1"),  # the same place twice: folded once
    ]


def test_spool_gives_back_every_verdict_grouped_by_file() -> None:
    spool = MatchedFiles()
    assert len(spool) == 0
    assert not spool
    assert list(spool) == []
    scans = [s for s in verdicts() if s.matched_profiles]
    for scan in scans:
        spool.add(scan)
    assert len(spool) == len(scans)
    groups = list(spool.by_file())
    assert [(g[0].file.kind, g[0].file.file_id) for g in groups] == sorted(
        {(s.file.kind, s.file.file_id) for s in scans}, key=lambda k: (k[0].value, k[1])
    )
    c2 = next(g for g in groups if g[0].file.file_id == "file-c2")
    assert [s.file.container_id for s in c2] == ["conv-1", "conv-2", "conv-1"]  # the order they came in
    assert sorted(spool, key=repr) == sorted(scans, key=repr)  # equal values, datetimes and enums included
    spool.close()
    assert len(spool) == len(scans)
    with pytest.raises(SpoolClosedError):
        list(spool.by_file())
    with pytest.raises(SpoolClosedError):
        spool.add(scans[0])


def test_outcome_spools_only_matched_files() -> None:
    outcome = DlpOutcome()
    for scan in verdicts():
        outcome.record(scan)
    assert isinstance(outcome.matched, MatchedFiles)
    assert len(outcome.matched) == 6
    assert all(s.matched_profiles for s in outcome.matched)
    assert outcome.scanned[Source.CONVERSATION_FILES] == 5
    outcome.close()


def inventory() -> Inventory:
    complete = (
        Source.CONVERSATIONS,
        Source.GPTS,
        Source.CHATGPT_PROJECTS,
        Source.CONVERSATION_FILES,
        Source.GPT_FILES,
        Source.PROJECT_FILES,
    )
    return Inventory(
        now=NOW,
        organization_id="org-1",
        workspace_id="ws-1",
        sources={s: SourceReport(s, "complete") for s in complete},
    )


def stored(store: Store) -> list[tuple[Any, ...]]:
    return sorted(
        (
            i.finding_type_id,
            i.asset_kind,
            i.asset_id,
            str(i.status),
            i.hidden_reason,
            i.asset_name,
            repr(sorted(i.asset_metadata.items())),
            repr(i.evidence),
        )
        for i in store.list_instances(limit=1000, status=None)
    )


def store_at(path: Path) -> tuple[Store, int]:
    store = Store.open(str(path))
    integration = store.ensure_integration("org-1", "ws-1", "test")
    store.sync_finding_types(default_registry().infos())
    return store, store.begin_scan(integration.id, NOW)


def test_spooled_path_stores_exactly_what_the_in_memory_path_stored(tmp_path: Path) -> None:
    policy = parse_policy(
        f"version: 1\nmutelist:\n  - finding_type: {DLP_CONVERSATION}\n    asset_id: file-c1\n"
        "    reason: test data on purpose\n",
        "policy.yaml",
    )
    registry = default_registry()
    inv = inventory()
    sources = list(inv.sources.values())

    # Before: verdicts in a list, the checks over all of them, the detections in memory.
    before, before_scan = store_at(tmp_path / "before.db")
    scans = verdicts()
    evaluation = evaluate_inventory(registry, inv, policy).merged(
        evaluate_file_scans(registry, inv, [s for s in scans if s.matched_profiles], policy)
    )
    before.finish_scan(
        before_scan,
        detections=evaluation.detections,
        mute_rules=mute_rules_for(policy, evaluation.detections, NOW),
        evaluated_type_ids=evaluation.evaluated_type_ids,
        complete_type_ids=evaluation.complete_type_ids,
        source_reports=sources,
        status=scan_status(inv.sources),
        finished_at=NOW,
    )

    # Now: verdicts spooled as they complete, detections streamed into the one transaction.
    after, after_scan = store_at(tmp_path / "after.db")
    outcome = DlpOutcome()
    for scan in scans:
        outcome.record(scan)
    conclusion = conclude(registry, inv, outcome.matched, policy, NOW)
    after.finish_scan(
        after_scan,
        detections=conclusion.detections(),
        mute_rules=conclusion.mute_rules,
        evaluated_type_ids=conclusion.evaluated_type_ids,
        complete_type_ids=conclusion.complete_type_ids,
        source_reports=sources,
        status=scan_status(inv.sources),
        finished_at=NOW,
    )
    outcome.close()

    assert conclusion.evaluated_type_ids == evaluation.evaluated_type_ids
    assert conclusion.complete_type_ids == evaluation.complete_type_ids
    assert conclusion.count == len(evaluation.detections) == 4  # c1, c2 (two conversations), g1, p1
    rows = stored(after)
    assert rows == stored(before)
    assert [r[2] for r in rows if r[3] == "hidden"] == ["file-c1"]  # the mutelist applied on the spooled path


def test_a_policy_without_mutes_needs_no_rules() -> None:
    outcome = DlpOutcome()
    for scan in verdicts():
        outcome.record(scan)
    conclusion = conclude(default_registry(), inventory(), outcome.matched, Policy(), NOW)
    assert conclusion.mute_rules == {}
    assert sorted(d.asset.id for d in conclusion.detections()) == ["file-c1", "file-c2", "file-g1", "file-p1"]
    # Iterable again: the detections are made anew from the spool each time, never held.
    assert sorted(d.asset.id for d in conclusion.detections()) == ["file-c1", "file-c2", "file-g1", "file-p1"]
    outcome.close()
