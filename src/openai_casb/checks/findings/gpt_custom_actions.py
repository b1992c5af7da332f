"""OpenAI: GPT with Custom Actions enabled."""

from __future__ import annotations

from collections.abc import Iterable

from openai_casb.checks.base import CheckMetadata, Group, Remediation
from openai_casb.checks.common import GPT_RETIREMENT_FAQ_URL, GPT_RETIREMENT_STEP
from openai_casb.checks.gpt_rules import gpts_with_tool
from openai_casb.detections import Detection, Severity
from openai_casb.inventory.model import AssetKind, Inventory, Source
from openai_casb.policy import Policy

METADATA = CheckMetadata(
    id="5a2995f5-0cc1-4af3-9045-cdf7e6601f7b",
    name="OpenAI: GPT with Custom Actions enabled",
    severity=Severity.HIGH,
    enterprise=True,
    group=Group.MODEL_AND_TOOL_GOVERNANCE,
    asset_kind=AssetKind.GPT,
    description="A custom GPT of the workspace calls an external API through a custom action.",
    risk=(
        "An action sends parts of users' conversations to an external service chosen by the GPT's builder, "
        "which OpenAI does not audit, and it can change data in that system, not only read it."
    ),
    rule="latest_config has a tool of type custom_action",
    remediation=Remediation(
        console_url="https://chatgpt.com/admin/gpts",
        steps=(
            "Decide with the GPT's owner whether the action is needed.",
            "If not: open the GPT (https://chatgpt.com/gpts > My GPTs > Edit GPT), remove it under Actions, "
            "select Update.",
            "If it is: review its domain, authentication and privacy-policy URL.",
            "Workspace owners: Workspace settings > GPTs > Actions, clear 'Allow all domains for GPT Actions' "
            "and list only approved domains.",
            GPT_RETIREMENT_STEP + " Custom actions do not carry over in the migration.",
        ),
        api_calls=(
            "DELETE https://api.chatgpt.com/v1/compliance/workspaces/{workspace_id}/gpts/{gpt_id} (deletes the GPT)",
        ),
        notes=("No API edits a GPT's tools; the domain allowlist has no public API.",),
    ),
    references=(
        "https://help.openai.com/en/articles/9442513-configuring-actions-in-gpts",
        "https://help.openai.com/en/articles/8555535-managing-gpt-access-in-enterprise-and-edu-workspaces",
        "https://help.openai.com/en/articles/8554407-gpts-in-chatgpt",
        GPT_RETIREMENT_FAQ_URL,
        "https://chatgpt.com/admin/api-reference",
    ),
    sources=(Source.GPTS,),
)


def evaluate(inventory: Inventory, policy: Policy) -> Iterable[Detection]:
    return gpts_with_tool(inventory, METADATA.id, "custom_action")
