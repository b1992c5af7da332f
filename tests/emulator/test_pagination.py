"""Pagination, filters and envelopes, endpoint by endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from openai_casb.emulator import Org

from .conftest import Api


def collect(fetch: Any, path: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    pages = 0
    after = None
    while True:
        body = fetch(path, **params, **({"after": after} if after else {})).json()
        pages += 1
        items += body["data"]
        if not body["has_more"]:
            return items, pages
        after = body["last_id"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/users", "users"),
        ("/invites", "invites"),
        ("/admin_api_keys", "admin_api_keys"),
        ("/audit_logs", "audit_logs"),
    ],
)
def test_admin_lists_walk_to_the_end(api: Api, org: Org, path: str, expected: str) -> None:
    collection = getattr(org, expected)
    items, pages = collect(api.admin, path, limit=7)
    assert [i["id"] for i in items] == [o["id"] for o in collection]
    assert pages == -(-len(collection) // 7)


def test_admin_envelope_and_boundaries(api: Api, org: Org) -> None:
    body = api.admin("/users", limit=3).json()
    assert set(body) == {"object", "data", "first_id", "last_id", "has_more"}
    assert body["first_id"] == org.users.item(0)["id"]
    assert body["last_id"] == org.users.item(2)["id"]
    assert len(api.admin("/users").json()["data"]) == 20  # default limit
    last = org.users.item(len(org.users) - 1)["id"]
    empty = api.admin("/users", after=last).json()
    assert empty == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}
    exact = api.admin("/users", limit=len(org.users)).json()
    assert len(exact["data"]) == len(org.users)
    assert exact["has_more"] is False
    assert api.admin("/users", limit=100).status_code == 200


def test_compliance_envelope_has_no_first_id(api: Api, org: Org) -> None:
    body = api.compliance("/users", limit=5).json()
    assert set(body) == {"object", "data", "last_id", "has_more"}
    items, _ = collect(api.compliance, "/users", limit=4)
    assert [u["id"] for u in items] == [u["id"] for u in org.compliance_users]
    assert len(api.compliance("/users").json()["data"]) == min(200, len(org.compliance_users))


def test_users_emails_filter_both_forms(api: Api, org: Org) -> None:
    emails = [org.users.item(3)["email"], org.users.item(9)["email"]]
    plain = api.http.get("/v1/organization/users", params=[("emails", e) for e in emails], headers=api_headers()).json()
    bracketed = api.http.get(
        "/v1/organization/users", params=[("emails[]", e.upper()) for e in emails], headers=api_headers()
    ).json()
    assert [u["email"] for u in plain["data"]] == emails
    assert [u["email"] for u in bracketed["data"]] == emails


def api_headers() -> dict[str, str]:
    from .conftest import ADMIN_KEY

    return {"Authorization": f"Bearer {ADMIN_KEY}"}


def test_projects_include_archived(api: Api, org: Org) -> None:
    active = collect(api.admin, "/projects", limit=2)[0]
    everything = collect(api.admin, "/projects", limit=2, include_archived="true")[0]
    assert all(p["status"] == "active" for p in active)
    assert len(everything) == len(org.projects) > len(active)
    assert api.admin("/projects", include_archived="maybe").status_code == 400


def test_archived_project_users_and_service_accounts_answer_400(api: Api, org: Org) -> None:
    archived = next(p for p in org.projects if p["status"] == "archived")["id"]
    for path in ("users", "service_accounts"):
        response = api.admin(f"/projects/{archived}/{path}")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "project_archived"
    assert api.admin(f"/projects/{archived}/api_keys", owner_project_access="any").status_code == 200


def test_project_api_keys_owner_project_access(api: Api, org: Org) -> None:
    pid = org.projects.item(0)["id"]
    default = collect(api.admin, f"/projects/{pid}/api_keys", limit=2)[0]
    inactive = collect(api.admin, f"/projects/{pid}/api_keys", owner_project_access="inactive")[0]
    every = collect(api.admin, f"/projects/{pid}/api_keys", owner_project_access="any", limit=1)[0]
    assert default
    assert all(k["owner_project_access"] == "active" for k in default)
    assert inactive
    assert all(k["owner_project_access"] == "inactive" for k in inactive)
    assert sorted(k["id"] for k in every) == sorted(k["id"] for k in default + inactive)
    assert api.admin(f"/projects/{pid}/api_keys", owner_project_access="all").status_code == 400


def test_admin_api_keys_order(api: Api, org: Org) -> None:
    ascending = [k["id"] for k in collect(api.admin, "/admin_api_keys", limit=2)[0]]
    descending = [k["id"] for k in collect(api.admin, "/admin_api_keys", limit=2, order="desc")[0]]
    assert descending == list(reversed(ascending))
    assert len(ascending) == len(org.admin_api_keys)
    assert api.admin("/admin_api_keys", order="newest").status_code == 400


def test_audit_log_filters(api: Api, org: Org) -> None:
    events = list(org.audit_logs)
    logins = [e for e in events if e["type"] == "login.succeeded"]
    got = collect(api.admin, "/audit_logs", **{"event_types[]": "login.succeeded", "limit": 100})[0]
    assert [e["id"] for e in got] == [e["id"] for e in logins]
    plain = collect(api.admin, "/audit_logs", event_types="login.succeeded", limit=100)[0]
    assert plain == got
    middle = events[len(events) // 2]["effective_at"]
    window = collect(api.admin, "/audit_logs", **{"effective_at[gte]": middle, "limit": 100})[0]
    assert window
    assert all(e["effective_at"] >= middle for e in window)
    assert len(window) == sum(e["effective_at"] >= middle for e in events)
    strict = collect(api.admin, "/audit_logs", **{"effective_at[gt]": middle, "effective_at[lte]": middle + 10**6})[0]
    assert all(middle < e["effective_at"] <= middle + 10**6 for e in strict)
    actor = logins[0]["actor"]["session"]["user"]
    by_id = collect(api.admin, "/audit_logs", **{"actor_ids[]": actor["id"]})[0]
    by_email = collect(api.admin, "/audit_logs", **{"actor_emails[]": actor["email"]})[0]
    assert by_id == by_email
    assert by_id
    assert all(e["actor"]["session"]["user"]["id"] == actor["id"] for e in by_id)
    keyed = [e for e in events if e["type"] == "api_key.created"]
    project = keyed[0]["project"]["id"]
    by_project = collect(api.admin, "/audit_logs", **{"project_ids[]": project})[0]
    assert by_project
    assert all(e["project"]["id"] == project for e in by_project)
    resource = keyed[0]["api_key.created"]["id"]
    by_resource = collect(api.admin, "/audit_logs", **{"resource_ids[]": resource})[0]
    assert by_resource
    assert all(e["api_key.created"]["id"] == resource for e in by_resource)
    assert api.admin("/audit_logs", **{"effective_at[gte]": "yesterday"}).status_code == 400


def test_audit_log_before_cursor(api: Api, org: Org) -> None:
    events = [e["id"] for e in org.audit_logs]
    body = api.admin("/audit_logs", before=events[10], limit=4).json()
    assert [e["id"] for e in body["data"]] == events[6:10]
    assert body["has_more"] is True
    assert api.admin("/audit_logs", before=events[10], after=events[2]).status_code == 400


def test_conversations_order_since_and_users(api: Api, org: Org) -> None:
    items, _ = collect(api.compliance, "/conversations", limit=50)
    assert [c["id"] for c in items] == [c["id"] for c in org.conversations]
    assert len(api.compliance("/conversations").json()["data"]) == min(500, len(org.conversations))
    pivot = int(org.conversation_update_time(60)) + 1
    since = collect(api.compliance, "/conversations", since_timestamp=pivot, limit=500)[0]
    assert [c["id"] for c in since] == [
        c["id"] for i, c in enumerate(org.conversations) if org.conversation_update_time(i) >= pivot
    ]
    user = org.conversations.item(0)["user_id"]
    mine = collect(api.compliance, "/conversations", users=user)[0]
    assert mine
    assert all(c["user_id"] == user for c in mine)
    assert len(mine) == sum(c["user_id"] == user for c in org.conversations)


def test_conversations_since_with_after_is_400(api: Api, org: Org) -> None:
    first = org.conversations.item(0)["id"]
    response = api.compliance("/conversations", since_timestamp=1, after=first)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "since_timestamp"


def test_configs_newest_first_and_shared_users(api: Api, org: Org) -> None:
    versioned = next(g for g in org.gpts if "configs" in g)
    configs = api.compliance(f"/gpts/{versioned['id']}/configs").json()["data"]
    assert [c["id"] for c in configs] == [c["id"] for c in versioned["configs"]]
    assert configs[0]["created_at"] > configs[1]["created_at"]
    plain = next(g for g in org.gpts if "configs" not in g)
    only = api.compliance(f"/gpts/{plain['id']}/configs").json()["data"]
    assert [c["id"] for c in only] == [c["id"] for c in plain["latest_config"]["data"]]
    shared = next(g for g in org.gpts if g.get("sharing", {}).get("recipients"))
    users = api.compliance(f"/gpts/{shared['id']}/shared_users").json()["data"]
    assert [u["id"] for u in users] == sorted(r["id"] for r in shared["sharing"]["recipients"])
    assert all(u["object"] == "compliance.workspace.user" for u in users)


def test_unknown_objects_answer_404(api: Api) -> None:
    assert api.admin("/users/user-nobody").status_code == 404
    assert api.admin("/projects/proj_nope/api_keys").status_code == 404
    assert api.compliance("/gpts/g-nothing").status_code == 404
    assert api.compliance("/projects/g-p-nothing/configs").status_code == 404
    bad_cursor = api.admin("/users", after="user-nobody")
    assert bad_cursor.status_code == 400
    assert bad_cursor.json()["error"]["param"] == "after"


def test_large_generated_org_pages_lazily(monkeypatch: pytest.MonkeyPatch, make_api: Any) -> None:
    from openai_casb.emulator import generate_org
    from openai_casb.emulator.gen_compliance import ComplianceGenerator

    built: list[int] = []
    original = ComplianceGenerator.conversation

    def counting(self: ComplianceGenerator, index: int) -> dict[str, Any]:
        built.append(index)
        return original(self, index)

    monkeypatch.setattr(ComplianceGenerator, "conversation", counting)
    org = generate_org("users=50000,gpts=5000,conversations=100000,files=20000", seed=3)
    api = make_api(org)
    near_end = org.conversations.item(99_000)["id"]
    built.clear()
    page = api.compliance("/conversations", after=near_end, limit=500).json()
    assert len(built) == 500  # only the page is built: the cursor is decoded, not searched
    assert len(page["data"]) == 500
    assert page["data"][0]["id"] == org.conversations.item(99_001)["id"]
    built.clear()
    since = int(org.conversation_update_time(80_000))
    page = api.compliance("/conversations", since_timestamp=since, limit=10).json()
    assert org.conversation_update_time(org.conversations.index_of(page["data"][0]["id"]) or 0) >= since
    assert len(built) == 10  # since_timestamp is a bisection over update times, not a scan
    users = api.admin("/users", after=org.users.item(49_000)["id"], limit=100).json()
    assert users["data"][0]["id"] == org.users.item(49_001)["id"]
