"""A small in-process fake of both APIs for httpx.MockTransport: pagination, files, logs, faults."""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import SecretStr

from openai_casb.config import Settings, load_settings
from openai_casb.connectors.http import ApiClient
from openai_casb.connectors.ratelimit import RollingWindowLimiter
from openai_casb.connectors.retry import RetryPolicy

ADMIN_KEY = "sk-admin-PLANTEDsecretAdminKey0123456789xyz"
COMPLIANCE_KEY = "sk-comp-PLANTEDsecretComplianceKey987654321abc"
WORKSPACE = "0b7e5b8e-1111-4222-8333-944445555666"


async def no_wait(_seconds: float) -> None:
    """A sleep that returns at once: quota and retry waits cost nothing in these tests."""
    return None


def mock_client(
    key: str,
    transport: httpx.AsyncBaseTransport,
    *,
    name: str = "admin",
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], Awaitable[None]] = no_wait,
    quota: int = 1000,
    seed: int = 1,
) -> ApiClient:
    """An ApiClient of `name` at http://api.test/v1 over `transport`: a wide quota, seeded jitter,
    and waits (quota and retries) through `sleep`, free by default."""
    return ApiClient(
        name=name,
        base_url="http://api.test/v1",
        key=SecretStr(key),
        quota_for=lambda _t: quota,
        limiter=RollingWindowLimiter(60.0, sleep=sleep),
        policy=policy or RetryPolicy(max_retries=2, budget_seconds=10),
        transport=transport,
        sleep=sleep,
        rng=random.Random(seed),
    )


def fake_settings(**extra: Any) -> Settings:
    """Settings pointing both clients at the fake API (FakeApi's transport), plus `extra`."""
    base: dict[str, Any] = {
        "admin_key": ADMIN_KEY,
        "compliance_key": COMPLIANCE_KEY,
        "workspace_id": WORKSPACE,
        "admin_base_url": "http://fake.test/v1",
        "compliance_base_url": "http://fake.test/v1",
    }
    return load_settings({**base, **extra}, None, {})
WS = f"/v1/compliance/workspaces/{WORKSPACE}"


def org_fixture() -> dict[str, Any]:
    """A small org in the APIs' own shapes (from openai-apis.md examples)."""
    return {
        "users": [
            {
                "object": "organization.user",
                "id": "user_abc",
                "name": "Alice",
                "email": "Alice@example.com",
                "role": "owner",
                "added_at": 1711471533,
                "created": 1711470000,
                "is_service_account": False,
                "api_key_last_used_at": 1714063533,
                "user": {"object": "user", "id": "user_abc", "enabled": True, "banned": False},
            },
            {
                "object": "organization.user",
                "id": "user_def",
                "name": "Reader",
                "email": "r@example.com",
                "role": "reader",
                "added_at": 1690000000,
                "api_key_last_used_at": None,
            },
        ],
        "invites": [
            {
                "object": "organization.invite",
                "id": "invite-def",
                "email": "new@example.com",
                "role": "reader",
                "status": "pending",
                "created_at": 1711471533,
                "expires_at": None,
                "accepted_at": None,
                "projects": [{"id": "proj_abc", "role": "owner"}],
            },
        ],
        "admin_api_keys": [
            {
                "object": "organization.admin_api_key",
                "id": "key_adm",
                "name": "Main",
                "redacted_value": "sk-admin...def",
                "created_at": 1711471533,
                "expires_at": None,
                "last_used_at": 1711471534,
                "owner": {
                    "type": "service_account",
                    "object": "organization.service_account",
                    "id": "svc_1",
                    "name": "bot",
                    "role": "member",
                    "created_at": 1711471533,
                },
            },
        ],
        "projects": [
            {
                "id": "proj_abc",
                "object": "organization.project",
                "name": "Example",
                "created_at": 1711471533,
                "archived_at": None,
                "status": "active",
            },
            {
                "id": "proj_old",
                "object": "organization.project",
                "name": "Old",
                "created_at": 1690000000,
                "archived_at": 1700000000,
                "status": "archived",
            },
        ],
        "project_api_keys": {
            "proj_abc": [
                {
                    "object": "organization.project.api_key",
                    "redacted_value": "sk-abc...def",
                    "name": "K1",
                    "created_at": 1711471533,
                    "last_used_at": 1711471534,
                    "id": "key_abc",
                    "owner_project_access": "active",
                    "owner": {
                        "type": "user",
                        "user": {
                            "id": "user_abc",
                            "name": "Alice",
                            "email": "alice@example.com",
                            "role": "owner",
                            "created_at": 1711471533,
                        },
                    },
                },
                {
                    "object": "organization.project.api_key",
                    "redacted_value": "sk-svc...xyz",
                    "name": "K2",
                    "created_at": 1680000000,
                    "last_used_at": None,
                    "id": "key_svc",
                    "owner_project_access": "inactive",
                    "owner": {
                        "type": "service_account",
                        "service_account": {
                            "id": "svc_acct_abc",
                            "name": "App",
                            "created_at": 1680000000,
                            "role": "member",
                        },
                    },
                },
            ],
            "proj_old": [],
        },
        "audit_logs": [
            {
                "id": "audit_log-a",
                "type": "login.succeeded",
                "effective_at": 1720804090,
                "actor": {"type": "session", "session": {"user": {"id": "user_abc", "email": "alice@example.com"}}},
                "login.succeeded": {},
            },
            {
                "id": "audit_log-b",
                "type": "login.succeeded",
                "effective_at": 1720000000,
                "actor": {"type": "session", "session": {"user": {"id": "user_def", "email": "r@example.com"}}},
                "login.succeeded": {},
            },
        ],
        "ws_users": [
            {
                "object": "compliance.workspace.user",
                "id": "user-AAAA",
                "email": "alice@example.com",
                "name": "Alice",
                "created_at": 1718000000.12,
                "role": "account-owner",
                "status": "active",
            },
            {
                "object": "compliance.workspace.user",
                "id": "user-BBBB",
                "email": "bob@example.com",
                "name": "Bob",
                "created_at": 1718001000.5,
                "role": "standard-user",
                "status": "inactive",
            },
        ],
        "gpts": [
            {
                "object": "compliance.workspace.gpt",
                "id": "g-abc123",
                "created_at": 1716990000.1,
                "owner_id": "user-AAAA",
                "owner_email": "alice@example.com",
                "builder_name": "Community Builder",
                "sharing": {
                    "visibility": "anyone-with-link",
                    "recipients": {"object": "list", "data": [], "has_more": False},
                },
                "latest_config": {
                    "object": "list",
                    "last_id": "gzm_cnf_1",
                    "has_more": False,
                    "data": [
                        {
                            "id": "gzm_cnf_1",
                            "name": "Sales Helper",
                            "created_at": 1716990001.0,
                            "files": {
                                "object": "list",
                                "data": [
                                    {
                                        "id": "file-1",
                                        "name": "pricing.pdf",
                                        "created_at": 1716990002.0,
                                        "download_url": None,
                                    }
                                ],
                            },
                            "tools": {
                                "object": "list",
                                "data": [
                                    {"type": "code_interpreter"},
                                    {"type": "custom_action", "action_domain": "api.example.com"},
                                ],
                            },
                        }
                    ],
                },
            },
            {"object": "compliance.workspace.gpt", "id": "g-third", "builder_name": "Someone"},
        ],
        "chatgpt_projects": [
            {
                "object": "compliance.workspace.project",
                "id": "g-p-123",
                "created_at": 1692158200.9,
                "owner_id": "user-AAAA",
                "owner_email": "alice@example.com",
                "builder_name": "Alice",
                "sharing": {"visibility": "invite-only", "recipients": []},
                "latest_config": [
                    {
                        "id": "pr_cnf_1",
                        "name": "EU",
                        "created_at": 1692158205.1,
                        "files": [{"id": "file-p1", "name": "eu.docx", "created_at": 1692158206.0}],
                        "tools": [{"type": "browser"}],
                    }
                ],
            },
        ],
        "conversations": [
            {
                "object": "compliance.workspace.conversation",
                "id": f"conv-{i}",
                "user_id": "user-AAAA" if i % 2 else "user-BBBB",
                "user_email": "alice@example.com" if i % 2 else "bob@example.com",
                "title": f"T{i}",
                "created_at": 1716990000.0 + i,
                "last_active_at": 1716993600.0 + i * 10,
                "messages": {
                    "object": "list",
                    "has_more": False,
                    "data": [
                        {
                            "id": "m1",
                            "parent_id": None,
                            "created_at": 1716990000.0 + i,
                            "files": {
                                "object": "list",
                                "data": [
                                    {
                                        "id": f"file-c{i}",
                                        "name": f"c{i}.txt",
                                        "created_at": 1716990000.0,
                                        "download_url": None,
                                    }
                                ],
                            },
                        }
                    ],
                },
            }
            for i in range(7)
        ],
        "files": {
            "file-1": b"price list",
            "file-p1": b"eu data",
            **{f"file-c{i}": f"chat {i}".encode() for i in range(7)},
        },
    }


def _page(items: list[dict[str, Any]], request: httpx.Request, default_limit: int, admin: bool) -> dict[str, Any]:
    limit = int(request.url.params.get("limit", default_limit))
    after = request.url.params.get("after")
    start = 0
    if after is not None:
        ids = [item["id"] for item in items]
        start = ids.index(after) + 1
    chunk = items[start : start + limit]
    body: dict[str, Any] = {
        "object": "list",
        "data": chunk,
        "last_id": chunk[-1]["id"] if chunk else None,
        "has_more": start + limit < len(items),
    }
    if admin:
        body["first_id"] = chunk[0]["id"] if chunk else None
    return body


@dataclass
class FakeApi:
    org: dict[str, Any] = field(default_factory=org_fixture)
    requests: list[httpx.Request] = field(default_factory=list)
    # Called first for every request; may return a response to inject a fault.
    fault: Callable[[httpx.Request], httpx.Response | None] | None = None
    conversations_gone: bool = False
    audit_disabled: bool = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fault is not None:
            injected = self.fault(request)
            if injected is not None:
                return injected
        path = request.url.path
        host = request.url.host
        if host == "files.example":
            return httpx.Response(200, content=self.org["files"][path.strip("/")])
        auth = request.headers.get("authorization", "")
        if path.startswith("/v1/organization"):
            if auth != f"Bearer {ADMIN_KEY}":
                return httpx.Response(
                    401,
                    json={
                        "error": {
                            "message": "Incorrect API key provided: " + auth[7:],
                            "type": "invalid_request_error",
                            "code": "invalid_api_key",
                        }
                    },
                )
            return self._admin(request, path.removeprefix("/v1/organization"))
        if path.startswith(WS):
            if auth != f"Bearer {COMPLIANCE_KEY}":
                return httpx.Response(403, json={"error": {"message": "missing scope"}})
            return self._compliance(request, path.removeprefix(WS))
        return httpx.Response(404, json={"error": {"message": "The workspace was not found"}})

    def _admin(self, request: httpx.Request, path: str) -> httpx.Response:
        org = self.org
        lists = {"/users": "users", "/invites": "invites", "/admin_api_keys": "admin_api_keys", "/projects": "projects"}
        if path in lists:
            return httpx.Response(200, json=_page(org[lists[path]], request, 20, admin=True))
        if path == "/audit_logs":
            if self.audit_disabled:
                return httpx.Response(403, json={"error": {"message": "Audit logging is not enabled"}})
            assert request.url.params.get_list("event_types[]") == ["login.succeeded"]
            gte = int(request.url.params.get("effective_at[gte]", 0))
            events = [e for e in org["audit_logs"] if e["effective_at"] >= gte]
            return httpx.Response(200, json=_page(events, request, 20, admin=True))
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "projects":
            project = next((p for p in org["projects"] if p["id"] == parts[1]), None)
            if project is None:
                return httpx.Response(404, json={"error": {"message": "No such project"}})
            return httpx.Response(200, json=project)
        if len(parts) == 3 and parts[0] == "projects" and parts[2] == "api_keys":
            assert request.url.params.get("owner_project_access") == "any"
            return httpx.Response(200, json=_page(org["project_api_keys"][parts[1]], request, 20, admin=True))
        return httpx.Response(404, json={"error": {"message": "not found"}})

    def _compliance(self, request: httpx.Request, path: str) -> httpx.Response:
        org = self.org
        if path == "/users":
            return httpx.Response(200, json=_page(org["ws_users"], request, 200, admin=False))
        if path == "/gpts":
            return httpx.Response(200, json=_page(org["gpts"], request, 20, admin=False))
        if path == "/projects":
            return httpx.Response(200, json=_page(org["chatgpt_projects"], request, 20, admin=False))
        if path == "/conversations":
            if self.conversations_gone:
                return httpx.Response(404, json={"error": {"message": "Not Found"}})
            params = request.url.params
            if "since_timestamp" in params and "after" in params:
                return httpx.Response(400, json={"error": {"message": "since_timestamp with after"}})
            since = float(params.get("since_timestamp", 0))
            items = [c for c in org["conversations"] if c["last_active_at"] >= since]
            return httpx.Response(200, json=_page(items, request, 500, admin=False))
        if path == "/logs":
            after = request.url.params["after"]
            return httpx.Response(200, json=self._logs_page(after))
        if path.startswith("/logs/"):
            return httpx.Response(307, headers={"location": f"https://files.example/{path.split('/')[-1]}.jsonl"})
        parts = path.strip("/").split("/")
        file_id = parts[-1]
        if file_id in org["files"]:
            return httpx.Response(307, headers={"location": f"https://files.example/{file_id}"})
        return httpx.Response(410, json={"error": {"message": "expired"}})

    def _logs_page(self, after: str) -> dict[str, Any]:
        # One log file per conversation; pages of two files, paged by last_end_time.
        names = [f"log-{c['id']}" for c in self.org["conversations"]]
        start = 0 if after.startswith("1970") else int(after.split("T")[0].split("-")[-1])
        chunk = names[start : start + 2]
        end = start + len(chunk)
        return {
            "data": [{"id": n} for n in chunk],
            "has_more": end < len(names),
            "last_end_time": f"2026-03-{end:02d}T00:00:00Z",
        }

    def log_file(self, name: str) -> bytes:
        conv = next(c for c in self.org["conversations"] if f"log-{c['id']}.jsonl" == name)
        lines = []
        for message in conv["messages"]["data"]:
            lines.append(
                json.dumps(
                    {
                        "event_id": f"evt-{conv['id']}-{message['id']}",
                        "type": "CONVERSATION_MESSAGE",
                        "actor": {"type": "ACCOUNT_USER", "user_id": conv["user_id"], "user_email": conv["user_email"]},
                        "timestamp": datetime.fromtimestamp(conv["last_active_at"], UTC)
                        .isoformat()
                        .replace("+00:00", "Z"),
                        "message": {"id": message["id"], "files": message["files"]["data"]},
                        "conversation": {"id": conv["id"], "title": conv["title"]},
                    }
                )
            )
        return ("\n".join(lines) + "\n").encode()

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            if request.url.host == "files.example" and request.url.path.endswith(".jsonl"):
                self.requests.append(request)
                return httpx.Response(200, content=self.log_file(request.url.path.strip("/")))
            return self.handler(request)

        return httpx.MockTransport(handle)
