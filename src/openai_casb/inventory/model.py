"""The typed inventory: the assets the product reasons about, independent of either API's wire shape.

Connectors yield API objects; `inventory.collect` turns them into these records (a pure
transform); checks read only these. Timestamps are timezone-aware UTC datetimes whatever the
API sent (integer seconds in the Admin API, float seconds in the Compliance API).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal


class Source(StrEnum):
    """One collection the scanner reads. Completeness is tracked per source."""

    ADMIN_USERS = "admin.users"
    ADMIN_INVITES = "admin.invites"
    ADMIN_PROJECTS = "admin.projects"
    ADMIN_PROJECT_API_KEYS = "admin.project_api_keys"
    ADMIN_API_KEYS = "admin.admin_api_keys"
    ADMIN_AUDIT_LOGS = "admin.audit_logs"
    WORKSPACE_USERS = "compliance.users"
    GPTS = "compliance.gpts"
    CHATGPT_PROJECTS = "compliance.projects"
    CONVERSATIONS = "compliance.conversations"
    CONVERSATION_FILES = "dlp.conversation_files"
    GPT_FILES = "dlp.gpt_files"
    PROJECT_FILES = "dlp.project_files"

    @property
    def enterprise(self) -> bool:
        """True for sources that need a ChatGPT Enterprise workspace (Compliance API)."""
        return self.value.startswith("compliance.") or self in (Source.CONVERSATION_FILES, Source.GPT_FILES)


SourceState = Literal["complete", "failed", "partial", "skipped"]


@dataclass(frozen=True, slots=True)
class SourceReport:
    """How one source was read in a scan.

    `skipped` means not configured (e.g. no workspace): such a source is not evaluated and
    resolves nothing. `failed` and `partial` resolve nothing either.
    """

    source: Source
    state: SourceState
    reason: str | None = None
    pages: int = 0
    objects: int = 0

    @property
    def complete(self) -> bool:
        return self.state == "complete"


class AssetKind(StrEnum):
    ADMIN_API_KEY = "admin_api_key"
    PROJECT_API_KEY = "project_api_key"
    INVITE = "invite"
    USER = "user"
    GPT = "gpt"
    CHATGPT_PROJECT = "chatgpt_project"
    CONVERSATION_FILE = "conversation_file"
    GPT_FILE = "gpt_file"
    PROJECT_FILE = "project_file"


@dataclass(frozen=True, slots=True)
class AdminApiKey:
    id: str
    name: str | None
    redacted_value: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    owner_type: str | None = None
    owner_id: str | None = None
    owner_name: str | None = None


@dataclass(frozen=True, slots=True)
class ProjectApiKey:
    id: str
    name: str | None
    redacted_value: str
    project_id: str
    project_name: str | None
    project_archived: bool
    created_at: datetime
    last_used_at: datetime | None
    owner_type: str | None = None  # "user" | "service_account"
    owner_id: str | None = None
    owner_name: str | None = None
    owner_email: str | None = None
    owner_project_access: str | None = None  # "active" | "inactive"


@dataclass(frozen=True, slots=True)
class InviteProjectRole:
    project_id: str
    role: str


@dataclass(frozen=True, slots=True)
class Invite:
    id: str
    email: str
    role: str
    status: str  # "pending" | "accepted" | "expired"
    created_at: datetime
    expires_at: datetime | None = None
    accepted_at: datetime | None = None
    projects: tuple[InviteProjectRole, ...] = ()


@dataclass(frozen=True, slots=True)
class Person:
    """One human (or service account) joined across both APIs by lower-cased email.

    `asset_id` is the organization user's id when there is one, else the workspace user's id.
    """

    asset_id: str
    email: str | None
    name: str | None
    org_user_id: str | None = None
    workspace_user_ids: tuple[str, ...] = ()
    is_service_account: bool = False
    # True when every record of this person is disabled: org user enabled=false or banned=true,
    # workspace user status "inactive". Such persons are not evaluated for inactivity.
    all_records_disabled: bool = False
    # Activity signals, each None when that signal has no value for this person.
    api_key_last_used_at: datetime | None = None
    last_login_at: datetime | None = None
    last_conversation_at: datetime | None = None
    # Membership dates, used only when no activity signal exists at all.
    added_at: datetime | None = None
    created: datetime | None = None
    workspace_created_at: datetime | None = None
    org_role: str | None = None
    workspace_role: str | None = None


@dataclass(frozen=True, slots=True)
class GptTool:
    type: str
    action_domain: str | None = None
    auth_type: str | None = None


LISTED_EXPIRED = "file expired (listed without a download URL)"


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file attached somewhere in the workspace, as listed (not yet downloaded)."""

    kind: AssetKind  # CONVERSATION_FILE | GPT_FILE | PROJECT_FILE
    file_id: str
    name: str | None
    container_id: str  # conversation id, GPT id or ChatGPT project id
    container_name: str | None = None  # conversation title, GPT or project name
    owner_user_id: str | None = None  # uploader (conversation) or owner (GPT/project)
    owner_email: str | None = None
    created_at: datetime | None = None
    download_url: str | None = None  # None once a chat upload has expired

    @property
    def listed_expired(self) -> bool:  # its not-scanned reason: LISTED_EXPIRED
        """The Compliance API lists an expired chat upload with `created_at` and `download_url` null
        (spec 1.1.5): nothing can be read from it, whatever an earlier scan read."""
        return self.kind is AssetKind.CONVERSATION_FILE and self.download_url is None and self.created_at is None


@dataclass(frozen=True, slots=True)
class Gpt:
    id: str
    name: str | None
    owner_id: str | None
    owner_email: str | None
    builder_name: str | None
    visibility: str | None  # None when the GPT has no `sharing` (third-party GPTs)
    tools: tuple[GptTool, ...] = ()
    files: tuple[FileRef, ...] = ()
    config_id: str | None = None
    created_at: datetime | None = None

    @property
    def third_party(self) -> bool:
        return self.visibility is None and self.owner_id is None


@dataclass(frozen=True, slots=True)
class ChatGptProject:
    id: str
    name: str | None
    owner_id: str | None
    owner_email: str | None
    builder_name: str | None
    visibility: str | None
    tools: tuple[GptTool, ...] = ()
    files: tuple[FileRef, ...] = ()
    config_id: str | None = None
    created_at: datetime | None = None


@dataclass(slots=True)
class Inventory:
    """Everything one scan read, except conversation files, which are streamed to DLP."""

    now: datetime
    organization_id: str | None = None
    workspace_id: str | None = None
    sources: dict[Source, SourceReport] = field(default_factory=dict)
    admin_api_keys: list[AdminApiKey] = field(default_factory=list)
    project_api_keys: list[ProjectApiKey] = field(default_factory=list)
    invites: list[Invite] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)
    gpts: list[Gpt] = field(default_factory=list)
    chatgpt_projects: list[ChatGptProject] = field(default_factory=list)
    # Start of the audit-log window read for login events (None when audit logs were not read): a person
    # without `last_login_at` had no login since then, which says nothing about earlier logins.
    logins_read_since: datetime | None = None

    def complete(self, sources: Iterable[Source]) -> bool:
        """True when every given source was read completely in this scan."""
        return all(s in self.sources and self.sources[s].complete for s in sources)

    def state(self, source: Source) -> SourceState:
        report = self.sources.get(source)
        return report.state if report else "skipped"


@dataclass(frozen=True, slots=True)
class EntryMatch:
    """How often one detection entry of one profile matched in a file. Never the value itself."""

    profile: str
    entry: str
    count: int
    masked_samples: tuple[str, ...] = ()  # e.g. "****-****-****-1234"
    value_hashes: tuple[str, ...] = ()  # salted hashes, to recognise repeats across files


@dataclass(frozen=True, slots=True)
class FileScan:
    """DLP's verdict on one file: the contract between `dlp` and the three DLP checks."""

    file: FileRef
    status: Literal["scanned", "not_scanned"]
    reason: str | None = None  # why not scanned: expired, unsupported, encrypted, over a limit, ...
    matched_profiles: tuple[str, ...] = ()  # profiles matching more than their match_count
    matches: tuple[EntryMatch, ...] = ()
    size_bytes: int | None = None
    content_sha256: str | None = None
    # What of the file was not read, or how it was read (skipped archive entries, unreadable pages,
    # text cut at the limit), values in quoted entry names masked; `partial` when some content was
    # not read, so a `scanned` verdict without matches does not vouch for all of the file.
    notes: tuple[str, ...] = ()
    partial: bool = False
