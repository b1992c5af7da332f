"""An independent reading of findings.md, straight over the raw API objects the emulator serves.

It shares no code with the checks, the inventory or the connectors: if those ever drift from
findings.md, the end-to-end tests comparing a scan with this oracle fail.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openai_casb.emulator.org import Org

DAY = 86_400
T = {
    "custom_actions": "5a2995f5-0cc1-4af3-9045-cdf7e6601f7b",
    "code_interpreter": "d368036a-be90-49f0-b7da-5092a3f8beb4",
    "browsing": "3af14358-5ff2-4502-921e-7ffd9a310093",
    "gpt_store": "c69adfa6-2362-4939-86ec-49ff34093cfd",
    "public_link": "de460c9f-55c0-4131-9cdf-e4c3b84f9549",
    "admin_key_not_rotated": "b72e971d-f5b9-4cf3-96f4-ef82bdf38453",
    "project_key_not_rotated": "2c079fe8-6188-43e1-a2e5-d0e2dd8c7686",
    "unused_admin_key": "49c75a36-1e64-437b-98a1-e54ec35d0a64",
    "unused_project_key": "c8fd231b-de51-43cc-8c3f-e1e57114c5f5",
    "high_privilege_invite": "776ceb93-fa9a-4ca0-83db-668a67c09936",
    "inactive_user": "20ab9ddb-fd48-46a8-9fdf-9bb9b9061f21",
    "stale_invite": "18fd5b21-8489-485e-9c93-0bd4a696e724",
    "dlp_conversation": "9aca654d-b331-4052-a5b4-2ceecced8676",
    "dlp_gpt": "520200f5-7dcc-42c9-bc3c-423019159d45",
    "dlp_project": "8e46ec69-e5c1-4f53-ab00-a92f2050ec33",
}
Expected = set[tuple[str, str]]  # (finding type id, asset id)


def _data(envelope: Any) -> list[dict[str, Any]]:
    if isinstance(envelope, list):
        return envelope
    if isinstance(envelope, dict):
        return list(envelope.get("data") or [])
    return []


def _latest_config(obj: dict[str, Any]) -> dict[str, Any] | None:
    configs = _data(obj.get("latest_config"))
    return configs[0] if configs else None


def gpt_findings(gpts: Iterable[dict[str, Any]]) -> Expected:
    out: Expected = set()
    tool_types = {"custom_action": "custom_actions", "code_interpreter": "code_interpreter", "browser": "browsing"}
    for gpt in gpts:
        if not gpt.get("sharing") and not gpt.get("owner_id"):
            continue  # third-party GPT
        config = _latest_config(gpt) or {}
        for tool in _data(config.get("tools")):
            if tool.get("type") in tool_types:
                out.add((T[tool_types[tool["type"]]], gpt["id"]))
        visibility = (gpt.get("sharing") or {}).get("visibility")
        if visibility == "gpt-store":
            out.add((T["gpt_store"], gpt["id"]))
        if visibility == "anyone-with-link":
            out.add((T["public_link"], gpt["id"]))
    return out


def _key_findings(key: dict[str, Any], now: float, rotated: str, unused: str) -> Expected:
    out: Expected = set()
    age = now - key["created_at"]
    if age > 90 * DAY:
        out.add((T[rotated], key["id"]))
    last = key.get("last_used_at")
    if (last is None and age > 30 * DAY) or (last is not None and now - last > 30 * DAY):
        out.add((T[unused], key["id"]))
    return out


def key_findings(org: Org, now: float) -> Expected:
    out: Expected = set()
    for key in org.admin_api_keys:
        out |= _key_findings(key, now, "admin_key_not_rotated", "unused_admin_key")
    for project in org.projects:
        if project.get("archived_at") or project.get("status") == "archived":
            continue
        members = org.project_members(project["id"])
        for key in members.api_keys if members else []:
            out |= _key_findings(key, now, "project_key_not_rotated", "unused_project_key")
    return out


def invite_findings(invites: Iterable[dict[str, Any]], now: float) -> Expected:
    out: Expected = set()
    for invite in invites:
        pending = invite["status"] == "pending"
        owner = invite.get("role") == "owner" or any(p.get("role") == "owner" for p in invite.get("projects") or [])
        if pending and owner:
            out.add((T["high_privilege_invite"], invite["id"]))
        if invite["status"] == "expired" or (pending and now - invite["created_at"] > 7 * DAY):
            out.add((T["stale_invite"], invite["id"]))
    return out


def inactive_user_findings(org: Org, now: float, lookback_days: int = 400) -> Expected:
    persons: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for user in org.users:
        key = (user.get("email") or f"id:{user['id']}").lower()
        persons.setdefault(key, {"org": [], "ws": []})["org"].append(user)
    for user in org.compliance_users:
        key = (user.get("email") or f"id:{user['id']}").lower()
        persons.setdefault(key, {"org": [], "ws": []})["ws"].append(user)
    logins: dict[str, float] = {}
    for event in org.audit_logs:
        # The scanner reads login events of the last max(lookback_days, inactive_user_days + 1) days only.
        window = max(lookback_days, 90 + 1)
        if event.get("type") != "login.succeeded" or event["effective_at"] < now - window * DAY:
            continue
        user = ((event.get("actor") or {}).get("session") or {}).get("user") or {}
        for ident in (user.get("id"), (user.get("email") or "").lower()):
            if ident:
                logins[ident] = max(logins.get(ident, 0.0), event["effective_at"])
    chats: dict[str, float] = {}
    for conversation in org.conversations:
        for ident in (conversation.get("user_id"), (conversation.get("user_email") or "").lower()):
            if ident and conversation.get("last_active_at") is not None:
                chats[ident] = max(chats.get(ident, 0.0), conversation["last_active_at"])
    out: Expected = set()
    for email, records in persons.items():
        org_users, ws_users = records["org"], records["ws"]
        if any(u.get("is_service_account") for u in org_users):
            continue
        disabled = [((u.get("user") or {}).get("enabled") is False or (u.get("user") or {}).get("banned") is True)
                    for u in org_users] + [u.get("status") == "inactive" for u in ws_users]
        if all(disabled):
            continue
        ids = [u["id"] for u in org_users + ws_users]
        signals = [u.get("api_key_last_used_at") for u in org_users]
        signals += [logins.get(i) for i in ids] + [logins.get(email)]
        signals += [chats.get(i) for i in ids] + [chats.get(email)]
        present = [s for s in signals if s is not None]
        if present:
            inactive = now - max(present) > 90 * DAY
        else:
            dates = [u.get(f) for u in org_users for f in ("added_at", "created")]
            dates += [u.get("created_at") for u in ws_users]
            known = [d for d in dates if d is not None]
            inactive = bool(known) and now - min(known) > 90 * DAY
        if inactive:
            asset_id = org_users[0]["id"] if org_users else ws_users[0]["id"]
            out.add((T["inactive_user"], asset_id))
    return out


def posture_findings(org: Org, now: float) -> Expected:
    return (
        gpt_findings(org.gpts)
        | key_findings(org, now)
        | invite_findings(org.invites, now)
        | inactive_user_findings(org, now)
    )


def file_locations(org: Org) -> dict[str, set[str]]:
    """file id -> the DLP finding types its places imply (conversation, GPT, project)."""
    places: dict[str, set[str]] = {}
    for conversation in org.conversations:
        for message in _data(conversation.get("messages")):
            for file in _data(message.get("files")):
                places.setdefault(file["id"], set()).add(T["dlp_conversation"])
    for gpt in org.gpts:
        for file in _data((_latest_config(gpt) or {}).get("files")):
            places.setdefault(file["id"], set()).add(T["dlp_gpt"])
    for project in org.chatgpt_projects:
        for file in _data((_latest_config(project) or {}).get("files")):
            places.setdefault(file["id"], set()).add(T["dlp_project"])
    return places
