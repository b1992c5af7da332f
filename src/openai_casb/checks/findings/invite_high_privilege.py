"""OpenAI: High-privilege invite."""

from __future__ import annotations

from collections.abc import Iterator

from openai_casb.checks.base import CheckMetadata, Group, Remediation
from openai_casb.checks.common import invite_asset, iso
from openai_casb.detections import Detection, Severity
from openai_casb.inventory.model import AssetKind, Inventory, Source
from openai_casb.policy import Policy

METADATA = CheckMetadata(
    id="776ceb93-fa9a-4ca0-83db-668a67c09936",
    name="OpenAI: High-privilege invite",
    severity=Severity.HIGH,
    enterprise=False,
    group=Group.ACCESS_SECURITY,
    asset_kind=AssetKind.INVITE,
    description="A pending invite grants the Owner role, to the organization or to a project.",
    risk=(
        "Whoever accepts an Owner invite gets full control: all projects, users and keys, billing limits and the "
        "right to create Admin API keys. A mistyped, forwarded or intercepted invite hands that over."
    ),
    rule="status is pending and (role is owner, or any entry of projects has role owner)",
    remediation=Remediation(
        console_url="https://platform.openai.com/settings/organization/people",
        steps=(
            "People > Invitations: find the invite, select Remove and confirm.",
            "If the person needs access, invite again as Reader with only the needed projects, and grant Owner "
            "later, after verifying their identity (People > Members > Roles).",
            "SCIM-managed invitations are changed in the identity provider or the Admin Console.",
        ),
        api_calls=(
            "DELETE /v1/organization/invites/{invite_id}",
            'POST /v1/organization/invites {"email": ..., "role": "reader", '
            '"projects": [{"id": ..., "role": "member"}]}',
        ),
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
    for invite in inventory.invites:
        if invite.status != "pending":
            continue
        owner_projects = [p.project_id for p in invite.projects if p.role == "owner"]
        org_owner = invite.role == "owner"
        if not org_owner and not owner_projects:
            continue
        grants = (["organization owner"] if org_owner else []) + [f"owner of project {p}" for p in owner_projects]
        evidence = {
            "summary": f"Pending invite for {invite.email} grants: {', '.join(grants)}.",
            "rule": "status == 'pending' and (role == 'owner' or any(projects[].role == 'owner'))",
            "status": invite.status,
            "role": invite.role,
            "organization_owner": org_owner,
            "owner_project_ids": owner_projects,
            "created_at": iso(invite.created_at),
            "expires_at": iso(invite.expires_at),
        }
        yield Detection(finding_type_id=METADATA.id, asset=invite_asset(invite), evidence=evidence)
