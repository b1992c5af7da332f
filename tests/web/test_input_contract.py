"""The API's input contract, on SQLite and PostgreSQL: NUL characters and out-of-range ids are 422s
(PostgreSQL's driver would otherwise fail with a 500), unknown query parameters are named in a 422,
unparseable bodies are 422s, 405 lists every allowed method, and an internal error is a 500 in the
error envelope with the security headers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from seed import CUSTOM_ACTIONS, seed

from conftest import ADMIN_PASSWORD, SECRET, FakeLauncher, WebEnv, csrf_of, login
from openai_casb.store import Store
from openai_casb.web.accounts import Role
from openai_casb.web.app import SECURITY_HEADERS, create_app
from openai_casb.web.context import WebContext
from openai_casb.web.pages import views


@pytest.fixture
def pg_web(postgres_url: str) -> Iterator[WebEnv]:
    store = Store.open(postgres_url)
    seeded = seed(store)
    launcher = FakeLauncher(store)
    ctx = WebContext(store=store, secret=SECRET, launcher=launcher, secure_cookies=False)
    ctx.accounts.create_user("alice", Role.ADMIN, ADMIN_PASSWORD)
    _info, admin_token = ctx.accounts.create_token(Role.ADMIN, "tests admin")
    _info, viewer_token = ctx.accounts.create_token(Role.VIEWER, "tests viewer")
    yield WebEnv(store, ctx, create_app(ctx), seeded, launcher, admin_token, viewer_token)
    launcher.release.set()
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def env(request: pytest.FixtureRequest) -> WebEnv:
    env: WebEnv = request.getfixturevalue("web" if request.param == "sqlite" else "pg_web")
    return env


def _client(env: WebEnv, token: str | None = None) -> TestClient:
    client = TestClient(env.app, base_url="http://127.0.0.1", raise_server_exceptions=False)
    if token:
        client.headers["Authorization"] = f"Bearer {token}"
    return client


def _invalid_at(response: Any, location: list[str], message: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert {"location": location, "message": message} in error["details"], error
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value


NUL = "must not contain NUL characters"


@pytest.mark.parametrize(("path", "params", "location"), [
    ("/api/v1/instances", {"q": "a\x00b"}, ["query", "q"]),
    ("/api/v1/instances", {"group": "\x00"}, ["query", "group"]),
    ("/api/v1/assets", {"kind": "\x00"}, ["query", "kind"]),
    ("/api/v1/assets", {"q": "x\x00"}, ["query", "q"]),
    ("/api/v1/findings", {"group": "\x00"}, ["query", "group"]),
    ("/api/v1/exports/json", {"type": "\x00"}, ["query", "type"]),
    ("/api/v1/instances", {"q\x00": "x"}, ["query", "q"]),
])
def test_nul_in_api_queries_is_422(env: WebEnv, path: str, params: dict[str, str], location: list[str]) -> None:
    _invalid_at(_client(env, env.viewer_token).get(path, params=params), location, NUL)


def test_nul_in_json_bodies_is_422_and_escaped_backslashes_are_not_nul(env: WebEnv) -> None:
    client = _client(env, env.admin_token)
    hide = client.post("/api/v1/instances/1/hide", json={"reason": "accepted\x00risk"})
    _invalid_at(hide, ["body", "reason"], NUL)
    created = client.post("/api/v1/integrations", json={
        "display_name": "Glo\x00bex", "organization_id": "org-globex", "admin_key": "sk-admin-" + "x" * 20})
    _invalid_at(created, ["body", "display_name"], NUL)
    key = client.post("/api/v1/instances/1/hide", json={"reason": "x", "\x00": 1})
    _invalid_at(key, ["body"], NUL)
    token = client.post("/api/v1/tokens", json={"name": ["\x00"], "role": "viewer"})
    _invalid_at(token, ["body", "name", "0"], NUL)
    # The six characters \u0000 written with an escaped backslash are text, not NUL.
    literal = client.post("/api/v1/instances/1/hide", content=b'{"reason": "path C:\\\\u0000"}',
                          headers={"content-type": "application/json"})
    assert literal.status_code == 200, literal.text
    assert literal.json()["hidden_reason"] == "path C:\\u0000"


def test_nul_in_dashboard_filters_and_forms_is_422(env: WebEnv) -> None:
    client = _client(env)
    login(client, "alice", ADMIN_PASSWORD)
    for path, params in (("/findings", {"q": "\x00"}), ("/findings", {"type": "\x00"}),
                         ("/findings", {"group": "\x00"}), ("/assets", {"kind": "\x00"}),
                         ("/hidden", {"q": "\x00"}), ("/dlp", {"q": "\x00"})):
        _invalid_at(client.get(path, params=params), ["query", next(iter(params))], NUL)
    _invalid_at(client.get("/findings/1/a%00b"), ["path"], NUL)
    csrf = csrf_of(client.get("/").text)
    hide = client.post("/instances/1/hide", data={"csrf": csrf, "reason": "a\x00b"})
    _invalid_at(hide, ["body", "reason"], NUL)


def test_nul_in_the_anonymous_login_form_is_422(env: WebEnv) -> None:
    client = _client(env)
    csrf = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"csrf": csrf, "username": "al\x00ice", "password": ADMIN_PASSWORD},
                           follow_redirects=False)
    _invalid_at(response, ["body", "username"], NUL)
    multipart = client.post("/login", data={"csrf": csrf, "password": ADMIN_PASSWORD},
                            files={"username": (None, b"al\x00ice")}, follow_redirects=False)
    assert multipart.status_code == 422, multipart.text


@pytest.mark.parametrize("instance_id", ["2147483648", "9223372036854775807"])
def test_instance_ids_past_the_32_bit_column_are_422(env: WebEnv, instance_id: str) -> None:
    api = _client(env, env.admin_token)
    for method, path, body in (("GET", "", None), ("POST", "/hide", {"reason": "x"}), ("POST", "/unhide", None)):
        response = api.request(method, f"/api/v1/instances/{instance_id}{path}", json=body)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["error"]["details"][0]["location"] == ["path", "instance_id"]
    page = _client(env)
    login(page, "alice", ADMIN_PASSWORD)
    assert page.get(f"/instances/{instance_id}").status_code == 422
    # The largest id the column holds is looked up (and not found), not refused.
    assert api.get("/api/v1/instances/2147483647").status_code == 404
    assert page.get("/instances/2147483647").status_code == 404


def test_an_internal_error_is_a_500_in_the_envelope_with_the_security_headers(
        env: WebEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-admin-" + "S3cr3tS3cr3tS3cr3t"

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(f"the database said no to {secret}")

    monkeypatch.setattr(env.ctx.queries, "instances", broken)
    api = _client(env, env.viewer_token).get("/api/v1/instances")
    page_client = _client(env)
    login(page_client, "alice", ADMIN_PASSWORD)
    page = page_client.get("/findings")
    for response in (api, page):
        assert response.status_code == 500
        assert response.json() == {"error": {"code": "internal_error",
                                             "message": "internal error; the server's log has the details"}}
        assert secret not in response.text
        assert "Traceback" not in response.text
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value
        assert response.headers["cache-control"] == "no-store"


def test_unknown_query_parameters_are_named_in_a_422(env: WebEnv) -> None:
    client = _client(env, env.viewer_token)
    export = client.get("/api/v1/exports/json", params={"severity": "high"})
    _invalid_at(export, ["query", "severity"], "unknown query parameter")
    listing = client.get("/api/v1/instances", params={"cursor": "abc", "sort": "id", "q": "x"})
    assert listing.status_code == 422
    assert [d["location"] for d in listing.json()["error"]["details"]] == [["query", "cursor"], ["query", "sort"]]
    for path in ("/api/v1/integrations", "/api/v1/instances/1", "/api/v1/openapi.json"):
        assert client.get(path, params={"x": "1"}).status_code == 422, path
    # The declared ones still work, repeated ones included.
    assert client.get("/api/v1/exports/json", params={"severity_min": "high"}).status_code == 200
    assert client.get("/api/v1/instances", params=[("severity", "high"), ("severity", "low")]).status_code == 200
    admin = _client(env, env.admin_token)
    assert admin.post(f"/api/v1/integrations/1/finding-types/{CUSTOM_ACTIONS}/ignore?force=1").status_code == 422


def test_unknown_query_parameters_come_after_authentication(env: WebEnv) -> None:
    anonymous = _client(env)
    assert anonymous.get("/api/v1/instances", params={"sort": "id"}).status_code == 401
    page = anonymous.get("/findings", params={"sort": "id"}, follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/login")


def test_dashboard_pages_refuse_unknown_query_but_accept_their_own_links(
        env: WebEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(env)
    login(client, "alice", ADMIN_PASSWORD)
    _invalid_at(client.get("/findings", params={"sevrity": "high"}), ["query", "sevrity"], "unknown query parameter")
    assert client.get("/scans", params={"started": "1"}).status_code == 200  # the redirect after a scan starts
    for instance_id in (1, 2, 3):
        assert _client(env, env.admin_token).post(f"/api/v1/instances/{instance_id}/hide",
                                                  json={"reason": "r"}).status_code == 200
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    for path in ("/hidden", "/dlp", "/findings?severity=high&status=active&status=hidden", "/assets"):
        page = client.get(path)
        assert page.status_code == 200, path
        if "Next →" in page.text:  # every pager link is a query the page accepts
            link = page.text.split('">Next →', 1)[0].rsplit('href="', 1)[1].replace("&amp;", "&")
            assert client.get(link).status_code == 200, link


def test_unparseable_bodies_are_422(env: WebEnv) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    response = _client(env, env.admin_token).post("/api/v1/tokens", content=deep,
                                                  headers={"content-type": "application/json"})
    _invalid_at(response, ["body"], "There was an error parsing the body")


def test_405_names_every_method_of_the_path(env: WebEnv) -> None:
    client = _client(env, env.admin_token)
    response = client.options("/api/v1/tokens")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.json()["error"]["code"] == "method_not_allowed"
    ignore = client.patch(f"/api/v1/integrations/1/finding-types/{CUSTOM_ACTIONS}/ignore")
    assert ignore.headers["allow"] == "DELETE, POST"
    page = _client(env)
    login(page, "alice", ADMIN_PASSWORD)
    assert page.put("/tokens").headers["allow"] == "GET, POST"


def test_an_expired_hide_reads_as_shown_everywhere_before_the_next_scan(env: WebEnv) -> None:
    admin = _client(env, env.admin_token)
    before = admin.get("/api/v1/instances").json()["total"]
    hidden = admin.post("/api/v1/instances/1/hide", json={"reason": "for now", "until": "2099-01-01T00:00:00Z"})
    assert hidden.json()["status"] == "hidden"
    assert admin.get("/api/v1/instances").json()["total"] == before - 1
    assert len(admin.get("/api/v1/exports/json").json()) == before - 1
    env.store.clock = lambda: datetime(2099, 1, 2, tzinfo=UTC)  # the hide is over; no scan has run since
    detail = admin.get("/api/v1/instances/1").json()
    assert (detail["status"], detail["hidden_reason"], detail["hidden_by"], detail["hidden_until"]) == (
        "active", None, None, None)
    assert [e["event_type"] for e in detail["events"]][-1] == "hidden"  # the next scan records `unhidden`
    assert admin.get("/api/v1/instances").json()["total"] == before
    assert admin.get("/api/v1/instances", params={"status": "hidden"}).json()["total"] == 0
    assert sum(f["hidden"] for f in admin.get("/api/v1/findings").json()) == 0
    assert sum(f["active"] for f in admin.get("/api/v1/findings").json()) == before
    assert len(admin.get("/api/v1/exports/json").json()) == before  # exports list active instances
    page = _client(env)
    login(page, "alice", ADMIN_PASSWORD)
    assert "0 instances" in page.get("/hidden").text
    assert "hidden because" not in page.get("/instances/1").text
    # Unhiding a shown instance is a 409 as always; hiding it again is a new hide (not a 409).
    assert admin.post("/api/v1/instances/1/unhide").status_code == 409
    again = admin.post("/api/v1/instances/1/hide", json={"reason": "again"})
    assert again.status_code == 200, again.text
    assert [e["event_type"] for e in again.json()["events"]][-3:] == ["hidden", "unhidden", "hidden"]
