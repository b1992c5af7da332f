"""Turning stored Compliance objects into what a request asks for: file objects with signed
`download_url`s (`file_format=url`) or `*_file_info` objects (`file_format=id`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openai_casb.emulator.org import FileStore
from openai_casb.emulator.sequences import JsonObject
from openai_casb.emulator.signing import LISTED_URL_TTL_SECONDS, signed_path


@dataclass(frozen=True)
class FileRenderer:
    files: FileStore
    file_format: str  # "url" | "id"
    base_url: str
    secret: str
    now: float

    def file(self, obj: Any, object_prefix: str, user_id: str | None = None) -> Any:
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            return obj
        file_id: str = obj["id"]
        if self.file_format == "id":
            info: JsonObject = {"object": f"{object_prefix}.file_info", "id": file_id, "name": obj.get("name")}
            if user_id is not None:
                info["user_id"] = obj.get("user_id", user_id)
            return info
        rendered = {k: v for k, v in obj.items() if k != "user_id"}
        rendered["object"] = f"{object_prefix}.file"
        stored = self.files.get(file_id)
        if stored is None:
            # Not in the snapshot's `files`: keep what the snapshot says (its download will answer 410).
            rendered.setdefault("created_at", None)
            rendered.setdefault("download_url", None)
        elif stored.expired:
            rendered["created_at"] = None
            rendered["download_url"] = None
        else:
            expires = int(self.now) + LISTED_URL_TTL_SECONDS
            rendered["download_url"] = self.base_url + signed_path(self.secret, file_id, expires)
        return rendered

    def file_list(self, value: Any, object_prefix: str, user_id: str | None = None) -> Any:
        """A nested file list: the spec's list envelope, or a bare array (tolerated in snapshots)."""
        if isinstance(value, dict) and isinstance(value.get("data"), list):
            rendered = dict(value)
            rendered["data"] = [self.file(f, object_prefix, user_id) for f in value["data"]]
            return rendered
        if isinstance(value, list):
            return [self.file(f, object_prefix, user_id) for f in value]
        return value

    def config(self, config: Any, object_prefix: str) -> Any:
        if not isinstance(config, dict) or "files" not in config:
            return config
        rendered = dict(config)
        rendered["files"] = self.file_list(config["files"], object_prefix)
        return rendered

    def configs(self, configs: Any, object_prefix: str) -> Any:
        if isinstance(configs, dict) and isinstance(configs.get("data"), list):
            rendered = dict(configs)
            rendered["data"] = [self.config(c, object_prefix) for c in configs["data"]]
            return rendered
        if isinstance(configs, list):
            return [self.config(c, object_prefix) for c in configs]
        return configs

    def gpt_like(self, obj: JsonObject, object_prefix: str) -> JsonObject:
        """A GPT (`compliance.workspace.gpt`) or ChatGPT project (`compliance.workspace.project`)."""
        if "latest_config" not in obj:
            return obj
        rendered = dict(obj)
        rendered["latest_config"] = self.configs(obj["latest_config"], object_prefix)
        return rendered

    def conversation(self, conversation: JsonObject) -> JsonObject:
        messages = conversation.get("messages")
        data = messages.get("data") if isinstance(messages, dict) else messages
        if not isinstance(data, list):
            return conversation
        user_id = conversation.get("user_id")
        rendered_messages = []
        for message in data:
            if isinstance(message, dict) and "files" in message:
                message = dict(message)
                message["files"] = self.file_list(
                    message["files"], "compliance.workspace.conversation.message", str(user_id) if user_id else ""
                )
            rendered_messages.append(message)
        rendered = dict(conversation)
        if isinstance(messages, dict):
            rendered["messages"] = {**messages, "data": rendered_messages}
        else:
            rendered["messages"] = rendered_messages
        return rendered


def _newest_first(config: Any) -> tuple[int, float]:
    created = config.get("created_at") if isinstance(config, dict) else None
    if isinstance(created, int | float) and not isinstance(created, bool):
        return (0, -float(created))
    return (1, 0.0)  # no time: after the timed versions, in the order written


def config_entries(obj: JsonObject) -> list[Any]:
    """`/gpts/{id}/configs`: the object's own `configs` if it has them, else `latest_config`; newest
    first, as the spec lists versions ("in descending order of updated time")."""
    own = obj.get("configs")
    source = own if own is not None else obj.get("latest_config")
    if isinstance(source, dict):
        source = source.get("data")
    return sorted(source, key=_newest_first) if isinstance(source, list) else []
