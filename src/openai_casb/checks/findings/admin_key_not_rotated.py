"""OpenAI: Admin API key not rotated."""

from __future__ import annotations

from collections.abc import Iterable

from openai_casb.checks.base import CheckMetadata, Group, Remediation
from openai_casb.checks.key_rules import not_rotated
from openai_casb.detections import Detection, Severity
from openai_casb.inventory.model import AssetKind, Inventory, Source
from openai_casb.policy import Policy

METADATA = CheckMetadata(
    id="b72e971d-f5b9-4cf3-96f4-ef82bdf38453",
    name="OpenAI: Admin API key not rotated",
    severity=Severity.HIGH,
    enterprise=False,
    group=Group.API_KEY_HYGIENE,
    asset_kind=AssetKind.ADMIN_API_KEY,
    description="An organization Admin API key is older than the rotation period.",
    risk=(
        "An Admin API key manages users, invites, projects, service accounts and keys of the whole organization; "
        "the longer it lives, the longer a leaked copy can be abused. A lost key cannot be recovered, only replaced."
    ),
    rule="now - created_at > key_rotation_days (default 90 days)",
    remediation=Remediation(
        console_url="https://platform.openai.com/settings/organization/admin-keys",
        steps=(
            "As an organization Owner open Admin keys and select 'Create new admin key'; store the secret in a "
            "secret manager (it is shown once).",
            "Move every integration to the new key and confirm the old key's 'last used' stops advancing.",
            "Delete the old key on the same page.",
        ),
        api_calls=(
            'POST /v1/organization/admin_api_keys {"name": ..., "expires_in_seconds": ...}',
            "DELETE /v1/organization/admin_api_keys/{key_id}",
        ),
        notes=("OpenAI publishes no fixed rotation interval; 90 days is this product's default policy.",),
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
    return not_rotated(inventory, METADATA.id, policy.thresholds.key_rotation_days, admin=True)
