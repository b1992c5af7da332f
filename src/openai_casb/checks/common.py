"""Helpers shared by the rules: strict day thresholds, evidence formatting, asset references."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from openai_casb.detections import AssetRef
from openai_casb.inventory.model import AdminApiKey, AssetKind, Gpt, Invite, ProjectApiKey

SECONDS_PER_DAY = 86_400

ADMIN_KEYS_URL = "https://platform.openai.com/settings/organization/admin-keys"
PEOPLE_URL = "https://platform.openai.com/settings/organization/people"
WORKSPACE_MEMBERS_URL = "https://chatgpt.com/admin/members"
WORKSPACE_GPTS_URL = "https://chatgpt.com/admin/gpts"
WORKSPACE_ADMIN_URL = "https://chatgpt.com/admin"

# Custom GPTs are being retired (remediation.md section 0, help article 20001519): every GPT finding's
# remediation says that retiring or migrating the GPT now may be the fix rather than reconfiguring it.
GPT_RETIREMENT_FAQ_URL = "https://help.openai.com/en/articles/20001519-custom-gpt-retirement-and-migration-faq"
GPT_RETIREMENT_STEP = (
    "Custom GPTs are being retired: in Enterprise workspaces they are planned to stop running on Dec 11 2026 "
    "(dates may move), with a migration path to plugins (OpenAI's Custom GPT retirement and migration FAQ, "
    f"{GPT_RETIREMENT_FAQ_URL}). Retiring the GPT, or migrating it now, may be the fix rather than reconfiguring "
    "it; a migrated GPT is read-only and its creator can no longer delete it."
)


def project_keys_url(project_id: str) -> str:
    return f"https://platform.openai.com/settings/{project_id}/api-keys"


def iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601 with a Z, to the second; None stays None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def older_than(now: datetime, moment: datetime, days: int) -> bool:
    """`now - moment > days` with days of exactly 86,400 seconds (strict)."""
    return now - moment > timedelta(days=days)


def age(now: datetime, moment: datetime) -> dict[str, int]:
    """Elapsed time as whole days (floored) and seconds, for evidence."""
    seconds = int((now - moment).total_seconds())
    return {"age_days": seconds // SECONDS_PER_DAY, "age_seconds": seconds}


def admin_key_asset(key: AdminApiKey) -> AssetRef:
    return AssetRef(
        kind=AssetKind.ADMIN_API_KEY,
        id=key.id,
        name=key.name or key.redacted_value,
        link=ADMIN_KEYS_URL,
        metadata={
            "redacted_value": key.redacted_value,
            "owner_type": key.owner_type,
            "owner_id": key.owner_id,
            "owner_name": key.owner_name,
        },
    )


def project_key_asset(key: ProjectApiKey) -> AssetRef:
    return AssetRef(
        kind=AssetKind.PROJECT_API_KEY,
        id=key.id,
        name=key.name or key.redacted_value,
        email=key.owner_email,
        link=project_keys_url(key.project_id),
        metadata={
            "redacted_value": key.redacted_value,
            "project_id": key.project_id,
            "project_name": key.project_name,
            "owner_type": key.owner_type,
            "owner_id": key.owner_id,
            "owner_name": key.owner_name,
        },
    )


def invite_asset(invite: Invite) -> AssetRef:
    return AssetRef(
        kind=AssetKind.INVITE,
        id=invite.id,
        name=invite.email,
        email=invite.email,
        link=PEOPLE_URL,
        metadata={"role": invite.role, "status": invite.status},
    )


def gpt_asset(gpt: Gpt) -> AssetRef:
    return AssetRef(
        kind=AssetKind.GPT,
        id=gpt.id,
        name=gpt.name,
        email=gpt.owner_email,
        link=WORKSPACE_GPTS_URL,
        metadata={"owner_id": gpt.owner_id, "builder_name": gpt.builder_name, "visibility": gpt.visibility},
    )


def gpt_context(gpt: Gpt) -> dict[str, Any]:
    return {"gpt_id": gpt.id, "config_id": gpt.config_id, "visibility": gpt.visibility, "owner_email": gpt.owner_email}
