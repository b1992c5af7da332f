from datetime import UTC, datetime, timedelta

import pytest

from openai_casb.checks.findings import (
    admin_key_not_rotated,
    admin_key_unused,
    project_key_not_rotated,
    project_key_unused,
)
from openai_casb.inventory.model import AdminApiKey, AssetKind, Inventory, ProjectApiKey
from openai_casb.policy import Policy, Thresholds

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def admin_key(created_at: datetime, last_used_at: datetime | None = None, key_id: str = "key_a") -> AdminApiKey:
    return AdminApiKey(
        id=key_id,
        name="ci",
        redacted_value="sk-admin...xyz",
        created_at=created_at,
        last_used_at=last_used_at,
        expires_at=None,
    )


def project_key(
    created_at: datetime, last_used_at: datetime | None = None, archived: bool = False, owner_type: str = "user"
) -> ProjectApiKey:
    return ProjectApiKey(
        id="key_p",
        name=None,
        redacted_value="sk-proj...abc",
        project_id="proj_1",
        project_name="Prod",
        project_archived=archived,
        created_at=created_at,
        last_used_at=last_used_at,
        owner_type=owner_type,
        owner_email="dev@example.com",
    )


@pytest.mark.parametrize(
    ("age", "expected"),
    [(90 * DAY, False), (90 * DAY + SECOND, True), (90 * DAY - SECOND, False), (-DAY, False)],
)
def test_admin_key_rotation_is_strictly_greater_than_threshold(age: timedelta, expected: bool) -> None:
    inventory = Inventory(now=NOW, admin_api_keys=[admin_key(NOW - age, last_used_at=NOW)])
    found = list(admin_key_not_rotated.evaluate(inventory, Policy()))
    assert bool(found) is expected


def test_admin_key_rotation_evidence_and_asset() -> None:
    inventory = Inventory(now=NOW, admin_api_keys=[admin_key(NOW - 143 * DAY)])
    (detection,) = admin_key_not_rotated.evaluate(inventory, Policy())
    assert detection.finding_type_id == admin_key_not_rotated.METADATA.id
    assert detection.evidence["created_at"] == "2026-01-09T12:00:00Z"
    assert detection.evidence["age_days"] == 143
    assert detection.evidence["threshold_days"] == 90
    assert detection.evidence["rule"] == "now - created_at > key_rotation_days"
    assert detection.asset.kind is AssetKind.ADMIN_API_KEY
    assert detection.asset.link == "https://platform.openai.com/settings/organization/admin-keys"
    assert detection.asset.metadata["redacted_value"] == "sk-admin...xyz"


def test_rotation_threshold_comes_from_policy() -> None:
    inventory = Inventory(now=NOW, admin_api_keys=[admin_key(NOW - 11 * DAY)])
    assert list(admin_key_not_rotated.evaluate(inventory, Policy())) == []
    policy = Policy(thresholds=Thresholds(key_rotation_days=10))
    (detection,) = admin_key_not_rotated.evaluate(inventory, policy)
    assert detection.evidence["threshold_days"] == 10


def test_project_key_rotation_at_threshold_and_link() -> None:
    at = Inventory(now=NOW, project_api_keys=[project_key(NOW - 90 * DAY)])
    over = Inventory(now=NOW, project_api_keys=[project_key(NOW - 90 * DAY - SECOND)])
    assert list(project_key_not_rotated.evaluate(at, Policy())) == []
    (detection,) = project_key_not_rotated.evaluate(over, Policy())
    assert detection.asset.link == "https://platform.openai.com/settings/proj_1/api-keys"
    assert detection.asset.email == "dev@example.com"
    assert detection.asset.name == "sk-proj...abc"  # no name: the redacted value identifies it


def test_keys_of_archived_projects_are_not_evaluated() -> None:
    inventory = Inventory(now=NOW, project_api_keys=[project_key(NOW - 400 * DAY, archived=True)])
    assert list(project_key_not_rotated.evaluate(inventory, Policy())) == []
    assert list(project_key_unused.evaluate(inventory, Policy())) == []


def test_service_account_keys_are_evaluated() -> None:
    inventory = Inventory(now=NOW, project_api_keys=[project_key(NOW - 100 * DAY, owner_type="service_account")])
    (detection,) = project_key_not_rotated.evaluate(inventory, Policy())
    assert detection.asset.metadata["owner_type"] == "service_account"


@pytest.mark.parametrize(
    ("created_ago", "expected"),
    [(30 * DAY, False), (30 * DAY + SECOND, True)],
)
def test_never_used_key_is_unused_only_after_threshold(created_ago: timedelta, expected: bool) -> None:
    inventory = Inventory(now=NOW, admin_api_keys=[admin_key(NOW - created_ago, last_used_at=None)])
    found = list(admin_key_unused.evaluate(inventory, Policy()))
    assert bool(found) is expected
    if found:
        assert found[0].evidence["never_used"] is True
        assert found[0].evidence["last_used_at"] is None
        assert "never used" in found[0].evidence["summary"]


@pytest.mark.parametrize(
    ("used_ago", "expected"),
    [(30 * DAY, False), (30 * DAY + SECOND, True), (DAY, False)],
)
def test_key_unused_since_last_use(used_ago: timedelta, expected: bool) -> None:
    inventory = Inventory(now=NOW, project_api_keys=[project_key(NOW - 365 * DAY, last_used_at=NOW - used_ago)])
    found = list(project_key_unused.evaluate(inventory, Policy()))
    assert bool(found) is expected
    if found:
        evidence = found[0].evidence
        assert evidence["never_used"] is False
        assert evidence["rule"] == "now - last_used_at > unused_key_days"
        assert evidence["days_since_last_use"] == 30


def test_recently_used_old_key_is_not_unused_but_is_not_rotated() -> None:
    inventory = Inventory(now=NOW, admin_api_keys=[admin_key(NOW - 200 * DAY, last_used_at=NOW - DAY)])
    assert list(admin_key_unused.evaluate(inventory, Policy())) == []
    assert len(list(admin_key_not_rotated.evaluate(inventory, Policy()))) == 1


def test_service_account_key_remediation_claims_only_what_is_known() -> None:
    """remediation.md sections 7 and 17: the API DELETE returns 400 for these keys; the console is unconfirmed."""
    (step,) = [s for s in project_key_not_rotated.METADATA.remediation.steps if "service account" in s]
    assert "cannot be deleted alone" not in step
    assert "the API cannot delete them" in step
    assert "400" in step
    assert "console can revoke one alone is unconfirmed" in step
