"""Pure transforms from API models to inventory records. No I/O, no clock.

The person join follows findings.md "Inactive user": one person per lower-cased email across the
organization users and the workspace users; records without an email stay persons of their own.
The crawl keeps of each user only the compact record the join reads (`OrgUserRecord`,
`WorkspaceUserRecord`), made as each page arrives, never the API object with its unknown fields.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from openai_casb.connectors.models import admin as am
from openai_casb.connectors.models import compliance as cm
from openai_casb.connectors.models.base import to_datetime
from openai_casb.inventory.model import (
    AdminApiKey,
    AssetKind,
    ChatGptProject,
    FileRef,
    Gpt,
    GptTool,
    Invite,
    InviteProjectRole,
    Person,
    ProjectApiKey,
)

_EPOCH_ZERO = to_datetime(0.0)


def _required_time(epoch: float | None) -> datetime:
    # A missing required timestamp is read as the epoch: old enough to be looked at, never hidden.
    return to_datetime(epoch) or _EPOCH_ZERO  # type: ignore[return-value]


def admin_api_key(key: am.AdminApiKey) -> AdminApiKey:
    owner = key.owner
    return AdminApiKey(
        id=key.id,
        name=key.name,
        redacted_value=key.redacted_value or "",
        created_at=_required_time(key.created_at),
        last_used_at=to_datetime(key.last_used_at),
        expires_at=to_datetime(key.expires_at),
        owner_type=owner.type if owner else None,
        owner_id=owner.id if owner else None,
        owner_name=owner.name if owner else None,
    )


def project_api_key(key: am.ProjectApiKey, project: am.Project) -> ProjectApiKey:
    owner = key.owner
    owner_type = owner.type if owner else None
    user = owner.user if owner else None
    service_account = owner.service_account if owner else None
    holder = service_account if owner_type == "service_account" else user
    return ProjectApiKey(
        id=key.id,
        name=key.name,
        redacted_value=key.redacted_value or "",
        project_id=project.id,
        project_name=project.name,
        project_archived=project.archived,
        created_at=_required_time(key.created_at),
        last_used_at=to_datetime(key.last_used_at),
        owner_type=owner_type,
        owner_id=holder.id if holder else None,
        owner_name=holder.name if holder else None,
        owner_email=user.email if user and owner_type != "service_account" else None,
        owner_project_access=key.owner_project_access,
    )


def invite(item: am.Invite) -> Invite:
    return Invite(
        id=item.id,
        email=item.email or "",
        role=item.role or "",
        status=item.status or "",
        created_at=_required_time(item.created_at),
        expires_at=to_datetime(item.expires_at),
        accepted_at=to_datetime(item.accepted_at),
        projects=tuple(InviteProjectRole(project_id=p.id, role=p.role or "") for p in item.projects),
    )


def _tools(config: cm.Config | None) -> tuple[GptTool, ...]:
    if config is None:
        return ()
    return tuple(
        GptTool(type=tool.type or "unknown", action_domain=tool.action_domain, auth_type=tool.auth_type)
        for tool in config.tools
    )


def _files(obj: cm.GptOrProject, config: cm.Config | None, kind: AssetKind) -> tuple[FileRef, ...]:
    if config is None:
        return ()
    return tuple(
        FileRef(
            kind=kind,
            file_id=item.id,
            name=item.name,
            container_id=obj.id,
            container_name=config.name,
            owner_user_id=obj.owner_id,
            owner_email=obj.owner_email,
            created_at=to_datetime(item.created_at),
            download_url=item.download_url,
        )
        for item in config.files
    )


def _configured(obj: cm.GptOrProject, file_kind: AssetKind) -> dict[str, Any]:
    """The fields a GPT and a ChatGPT project share: both are configured the same way."""
    config = obj.newest_config
    return {
        "id": obj.id,
        "name": config.name if config else None,
        "owner_id": obj.owner_id,
        "owner_email": obj.owner_email,
        "builder_name": obj.builder_name,
        "visibility": obj.sharing.visibility if obj.sharing else None,
        "tools": _tools(config),
        "files": _files(obj, config, file_kind),
        "config_id": config.id if config else None,
        "created_at": to_datetime(obj.created_at),
    }


def gpt(obj: cm.GptOrProject) -> Gpt:
    return Gpt(**_configured(obj, AssetKind.GPT_FILE))


def chatgpt_project(obj: cm.GptOrProject) -> ChatGptProject:
    return ChatGptProject(**_configured(obj, AssetKind.PROJECT_FILE))


def conversation_files(conversation: cm.Conversation) -> list[FileRef]:
    """Files attached to a conversation's messages, in message order, each file id once."""
    seen: set[str] = set()
    refs: list[FileRef] = []
    for message in conversation.messages:
        for item in message.files:
            if item.id in seen:
                continue
            seen.add(item.id)
            refs.append(
                FileRef(
                    kind=AssetKind.CONVERSATION_FILE,
                    file_id=item.id,
                    name=item.name,
                    container_id=conversation.id,
                    container_name=conversation.title,
                    owner_user_id=item.user_id or conversation.user_id,
                    owner_email=conversation.user_email,
                    created_at=to_datetime(item.created_at),
                    download_url=item.download_url,
                )
            )
    return refs


def log_event_files(event: cm.ConversationMessageEvent) -> list[FileRef]:
    """Files of one Logs Platform CONVERSATION_MESSAGE record, as the /conversations source gives them."""
    if event.message is None or event.conversation is None or event.conversation.id is None:
        return []
    actor = event.actor
    return [
        FileRef(
            kind=AssetKind.CONVERSATION_FILE,
            file_id=item.id,
            name=item.name,
            container_id=event.conversation.id,
            container_name=event.conversation.title,
            owner_user_id=item.user_id or (actor.user_id if actor else None),
            owner_email=actor.user_email if actor else None,
            created_at=to_datetime(item.created_at),
            download_url=item.download_url,
        )
        for item in event.message.files
    ]


@dataclass(slots=True)
class LastSeen:
    """Latest activity per user id and per lower-cased email: one entry per user, never per event."""

    by_id: dict[str, float] = field(default_factory=dict)
    by_email: dict[str, float] = field(default_factory=dict)

    def add(self, user_id: str | None, email: str | None, when: float | None) -> None:
        if when is None:
            return
        if user_id and when > self.by_id.get(user_id, float("-inf")):
            self.by_id[user_id] = when
        if email:
            key = email.lower()
            if when > self.by_email.get(key, float("-inf")):
                self.by_email[key] = when

    def merge(self, other: LastSeen) -> None:
        for user_id, when in other.by_id.items():
            self.add(user_id, None, when)
        for email, when in other.by_email.items():
            self.add(None, email, when)

    def latest(self, ids: Iterable[str], email: str | None) -> float | None:
        candidates = [self.by_id[i] for i in ids if i in self.by_id]
        if email and email.lower() in self.by_email:
            candidates.append(self.by_email[email.lower()])
        return max(candidates) if candidates else None


def _email_key(email: str | None) -> str | None:
    """The join key of an email: stripped and lower-cased; None when absent or blank."""
    key = email.strip().lower() if email else None
    return key or None


def _shared(text: str | None) -> str | None:
    # Roles and statuses take a handful of values: one string object each, not one per user.
    return sys.intern(text) if text is not None else None


@dataclass(frozen=True, slots=True)
class OrgUserRecord:
    """What the person join needs of an organization user. `email` is already the join key."""

    id: str
    email: str | None
    name: str | None = None
    role: str | None = None
    is_service_account: bool = False
    disabled: bool = False  # the account is disabled (enabled=false) or banned
    api_key_last_used_at: float | None = None
    added_at: float | None = None
    created: float | None = None


@dataclass(frozen=True, slots=True)
class WorkspaceUserRecord:
    """What the person join needs of a workspace user. `email` is already the join key."""

    id: str
    email: str | None
    name: str | None = None
    role: str | None = None
    inactive: bool = False  # status "inactive"
    created_at: float | None = None


def org_user_record(user: am.OrgUser) -> OrgUserRecord:
    account = user.user
    return OrgUserRecord(
        id=user.id,
        email=_email_key(user.email),
        name=user.name,
        role=_shared(user.role),
        is_service_account=user.is_service_account,
        disabled=account is not None and (account.enabled is False or account.banned is True),
        api_key_last_used_at=user.api_key_last_used_at,
        added_at=user.added_at,
        created=user.created,
    )


def workspace_user_record(user: cm.WorkspaceUser) -> WorkspaceUserRecord:
    return WorkspaceUserRecord(
        id=user.id,
        email=_email_key(user.email),
        name=user.name,
        role=_shared(user.role),
        inactive=user.status == "inactive",
        created_at=user.created_at,
    )


def _min_time(*values: float | None) -> float | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


# A person's join key: the lower-cased email, or (which API, record id) for a record without one.
_PersonKey = str | tuple[str, str]


def persons(
    org_users: Iterable[am.OrgUser | OrgUserRecord],
    workspace_users: Iterable[cm.WorkspaceUser | WorkspaceUserRecord],
    logins: LastSeen | None = None,
    conversations: LastSeen | None = None,
) -> list[Person]:
    """Join org and workspace users into persons by lower-cased email, with their activity signals.

    Takes the API objects or their compact records (the crawl keeps only the records).
    """
    org_by_key: dict[_PersonKey, list[OrgUserRecord]] = {}
    ws_by_key: dict[_PersonKey, list[WorkspaceUserRecord]] = {}
    order: list[_PersonKey] = []

    def key_for(email: str | None, record_id: str, prefix: str) -> _PersonKey:
        key: _PersonKey = email if email is not None else (prefix, record_id)
        if key not in org_by_key and key not in ws_by_key:
            order.append(key)
        return key

    for item in org_users:
        user = org_user_record(item) if isinstance(item, am.OrgUser) else item
        org_by_key.setdefault(key_for(user.email, user.id, "org"), []).append(user)
    for ws_item in workspace_users:
        ws_user = workspace_user_record(ws_item) if isinstance(ws_item, cm.WorkspaceUser) else ws_item
        ws_by_key.setdefault(key_for(ws_user.email, ws_user.id, "ws"), []).append(ws_user)

    logins = logins or LastSeen()
    conversations = conversations or LastSeen()
    result: list[Person] = []
    for key in order:
        orgs = org_by_key.get(key, [])
        workspace = ws_by_key.get(key, [])
        org = orgs[0] if orgs else None
        email = key if isinstance(key, str) else None
        ws_ids = tuple(sorted(u.id for u in workspace))
        disabled_flags = [u.disabled for u in orgs] + [u.inactive for u in workspace]
        api_used = max((u.api_key_last_used_at for u in orgs if u.api_key_last_used_at is not None), default=None)
        login = logins.latest([u.id for u in orgs], email)
        chat = conversations.latest(ws_ids, email)
        ws_created = _min_time(*(u.created_at for u in workspace))
        result.append(
            Person(
                asset_id=org.id if org else ws_ids[0],
                email=email,
                name=(org.name if org and org.name else None) or next((u.name for u in workspace if u.name), None),
                org_user_id=org.id if org else None,
                workspace_user_ids=ws_ids,
                is_service_account=any(u.is_service_account for u in orgs),
                all_records_disabled=bool(disabled_flags) and all(disabled_flags),
                api_key_last_used_at=to_datetime(api_used),
                last_login_at=to_datetime(login),
                last_conversation_at=to_datetime(chat),
                added_at=to_datetime(_min_time(*(u.added_at for u in orgs))),
                created=to_datetime(_min_time(*(u.created for u in orgs))),
                workspace_created_at=to_datetime(ws_created),
                org_role=org.role if org else None,
                workspace_role=next((u.role for u in workspace if u.role), None),
            )
        )
    return result


def login_activity(events: Iterable[am.AuditLogEvent], into: LastSeen) -> None:
    """Fold `login.succeeded` events into the latest login per actor id and email."""
    for event in events:
        if event.type not in (None, "login.succeeded"):
            continue
        user = event.session_user
        if user is not None:
            into.add(user.id, user.email, event.effective_at)


def conversation_activity(conversations: Iterable[cm.Conversation], into: LastSeen) -> None:
    for conversation in conversations:
        into.add(conversation.user_id, conversation.user_email, conversation.last_active_at)
