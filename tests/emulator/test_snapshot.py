"""Loading snapshots, and clear errors for bad ones."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from openai_casb.emulator import SnapshotError, load_snapshot

from .conftest import Api

WORKSPACE = "0b7e3c1a-1111-4222-8333-444455556666"


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(data))
    return path


def test_minimal_and_empty_snapshot(tmp_path: Path, make_api: Callable[..., Api]) -> None:
    org = load_snapshot(write(tmp_path, {}))
    api = make_api(org)
    assert api.admin("/users").json()["data"] == []
    assert api.compliance("/conversations").json() == {"object": "list", "data": [], "last_id": None, "has_more": False}


def test_snapshot_files_and_ordering(tmp_path: Path, make_api: Callable[..., Api]) -> None:
    conversations = [
        {
            "object": "compliance.workspace.conversation",
            "id": f"c{n}",
            "last_active_at": t,
            "user_id": "user-a",
            "messages": {
                "object": "list",
                "data": [
                    {
                        "id": f"m{n}",
                        "files": {
                            "object": "list",
                            "data": [{"id": "file-a", "name": "a.txt", "created_at": 1.0}],
                            "has_more": False,
                        },
                    }
                ],
                "has_more": False,
            },
        }
        for n, t in ((1, 300.5), (2, 100.5), (3, 200.5))
    ]
    data = {
        "workspace": {"id": WORKSPACE},
        "admin": {
            "audit_logs": [
                {"id": "a1", "type": "login.succeeded", "effective_at": 10},
                {"id": "a2", "type": "login.succeeded", "effective_at": 30},
            ]
        },
        "compliance": {"conversations": conversations},
        "files": {
            "file-a": {"name": "a.txt", "content_base64": base64.b64encode(b"hello").decode()},
            "file-old": {"name": "b.txt", "content_base64": "", "expired": True},
        },
    }
    api = make_api(load_snapshot(write(tmp_path, data)))
    assert [c["id"] for c in api.compliance("/conversations").json()["data"]] == ["c2", "c3", "c1"]
    assert [e["id"] for e in api.admin("/audit_logs").json()["data"]] == ["a2", "a1"]
    assert [c["id"] for c in api.compliance("/conversations", since_timestamp=200).json()["data"]] == ["c3", "c1"]
    listed = api.compliance("/conversations").json()["data"][0]["messages"]["data"][0]["files"]["data"][0]
    assert listed["download_url"].startswith("http://testserver/_files/file-a?")
    assert api.http.get(listed["download_url"]).content == b"hello"
    assert api.compliance("/users/user-a/files/file-old").status_code == 410


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2]", "must be a JSON object"),
        ("{not json", "not valid JSON"),
        ('{"admin": {"users": {"id": "x"}}}', "admin.users must be a list"),
        ('{"admin": {"users": [3]}}', "admin.users[0] must be an object"),
        ('{"admin": {"projects": [{"users": []}]}}', "admin.projects[0].project"),
        ('{"files": {"f": {"content_base64": "%%%"}}}', "not valid base64"),
        ('{"compliance": []}', "compliance must be an object"),
    ],
)
def test_bad_snapshots_name_the_problem(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(SnapshotError, match=re.escape(message)):
        load_snapshot(path)


def test_missing_snapshot_file(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="not found"):
        load_snapshot(tmp_path / "nope.json")
