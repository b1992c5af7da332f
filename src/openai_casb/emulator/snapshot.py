"""Loading an org snapshot file (format: docs/snapshot-format.md)."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openai_casb.emulator.org import DictFileStore, Org, ProjectMembers, StoredFile
from openai_casb.emulator.sequences import ListCollection


class SnapshotError(ValueError):
    """The snapshot cannot be served; the message names the offending place."""


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
    return value


def _section(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SnapshotError(f"{key} must be an object, got {type(value).__name__}")
    return value


def _number(obj: dict[str, Any], key: str) -> float:
    value = obj.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _constant(content: bytes) -> Callable[[], bytes]:
    return lambda: content


def _files(data: dict[str, Any]) -> DictFileStore:
    raw = _section(data, "files")
    files: dict[str, StoredFile] = {}
    for file_id, entry in raw.items():
        if not isinstance(entry, dict):
            raise SnapshotError(f"files.{file_id} must be an object")
        encoded = entry.get("content_base64", "")
        if not isinstance(encoded, str):
            raise SnapshotError(f"files.{file_id}.content_base64 must be a string")
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SnapshotError(f"files.{file_id}.content_base64 is not valid base64") from exc
        planted_raw = entry.get("planted", [])
        planted = [(str(kind), str(value)) for kind, value in planted_raw] if isinstance(planted_raw, list) else []
        files[file_id] = StoredFile(
            file_id=file_id,
            name=str(entry.get("name", file_id)),
            expired=bool(entry.get("expired", False)),
            content=_constant(content),
            planted=planted,
        )
    return DictFileStore(files)


def org_from_dict(data: Any) -> Org:
    """Build an Org from the parsed JSON of a snapshot."""
    if not isinstance(data, dict):
        raise SnapshotError("a snapshot must be a JSON object")
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
        members[project["id"]] = ProjectMembers(
            users=ListCollection(_objects(entry, "users", where)),
            service_accounts=ListCollection(_objects(entry, "service_accounts", where)),
            api_keys=ListCollection(_objects(entry, "api_keys", where)),
        )

    audit_logs = sorted(_objects(admin, "audit_logs", "admin"), key=lambda e: -_number(e, "effective_at"))
    conversations = sorted(
        _objects(compliance, "conversations", "compliance"), key=lambda c: _number(c, "last_active_at")
    )
    update_times = [_number(c, "last_active_at") for c in conversations]

    workspace_id = workspace.get("id") or str(uuid.uuid4())
    organization_id = organization.get("id") or "org-emulator"
    return Org(
        organization_id=str(organization_id),
        organization_name=str(organization.get("name", "Emulated organization")),
        workspace_id=str(workspace_id),
        users=ListCollection(_objects(admin, "users", "admin")),
        invites=ListCollection(_objects(admin, "invites", "admin")),
        admin_api_keys=ListCollection(_objects(admin, "admin_api_keys", "admin")),
        projects=ListCollection(projects),
        project_members=members.get,
        audit_logs=ListCollection(audit_logs),
        # The Compliance API lists workspace users by ascending user id.
        compliance_users=ListCollection(
            sorted(_objects(compliance, "users", "compliance"), key=lambda u: str(u.get("id")))
        ),
        gpts=ListCollection(_objects(compliance, "gpts", "compliance")),
        chatgpt_projects=ListCollection(_objects(compliance, "projects", "compliance")),
        conversations=ListCollection(conversations),
        conversation_update_time=update_times.__getitem__,
        files=_files(data),
    )


def load_snapshot(path: str | Path) -> Org:
    """Read a snapshot JSON file; SnapshotError says what is wrong with an unusable one."""
    file_path = Path(path)
    try:
        text = file_path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SnapshotError(f"snapshot file not found: {file_path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"cannot read snapshot {file_path}: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SnapshotError(
            f"snapshot {file_path} is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    return org_from_dict(data)
