"""Compliance API objects (`/v1/compliance/workspaces/{id}/...`), float-second timestamps.

No field is required in the Compliance spec, and real responses carry nulls the spec does not
allow; every field here is optional except the ids we key on.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BeforeValidator, Field

from openai_casb.connectors.models.base import ApiModel, Epoch, WithEmbeddedLists, unwrap_list


class WorkspaceUser(ApiModel):
    id: str
    email: str | None = None
    name: str | None = None
    created_at: Epoch = None
    role: str | None = None
    status: str | None = None


class ComplianceFile(ApiModel):
    """`*.file` (with `created_at`, `download_url`) or `*.file_info` (`id`, `name`, maybe `user_id`)."""

    id: str
    name: str | None = None
    created_at: Epoch = None
    download_url: str | None = None
    user_id: str | None = None


class Tool(ApiModel):
    type: str | None = None
    created_at: Epoch = None
    action_domain: str | None = None
    auth_type: str | None = None


class Permissions(ApiModel):
    can_read: bool | None = None
    can_view_config: bool | None = None
    can_write: bool | None = None


class SharedUser(ApiModel):
    id: str | None = None
    email: str | None = None
    permissions: Permissions | None = None


class Sharing(ApiModel):
    visibility: str | None = None
    permissions: Permissions | None = None
    recipients: Annotated[list[SharedUser], BeforeValidator(unwrap_list)] = Field(default_factory=list)


class Config(WithEmbeddedLists):
    """A GPT or ChatGPT project configuration (`gzm_cnf_...` / `pr_cnf_...`)."""

    embedded_lists: ClassVar[tuple[str, ...]] = ("files", "tools")

    id: str | None = None
    name: str | None = None
    description: str | None = None
    created_at: Epoch = None
    files: Annotated[list[ComplianceFile], BeforeValidator(unwrap_list)] = Field(default_factory=list)
    tools: Annotated[list[Tool], BeforeValidator(unwrap_list)] = Field(default_factory=list)


class GptOrProject(WithEmbeddedLists):
    """`compliance.workspace.gpt` and `compliance.workspace.project` share one shape."""

    embedded_lists: ClassVar[tuple[str, ...]] = ("latest_config",)

    id: str
    created_at: Epoch = None
    owner_id: str | None = None
    owner_email: str | None = None
    builder_name: str | None = None
    sharing: Sharing | None = None
    latest_config: Annotated[list[Config], BeforeValidator(unwrap_list)] = Field(default_factory=list)

    @property
    def newest_config(self) -> Config | None:
        """The newest configuration; `latest_config` normally holds exactly one."""
        if not self.latest_config:
            return None
        return max(self.latest_config, key=lambda config: config.created_at or 0.0)


class Message(WithEmbeddedLists):
    embedded_lists: ClassVar[tuple[str, ...]] = ("files",)

    id: str | None = None
    created_at: Epoch = None
    files: Annotated[list[ComplianceFile], BeforeValidator(unwrap_list)] = Field(default_factory=list)


class Conversation(WithEmbeddedLists):
    embedded_lists: ClassVar[tuple[str, ...]] = ("messages",)

    id: str
    user_id: str | None = None
    user_email: str | None = None
    title: str | None = None
    created_at: Epoch = None
    last_active_at: Epoch = None
    messages: Annotated[list[Message], BeforeValidator(unwrap_list)] = Field(default_factory=list)


class LogFileRef(ApiModel):
    """An item of the Logs Platform list (`/logs`): a JSON Lines file of events."""

    id: str
    event_type: str | None = None
    end_time: Epoch = None


class LogActor(ApiModel):
    type: str | None = None
    user_id: str | None = None
    user_email: str | None = None


class LogMessage(WithEmbeddedLists):
    embedded_lists: ClassVar[tuple[str, ...]] = ("files",)

    id: str | None = None
    created_at: Epoch = None
    files: Annotated[list[ComplianceFile], BeforeValidator(unwrap_list)] = Field(default_factory=list)


class LogConversation(ApiModel):
    id: str | None = None
    title: str | None = None
    created_at: Epoch = None


class ConversationMessageEvent(ApiModel):
    """One `CONVERSATION_MESSAGE` record of a Logs Platform file."""

    event_id: str | None = None
    type: str | None = None
    timestamp: Epoch = None
    actor: LogActor | None = None
    message: LogMessage | None = None
    conversation: LogConversation | None = None
