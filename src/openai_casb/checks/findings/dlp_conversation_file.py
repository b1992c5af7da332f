"""OpenAI: File in ChatGPT Conversation with DLP Profile match."""

from __future__ import annotations

from collections.abc import Iterable

from openai_casb.checks.base import CheckMetadata, Group, Remediation
from openai_casb.checks.file_rules import files_with_matches
from openai_casb.detections import Detection, Severity
from openai_casb.inventory.model import AssetKind, FileScan, Source
from openai_casb.policy import Policy

METADATA = CheckMetadata(
    id="9aca654d-b331-4052-a5b4-2ceecced8676",
    name="OpenAI: File in ChatGPT Conversation with DLP Profile match",
    severity=Severity.HIGH,
    enterprise=True,
    group=Group.DATA_LOSS_PREVENTION,
    asset_kind=AssetKind.CONVERSATION_FILE,
    description="A file attached to a ChatGPT conversation contains data matching an enabled DLP profile.",
    risk=(
        "Sensitive data uploaded to ChatGPT sits in OpenAI's systems under the workspace's retention rules and may "
        "be reused in later chats, outside the company's normal controls for that data class."
    ),
    rule="a file attached to a conversation message matches a DLP profile more than its match_count times",
    remediation=Remediation(
        console_url="https://chatgpt.com/admin",
        steps=(
            "Ask the user to delete the chat (chat menu > Delete); it is permanently deleted within 30 days.",
            "Deleting a chat does not delete files saved to the Library: the user must delete the file there too.",
            "Admins have no documented console action on another user's chats: use the Compliance API (delete "
            "scope) or the workspace retention policy.",
        ),
        api_calls=(
            "DELETE https://api.chatgpt.com/v1/compliance/workspaces/{workspace_id}/users/{user_id}/files/{file_id}",
            "DELETE https://api.chatgpt.com/v1/compliance/workspaces/{workspace_id}/conversations/{conversation_id}",
        ),
        notes=("Excerpts the model already pulled into the conversation stay after the file is deleted.",),
    ),
    references=(
        "https://help.openai.com/en/articles/8983778-chat-and-file-retention-policies-in-chatgpt",
        "https://chatgpt.com/admin/api-reference",
    ),
    sources=(Source.CONVERSATIONS, Source.CONVERSATION_FILES),
)


def evaluate_files(file_scans: Iterable[FileScan], policy: Policy) -> Iterable[Detection]:
    return files_with_matches(file_scans, AssetKind.CONVERSATION_FILE, METADATA.id)
