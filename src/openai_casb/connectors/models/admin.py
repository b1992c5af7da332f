"""Admin API objects (`/v1/organization/...`), integer-second timestamps."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from openai_casb.connectors.models.base import ApiModel, Epoch, LenientBool, unwrap_list


class UserAccount(ApiModel):
    id: str | None = None
    email: str | None = None
    name: str | None = None
    enabled: bool | None = None
    banned: bool | None = None
    banned_at: Epoch = None


class OrgUser(ApiModel):
    id: str
    name: str | None = None
    email: str | None = None
    role: str | None = None
    added_at: Epoch = None
    created: Epoch = None
    is_service_account: LenientBool = False
    api_key_last_used_at: Epoch = None
    user: UserAccount | None = None


class InviteProject(ApiModel):
    id: str
    role: str | None = None


class Invite(ApiModel):
    id: str
    email: str | None = None
    role: str | None = None
    status: str | None = None
    created_at: Epoch = None
    expires_at: Epoch = None
    accepted_at: Epoch = None
    projects: Annotated[list[InviteProject], BeforeValidator(unwrap_list)] = Field(default_factory=list)


class Project(ApiModel):
    id: str
    name: str | None = None
    created_at: Epoch = None
    archived_at: Epoch = None
    status: str | None = None

    @property
    def archived(self) -> bool:
        return self.status == "archived" or self.archived_at is not None


class KeyOwnerUser(ApiModel):
    id: str | None = None
    email: str | None = None
    name: str | None = None
    role: str | None = None
    created_at: Epoch = None


class KeyOwnerServiceAccount(ApiModel):
    id: str | None = None
    name: str | None = None
    role: str | None = None
    created_at: Epoch = None


class ProjectKeyOwner(ApiModel):
    type: str | None = None
    user: KeyOwnerUser | None = None
    service_account: KeyOwnerServiceAccount | None = None


class ProjectApiKey(ApiModel):
    id: str
    name: str | None = None
    redacted_value: str | None = None
    created_at: Epoch = None
    last_used_at: Epoch = None
    owner_project_access: str | None = None
    owner: ProjectKeyOwner | None = None


class AdminKeyOwner(ApiModel):
    """Spec text says `type` is always `user`; the spec's own example shows a service account."""

    type: str | None = None
    object: str | None = None
    id: str | None = None
    name: str | None = None
    role: str | None = None
    created_at: Epoch = None


class AdminApiKey(ApiModel):
    id: str
    name: str | None = None
    redacted_value: str | None = None
    created_at: Epoch = None
    expires_at: Epoch = None
    last_used_at: Epoch = None
    owner: AdminKeyOwner | None = None


class SessionUser(ApiModel):
    id: str | None = None
    email: str | None = None


class AuditSession(ApiModel):
    user: SessionUser | None = None


class AuditApiKeyActor(ApiModel):
    id: str | None = None
    type: str | None = None
    user: SessionUser | None = None


class AuditActor(ApiModel):
    type: str | None = None
    session: AuditSession | None = None
    api_key: AuditApiKeyActor | None = None


class AuditLogEvent(ApiModel):
    id: str
    type: str | None = None
    effective_at: Epoch = None
    actor: AuditActor | None = None

    @property
    def session_user(self) -> SessionUser | None:
        if self.actor is None or self.actor.session is None:
            return None
        return self.actor.session.user
