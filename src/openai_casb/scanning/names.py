"""Names shown in findings, masked by the scan's DLP engine before they reach the checks and the store.

Workspace users name files, conversations, GPTs and projects: a chat upload called
`4716 2810 3355 7292.txt` in a conversation titled `card 4716 ...` would otherwise carry the value
its DLP finding masks into the summary, every export, the events and the webhooks. The checks are
pure and know no engine, so the scan hands them names already passed through `DlpEngine.redact`
(each value the engine would count replaced by its masked form, the rest of the name kept).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from openai_casb.inventory.model import FileRef, FileScan, Inventory
from openai_casb.redaction import redact_keys_in_text

Redact = Callable[[str], str]


def _masked(redact: Redact, text: str | None) -> str | None:
    # OpenAI keys first, in the form every other place shows them (`sk-proj...xyz`, as Detection and
    # AssetRef would redact them anyway); the engine's own key mask would hide even that tail.
    return redact(redact_keys_in_text(text)) if text else text


def file_named(file: FileRef, redact: Redact) -> FileRef:
    """The file with its name and its container's title (conversation, GPT, project) masked."""
    name, container_name = _masked(redact, file.name), _masked(redact, file.container_name)
    if name == file.name and container_name == file.container_name:
        return file
    return replace(file, name=name, container_name=container_name)


def verdict_named(scan: FileScan, redact: Redact) -> FileScan:
    file = file_named(scan.file, redact)
    return scan if file is scan.file else replace(scan, file=file)


def inventory_named(inventory: Inventory, redact: Redact) -> Inventory:
    """A view of the inventory for the checks: names of GPTs, ChatGPT projects (and their files),
    API projects and API keys masked. People's names and emails are not names users choose for
    content, and an email profile must not blank the owner a finding is routed to: kept as they are.
    The `sources` dict is the inventory's own (not a copy)."""
    return replace(
        inventory,
        gpts=[
            replace(gpt, name=_masked(redact, gpt.name), files=tuple(file_named(f, redact) for f in gpt.files))
            for gpt in inventory.gpts
        ],
        chatgpt_projects=[
            replace(p, name=_masked(redact, p.name), files=tuple(file_named(f, redact) for f in p.files))
            for p in inventory.chatgpt_projects
        ],
        admin_api_keys=[replace(key, name=_masked(redact, key.name)) for key in inventory.admin_api_keys],
        project_api_keys=[
            replace(key, name=_masked(redact, key.name), project_name=_masked(redact, key.project_name))
            for key in inventory.project_api_keys
        ],
    )
