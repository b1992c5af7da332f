"""OpenAI: GPT with Code Interpreter enabled."""

from __future__ import annotations

from collections.abc import Iterable

from openai_casb.checks.base import CheckMetadata, Group, Remediation
from openai_casb.checks.common import GPT_RETIREMENT_FAQ_URL, GPT_RETIREMENT_STEP
from openai_casb.checks.gpt_rules import gpts_with_tool
from openai_casb.detections import Detection, Severity
from openai_casb.inventory.model import AssetKind, Inventory, Source
from openai_casb.policy import Policy

METADATA = CheckMetadata(
    id="d368036a-be90-49f0-b7da-5092a3f8beb4",
    name="OpenAI: GPT with Code Interpreter enabled",
    severity=Severity.MEDIUM,
    enterprise=True,
    group=Group.MODEL_AND_TOOL_GOVERNANCE,
    asset_kind=AssetKind.GPT,
    description="A custom GPT of the workspace has the Code Interpreter & Data Analysis capability on.",
    risk=(
        "Code Interpreter runs code over uploaded and knowledge files, so everyone the GPT is shared with can "
        "process, transform and export the data it holds: a wider data-handling surface than chat alone."
    ),
    rule="latest_config has a tool of type code_interpreter",
    remediation=Remediation(
        console_url="https://chatgpt.com/admin/gpts",
        steps=(
            "The GPT's owner or an editor opens Edit GPT > Configure > Capabilities, clears "
            "'Code Interpreter & Data Analysis' and selects Update (some knowledge file types need it).",
            "Workspace-wide: review feature access in Workspace settings > Permissions & roles "
            "(https://chatgpt.com/admin/permissions).",
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
    return gpts_with_tool(inventory, METADATA.id, "code_interpreter")
