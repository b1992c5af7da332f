"""OpenAI: GPT publicly accessible via GPT Store."""

from __future__ import annotations

from collections.abc import Iterable

from openai_casb.checks.base import CheckMetadata, Group, Remediation
from openai_casb.checks.common import GPT_RETIREMENT_FAQ_URL, GPT_RETIREMENT_STEP
from openai_casb.checks.gpt_rules import gpts_with_visibility
from openai_casb.detections import Detection, Severity
from openai_casb.inventory.model import AssetKind, Inventory, Source
from openai_casb.policy import Policy

METADATA = CheckMetadata(
    id="c69adfa6-2362-4939-86ec-49ff34093cfd",
    name="OpenAI: GPT publicly accessible via GPT Store",
    severity=Severity.HIGH,
    enterprise=True,
    group=Group.PUBLISHING_AND_SHARING,
    asset_kind=AssetKind.GPT,
    description="A custom GPT of the workspace is published to the GPT Store.",
    risk=(
        "Anyone with a ChatGPT account can find and use the GPT and draw on its instructions and knowledge "
        "files, which may hold internal data and can surface in its replies."
    ),
    rule="sharing.visibility is gpt-store",
    remediation=Remediation(
        console_url="https://chatgpt.com/admin/gpts",
        steps=(
            "The GPT's owner or an editor opens Edit GPT > Share, picks Invite-only, 'Anyone at your workspace "
            "with the link' or 'Your workspace', and selects Save.",
            "Workspace owners: limit how far GPTs can be shared in Workspace settings > Permissions & roles, "
            "then re-scan (whether this changes already-published GPTs is unconfirmed).",
            "Review every workspace GPT and its access in Workspace settings > GPTs.",
            GPT_RETIREMENT_STEP,
        ),
        api_calls=(
            "DELETE https://api.chatgpt.com/v1/compliance/workspaces/{workspace_id}/gpts/{gpt_id}/shared_users "
            "(Isolate GPT; effect on the GPT Store listing unconfirmed)",
            "DELETE https://api.chatgpt.com/v1/compliance/workspaces/{workspace_id}/gpts/{gpt_id} (deletes the GPT)",
        ),
    ),
    references=(
        "https://help.openai.com/en/articles/8798878-sharing-and-publishing-gpts",
        "https://help.openai.com/en/articles/8555535-managing-gpt-access-in-enterprise-and-edu-workspaces",
        "https://help.openai.com/en/articles/8411955-managing-workspace-settings-in-chatgpt-enterprise",
        "https://chatgpt.com/admin/api-reference",
        GPT_RETIREMENT_FAQ_URL,
    ),
    sources=(Source.GPTS,),
)


def evaluate(inventory: Inventory, policy: Policy) -> Iterable[Detection]:
    return gpts_with_visibility(inventory, METADATA.id, "gpt-store")
