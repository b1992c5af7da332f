"""Loading an org snapshot file (format: docs/snapshot-format.md)."""

from __future__ import annotations

import base64
import binascii
import json
import math
import stat
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openai_casb.emulator.message_hours import conversation_messages
from openai_casb.emulator.org import DictFileStore, Org, ProjectMembers, StoredFile
from openai_casb.emulator.sequences import ListCollection


class SnapshotError(ValueError):
    """The snapshot cannot be served; the message names the offending place."""


# No API object nests anywhere near this deep; the bound keeps hostile files from exhausting the
# stack of the parser or, worse, of the server encoding the object for every request.
MAX_DEPTH = 64
MAX_SNAPSHOT_BYTES = 1 << 30  # 1 GiB of JSON: about 10 GiB of Python objects once parsed


def _kind(value: Any) -> str:
    return type(value).__name__


_Trail = tuple[Any, "str | int"] | None  # (parent trail, key or position): the path, built only for a message


def _path(trail: _Trail) -> str:
    parts: list[str | int] = []
    while trail is not None:
        trail, step = trail
        parts.append(step)
    text = ""
    for step in reversed(parts):
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text or "the snapshot"


def check_json_values(data: Any, max_depth: int = MAX_DEPTH) -> None:
    """Every value is JSON (objects with string keys, arrays, strings, finite numbers, booleans, null)
    and nests at most `max_depth` levels; iterative, so a hostile structure cannot exhaust the stack."""
    stack: list[tuple[Any, _Trail, int]] = [(data, None, 0)]
    while stack:
        value, trail, depth = stack.pop()
        if isinstance(value, dict):
            if depth >= max_depth:
                raise SnapshotError(f"{_path(trail)} is nested too deeply (more than {max_depth} levels)")
            for key, child in value.items():
                if not isinstance(key, str):
                    raise SnapshotError(f"{_path(trail)} has a key that is not a string: {key!r}")
                if isinstance(child, dict | list | float) or not isinstance(child, str | int | None):
                    stack.append((child, (trail, key), depth + 1))
        elif isinstance(value, list):
            if depth >= max_depth:
                raise SnapshotError(f"{_path(trail)} is nested too deeply (more than {max_depth} levels)")
            for position, child in enumerate(value):
                if isinstance(child, dict | list | float) or not isinstance(child, str | int | None):
                    stack.append((child, (trail, position), depth + 1))
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise SnapshotError(f"{_path(trail)} must be a finite number, got {value!r}")
        elif not (value is None or isinstance(value, str | int)):
            raise SnapshotError(f"{_path(trail)} is a {_kind(value)}, not a JSON value")


def _string(container: dict[str, Any], key: str, where: str) -> str | None:
    value = container.get(key)
    if value is not None and not isinstance(value, str):
        raise SnapshotError(f"{where}.{key} must be a string, got {_kind(value)}")
    return value


def _objects(container: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = container.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise SnapshotError(f"{where}.{key} must be a list, got {type(value).__name__}")
    for position, obj in enumerate(value):
        if not isinstance(obj, dict):
            raise SnapshotError(f"{where}.{key}[{position}] must be an object, got {type(obj).__name__}")
        if "id" in obj and not isinstance(obj["id"], str):
            raise SnapshotError(f"{where}.{key}[{position}].id must be a string")
    _unique_ids([obj.get("id") for obj in value], f"{where}.{key}")
    return value


# Timestamp fields of the objects the emulator serves (the specs' schemas): integers in the Admin
# API, numbers (float seconds) in the Compliance API; null where the spec allows it.
ADMIN_TIMESTAMPS = (
    "created_at",
    "expires_at",
    "last_used_at",
    "added_at",
    "created",
    "accepted_at",
    "archived_at",
    "effective_at",
    "api_key_last_used_at",
)
COMPLIANCE_TIMESTAMPS = ("created_at", "last_active_at")
LATEST_TIMESTAMP = 253402300799  # 9999-12-31T23:59:59Z: beyond it a value is no time at all


def _check_timestamps(objects: list[dict[str, Any]], where: str, api: str) -> None:
    for position, obj in enumerate(objects):
        _check_object_timestamps(obj, f"{where}[{position}]", api)


def _check_object_timestamps(obj: dict[str, Any], where: str, api: str) -> None:
    """ISO strings, booleans or out-of-range numbers where the API has Unix seconds are refused by name."""
    admin = api == "Admin"
    for key in ADMIN_TIMESTAMPS if admin else COMPLIANCE_TIMESTAMPS:
        value = obj.get(key)
        if value is None:
            continue
        kind_ok = isinstance(value, int) if admin else isinstance(value, int | float)
        if kind_ok and not isinstance(value, bool) and 0 <= value <= LATEST_TIMESTAMP:
            continue
        form = "integer Unix seconds" if admin else "Unix seconds"
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise SnapshotError(f"{where}.{key} must be {form} (as the {api} API has them), got {_kind(value)} {shown}")


def _check_messages(conversations: list[dict[str, Any]]) -> None:
    for position, conversation in enumerate(conversations):
        messages = conversation.get("messages")
        place = f"compliance.conversations[{position}].messages"
        if isinstance(messages, dict):
            messages, place = messages.get("data"), f"{place}.data"
        if isinstance(messages, list):
            entries = [m for m in messages if isinstance(m, dict)]
            if len(entries) == len(messages):
                _check_timestamps(entries, place, "Compliance")


def _unique_ids(ids: list[Any], where: str, suffix: str = "") -> None:
    """`after=<id>` pages from the first object with that id: a repeated id would make a client page forever."""
    first: dict[str, int] = {}
    for position, object_id in enumerate(ids):
        if not isinstance(object_id, str):
            continue
        seen = first.setdefault(object_id, position)
        if seen != position:
            raise SnapshotError(
                f"{where}[{position}]{suffix}.id {object_id!r} repeats {where}[{seen}]{suffix}.id: ids must be unique"
            )


def _check_gpt_like(objects: list[dict[str, Any]], where: str) -> None:
    """The lists `/configs` and `/shared_users` page through with `after`: their ids must be unique too."""
    for position, obj in enumerate(objects):
        for key in ("configs", "latest_config", "shared_users"):
            value = obj.get(key)
            place = f"{where}[{position}].{key}"
            if isinstance(value, dict):
                value, place = value.get("data"), f"{place}.data"
            if isinstance(value, list):
                _unique_ids([entry.get("id") if isinstance(entry, dict) else None for entry in value], place)


def _section(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SnapshotError(f"{key} must be an object, got {type(value).__name__}")
    return value


def _planted(entry: dict[str, Any], where: str) -> list[tuple[str, str]]:
    raw = entry.get("planted")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise SnapshotError(f"{where}.planted must be a list of [kind, value] pairs, got {_kind(raw)}")
    planted: list[tuple[str, str]] = []
    for position, pair in enumerate(raw):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair)):
            raise SnapshotError(f"{where}.planted[{position}] must be a [kind, value] pair of strings")
        planted.append((pair[0], pair[1]))
    return planted


def _number(obj: dict[str, Any], key: str) -> float:
    value = obj.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _constant(content: bytes) -> Callable[[], bytes]:
    return lambda: content


def _file_ids(value: Any) -> list[str]:
    """Ids of the file objects in a nested file list (the spec's list envelope, or a bare array)."""
    if isinstance(value, dict):
        value = value.get("data")
    if not isinstance(value, list):
        return []
    return [f["id"] for f in value if isinstance(f, dict) and isinstance(f.get("id"), str)]


def _listed_files(gpt_likes: list[dict[str, Any]], conversations: list[dict[str, Any]]) -> frozenset[str]:
    """Every file id a GPT or project configuration or a message lists (their downloads are 410 when missing)."""
    listed: set[str] = set()
    for obj in gpt_likes:
        for key in ("configs", "latest_config"):
            configs = obj.get(key)
            if isinstance(configs, dict):
                configs = configs.get("data")
            for config in configs if isinstance(configs, list) else []:
                if isinstance(config, dict):
                    listed.update(_file_ids(config.get("files")))
    for conversation in conversations:
        for message in conversation_messages(conversation):
            listed.update(_file_ids(message.get("files")))
    return frozenset(listed)


def _files(data: dict[str, Any], listed: frozenset[str]) -> DictFileStore:
    raw = _section(data, "files")
    files: dict[str, StoredFile] = {}
    for file_id, entry in raw.items():
        where = f"files.{file_id}"
        if not isinstance(entry, dict):
            raise SnapshotError(f"{where} must be an object")
        encoded = entry.get("content_base64", "")
        if not isinstance(encoded, str):
            raise SnapshotError(f"{where}.content_base64 must be a string")
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SnapshotError(f"{where}.content_base64 is not valid base64") from exc
        expired = entry.get("expired", False)
        if expired is None:
            expired = False
        if not isinstance(expired, bool):
            raise SnapshotError(f"{where}.expired must be true or false, got {_kind(expired)}")
        files[file_id] = StoredFile(
            file_id=file_id,
            name=_string(entry, "name", where) or file_id,
            expired=expired,
            content=_constant(content),
            planted=_planted(entry, where),
        )
    return DictFileStore(files, listed)


def org_from_dict(data: Any) -> Org:
    """Build an Org from the parsed JSON of a snapshot."""
    if not isinstance(data, dict):
        raise SnapshotError("a snapshot must be a JSON object")
    check_json_values(data)
    organization = _section(data, "organization")
    workspace = _section(data, "workspace")
    admin = _section(data, "admin")
    compliance = _section(data, "compliance")

    members: dict[str, ProjectMembers] = {}
    projects: list[dict[str, Any]] = []
    for position, entry in enumerate(_objects(admin, "projects", "admin")):
        where = f"admin.projects[{position}]"
        project = entry.get("project")
        if not isinstance(project, dict) or not isinstance(project.get("id"), str):
            raise SnapshotError(f"{where}.project must be an organization.project object with a string id")
        projects.append(project)
        _check_object_timestamps(project, f"{where}.project", "Admin")
        lists = {key: _objects(entry, key, where) for key in ("users", "service_accounts", "api_keys")}
        for key, objects in lists.items():
            _check_timestamps(objects, f"{where}.{key}", "Admin")
        members[project["id"]] = ProjectMembers(
            users=ListCollection(lists["users"]),
            service_accounts=ListCollection(lists["service_accounts"]),
            api_keys=ListCollection(lists["api_keys"]),
        )

    _unique_ids([p["id"] for p in projects], "admin.projects", ".project")
    admin_lists = {key: _objects(admin, key, "admin") for key in ("users", "invites", "admin_api_keys", "audit_logs")}
    compliance_lists = {key: _objects(compliance, key, "compliance") for key in ("users", "gpts", "projects")}
    compliance_lists["conversations"] = _objects(compliance, "conversations", "compliance")
    for key, objects in admin_lists.items():
        _check_timestamps(objects, f"admin.{key}", "Admin")
    for key, objects in compliance_lists.items():
        _check_timestamps(objects, f"compliance.{key}", "Compliance")
    _check_messages(compliance_lists["conversations"])
    _check_gpt_like(compliance_lists["gpts"], "compliance.gpts")
    _check_gpt_like(compliance_lists["projects"], "compliance.projects")
    audit_logs = sorted(admin_lists["audit_logs"], key=lambda e: -_number(e, "effective_at"))
    conversations = sorted(compliance_lists["conversations"], key=lambda c: _number(c, "last_active_at"))
    update_times = [_number(c, "last_active_at") for c in conversations]

    workspace_id = _string(workspace, "id", "workspace") or str(uuid.uuid4())
    return Org(
        organization_id=_string(organization, "id", "organization") or "org-emulator",
        organization_name=_string(organization, "name", "organization") or "Emulated organization",
        workspace_id=workspace_id,
        users=ListCollection(admin_lists["users"]),
        invites=ListCollection(admin_lists["invites"]),
        admin_api_keys=ListCollection(admin_lists["admin_api_keys"]),
        projects=ListCollection(projects),
        project_members=members.get,
        audit_logs=ListCollection(audit_logs),
        # The Compliance API lists workspace users by ascending user id.
        compliance_users=ListCollection(sorted(compliance_lists["users"], key=lambda u: str(u.get("id")))),
        gpts=ListCollection(compliance_lists["gpts"]),
        chatgpt_projects=ListCollection(compliance_lists["projects"]),
        conversations=ListCollection(conversations),
        conversation_update_time=update_times.__getitem__,
        files=_files(
            data,
            _listed_files(compliance_lists["gpts"] + compliance_lists["projects"], compliance_lists["conversations"]),
        ),
    )


def load_snapshot(path: str | Path, max_bytes: int = MAX_SNAPSHOT_BYTES) -> Org:
    """Read a snapshot JSON file; SnapshotError says what is wrong with an unusable one.

    A file over `max_bytes` is refused before it is read (parsing takes about ten times its size in
    memory), and so is anything but a regular file (a FIFO or a device could block or never end).
    """
    file_path = Path(path)
    try:
        if not stat.S_ISREG(file_path.stat().st_mode):
            raise SnapshotError(f"snapshot {file_path} is not a regular file")
        with file_path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except FileNotFoundError as exc:
        raise SnapshotError(f"snapshot file not found: {file_path}") from exc
    except OSError as exc:
        raise SnapshotError(f"cannot read snapshot {file_path}: {exc}") from exc
    if len(raw) > max_bytes:
        raise SnapshotError(f"snapshot {file_path} is larger than {max_bytes} bytes, the most the emulator loads")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SnapshotError(f"cannot read snapshot {file_path}: {exc}") from exc
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise SnapshotError(
            f"snapshot {file_path} is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except MemoryError:
        raise SnapshotError(f"snapshot {file_path} does not fit in memory once parsed") from None
    except RecursionError:
        raise SnapshotError(f"snapshot {file_path} is nested too deeply (more than {MAX_DEPTH} levels)") from None
    except SnapshotError as exc:
        raise SnapshotError(f"snapshot {file_path} {exc}") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise SnapshotError(f"snapshot {file_path} is not valid JSON: {exc}") from None
    return org_from_dict(data)


def _refuse_constant(name: str) -> Any:
    raise SnapshotError(f"holds {name}, which is not JSON (numbers must be finite)")
