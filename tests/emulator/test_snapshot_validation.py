"""Hostile or mistaken snapshots stop with a SnapshotError naming the place, never another exception."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from openai_casb.emulator import SnapshotError, load_snapshot, org_from_dict

from .conftest import Api

WORKSPACE = "0b7e3c1a-1111-4222-8333-444455556666"


def _load_text(tmp_path: Path, text: str) -> None:
    path = tmp_path / "snapshot.json"
    path.write_text(text)
    load_snapshot(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # Nesting deeper than the JSON parser's recursion limit.
        ('{"admin": {"users": ' + "[" * 100_000 + "]" * 100_000 + "}}", "nested too deeply"),
        # Nesting the parser takes but no API object has (and the server could not encode).
        (
            '{"compliance": {"gpts": [{"id": "g", "x": ' + '{"a": ' * 500 + "1" + "}" * 500 + "}]}}",
            "compliance.gpts[0].x",
        ),
        ('{"admin": {"users": [{"id": "u", "x": NaN}]}}', "NaN"),
        ('{"admin": {"users": [{"id": "u", "x": -Infinity}]}}', "Infinity"),
        ('{"admin": {"users": [{"id": "u", "x": ' + "9" * 5000 + "}]}}", "not valid JSON"),
    ],
)
def test_hostile_json_is_refused_with_a_message(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SnapshotError, match=re.escape(message)):
        _load_text(tmp_path, text)


def test_python_values_that_are_not_json_are_refused() -> None:
    with pytest.raises(SnapshotError, match=re.escape("admin.users[0].x must be a finite number")):
        org_from_dict({"admin": {"users": [{"id": "u", "x": float("nan")}]}})
    with pytest.raises(SnapshotError, match=re.escape("admin.users[0].tags is a set, not a JSON value")):
        org_from_dict({"admin": {"users": [{"id": "u", "tags": {"a"}}]}})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"files": {"f": {"planted": [1]}}}, "files.f.planted[0] must be a [kind, value] pair of strings"),
        ({"files": {"f": {"planted": [["a", "b", "c"]]}}}, "files.f.planted[0] must be a [kind, value] pair"),
        ({"files": {"f": {"planted": "credit_card"}}}, "files.f.planted must be a list"),
        ({"files": {"f": {"expired": "false"}}}, "files.f.expired must be true or false, got str"),
        ({"files": {"f": {"name": 5}}}, "files.f.name must be a string, got int"),
        ({"organization": {"id": 5}}, "organization.id must be a string, got int"),
        ({"organization": {"name": {}}}, "organization.name must be a string, got dict"),
        ({"workspace": {"id": [1]}}, "workspace.id must be a string, got list"),
    ],
)
def test_wrong_types_name_the_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(SnapshotError, match=re.escape(message)):
        org_from_dict(data)


def test_valid_fields_are_read() -> None:
    org = org_from_dict(
        {
            "organization": {"id": "org-a", "name": "Acme"},
            "workspace": {"id": WORKSPACE},
            "files": {"f": {"name": "a.txt", "expired": True, "planted": [["ssn", "123-45-6789"]]}},
        }
    )
    assert (org.organization_id, org.organization_name, org.workspace_id) == ("org-a", "Acme", WORKSPACE)
    stored = org.files.get("f")
    assert stored is not None
    assert stored.expired
    assert stored.name == "a.txt"
    assert org.planted_files() == {"f": [("ssn", "123-45-6789")]}


def test_cli_reports_a_hostile_snapshot_without_a_traceback(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from openai_casb.cli.emulator_cmd import register

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command keeps `emulator` a subcommand
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    result = CliRunner().invoke(app, ["emulator", "--snapshot", str(path), "--port", "0"])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "nested too deeply" in result.output


def test_snapshot_text_round_trips_through_json(tmp_path: Path) -> None:
    # A realistic, moderately nested object is served as written.
    gpt = {"id": "g-1", "latest_config": {"object": "list", "data": [{"tools": {"data": [{"type": "x"}]}}]}}
    path = tmp_path / "ok.json"
    path.write_text(json.dumps({"compliance": {"gpts": [gpt]}}))
    assert load_snapshot(path).gpts.get("g-1") == gpt


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"admin": {"users": [{"id": "a"}, {"id": "b"}, {"id": "a"}]}}, "admin.users[2].id 'a' repeats admin.users[0]"),
        (
            {"admin": {"projects": [{"project": {"id": "p"}}, {"project": {"id": "p"}}]}},
            "admin.projects[1].project.id 'p' repeats admin.projects[0]",
        ),
        (
            {"admin": {"projects": [{"project": {"id": "p"}, "api_keys": [{"id": "k"}, {"id": "k"}]}]}},
            "admin.projects[0].api_keys[1].id 'k' repeats",
        ),
        (
            {"compliance": {"gpts": [{"id": "g", "latest_config": {"data": [{"id": "v"}, {"id": "v"}]}}]}},
            "compliance.gpts[0].latest_config.data[1].id 'v' repeats",
        ),
        (
            {"compliance": {"projects": [{"id": "g-p-1", "configs": [{"id": "v"}, {"id": "v"}]}]}},
            "compliance.projects[0].configs[1].id 'v' repeats",
        ),
        (
            {"compliance": {"gpts": [{"id": "g", "shared_users": [{"id": "u"}, {"id": "u"}]}]}},
            "compliance.gpts[0].shared_users[1].id 'u' repeats",
        ),
        (
            {"compliance": {"conversations": [{"id": "c", "last_active_at": 2}, {"id": "c", "last_active_at": 1}]}},
            "compliance.conversations[1].id 'c' repeats compliance.conversations[0]",
        ),
    ],
)
def test_repeated_ids_are_refused(data: dict[str, Any], message: str) -> None:
    # `after=<id>` pages from the first object with that id, so a repeated id makes a client page forever.
    with pytest.raises(SnapshotError, match=re.escape(message)):
        org_from_dict(data)


def test_same_member_in_two_projects_is_fine() -> None:
    member = {"id": "user-a"}
    org = org_from_dict(
        {
            "admin": {
                "projects": [{"project": {"id": "p1"}, "users": [member]}, {"project": {"id": "p2"}, "users": [member]}]
            }
        }
    )
    for project_id in ("p1", "p2"):
        members = org.project_members(project_id)
        assert members is not None
        assert members.users.get("user-a") == member


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"admin": {"audit_logs": [{"id": "a", "effective_at": "2024-01-01T00:00:00Z"}]}},
            "admin.audit_logs[0].effective_at must be integer Unix seconds (as the Admin API has them), got str",
        ),
        (
            {"admin": {"users": [{"id": "u", "added_at": 1700000000.5}]}},
            "admin.users[0].added_at must be integer Unix seconds",
        ),
        (
            {"admin": {"projects": [{"project": {"id": "p", "archived_at": "2024-01-01"}}]}},
            "admin.projects[0].project.archived_at must be integer Unix seconds",
        ),
        (
            {"admin": {"projects": [{"project": {"id": "p"}, "api_keys": [{"id": "k", "last_used_at": True}]}]}},
            "admin.projects[0].api_keys[0].last_used_at must be integer Unix seconds",
        ),
        (
            {"compliance": {"conversations": [{"id": "c", "last_active_at": "2024-01-01T00:00:00Z"}]}},
            "compliance.conversations[0].last_active_at must be Unix seconds (as the Compliance API has them), got str",
        ),
        (
            {"compliance": {"conversations": [{"id": "c", "last_active_at": 10**400}]}},
            "compliance.conversations[0].last_active_at must be Unix seconds",
        ),
        (
            {"compliance": {"conversations": [{"id": "c", "messages": {"data": [{"id": "m", "created_at": "x"}]}}]}},
            "compliance.conversations[0].messages.data[0].created_at must be Unix seconds",
        ),
        (
            {"compliance": {"gpts": [{"id": "g", "created_at": "2024-01-01"}]}},
            "compliance.gpts[0].created_at must be Unix seconds",
        ),
    ],
)
def test_timestamps_must_be_unix_seconds(data: dict[str, Any], message: str) -> None:
    with pytest.raises(SnapshotError, match=re.escape(message)):
        org_from_dict(data)


def test_timestamps_in_the_apis_forms_are_served_as_written(make_api: Callable[..., Api]) -> None:
    conversation = {"id": "c", "created_at": 1.5, "last_active_at": 1700000000.25, "messages": [{"created_at": None}]}
    event = {"id": "a", "effective_at": 1700000000}
    org = org_from_dict(
        {
            "admin": {"audit_logs": [event], "invites": [{"id": "i", "expires_at": None, "accepted_at": None}]},
            "compliance": {"conversations": [conversation]},
        }
    )
    api = make_api(org)
    assert api.admin("/audit_logs").json()["data"] == [event]
    assert api.compliance("/conversations").json()["data"] == [conversation]


def test_a_listed_file_missing_from_files_answers_410(make_api: Callable[..., Api]) -> None:
    # org-snapshot.md: "A file whose entry in `files` is missing or has "expired": true answers 410 on download".
    def files(file_id: str) -> dict[str, Any]:
        return {"object": "list", "data": [{"id": file_id, "name": "a.txt", "created_at": 1.0}], "has_more": False}

    org = org_from_dict(
        {
            "workspace": {"id": WORKSPACE},
            "compliance": {
                "gpts": [{"id": "g-1", "latest_config": {"object": "list", "data": [{"files": files("file-gpt")}]}}],
                "projects": [{"id": "g-p-1", "configs": [{"files": [files("file-x")["data"][0]]}]}],
                "conversations": [
                    {"id": "c1", "user_id": "user-a", "messages": {"data": [{"id": "m1", "files": files("file-chat")}]}}
                ],
            },
        }
    )
    api = make_api(org)
    for path in ("/gpt_files/file-gpt", "/project_files/file-x", "/users/user-a/files/file-chat"):
        response = api.compliance(path)
        assert response.status_code == 410, path
        assert response.json()["error"]["code"] == "file_expired"
    assert api.compliance("/gpt_files/file-never-listed").status_code == 404


def test_a_snapshot_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"admin": {"users": [{"id": f"user-{n}"} for n in range(1000)]}}))
    with pytest.raises(SnapshotError, match=re.escape(f"snapshot {path} is larger than 1000 bytes")):
        load_snapshot(path, max_bytes=1000)
    assert len(load_snapshot(path).users) == 1000


def test_a_snapshot_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)  # opening it would block until a writer came
    with pytest.raises(SnapshotError, match=re.escape(f"snapshot {fifo} is not a regular file")):
        load_snapshot(fifo)


def test_configs_are_served_newest_first(make_api: Callable[..., Api]) -> None:
    # Spec: "List all versions of configurations for the GPT in descending order of updated time."
    configs = [
        {"id": "v1", "created_at": 1.0},
        {"id": "v3", "created_at": 3.0},
        {"id": "v2", "created_at": 2.0},
        {"id": "v0"},  # no time: after the timed ones, in the file's order
    ]
    api = make_api(
        org_from_dict(
            {
                "workspace": {"id": WORKSPACE},
                "compliance": {
                    "gpts": [{"id": "g-1", "configs": configs}],
                    "projects": [{"id": "g-p-1", "configs": configs}],
                },
            }
        )
    )
    for path in ("/gpts/g-1/configs", "/projects/g-p-1/configs"):
        assert [c["id"] for c in api.compliance(path).json()["data"]] == ["v3", "v2", "v1", "v0"]
        second = api.compliance(path, after="v2", limit=1).json()
        assert [c["id"] for c in second["data"]] == ["v1"]
        assert second["has_more"] is True
