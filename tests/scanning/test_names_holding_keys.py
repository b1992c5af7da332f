"""Names come from users of the workspace: a GPT named `Risk-assessment-...` is not a key, and a
conversation titled with a real key is stored redacted. Neither stops the scan (a scan that any
user could abort by naming a GPT would blind the security team)."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from datetime import UTC, datetime
from pathlib import Path

from openai_casb.cli.demo_cmd import settings_for_emulator
from openai_casb.emulator import EmulatorConfig, generate_org, load_snapshot, running_emulator
from openai_casb.policy import Policy
from openai_casb.scanning import ScanRequest, run_scan
from openai_casb.store import Store

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TITLE_KEY = "sk-proj-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeT3BlbkFJaBcDeFgHiJkLmNoPqRsTuV"
GPT_NAME = "Risk-assessment-helper-bot"
CARD = "4716 2810 3355 7292"


def _snapshot(tmp_path: Path) -> Path:
    org = generate_org("users=2,gpts=1,conversations=1,files=1", seed=5, now=NOW)
    gpt = copy.deepcopy(org.gpts.item(0))
    gpt["sharing"]["visibility"] = "anyone-with-link"
    gpt["latest_config"]["data"][0]["name"] = GPT_NAME
    owner = org.compliance_users.item(0)
    conversation = {
        "object": "compliance.workspace.conversation", "id": "00000009-0000-4000-8000-000000000000",
        "workspace_id": org.workspace_id, "user_id": owner["id"], "user_email": owner["email"],
        "created_at": NOW.timestamp() - 3600, "last_active_at": NOW.timestamp() - 60,
        "title": f"deploy notes {TITLE_KEY}",
        "messages": {"object": "list", "has_more": False, "data": [{
            "object": "compliance.workspace.conversation.message", "id": "m-1", "parent_id": None,
            "created_at": NOW.timestamp() - 3600, "gpt_id": None, "project_id": None,
            "author": {"object": "compliance.workspace.conversation.message.author", "role": "user",
                       "tool_name": None},
            "content": {"object": "compliance.workspace.conversation.message.content", "type": "text",
                        "value": "see file", "annotations": []},
            "files": {"object": "list", "has_more": False, "data": [
                {"object": "compliance.workspace.conversation.message.file", "id": "file-card",
                 "name": "cards.txt", "created_at": NOW.timestamp() - 3600}]},
        }]},
    }
    data = {
        "workspace": {"id": org.workspace_id},
        "compliance": {"users": [org.compliance_users.item(i) for i in range(len(org.compliance_users))],
                       "gpts": [gpt], "conversations": [conversation]},
        "files": {"file-card": {"name": "cards.txt",
                                "content_base64": base64.b64encode(f"card {CARD}\n".encode()).decode()}},
    }
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(data))
    return path


def test_names_holding_key_shapes_neither_abort_nor_leak(tmp_path: Path) -> None:
    org = load_snapshot(_snapshot(tmp_path))
    db = tmp_path / "names.db"
    with running_emulator(org, EmulatorConfig(rate_limit_scale=100)) as emulator, Store.open(str(db)) as store:
        result = asyncio.run(run_scan(store, ScanRequest(settings=settings_for_emulator(emulator),
                                                         policy=Policy()), now=NOW))
        instances = [store.get_instance(view.id).instance for view in store.list_instances(limit=1000)]
    assert result.summary.status in {"complete", "partial"}, result.summary
    stored = repr([(i.asset_name, i.asset_metadata, i.evidence) for i in instances])
    assert TITLE_KEY not in stored
    assert TITLE_KEY[8:40] not in stored
    assert "deploy notes sk-proj...TuV" in stored  # the title is kept, its key redacted
    gpt_names = {i.asset_name for i in instances if i.asset_kind == "gpt"}
    assert any(name and GPT_NAME in name for name in gpt_names), gpt_names
    assert any(i.asset_kind == "conversation_file" for i in instances)


def test_names_and_emails_that_start_with_sk_are_kept_while_keys_beside_them_are_masked(tmp_path: Path) -> None:
    """`sk-learning-...` is a name and `sk-learning-team-members@...` an address that routes the
    finding: neither has a key's structure, so neither is masked (docs/dlp.md); the key in the
    conversation title still is."""
    email, gpt_name = "sk-learning-team-members@example.com", "sk-learning-companion-for-kids"
    data = json.loads(_snapshot(tmp_path).read_text())
    data["compliance"]["gpts"][0]["latest_config"]["data"][0]["name"] = gpt_name
    data["admin"] = {"invites": [{
        "object": "organization.invite", "id": "invite-sk", "email": email, "role": "owner",
        "status": "pending", "created_at": int(NOW.timestamp()) - 40 * 86400,
        "expires_at": int(NOW.timestamp()) - 33 * 86400, "accepted_at": None, "projects": []}]}
    snapshot = tmp_path / "named.json"
    snapshot.write_text(json.dumps(data))
    with running_emulator(load_snapshot(snapshot), EmulatorConfig(rate_limit_scale=100)) as emulator, \
            Store.open(str(tmp_path / "named.db")) as store:
        asyncio.run(run_scan(store, ScanRequest(settings=settings_for_emulator(emulator), policy=Policy()), now=NOW))
        instances = [store.get_instance(view.id).instance for view in store.list_instances(limit=1000)]
    stored = repr([(i.asset_name, i.asset_email, i.asset_metadata, i.evidence) for i in instances])
    assert email in stored
    assert gpt_name in stored
    assert "sk...ers@" not in stored
    assert "sk...ids" not in stored
    assert TITLE_KEY not in stored
    assert "deploy notes sk-proj...TuV" in stored
