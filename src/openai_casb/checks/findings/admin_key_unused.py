"""OpenAI: Unused admin API key."""

from __future__ import annotations

from collections.abc import Iterable

from openai_casb.checks.base import CheckMetadata, Group, Remediation
from openai_casb.checks.key_rules import unused
from openai_casb.detections import Detection, Severity
from openai_casb.inventory.model import AssetKind, Inventory, Source
from openai_casb.policy import Policy

METADATA = CheckMetadata(
    id="49c75a36-1e64-437b-98a1-e54ec35d0a64",
    name="OpenAI: Unused admin API key",
    severity=Severity.MEDIUM,
    enterprise=False,
    group=Group.API_KEY_HYGIENE,
    asset_kind=AssetKind.ADMIN_API_KEY,
    description="An organization Admin API key has not been used recently, or never.",
    risk=(
        "An organization-wide admin credential nobody uses is pure standing risk: it can still be stolen and "
        "used, and nobody watches it."
    ),
    rule=(
        "last_used_at is null and now - created_at > unused_key_days, or now - last_used_at > unused_key_days "
        "(default 30 days)"
    ),
    remediation=Remediation(
        console_url="https://platform.openai.com/settings/organization/admin-keys",
        steps=(
            "Confirm with the key's owner (shown on the key) that nothing depends on it.",
            "Delete it on the Admin keys page.",
        ),
        api_calls=("DELETE /v1/organization/admin_api_keys/{key_id}",),
        notes=("A null last_used_at means never used, or used only before usage tracking existed.",),
    ),
    references=(
        "https://help.openai.com/en/articles/9687866-admin-and-audit-logs-api-for-the-api-platform",
        "https://help.openai.com/en/articles/20001407-managing-admin-keys-in-admin-console",
        "https://help.openai.com/en/articles/5112595-best-practices-for-api-key-safety",
        "https://platform.openai.com/docs/api-reference/admin-api-keys",
    ),
    sources=(Source.ADMIN_API_KEYS,),
)


def evaluate(inventory: Inventory, policy: Policy) -> Iterable[Detection]:
    return unused(inventory, METADATA.id, policy.thresholds.unused_key_days, admin=True)
