"""OpenAI: Project API key not rotated."""

from __future__ import annotations

from collections.abc import Iterable

from openai_casb.checks.base import CheckMetadata, Group, Remediation
from openai_casb.checks.key_rules import not_rotated
from openai_casb.detections import Detection, Severity
from openai_casb.inventory.model import AssetKind, Inventory, Source
from openai_casb.policy import Policy

METADATA = CheckMetadata(
    id="2c079fe8-6188-43e1-a2e5-d0e2dd8c7686",
    name="OpenAI: Project API key not rotated",
    severity=Severity.HIGH,
    enterprise=False,
    group=Group.API_KEY_HYGIENE,
    asset_kind=AssetKind.PROJECT_API_KEY,
    description="A project API key (of a project that is not archived) is older than the rotation period.",
    risk=(
        "A project key spends the project's quota and reads or changes its resources (files, assistants, "
        "fine-tunes...) up to its permissions; a leaked long-lived key brings charges, data exposure and "
        "quota exhaustion."
    ),
    rule="now - created_at > key_rotation_days (default 90 days); keys of archived projects are not evaluated",
    remediation=Remediation(
        console_url="https://platform.openai.com/settings/organization/projects",
        steps=(
            "Open the project's API keys (https://platform.openai.com/settings/<project_id>/api-keys).",
            "Select '+ Create new secret key' with the narrowest permissions (All, Restricted or Read Only).",
            "Update the applications, then revoke the old key.",
            "Keys owned by a service account: the API cannot delete them (the key DELETE below returns 400), and "
            "whether the console can revoke one alone is unconfirmed. Create the replacement (a new service account, "
            "or a new key for this one), move the applications, then revoke the old key in the console if it allows "
            "it, or remove the old service account (the project > Members > Remove).",
        ),
        api_calls=(
            "DELETE /v1/organization/projects/{project_id}/api_keys/{key_id} (400 for service-account keys)",
            "POST /v1/organization/projects/{project_id}/service_accounts/{service_account_id}/api_keys "
            '{"name": ..., "scopes": [...]}',
            "DELETE /v1/organization/projects/{project_id}/service_accounts/{service_account_id} "
            "(deletes the service account)",
        ),
        notes=("There is no API call that creates a user-owned project key.",),
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
    return not_rotated(inventory, METADATA.id, policy.thresholds.key_rotation_days, admin=False)
