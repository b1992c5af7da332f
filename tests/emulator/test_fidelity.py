"""Every body the emulator serves validates against OpenAI's own schemas, and the specs' examples
are served back unchanged."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from openai_casb.emulator import Org, org_from_dict

from .conftest import SHARED, Api, assert_valid, platform_spec

WS = "/compliance/workspaces/{workspace_id}"


def walk(fetch: Callable[..., Any], path: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of a list endpoint, returning the bodies."""
    bodies = []
    after = None
    while True:
        response = fetch(path, **params, **({"after": after} if after else {}))
        assert response.status_code == 200, response.text
        body = response.json()
        bodies.append(body)
        if not body["has_more"]:
            return bodies
        after = body["last_id"]


def test_admin_bodies_validate(api: Api, org: Org) -> None:
    checks = [
        ("/users", "/organization/users", {}),
        ("/invites", "/organization/invites", {}),
        ("/projects", "/organization/projects", {"include_archived": "true"}),
        ("/admin_api_keys", "/organization/admin_api_keys", {}),
        ("/audit_logs", "/organization/audit_logs", {"limit": 100}),
    ]
    for path, spec_path, params in checks:
        for body in walk(api.admin, path, **params):
            assert_valid("admin", spec_path, body)
    first_user = org.users.item(0)["id"]
    assert_valid("admin", "/organization/users/{user_id}", api.admin(f"/users/{first_user}").json())
    assert_valid(
        "admin", "/organization/invites/{invite_id}", api.admin(f"/invites/{org.invites.item(0)['id']}").json()
    )
    key_id = org.admin_api_keys.item(0)["id"]
    assert_valid("admin", "/organization/admin_api_keys/{key_id}", api.admin(f"/admin_api_keys/{key_id}").json())
    for project in org.projects:
        pid = project["id"]
        assert_valid("admin", "/organization/projects/{project_id}", api.admin(f"/projects/{pid}").json())
        keys = walk(api.admin, f"/projects/{pid}/api_keys", owner_project_access="any", limit=2)
        for body in keys:
            assert_valid("admin", "/organization/projects/{project_id}/api_keys", body)
        key = keys[0]["data"][0]["id"]
        single = api.admin(f"/projects/{pid}/api_keys/{key}").json()
        assert_valid("admin", "/organization/projects/{project_id}/api_keys/{api_key_id}", single)
        if project["status"] == "archived":
            continue
        for body in walk(api.admin, f"/projects/{pid}/users"):
            assert_valid("admin", "/organization/projects/{project_id}/users", body)
            user = body["data"][0]["id"]
            assert_valid(
                "admin",
                "/organization/projects/{project_id}/users/{user_id}",
                api.admin(f"/projects/{pid}/users/{user}").json(),
            )
        for body in walk(api.admin, f"/projects/{pid}/service_accounts"):
            assert_valid("admin", "/organization/projects/{project_id}/service_accounts", body)
            account = body["data"][0]["id"]
            single = api.admin(f"/projects/{pid}/service_accounts/{account}").json()
            assert_valid("admin", "/organization/projects/{project_id}/service_accounts/{service_account_id}", single)


@pytest.mark.parametrize("file_format", ["url", "id"])
def test_compliance_bodies_validate(api: Api, org: Org, file_format: str) -> None:
    for body in walk(api.compliance, "/users", limit=7):
        assert_valid("compliance", f"{WS}/users", body)
    for body in walk(api.compliance, "/conversations", limit=50, file_format=file_format):
        assert_valid("compliance", f"{WS}/conversations", body)
    for kind, objects in (("gpts", org.gpts), ("projects", org.chatgpt_projects)):
        for body in walk(api.compliance, f"/{kind}", file_format=file_format):
            assert_valid("compliance", f"{WS}/{kind}", body)
        id_param = "gpt_id" if kind == "gpts" else "project_id"
        for obj in objects:
            oid = obj["id"]
            assert_valid(
                "compliance",
                f"{WS}/{kind}/{{{id_param}}}",
                api.compliance(f"/{kind}/{oid}", file_format=file_format).json(),
            )
            for body in walk(api.compliance, f"/{kind}/{oid}/configs", file_format=file_format):
                assert_valid("compliance", f"{WS}/{kind}/{{{id_param}}}/configs", body)
            for body in walk(api.compliance, f"/{kind}/{oid}/shared_users"):
                assert_valid("compliance", f"{WS}/{kind}/{{{id_param}}}/shared_users", body)


def test_file_format_id_gives_file_info_objects(api: Api) -> None:
    body = api.compliance("/conversations", file_format="id").json()
    files = [f for c in body["data"] for m in c["messages"]["data"] for f in m["files"]["data"]]
    assert files
    assert all(f["object"] == "compliance.workspace.conversation.message.file_info" for f in files)
    assert all(set(f) == {"object", "id", "name", "user_id"} for f in files)


# --- the specs' own examples, served back unchanged --------------------------------------------


def _admin_example_items(spec_path: str) -> list[dict[str, Any]]:
    example = platform_spec()["paths"][spec_path]["get"]["x-oaiMeta"]["examples"]["response"]
    try:
        parsed = json.loads(example)
    except json.JSONDecodeError:
        # Some spec examples carry trailing commas; YAML's flow syntax reads them as written.
        parsed = yaml.safe_load(example)
    items: list[dict[str, Any]] = parsed.get("data", [parsed])
    return items


def test_platform_spec_examples_served_unchanged(make_api: Callable[..., Api]) -> None:
    users = _admin_example_items("/organization/users")
    invites = _admin_example_items("/organization/invites")
    admin_keys = _admin_example_items("/organization/admin_api_keys")
    audit = _admin_example_items("/organization/audit_logs")
    projects = _admin_example_items("/organization/projects")
    project_users = _admin_example_items("/organization/projects/{project_id}/users")
    accounts = _admin_example_items("/organization/projects/{project_id}/service_accounts")
    keys = _admin_example_items("/organization/projects/{project_id}/api_keys")
    snapshot = {
        "admin": {
            "users": users,
            "invites": invites,
            "admin_api_keys": admin_keys,
            "audit_logs": audit,
            "projects": [
                {"project": projects[0], "users": project_users, "service_accounts": accounts, "api_keys": keys}
            ],
        }
    }
    api = make_api(org_from_dict(json.loads(json.dumps(snapshot))))
    pid = projects[0]["id"]
    served = {
        "users": api.admin("/users").json()["data"],
        "invites": api.admin("/invites").json()["data"],
        "admin_api_keys": api.admin("/admin_api_keys").json()["data"],
        "audit_logs": api.admin("/audit_logs").json()["data"],
        "project_users": api.admin(f"/projects/{pid}/users").json()["data"],
        "accounts": api.admin(f"/projects/{pid}/service_accounts").json()["data"],
        "keys": api.admin(f"/projects/{pid}/api_keys", owner_project_access="any").json()["data"],
    }
    assert served["users"] == users
    assert served["invites"] == invites
    assert served["admin_api_keys"] == admin_keys
    assert sorted(served["audit_logs"], key=lambda e: e["id"]) == sorted(audit, key=lambda e: e["id"])
    assert served["project_users"] == project_users
    assert served["accounts"] == accounts
    assert served["keys"] == keys
    assert api.admin(f"/projects/{pid}").json() == projects[0]


def _doc_example(label: str) -> dict[str, Any]:
    text = (SHARED / "docs" / "openai-apis.md").read_text()
    match = re.search(rf"\*\*{label}\..*?```json\n(.*?)\n```", text, re.S)
    assert match, label
    parsed: dict[str, Any] = json.loads(match.group(1))
    return parsed


def test_compliance_doc_examples_served_unchanged(make_api: Callable[..., Api]) -> None:
    users = _doc_example("E10")["data"]
    gpts = _doc_example("E11")["data"]
    projects = _doc_example("E12")["data"]
    conversations = _doc_example("E13")["data"]
    workspace = conversations[0]["workspace_id"]
    snapshot = {
        "workspace": {"id": workspace},
        "compliance": {"users": users, "gpts": gpts, "projects": projects, "conversations": conversations},
    }
    api = make_api(org_from_dict(json.loads(json.dumps(snapshot))))
    assert api.compliance("/users").json()["data"] == users
    assert api.compliance("/gpts").json()["data"] == gpts
    assert api.compliance("/projects").json()["data"] == projects
    assert api.compliance("/conversations").json()["data"] == conversations
    assert api.compliance(f"/gpts/{gpts[0]['id']}").json() == gpts[0]
