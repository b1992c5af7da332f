from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from openai_casb.checks.findings import inactive_user
from openai_casb.detections import Detection
from openai_casb.inventory.model import AssetKind, Inventory, Person, Source, SourceReport, SourceState
from openai_casb.policy import Policy, Thresholds

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
OLD = NOW - 400 * DAY

BASE = Person(
    asset_id="user-org-1",
    email="alice@example.com",
    name="Alice",
    org_user_id="user-org-1",
    workspace_user_ids=("ws-user-1",),
    added_at=OLD,
    created=OLD,
    org_role="reader",
)


def run(
    person: Person, policy: Policy | None = None, sources: dict[Source, SourceReport] | None = None
) -> list[Detection]:
    inventory = Inventory(now=NOW, persons=[person], sources=sources or {})
    return list(inactive_user.evaluate(inventory, policy or Policy()))


@pytest.mark.parametrize("signal", ["api_key_last_used_at", "last_login_at", "last_conversation_at"])
@pytest.mark.parametrize(("ago", "expected"), [(90 * DAY, False), (90 * DAY + SECOND, True)])
def test_each_signal_decides_at_threshold(signal: str, ago: timedelta, expected: bool) -> None:
    found = run(replace(BASE, **{signal: NOW - ago}))
    assert bool(found) is expected
    if found:
        assert found[0].evidence["deciding_signal"] == signal
        assert found[0].evidence["available_signals"] == [signal]


def test_latest_signal_wins() -> None:
    person = replace(BASE, api_key_last_used_at=NOW - 300 * DAY, last_login_at=NOW - 5 * DAY)
    assert run(person) == []
    person = replace(BASE, api_key_last_used_at=NOW - 300 * DAY, last_login_at=NOW - 120 * DAY)
    (detection,) = run(person)
    assert detection.evidence["deciding_signal"] == "last_login_at"
    assert detection.evidence["days_inactive"] == 120
    assert detection.evidence["available_signals"] == ["api_key_last_used_at", "last_login_at"]
    assert detection.evidence["signals"]["last_conversation_at"]["value"] is None


def test_recent_activity_in_chatgpt_keeps_org_user_active() -> None:
    person = replace(BASE, api_key_last_used_at=NOW - 300 * DAY, last_conversation_at=NOW - DAY)
    assert run(person) == []


@pytest.mark.parametrize(
    ("dates", "deciding"),
    [
        ({"added_at": NOW - 100 * DAY, "created": NOW - 200 * DAY, "workspace_created_at": None}, "created"),
        ({"added_at": NOW - 100 * DAY, "created": None, "workspace_created_at": None}, "added_at"),
        ({"added_at": None, "created": None, "workspace_created_at": NOW - 95 * DAY}, "workspace_created_at"),
    ],
)
def test_fallback_to_earliest_membership_date(dates: dict[str, datetime | None], deciding: str) -> None:
    (detection,) = run(replace(BASE, **dates))
    assert detection.evidence["deciding_signal"] == deciding
    assert detection.evidence["last_activity_at"] is None
    assert detection.evidence["available_signals"] == []


def test_fallback_at_threshold() -> None:
    at = replace(BASE, added_at=NOW - 90 * DAY, created=None)
    over = replace(BASE, added_at=NOW - 90 * DAY - SECOND, created=None)
    assert run(at) == []
    assert len(run(over)) == 1


def test_new_member_without_activity_is_not_inactive() -> None:
    assert run(replace(BASE, added_at=NOW - 10 * DAY, created=NOW - 10 * DAY)) == []


def test_no_signal_and_no_date_raises_nothing() -> None:
    assert run(replace(BASE, added_at=None, created=None)) == []


def test_signal_takes_precedence_over_old_membership() -> None:
    # an activity signal exists, so membership dates are not consulted
    assert run(replace(BASE, last_login_at=NOW - 10 * DAY)) == []


def test_service_accounts_and_disabled_persons_are_not_evaluated() -> None:
    assert run(replace(BASE, is_service_account=True)) == []
    assert run(replace(BASE, all_records_disabled=True)) == []


def test_person_level_evidence_and_asset() -> None:
    sources = {
        Source.ADMIN_USERS: SourceReport(Source.ADMIN_USERS, "complete"),
        Source.ADMIN_AUDIT_LOGS: SourceReport(Source.ADMIN_AUDIT_LOGS, "failed", reason="403"),
    }
    (detection,) = run(replace(BASE, workspace_role="standard-user"), sources=sources)
    assert detection.asset.kind is AssetKind.USER
    assert detection.asset.id == "user-org-1"
    assert detection.asset.email == "alice@example.com"
    assert detection.asset.link == "https://platform.openai.com/settings/organization/people"
    person = detection.evidence["person"]
    assert person["workspace_user_ids"] == ["ws-user-1"]
    assert person["workspace_role"] == "standard-user"
    signals = detection.evidence["signals"]
    assert signals["api_key_last_used_at"]["source_state"] == "complete"
    assert signals["last_login_at"]["source_state"] == "failed"
    assert signals["last_conversation_at"]["source_state"] == "skipped"
    assert detection.evidence["membership_dates"]["added_at"]["value"] == "2025-04-27T00:00:00Z"


def test_workspace_only_person_links_to_workspace_members() -> None:
    person = replace(
        BASE, asset_id="ws-user-1", org_user_id=None, added_at=None, created=None, workspace_created_at=OLD
    )
    (detection,) = run(person)
    assert detection.asset.id == "ws-user-1"
    assert detection.asset.link == "https://chatgpt.com/admin/members"


def test_threshold_from_policy() -> None:
    person = replace(BASE, last_login_at=NOW - 40 * DAY)
    assert run(person) == []
    (detection,) = run(person, Policy(thresholds=Thresholds(inactive_user_days=30)))
    assert detection.evidence["threshold_days"] == 30


def _audit(state: SourceState) -> dict[Source, SourceReport]:
    return {
        Source.ADMIN_USERS: SourceReport(Source.ADMIN_USERS, "complete"),
        Source.ADMIN_AUDIT_LOGS: SourceReport(Source.ADMIN_AUDIT_LOGS, state),
    }


def test_evidence_says_how_far_back_logins_were_read() -> None:
    """No login in the window read is not "no activity signal at all": an older login was never read."""
    inventory = Inventory(now=NOW, persons=[BASE], sources=_audit("complete"), logins_read_since=NOW - 401 * DAY)
    (detection,) = inactive_user.evaluate(inventory, Policy())
    evidence = detection.evidence
    assert "no login in the 401 days of audit log read" in evidence["summary"]
    assert "at all" not in evidence["summary"]
    login = evidence["signals"]["last_login_at"]
    assert (login["value"], login["source_state"]) == (None, "complete")
    assert (login["read_since"], login["read_days"]) == ("2025-04-26T00:00:00Z", 401)
    # The other signals carry no window of their own.
    assert "read_since" not in evidence["signals"]["api_key_last_used_at"]


def test_evidence_with_another_deciding_signal_names_the_login_window() -> None:
    person = replace(BASE, api_key_last_used_at=NOW - 200 * DAY)
    inventory = Inventory(now=NOW, persons=[person], sources=_audit("complete"), logins_read_since=NOW - 91 * DAY)
    (detection,) = inactive_user.evaluate(inventory, Policy())
    assert detection.evidence["deciding_signal"] == "api_key_last_used_at"
    assert "no login in the 91 days of audit log read" in detection.evidence["summary"]


@pytest.mark.parametrize(("state", "phrase"), [
    ("failed", "audit log failed"),
    ("skipped", "audit log skipped"),
    ("partial", "no login in the part of the last 401 days of audit log read"),
])
def test_evidence_claims_no_window_the_audit_log_did_not_give(state: SourceState, phrase: str) -> None:
    inventory = Inventory(now=NOW, persons=[BASE], sources=_audit(state), logins_read_since=NOW - 401 * DAY)
    (detection,) = inactive_user.evaluate(inventory, Policy())
    assert phrase in detection.evidence["summary"]
    assert "no login in the 401 days" not in detection.evidence["summary"]
