from datetime import UTC, datetime, timedelta

import pytest

from openai_casb.checks.findings import invite_high_privilege, invite_stale_pending
from openai_casb.inventory.model import AssetKind, Inventory, Invite, InviteProjectRole
from openai_casb.policy import Policy, Thresholds

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def invite(
    role: str = "reader",
    status: str = "pending",
    created_ago: timedelta = DAY,
    projects: tuple[InviteProjectRole, ...] = (),
) -> Invite:
    return Invite(
        id="invite-1",
        email="new@example.com",
        role=role,
        status=status,
        created_at=NOW - created_ago,
        expires_at=NOW - created_ago + 7 * DAY,
        projects=projects,
    )


def high(inv: Invite) -> list[object]:
    return list(invite_high_privilege.evaluate(Inventory(now=NOW, invites=[inv]), Policy()))


def stale(inv: Invite, policy: Policy | None = None) -> list[object]:
    return list(invite_stale_pending.evaluate(Inventory(now=NOW, invites=[inv]), policy or Policy()))


def test_pending_owner_invite_is_high_privilege() -> None:
    (detection,) = invite_high_privilege.evaluate(Inventory(now=NOW, invites=[invite(role="owner")]), Policy())
    assert detection.asset.kind is AssetKind.INVITE
    assert detection.asset.email == "new@example.com"
    assert detection.asset.link == "https://platform.openai.com/settings/organization/people"
    assert detection.evidence["organization_owner"] is True
    assert detection.evidence["owner_project_ids"] == []


def test_pending_reader_invite_with_project_owner_role_is_high_privilege() -> None:
    projects = (InviteProjectRole("proj_a", "member"), InviteProjectRole("proj_b", "owner"))
    (detection,) = invite_high_privilege.evaluate(
        Inventory(now=NOW, invites=[invite(role="reader", projects=projects)]), Policy()
    )
    assert detection.evidence["organization_owner"] is False
    assert detection.evidence["owner_project_ids"] == ["proj_b"]


@pytest.mark.parametrize("status", ["accepted", "expired"])
def test_owner_invites_not_pending_are_not_high_privilege(status: str) -> None:
    assert high(invite(role="owner", status=status)) == []


def test_reader_invite_with_member_projects_is_not_high_privilege() -> None:
    assert high(invite(projects=(InviteProjectRole("proj_a", "member"),))) == []


@pytest.mark.parametrize(
    ("created_ago", "expected"),
    [(7 * DAY, False), (7 * DAY + timedelta(seconds=1), True), (DAY, False)],
)
def test_pending_invite_is_stale_strictly_after_threshold(created_ago: timedelta, expected: bool) -> None:
    assert bool(stale(invite(created_ago=created_ago))) is expected


def test_expired_invite_is_stale_whatever_its_age() -> None:
    (detection,) = invite_stale_pending.evaluate(
        Inventory(now=NOW, invites=[invite(status="expired", created_ago=DAY)]), Policy()
    )
    assert detection.evidence["rule"] == "status == 'expired'"
    assert detection.evidence["status"] == "expired"


def test_accepted_invite_is_never_stale() -> None:
    assert stale(invite(status="accepted", created_ago=400 * DAY)) == []


def test_stale_invite_threshold_from_policy() -> None:
    policy = Policy(thresholds=Thresholds(stale_invite_days=2))
    found = invite_stale_pending.evaluate(Inventory(now=NOW, invites=[invite(created_ago=3 * DAY)]), policy)
    (detection,) = found
    assert detection.evidence["threshold_days"] == 2
    assert detection.evidence["age_days"] == 3
