"""OpenAI: GPT publicly accessible via public link."""

from __future__ import annotations

from collections.abc import Iterable

from openai_casb.checks.base import CheckMetadata, Group, Remediation
from openai_casb.checks.common import GPT_RETIREMENT_FAQ_URL, GPT_RETIREMENT_STEP
from openai_casb.checks.gpt_rules import gpts_with_visibility
from openai_casb.detections import Detection, Severity
from openai_casb.inventory.model import AssetKind, Inventory, Source
from openai_casb.policy import Policy

METADATA = CheckMetadata(
    id="de460c9f-55c0-4131-9cdf-e4c3b84f9549",
    name="OpenAI: GPT publicly accessible via public link",
    severity=Severity.HIGH,
    enterprise=True,
    group=Group.PUBLISHING_AND_SHARING,
    asset_kind=AssetKind.GPT,
    description="A custom GPT of the workspace can be used by anyone who has its link.",
    risk=(
        "'Anyone with the link' includes people outside the company; links get forwarded and indexed, so the "
        "GPT, its instructions and its knowledge files are public in practice."
    ),
    rule="sharing.visibility is anyone-with-link",
    remediation=Remediation(
        console_url="https://chatgpt.com/admin/gpts",
        steps=(
            "The GPT's owner or an editor opens Edit GPT > Share, picks Invite-only, 'Anyone at your workspace "
            "with the link' or 'Your workspace', and selects Save.",
            "Workspace owners: limit sharing levels and link sharing in Workspace settings > Permissions & roles.",
            GPT_RETIREMENT_STEP,
        ),
        api_calls=(
            "DELETE https://api.chatgpt.com/v1/compliance/workspaces/{workspace_id}/gpts/{gpt_id}/shared_users "
            "(Isolate GPT; effect on the public link unconfirmed)",
            "DELETE https://api.chatgpt.com/v1/compliance/workspaces/{workspace_id}/gpts/{gpt_id} (deletes the GPT)",
        ),
    ),
    references=(
        "https://help.openai.com/en/articles/8798878-sharing-and-publishing-gpts",
        "https://help.openai.com/en/articles/8411955-managing-workspace-settings-in-chatgpt-enterprise",
        "https://help.openai.com/en/articles/8555535-managing-gpt-access-in-enterprise-and-edu-workspaces",
        "https://chatgpt.com/admin/api-reference",
        GPT_RETIREMENT_FAQ_URL,
    ),
    sources=(Source.GPTS,),
)


def evaluate(inventory: Inventory, policy: Policy) -> Iterable[Detection]:
    return gpts_with_visibility(inventory, METADATA.id, "anyone-with-link")
