"""OpenAI: GPT with web browsing enabled."""

from __future__ import annotations

from collections.abc import Iterable

from openai_casb.checks.base import CheckMetadata, Group, Remediation
from openai_casb.checks.common import GPT_RETIREMENT_FAQ_URL, GPT_RETIREMENT_STEP
from openai_casb.checks.gpt_rules import gpts_with_tool
from openai_casb.detections import Detection, Severity
from openai_casb.inventory.model import AssetKind, Inventory, Source
from openai_casb.policy import Policy

METADATA = CheckMetadata(
    id="3af14358-5ff2-4502-921e-7ffd9a310093",
    name="OpenAI: GPT with web browsing enabled",
    severity=Severity.MEDIUM,
    enterprise=True,
    group=Group.MODEL_AND_TOOL_GOVERNANCE,
    asset_kind=AssetKind.GPT,
    description="A custom GPT of the workspace has the Web search (browsing) capability on.",
    risk=(
        "A browsing GPT fetches and reasons over untrusted internet content: a channel for prompt injection and "
        "for information leaving through crafted queries."
    ),
    rule="latest_config has a tool of type browser",
    remediation=Remediation(
        console_url="https://chatgpt.com/admin/permissions",
        steps=(
            "The GPT's owner or an editor opens Edit GPT > Capabilities, clears 'Web search' and selects Update.",
            "Workspace-wide: Workspace settings > Permissions & roles has a 'Web search' permission per role; "
            "assign a Lockdown Mode role to high-risk users where available.",
            GPT_RETIREMENT_STEP,
        ),
        api_calls=(
            "DELETE https://api.chatgpt.com/v1/compliance/workspaces/{workspace_id}/gpts/{gpt_id} (last resort)",
        ),
        notes=("No API edits a GPT's capabilities.",),
    ),
    references=(
        "https://help.openai.com/en/articles/8554397-creating-and-editing-gpts",
        "https://help.openai.com/en/articles/11750701-role-based-access-controls-for-chatgpt-enterprise",
        "https://chatgpt.com/admin/api-reference",
        GPT_RETIREMENT_FAQ_URL,
    ),
    sources=(Source.GPTS,),
)


def evaluate(inventory: Inventory, policy: Policy) -> Iterable[Detection]:
    return gpts_with_tool(inventory, METADATA.id, "browser")
