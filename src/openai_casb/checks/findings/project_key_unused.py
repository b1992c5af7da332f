"""OpenAI: Unused project API key."""

from __future__ import annotations

from collections.abc import Iterable

from openai_casb.checks.base import CheckMetadata, Group, Remediation
from openai_casb.checks.key_rules import unused
from openai_casb.detections import Detection, Severity
from openai_casb.inventory.model import AssetKind, Inventory, Source
from openai_casb.policy import Policy

METADATA = CheckMetadata(
    id="c8fd231b-de51-43cc-8c3f-e1e57114c5f5",
    name="OpenAI: Unused project API key",
    severity=Severity.MEDIUM,
    enterprise=False,
    group=Group.API_KEY_HYGIENE,
    asset_kind=AssetKind.PROJECT_API_KEY,
    description="A project API key (of a project that is not archived) has not been used recently, or never.",
    risk=(
        "A project key nobody uses still grants access to the project's models, data and spend; removing it "
        "shrinks the attack surface at no cost."
    ),
    rule=(
        "last_used_at is null and now - created_at > unused_key_days, or now - last_used_at > unused_key_days "
        "(default 30 days); keys of archived projects are not evaluated"
    ),
    remediation=Remediation(
        console_url="https://platform.openai.com/settings/organization/projects",
        steps=(
            "Open the project's API keys (https://platform.openai.com/settings/<project_id>/api-keys) and check "
            "the key's last-used date and owner.",
            "Revoke it. For a service-account key, delete the service account (project > Members > Remove).",
        ),
        api_calls=(
            "DELETE /v1/organization/projects/{project_id}/api_keys/{key_id} (400 for service-account keys)",
            "DELETE /v1/organization/projects/{project_id}/service_accounts/{service_account_id}",
        ),
    ),
    references=(
        "https://help.openai.com/en/articles/9186755-managing-projects-in-the-api-platform",
        "https://help.openai.com/en/articles/5112595-best-practices-for-api-key-safety",
        "https://howtorotate.com/docs/tutorials/openai",
        "https://platform.openai.com/docs/api-reference/project-api-keys",
    ),
    sources=(Source.ADMIN_PROJECTS, Source.ADMIN_PROJECT_API_KEYS),
)


def evaluate(inventory: Inventory, policy: Policy) -> Iterable[Detection]:
    return unused(inventory, METADATA.id, policy.thresholds.unused_key_days, admin=False)
