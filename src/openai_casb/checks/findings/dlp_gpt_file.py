"""OpenAI: File in ChatGPT GPT with DLP Profile match."""

from __future__ import annotations

from collections.abc import Iterable

from openai_casb.checks.base import CheckMetadata, Group, Remediation
from openai_casb.checks.common import GPT_RETIREMENT_FAQ_URL, GPT_RETIREMENT_STEP
from openai_casb.checks.file_rules import files_with_matches
from openai_casb.detections import Detection, Severity
from openai_casb.inventory.model import AssetKind, FileScan, Source
from openai_casb.policy import Policy

METADATA = CheckMetadata(
    id="520200f5-7dcc-42c9-bc3c-423019159d45",
    name="OpenAI: File in ChatGPT GPT with DLP Profile match",
    severity=Severity.HIGH,
    enterprise=True,
    group=Group.DATA_LOSS_PREVENTION,
    asset_kind=AssetKind.GPT_FILE,
    description="A knowledge file of a custom GPT contains data matching an enabled DLP profile.",
    risk=(
        "Knowledge files are kept until removed and anything in them can appear in the GPT's answers to everyone "
        "the GPT is shared with; with link or GPT Store sharing that can mean anyone."
    ),
    rule="a knowledge file of a GPT's latest configuration matches a DLP profile more than its match_count times",
    remediation=Remediation(
        console_url="https://chatgpt.com/admin/gpts",
        steps=(
            "The GPT's owner or an editor opens Edit GPT > Knowledge, removes the file and selects Update.",
            "Or an admin deletes the whole GPT in Workspace settings > GPTs.",
            GPT_RETIREMENT_STEP + " Remove the file before migrating the GPT.",
        ),
        api_calls=(
            "DELETE https://api.chatgpt.com/v1/compliance/workspaces/{workspace_id}/gpts/{gpt_id}/files/{file_id}",
            "DELETE https://api.chatgpt.com/v1/compliance/workspaces/{workspace_id}/gpts/{gpt_id}",
        ),
        notes=("Deleting a GPT file removes it from every GPT of the workspace that references it.",),
    ),
    references=(
        "https://help.openai.com/en/articles/8983762-how-do-i-delete-files-i-upload",
        "https://help.openai.com/en/articles/8983778-chat-and-file-retention-policies-in-chatgpt",
        "https://help.openai.com/en/articles/8554397-creating-and-editing-gpts",
        "https://chatgpt.com/admin/api-reference",
        GPT_RETIREMENT_FAQ_URL,
    ),
    sources=(Source.GPTS, Source.GPT_FILES),
)


def evaluate_files(file_scans: Iterable[FileScan], policy: Policy) -> Iterable[Detection]:
    return files_with_matches(file_scans, AssetKind.GPT_FILE, METADATA.id)
