"""OpenAI: File in ChatGPT Project with DLP Profile match."""

from __future__ import annotations

from collections.abc import Iterable

from openai_casb.checks.base import CheckMetadata, Group, Remediation
from openai_casb.checks.file_rules import files_with_matches
from openai_casb.detections import Detection, Severity
from openai_casb.inventory.model import AssetKind, FileScan, Source
from openai_casb.policy import Policy

METADATA = CheckMetadata(
    id="8e46ec69-e5c1-4f53-ab00-a92f2050ec33",
    name="OpenAI: File in ChatGPT Project with DLP Profile match",
    severity=Severity.HIGH,
    enterprise=False,
    group=Group.DATA_LOSS_PREVENTION,
    asset_kind=AssetKind.PROJECT_FILE,
    description="A file of a ChatGPT project contains data matching an enabled DLP profile.",
    risk=(
        "Project files stay until the project is deleted and are available to every chat in the project and, "
        "for shared projects, to every collaborator."
    ),
    rule="a file of a ChatGPT project's latest configuration matches a DLP profile more than its match_count times",
    remediation=Remediation(
        console_url="https://chatgpt.com/admin",
        steps=(
            "The project owner opens the project in ChatGPT and removes the file from the project's files.",
            "Or deletes the project (project menu > Delete project), which deletes its files and instructions.",
        ),
        api_calls=(
            "DELETE https://api.chatgpt.com/v1/compliance/workspaces/{workspace_id}/projects/{project_id}/files/{file_id}",
            "DELETE https://api.chatgpt.com/v1/compliance/workspaces/{workspace_id}/projects/{project_id}/shared_users",
            "DELETE https://api.chatgpt.com/v1/compliance/workspaces/{workspace_id}/projects/{project_id}",
        ),
    ),
    references=(
        "https://help.openai.com/en/articles/8983778-chat-and-file-retention-policies-in-chatgpt",
        "https://chatgpt.com/admin/api-reference",
    ),
    sources=(Source.CHATGPT_PROJECTS, Source.PROJECT_FILES),
)


def evaluate_files(file_scans: Iterable[FileScan], policy: Policy) -> Iterable[Detection]:
    return files_with_matches(file_scans, AssetKind.PROJECT_FILE, METADATA.id)
