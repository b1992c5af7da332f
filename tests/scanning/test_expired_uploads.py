"""A chat upload that expires after a scan found values in it raises nothing at the next scan, just
as in a database without history (same org, same findings), and is reported as not scanned."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openai_casb.cli.demo_cmd import settings_for_emulator
from openai_casb.emulator import EmulatorConfig, load_snapshot, running_emulator
from openai_casb.policy import Policy
from openai_casb.scanning import ScanRequest, run_scan
from openai_casb.store import Store

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
WORKSPACE = "5f0e0ad7-f859-4a2b-9c1d-000000000001"
USER = {"object": "compliance.workspace.user", "id": "user-A", "email": "ann@example.com", "name": "Ann",
        "created_at": NOW.timestamp() - 86400 * 30, "role": "standard-user", "status": "active"}


def _snapshot(expired: bool) -> dict[str, Any]:
    listed: dict[str, Any] = {"object": "compliance.workspace.conversation.message.file", "id": "file-card",
                              "name": "cards.txt", "created_at": NOW.timestamp() - 3600}
    if expired:
        listed["created_at"] = None  # as the Compliance API lists an expired chat upload
    message = {
        "object": "compliance.workspace.conversation.message", "id": "m-1", "parent_id": None,
        "created_at": NOW.timestamp() - 3600, "gpt_id": None, "project_id": None,
        "author": {"object": "compliance.workspace.conversation.message.author", "role": "user", "tool_name": None},
        "content": {"object": "compliance.workspace.conversation.message.content", "type": "text",
                    "value": "see file", "annotations": []},
        "files": {"object": "list", "has_more": False, "data": [listed]},
    }
    conversation = {
        "object": "compliance.workspace.conversation", "id": "00000009-0000-4000-8000-000000000000",
        "workspace_id": WORKSPACE, "user_id": USER["id"], "user_email": USER["email"],
        "created_at": NOW.timestamp() - 3600, "last_active_at": NOW.timestamp() - 60, "title": "cards",
        "messages": {"object": "list", "has_more": False, "data": [copy.deepcopy(message)]},
    }
    content = base64.b64encode(b"card 4716 2810 3355 7292\n").decode()
    return {
        "workspace": {"id": WORKSPACE},
        "compliance": {"users": [USER], "conversations": [conversation]},
        "files": {"file-card": {"name": "cards.txt", "content_base64": content, "expired": expired}},
    }


def _scan(tmp_path: Path, db: Path, expired: bool) -> list[tuple[str, str]]:
    path = tmp_path / f"snapshot-{expired}.json"
    path.write_text(json.dumps(_snapshot(expired)))
    with running_emulator(load_snapshot(path), EmulatorConfig(rate_limit_scale=100)) as emulator, \
            Store.open(str(db)) as store:
        settings = settings_for_emulator(emulator)
        asyncio.run(run_scan(store, ScanRequest(settings=settings, policy=Policy(), full=True), now=NOW))
        views = store.list_instances(limit=100, status=("active", "hidden", "resolved"))
        return sorted((v.asset_id, str(v.status)) for v in views if v.asset_kind == "conversation_file")


def test_an_upload_expired_since_the_last_scan_raises_nothing(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    assert _scan(tmp_path, db, expired=False) == [("file-card", "active")]
    assert _scan(tmp_path, db, expired=True) == [("file-card", "resolved")]
    assert _scan(tmp_path, tmp_path / "fresh.db", expired=True) == []
