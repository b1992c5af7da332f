"""The organization the emulator serves: Admin API objects, the ChatGPT workspace, and file bytes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from bisect import bisect_left
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from openai_casb.emulator.message_hours import LazyMessageHours, MessageHours, conversation_filing_times
from openai_casb.emulator.sequences import EMPTY, Collection

PlantedValues = list[tuple[str, str]]


@dataclass(frozen=True)
class ProjectMembers:
    users: Collection
    service_accounts: Collection
    api_keys: Collection


@dataclass(frozen=True)
class StoredFile:
    """A downloadable file. `content` builds the bytes only when a download asks for them."""

    file_id: str
    name: str
    expired: bool
    content: Callable[[], bytes]
    planted: PlantedValues = field(default_factory=list)


class FileStore(ABC):
    @abstractmethod
    def get(self, file_id: str) -> StoredFile | None: ...

    @abstractmethod
    def planted(self) -> Mapping[str, PlantedValues]: ...

    def listed_but_missing(self, file_id: str) -> bool:
        """A file the org lists (in a configuration or message) whose bytes it lacks: gone, a 410."""
        return False


class DictFileStore(FileStore):
    def __init__(self, files: dict[str, StoredFile], listed: frozenset[str] = frozenset()) -> None:
        self._files = files
        self._listed = listed

    def get(self, file_id: str) -> StoredFile | None:
        return self._files.get(file_id)

    def listed_but_missing(self, file_id: str) -> bool:
        return file_id in self._listed and file_id not in self._files

    def planted(self) -> Mapping[str, PlantedValues]:
        return {file_id: list(f.planted) for file_id, f in self._files.items() if f.planted}


@dataclass
class Org:
    """One OpenAI organization and its ChatGPT Enterprise workspace.

    Collections are in the order the APIs list them: audit logs newest first, conversations by
    ascending last-update time (`conversation_update_time(i)` is non-decreasing in i).
    """

    organization_id: str
    organization_name: str
    workspace_id: str
    users: Collection = EMPTY
    invites: Collection = EMPTY
    admin_api_keys: Collection = EMPTY
    projects: Collection = EMPTY
    project_members: Callable[[str], ProjectMembers | None] = field(default=lambda _project_id: None)
    audit_logs: Collection = EMPTY
    compliance_users: Collection = EMPTY
    gpts: Collection = EMPTY
    chatgpt_projects: Collection = EMPTY
    conversations: Collection = EMPTY
    conversation_update_time: Callable[[int], float] = field(default=lambda _index: 0.0)
    # Cheap owner lookup so `users=` filtering need not build whole conversations; None: read the object.
    conversation_user: Callable[[int], str] | None = None
    # Cheap filing times of a conversation's messages (message_hours.filing_times), so the Logs
    # Platform index need not build whole conversations; None: read the object.
    conversation_message_times: Callable[[int], list[float]] | None = None
    files: FileStore = field(default_factory=lambda: DictFileStore({}))
    _message_hours: LazyMessageHours = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._message_hours = LazyMessageHours(self._build_message_hours)

    def message_filing_times(self, index: int) -> list[float]:
        """Filing time of each message of conversation `index` (message_hours explains the rule)."""
        if self.conversation_message_times is not None:
            return self.conversation_message_times(index)
        return conversation_filing_times(self.conversations.item(index), self.conversation_update_time(index))

    def _build_message_hours(self) -> MessageHours:
        return MessageHours(len(self.conversations), self.message_filing_times)

    def message_hours(self) -> MessageHours:
        """The per-hour index of conversation messages, built on first use."""
        return self._message_hours.get()

    def planted_files(self) -> dict[str, PlantedValues]:
        """Ground truth: file id -> [(kind, value)] of every sensitive value planted in a file."""
        return dict(self.files.planted())

    def first_conversation_updated_since(self, timestamp: float) -> int:
        """Index of the first conversation last updated at or after `timestamp` (a bisection)."""
        return bisect_left(range(len(self.conversations)), timestamp, key=self.conversation_update_time)

    def summary(self) -> dict[str, int]:
        return {
            "users": len(self.users),
            "invites": len(self.invites),
            "admin_api_keys": len(self.admin_api_keys),
            "projects": len(self.projects),
            "audit_logs": len(self.audit_logs),
            "compliance_users": len(self.compliance_users),
            "gpts": len(self.gpts),
            "chatgpt_projects": len(self.chatgpt_projects),
            "conversations": len(self.conversations),
        }
