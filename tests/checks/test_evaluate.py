from datetime import UTC, datetime, timedelta

import pytest

from openai_casb.checks import CheckContractError, default_registry, evaluate_file_scans, evaluate_inventory
from openai_casb.checks.base import Check
from openai_casb.checks.findings import (
    admin_key_not_rotated,
    dlp_conversation_file,
    gpt_custom_actions,
    inactive_user,
    project_key_unused,
)
from openai_casb.checks.registry import CheckRegistry
from openai_casb.detections import AssetRef, Detection
from openai_casb.inventory.model import (
    AdminApiKey,
    AssetKind,
    EntryMatch,
    FileRef,
    FileScan,
    Gpt,
    GptTool,
    Inventory,
    Person,
    Source,
    SourceReport,
    SourceState,
)
from openai_casb.policy import Policy

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ADMIN_SOURCES = (
    Source.ADMIN_USERS,
    Source.ADMIN_INVITES,
    Source.ADMIN_PROJECTS,
    Source.ADMIN_PROJECT_API_KEYS,
    Source.ADMIN_API_KEYS,
    Source.ADMIN_AUDIT_LOGS,
)


def reports(states: dict[Source, SourceState]) -> dict[Source, SourceReport]:
    return {source: SourceReport(source, state) for source, state in states.items()}


def inventory(states: dict[Source, SourceState]) -> Inventory:
    old_key = AdminApiKey("key_1", "old", "sk-admin...abc", NOW - timedelta(days=200), NOW, None)
    action_gpt = Gpt("g-1", "G", "user-1", "o@example.com", None, "workspace", (GptTool("custom_action"),))
    return Inventory(now=NOW, sources=reports(states), admin_api_keys=[old_key], gpts=[action_gpt])


def test_no_workspace_skips_enterprise_types_but_evaluates_inactive_users() -> None:
    result = evaluate_inventory(default_registry(), inventory(dict.fromkeys(ADMIN_SOURCES, "complete")), Policy())
    assert gpt_custom_actions.METADATA.id not in result.evaluated_type_ids
    assert admin_key_not_rotated.METADATA.id in result.complete_type_ids
    assert inactive_user.METADATA.id in result.complete_type_ids  # workspace sources skipped, not incomplete
    assert [d.finding_type_id for d in result.detections] == [admin_key_not_rotated.METADATA.id]
    assert all(check.kind == "inventory" for check in default_registry() if check.id in result.evaluated_type_ids)


def test_failed_source_is_evaluated_but_not_complete() -> None:
    states: dict[Source, SourceState] = dict.fromkeys(ADMIN_SOURCES, "complete")
    states[Source.ADMIN_PROJECT_API_KEYS] = "partial"
    states[Source.GPTS] = "failed"
    states[Source.CONVERSATIONS] = "failed"
    result = evaluate_inventory(default_registry(), inventory(states), Policy())
    for type_id in (project_key_unused.METADATA.id, gpt_custom_actions.METADATA.id):
        assert type_id in result.evaluated_type_ids
        assert type_id not in result.complete_type_ids
    # An optional activity source that failed would make active people look inactive.
    assert inactive_user.METADATA.id not in result.evaluated_type_ids
    assert {d.finding_type_id for d in result.detections} == {
        admin_key_not_rotated.METADATA.id,
        gpt_custom_actions.METADATA.id,
    }


def test_file_checks_run_over_scans_and_respect_sources() -> None:
    file = FileRef(AssetKind.CONVERSATION_FILE, "file-1", "a.txt", "conv-1")
    scan = FileScan(file, "scanned", matched_profiles=("P",), matches=(EntryMatch("P", "e", 1),))
    states: dict[Source, SourceState] = {Source.CONVERSATIONS: "complete", Source.CONVERSATION_FILES: "complete"}
    result = evaluate_file_scans(default_registry(), inventory(states), iter([scan]), Policy())
    assert result.evaluated_type_ids == {dlp_conversation_file.METADATA.id}
    assert result.complete_type_ids == {dlp_conversation_file.METADATA.id}
    assert [d.asset.id for d in result.detections] == ["file-1"]
    skipped = evaluate_file_scans(default_registry(), inventory({}), [scan], Policy())
    assert skipped.detections == []
    assert skipped.evaluated_type_ids == frozenset()
    merged = result.merged(skipped)
    assert merged.evaluated_type_ids == result.evaluated_type_ids


def _rule_emitting(detections: list[Detection]) -> Check:
    return Check(
        metadata=admin_key_not_rotated.METADATA,
        module="tests.bad",
        inventory_rule=lambda inventory, policy: detections,
    )


def test_rule_breaking_the_contract_fails_loudly() -> None:
    asset = AssetRef(AssetKind.ADMIN_API_KEY, "key_1")
    wrong_type = Detection(finding_type_id=gpt_custom_actions.METADATA.id, asset=asset, evidence={})
    same_twice = Detection(finding_type_id=admin_key_not_rotated.METADATA.id, asset=asset, evidence={})
    states: dict[Source, SourceState] = {Source.ADMIN_API_KEYS: "complete"}
    with pytest.raises(CheckContractError, match="emitted a detection for finding type"):
        evaluate_inventory(CheckRegistry([_rule_emitting([wrong_type])]), inventory(states), Policy())
    with pytest.raises(CheckContractError, match="two detections"):
        evaluate_inventory(CheckRegistry([_rule_emitting([same_twice, same_twice])]), inventory(states), Policy())


def test_incomplete_activity_signal_reports_no_inactive_user() -> None:
    """Audit logs cut short must not turn a person whose only recent signal is a login into a finding."""
    person = Person(asset_id="user-1", email="a@example.com", name="A", org_user_id="user-1",
                    added_at=NOW - timedelta(days=400), last_login_at=None)
    states: dict[Source, SourceState] = dict.fromkeys(ADMIN_SOURCES, "complete")
    complete = Inventory(now=NOW, sources=reports(states), persons=[person])
    assert [d.asset.id for d in evaluate_inventory(default_registry(), complete, Policy()).detections] == ["user-1"]
    states[Source.ADMIN_AUDIT_LOGS] = "partial"
    cut_short = Inventory(now=NOW, sources=reports(states), persons=[person])
    result = evaluate_inventory(default_registry(), cut_short, Policy())
    assert result.detections == []
    assert inactive_user.METADATA.id not in result.evaluated_type_ids
