"""Authorization for every route, generated from `app.routes`: a new route fails here until it is listed.

Anonymous callers are refused everywhere except the login form and static files; viewers are refused on
every state-changing route (except signing themselves out) and on the API tokens listings.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from seed import CUSTOM_ACTIONS
from starlette.routing import Mount

from conftest import VIEWER_PASSWORD, WebEnv, login

# Every route of the app, by (method, path template). Keep in sync: the first test compares.
API_READ = {
    ("GET", "/api/v1/integrations"), ("GET", "/api/v1/integrations/health"), ("GET", "/api/v1/scans"),
    ("GET", "/api/v1/scans/{scan_id}"), ("GET", "/api/v1/finding-types"), ("GET", "/api/v1/findings"),
    ("GET", "/api/v1/instances"), ("GET", "/api/v1/instances/{instance_id}"), ("GET", "/api/v1/assets"),
    ("GET", "/api/v1/dlp/profiles"), ("GET", "/api/v1/exports/{export_format}"), ("GET", "/api/v1/openapi.json"),
}
API_WRITE = {
    ("POST", "/api/v1/integrations"), ("POST", "/api/v1/integrations/{integration_id}/scans"),
    ("POST", "/api/v1/integrations/{integration_id}/finding-types/{type_id}/ignore"),
    ("DELETE", "/api/v1/integrations/{integration_id}/finding-types/{type_id}/ignore"),
    ("PUT", "/api/v1/integrations/{integration_id}/finding-types/{type_id}/severity"),
    ("POST", "/api/v1/instances/{instance_id}/hide"), ("POST", "/api/v1/instances/{instance_id}/unhide"),
    ("POST", "/api/v1/tokens"), ("DELETE", "/api/v1/tokens/{token_id}"),
}
API_ADMIN_READ = {("GET", "/api/v1/tokens")}  # reads that viewers are refused too
PAGE_READ = {
    ("GET", "/"), ("GET", "/findings"), ("GET", "/hidden"), ("GET", "/dlp"), ("GET", "/ignored"),
    ("GET", "/assets"), ("GET", "/scans"), ("GET", "/integrations"), ("GET", "/findings/{integration_id}/{type_id}"),
    ("GET", "/instances/{instance_id}"), ("GET", "/scans/{scan_id}/progress.json"),
}
PAGE_WRITE = {
    ("POST", "/instances/{instance_id}/hide"), ("POST", "/instances/{instance_id}/unhide"),
    ("POST", "/findings/{integration_id}/{type_id}/ignore"), ("POST", "/findings/{integration_id}/{type_id}/unignore"),
    ("POST", "/findings/{integration_id}/{type_id}/severity"), ("POST", "/integrations/{integration_id}/scan"),
    ("POST", "/tokens"), ("POST", "/tokens/{token_id}/revoke"),
}
PAGE_ADMIN_READ = {("GET", "/tokens")}
SELF_SERVICE = {("POST", "/logout")}  # any signed-in user, CSRF-checked
PUBLIC = {("GET", "/login"), ("POST", "/login")}
ALL_ROUTES = API_READ | API_WRITE | API_ADMIN_READ | PAGE_READ | PAGE_WRITE | PAGE_ADMIN_READ | SELF_SERVICE | PUBLIC

PARAMS = {"{integration_id}": "1", "{type_id}": CUSTOM_ACTIONS, "{instance_id}": "1", "{scan_id}": "1",
          "{export_format}": "csv", "{token_id}": "1"}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    found = set()
    # FastAPI >= 0.16x includes routers lazily; iter_route_contexts flattens them with their prefixes.
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute):
            found |= {(method, str(route.path)) for method in route.methods or ()}
        elif isinstance(route.original_route, Mount):
            assert route.path == "/static", f"unexpected mount {route.path}"
        else:
            raise AssertionError(f"unexpected route {route.original_route!r}")
    return found


def concrete(path: str) -> str:
    for placeholder, value in PARAMS.items():
        path = path.replace(placeholder, value)
    return path


def test_every_route_is_classified(web: WebEnv) -> None:
    routes = app_routes(web.app)
    assert routes - ALL_ROUTES == set(), "new routes need an entry (and authorization) in this test"
    assert ALL_ROUTES - routes == set(), "listed routes no longer exist"


@pytest.mark.parametrize(("method", "path"), sorted(API_READ | API_WRITE | API_ADMIN_READ))
def test_api_refuses_anonymous_and_bad_tokens(web: WebEnv, method: str, path: str) -> None:
    for token in (None, "casb_not-a-real-token", "sk-admin-something-else"):
        response = web.client(token).request(method, concrete(path), json={})
        assert response.status_code == 401, (token, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "unauthorized"


def test_api_refuses_revoked_tokens(web: WebEnv) -> None:
    info, token = web.ctx.accounts.create_token(web.ctx.accounts.verify_token(web.admin_token).role, "soon revoked")  # type: ignore[union-attr]
    assert web.client(token).get("/api/v1/integrations").status_code == 200
    web.ctx.accounts.revoke_token(info.id)
    assert web.client(token).get("/api/v1/integrations").status_code == 401


@pytest.mark.parametrize(("method", "path"), sorted(API_WRITE | API_ADMIN_READ))
def test_api_refuses_viewers_on_state_changes(web: WebEnv, method: str, path: str) -> None:
    response = web.client(web.viewer_token).request(method, concrete(path), json={"reason": "x", "severity": "low"})
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path"), sorted(API_READ))
def test_api_lets_viewers_read(web: WebEnv, method: str, path: str) -> None:
    assert web.client(web.viewer_token).request(method, concrete(path)).status_code == 200


@pytest.mark.parametrize(("method", "path"), sorted(PAGE_READ | PAGE_WRITE | PAGE_ADMIN_READ | SELF_SERVICE))
def test_pages_send_anonymous_to_login(web: WebEnv, method: str, path: str) -> None:
    response = web.client().request(method, concrete(path), data={"csrf": "x"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


@pytest.mark.parametrize(("method", "path"), sorted(PAGE_WRITE | PAGE_ADMIN_READ))
def test_pages_refuse_viewers_on_state_changes(web: WebEnv, method: str, path: str) -> None:
    client = web.client()
    login(client, "victor", VIEWER_PASSWORD)
    page = client.get("/")
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    response = client.request(method, concrete(path), data={"csrf": csrf, "reason": "r", "level": "low"},
                              follow_redirects=False)
    assert response.status_code == 403


@pytest.mark.parametrize(("method", "path"), sorted(PAGE_READ))
def test_pages_let_viewers_read(web: WebEnv, method: str, path: str) -> None:
    client = web.client()
    login(client, "victor", VIEWER_PASSWORD)
    assert client.request(method, concrete(path)).status_code == 200


@pytest.mark.parametrize("path", ["/login", "/static/app.css", "/static/app.js"])
def test_public_paths_stay_public(web: WebEnv, path: str) -> None:
    assert web.client().get(path).status_code == 200
