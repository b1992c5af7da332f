"""The Compliance API side of a generated organization (the ChatGPT Enterprise workspace)."""

from __future__ import annotations

import random

from openai_casb.emulator.gen_common import (
    DAY,
    GenerateSpec,
    active_person_index,
    coprime_step,
    index_parser,
    object_rng,
    person,
    unit_float,
)
from openai_casb.emulator.gen_files import GeneratedFiles, gpt_file_id, project_file_id
from openai_casb.emulator.sequences import Collection, JsonObject, LazyCollection

VISIBILITIES = ("invite-only", "workspace-with-link", "workspace", "anyone-with-link", "gpt-store")
CONVERSATION_SPAN = 100 * DAY
TITLES = ("Quarterly numbers", "Draft an email", "Debug this script", "Summarise this file", "Travel plan", "Research")


def _envelope(items: list[JsonObject]) -> JsonObject:
    return {"object": "list", "data": items, "last_id": items[-1].get("id") if items else None, "has_more": False}


class ComplianceGenerator:
    def __init__(self, spec: GenerateSpec, seed: int, now: float, workspace_id: str, files: GeneratedFiles) -> None:
        self.spec = spec
        self.seed = seed
        self.now = now
        self.workspace_id = workspace_id
        self.files = files
        self.tag = seed & 0xFFFFFFFF
        self.user_step = coprime_step(max(spec.users, 1))
        self.conversation_step = CONVERSATION_SPAN / max(spec.conversations, 1)
        self.conversation_start = now - CONVERSATION_SPAN - 3600

    # users ---------------------------------------------------------------------------------
    def user(self, index: int) -> JsonObject:
        rng = object_rng(self.seed, "workspace_user", index)
        who = person(self.seed, index)
        role = "account-owner" if index == 0 else ("account-admin" if index % 40 == 1 else "standard-user")
        return {
            "object": "compliance.workspace.user",
            "id": who.id,
            "email": who.email,
            "name": who.name,
            "created_at": self.now - rng.uniform(20, 700) * DAY,
            "role": role,
            "status": "inactive" if who.disabled else "active",
        }

    # GPTs and projects ---------------------------------------------------------------------
    def _owner(self, index: int) -> tuple[str, str]:
        who = person(self.seed, active_person_index(self.spec.users, index * 13))
        return who.id, who.email

    def _permissions(self, prefix: str, can_write: bool) -> JsonObject:
        return {
            "object": f"{prefix}.permissions",
            "can_read": True,
            "can_view_config": can_write,
            "can_write": can_write,
        }

    def _sharing(self, prefix: str, index: int, visibility: str) -> JsonObject:
        recipients = []
        if visibility == "invite-only" and self.spec.users > 1:
            for n in range(2):
                who = person(self.seed, (index * 7 + n * 11 + 1) % self.spec.users)
                recipients.append(
                    {
                        "object": f"{prefix}.shared_user",
                        "id": who.id,
                        "email": who.email,
                        "permissions": self._permissions(prefix, n == 0),
                    }
                )
        return {
            "object": f"{prefix}.sharing",
            "visibility": visibility,
            "permissions": self._permissions(prefix, index % 11 == 3),
            "recipients": recipients,
        }

    def _tools(self, index: int, created: float, with_auth_type: bool) -> list[JsonObject]:
        tools: list[JsonObject] = []
        if index % 3 == 0:
            tools.append({"type": "code_interpreter", "created_at": created})
        if index % 2 == 0:
            tools.append({"type": "browser", "created_at": created})
        if index % 5 == 1:
            tools.append({"type": "dall-e", "created_at": created})
        if index % 4 == 1:
            action: JsonObject = {
                "type": "custom_action",
                "created_at": created,
                "action_domain": f"api{index}.partner.example.net",
                "action_openapi_raw": (
                    f"openapi: 3.1.0\ninfo:\n  title: Partner API {index}\n  version: '1'\npaths: {{}}\n"
                ),
                "action_privacy_policy_url": f"https://partner.example.net/privacy/{index}",
            }
            if with_auth_type:
                action["auth_type"] = ("none", "api_key", "oauth")[index % 3]
            tools.append(action)
        return tools

    def _config(
        self,
        prefix: str,
        cnf: str,
        index: int,
        version: int,
        created: float,
        file_id: str | None,
        owner: tuple[str, str] | None,
        third_party: bool,
    ) -> JsonObject:
        object_kind = prefix + ".configuration"
        config: JsonObject = {
            "object": object_kind,
            "id": f"{cnf}E{index:08d}{version:02d}",
            "name": f"Assistant {index}" if prefix.endswith("gpt") else f"Project {index}",
            "description": "Helps the team with recurring work.",
            "categories": ["productivity"] if index % 2 else [],
            "conversation_starters": ["What can you do?"],
        }
        if not third_party:
            config["created_at"] = created
            config["instructions"] = "Answer concisely and cite the knowledge files."
        if prefix.endswith("gpt") and not third_party:
            config["version_author"] = (
                {"object": f"{prefix}.version_author", "id": owner[0], "email": owner[1]} if owner else None
            )
        files = []
        if file_id is not None and version == 0:
            plan = self.files.plan(file_id)
            if plan is not None:
                files.append(
                    {
                        "object": f"{prefix}.file",
                        "id": plan.file_id,
                        "name": plan.name,
                        "created_at": created + plan.created_offset,
                    }
                )
        config["files"] = _envelope(files)
        tools = self._tools(index + version, created, with_auth_type=prefix.endswith("gpt"))
        config["tools"] = {"object": "list", "data": tools, "last_id": None, "has_more": False}
        return config

    def gpt(self, index: int) -> JsonObject:
        rng = object_rng(self.seed, "gpt", index)
        prefix = "compliance.workspace.gpt"
        created = self.now - rng.uniform(5, 500) * DAY
        third_party = index % 17 == 16
        file_id = gpt_file_id(index) if index % 3 == 1 else None
        owner = None if third_party else self._owner(index)
        versions = 2 if index % 4 == 0 and not third_party else 1
        configs = [
            self._config(prefix, "gzm_cnf_", index, v, created + (versions - 1 - v) * DAY, file_id, owner, third_party)
            for v in range(versions)
        ]
        gpt: JsonObject = {"object": prefix, "id": f"g-E{index:08d}", "builder_name": "Community Builder"}
        if not third_party and owner is not None:
            gpt.update(
                {
                    "created_at": created,
                    "owner_id": owner[0],
                    "owner_email": owner[1],
                    "builder_name": person(self.seed, 0).name if index % 2 else "Community Builder",
                    "sharing": self._sharing(prefix, index, VISIBILITIES[index % len(VISIBILITIES)]),
                }
            )
        gpt["latest_config"] = _envelope(configs[:1])
        if versions > 1:
            gpt["configs"] = configs  # newest first
        return gpt

    def chatgpt_project(self, index: int) -> JsonObject:
        rng = object_rng(self.seed, "chatgpt_project", index)
        prefix = "compliance.workspace.project"
        created = self.now - rng.uniform(5, 400) * DAY
        owner = self._owner(index + 1)
        file_id = project_file_id(index) if index % 2 == 0 else None
        config = self._config(prefix, "pr_cnf_", index, 0, created, file_id, owner, False)
        return {
            "object": prefix,
            "id": f"g-p-E{index:08d}",
            "created_at": created,
            "owner_id": owner[0],
            "owner_email": owner[1],
            "builder_name": person(self.seed, index).name,
            "sharing": self._sharing(prefix, index, VISIBILITIES[index % 3]),
            "latest_config": _envelope([config]),
        }

    # conversations -------------------------------------------------------------------------
    def conversation_id(self, index: int) -> str:
        return f"{self.tag:08x}-0000-4000-8000-{index:012x}"

    def parse_conversation_id(self, conversation_id: str) -> int | None:
        prefix = f"{self.tag:08x}-0000-4000-8000-"
        if not conversation_id.startswith(prefix):
            return None
        try:
            return int(conversation_id[len(prefix) :], 16)
        except ValueError:
            return None

    def update_time(self, index: int) -> float:
        jitter = unit_float(self.seed, "conversation_time", index) * 0.9
        return self.conversation_start + (index + jitter) * self.conversation_step

    def conversation_user_index(self, index: int) -> int:
        return active_person_index(self.spec.users, (index * self.user_step + self.seed) % self.spec.users)

    def conversation_user(self, index: int) -> str:
        return person(self.seed, self.conversation_user_index(index)).id

    def _file_indexes(self, index: int) -> range:
        conversations, files = self.spec.conversations, self.spec.files
        return range(-(-index * files // conversations), -(-(index + 1) * files // conversations))

    def _timeline(self, index: int) -> tuple[random.Random, float, float, list[float]]:
        """The conversation's RNG (advanced past the times), creation, last update and message times."""
        rng = object_rng(self.seed, "conversation", index)
        updated = self.update_time(index)
        created = updated - rng.uniform(0, 3 * DAY)
        count = rng.randint(2, 4)
        times = [created + (updated - created) * m / max(count - 1, 1) for m in range(count)]
        return rng, created, updated, times

    def message_times(self, index: int) -> list[float]:
        """`created_at` of each message of conversation `index`, without building the conversation
        (the Logs Platform's hour index reads every conversation once)."""
        return self._timeline(index)[3]

    def conversation(self, index: int) -> JsonObject:
        rng, created, updated, times = self._timeline(index)
        who = person(self.seed, self.conversation_user_index(index))
        gpt_id = f"g-E{index % self.spec.gpts:08d}" if self.spec.gpts and index % 4 == 0 else None
        project_id = (
            f"g-p-E{index % self.spec.chatgpt_projects:08d}" if self.spec.chatgpt_projects and index % 6 == 1 else None
        )
        messages: list[JsonObject] = []
        for m, at in enumerate(times):
            is_user = m % 2 == 0
            files = []
            if m == 0:
                for j in self._file_indexes(index):
                    plan = self.files.chat_plan(j)
                    files.append(
                        {
                            "object": "compliance.workspace.conversation.message.file",
                            "id": plan.file_id,
                            "name": plan.name,
                            "created_at": at,
                        }
                    )
            messages.append(
                {
                    "object": "compliance.workspace.conversation.message",
                    "id": f"{index:08x}-{m:04x}-4000-8000-{self.tag:012x}",
                    "parent_id": None if m == 0 else f"{index:08x}-{m - 1:04x}-4000-8000-{self.tag:012x}",
                    "created_at": at,
                    "gpt_id": gpt_id,
                    "project_id": project_id,
                    "author": {
                        "object": "compliance.workspace.conversation.message.author",
                        "role": "user" if is_user else "assistant",
                        "tool_name": None if is_user or m % 3 else "browser",
                    },
                    "content": {
                        "object": "compliance.workspace.conversation.message.content",
                        "type": "text",
                        "value": "Please look at this." if is_user else "Here is a summary.",
                        "annotations": [],
                    },
                    "files": _envelope(files),
                }
            )
        return {
            "object": "compliance.workspace.conversation",
            "id": self.conversation_id(index),
            "workspace_id": self.workspace_id,
            "user_id": who.id,
            "user_email": who.email,
            "created_at": created,
            "last_active_at": updated - rng.uniform(0, 60),
            "title": TITLES[index % len(TITLES)],
            "messages": _envelope(messages),
        }

    def collections(self) -> dict[str, Collection]:
        spec = self.spec
        return {
            "compliance_users": LazyCollection(spec.users, self.user, index_parser(r"user-E(\d{23})")),
            "gpts": LazyCollection(spec.gpts, self.gpt, index_parser(r"g-E(\d{8})")),
            "chatgpt_projects": LazyCollection(
                spec.chatgpt_projects, self.chatgpt_project, index_parser(r"g-p-E(\d{8})")
            ),
            "conversations": LazyCollection(spec.conversations, self.conversation, self.parse_conversation_id),
        }
