"""OpenAI: Stale pending invite."""

from __future__ import annotations

from collections.abc import Iterator

from openai_casb.checks.base import CheckMetadata, Group, Remediation
from openai_casb.checks.common import age, invite_asset, iso, older_than
from openai_casb.detections import Detection, Severity
from openai_casb.inventory.model import AssetKind, Inventory, Source
from openai_casb.policy import Policy

METADATA = CheckMetadata(
    id="18fd5b21-8489-485e-9c93-0bd4a696e724",
    name="OpenAI: Stale pending invite",
    severity=Severity.LOW,
    enterprise=False,
    group=Group.ACCESS_SECURITY,
    asset_kind=AssetKind.INVITE,
    description="An invite lapsed and was never cleaned up, or has been pending longer than the threshold.",
    risk=(
        "An invite nobody accepted is an open door: anyone who later gets into that mailbox can join with the "
        "invited role. Expired invites are clutter that hides the real invite list."
    ),
    rule="status is expired, or status is pending and now - created_at > stale_invite_days (default 7 days)",
    remediation=Remediation(
        console_url="https://platform.openai.com/settings/organization/people",
        steps=(
            "People > Invitations: select Remove and confirm.",
            "Expired invites cannot be resent: remove them and send a fresh invite if still wanted.",
            "ChatGPT workspace invites: Workspace settings > Members > Pending Invites.",
        ),
        api_calls=("DELETE /v1/organization/invites/{invite_id}",),
    ),
    references=(
        "https://help.openai.com/en/articles/4936812-managing-members-in-an-api-organization",
        "https://help.openai.com/en/articles/9186755-managing-projects-in-the-api-platform",
        "https://help.openai.com/en/articles/8266401-managing-members-seat-types-roles-and-access-in-chatgpt-enterprise",
        "https://platform.openai.com/docs/api-reference/invite",
    ),
    sources=(Source.ADMIN_INVITES,),
)


def evaluate(inventory: Inventory, policy: Policy) -> Iterator[Detection]:
    now = inventory.now
    threshold = policy.thresholds.stale_invite_days
    for invite in inventory.invites:
        elapsed = age(now, invite.created_at)
        if invite.status == "expired":
            expired = iso(invite.expires_at) or "date unknown"
            summary = f"Invite for {invite.email} expired ({expired}) and was never removed."
            rule = "status == 'expired'"
        elif invite.status == "pending" and older_than(now, invite.created_at, threshold):
            days = elapsed["age_days"]
            summary = f"Invite for {invite.email} has been pending for {days} days (threshold {threshold})."
            rule = "status == 'pending' and now - created_at > stale_invite_days"
        else:
            continue
        evidence = {
            "summary": summary,
            "rule": rule,
            "status": invite.status,
            "role": invite.role,
            "created_at": iso(invite.created_at),
            "expires_at": iso(invite.expires_at),
            **elapsed,
            "threshold_days": threshold,
            "now": iso(now),
        }
        yield Detection(finding_type_id=METADATA.id, asset=invite_asset(invite), evidence=evidence)
