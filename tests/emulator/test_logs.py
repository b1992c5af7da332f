"""Compliance Logs Platform: log files by time window, JSON Lines of conversation messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from openai_casb.emulator import Org

from .conftest import Api


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def test_walk_all_log_files_by_time(api: Api, org: Org) -> None:
    # Messages are filed at their own time, which can be days before their conversation's last update.
    after = iso(min(m["created_at"] for c in org.conversations for m in c["messages"]["data"]) - 7200)
    files, pages = [], 0
    while True:
        body = api.compliance("/logs", event_type="CONVERSATION_MESSAGE", after=after, limit=5).json()
        pages += 1
        files += body["data"]
        after = body["last_end_time"]
        if not body["has_more"]:
            break
    assert pages > 1
    ids = [f["id"] for f in files]
    assert len(ids) == len(set(ids))
    records = []
    for log_file in files:
        response = api.compliance(f"/logs/{log_file['id']}")
        assert response.status_code == 200
        records += [json.loads(line) for line in response.text.splitlines()]
    expected = sum(len(c["messages"]["data"]) for c in org.conversations)
    assert len(records) == expected
    assert {r["type"] for r in records} == {"CONVERSATION_MESSAGE"}
    assert len({r["event_id"] for r in records}) == expected
    first = records[0]
    assert set(first) == {"event_id", "type", "principal", "actor", "timestamp", "message", "conversation"}
    assert first["principal"] == {"id": org.workspace_id, "type": "CHATGPT_WORKSPACE"}
    assert first["actor"]["type"] == "ACCOUNT_USER"


def test_after_is_exclusive_of_older_windows(api: Api, org: Org) -> None:
    pivot = org.conversation_update_time(100)
    body = api.compliance("/logs", event_type="CONVERSATION_MESSAGE", after=iso(pivot)).json()
    assert body["data"]
    assert all(datetime.fromisoformat(f["end_time"]).timestamp() > pivot for f in body["data"])


def test_other_event_types_list_nothing_and_bad_queries_are_400(api: Api) -> None:
    empty = api.compliance("/logs", event_type="AUDIT_LOG", after="2026-01-01T00:00:00Z").json()
    assert empty == {"object": "list", "data": [], "has_more": False, "last_end_time": "2026-01-01T00:00:00Z"}
    assert api.compliance("/logs", event_type="NOPE", after="2026-01-01T00:00:00Z").status_code == 400
    assert api.compliance("/logs", event_type="AUDIT_LOG").status_code == 400
    assert api.compliance("/logs", after="2026-01-01T00:00:00Z").status_code == 400
    assert api.compliance("/logs", event_type="AUDIT_LOG", after="yesterday").status_code == 400
    assert api.compliance("/logs/log_conversation_message_123").status_code == 404


def test_organization_scope(api: Api, org: Org) -> None:
    from .conftest import COMPLIANCE_KEY

    headers = {"Authorization": f"Bearer {COMPLIANCE_KEY}"}
    params = {"event_type": "CONVERSATION_MESSAGE", "after": "2020-01-01T00:00:00Z"}
    ok = api.http.get(f"/v1/compliance/organizations/{org.organization_id}/logs", params=params, headers=headers)
    assert ok.status_code == 200
    assert ok.json()["data"]
    missing = api.http.get("/v1/compliance/organizations/org-other/logs", params=params, headers=headers)
    assert missing.status_code == 404
