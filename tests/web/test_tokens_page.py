"""The API tokens page: admins list, create (the value shown once) and revoke tokens with CSRF-checked forms;
viewers see no link to it and are refused."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from conftest import ADMIN_PASSWORD, VIEWER_PASSWORD, WebEnv, csrf_of, login


def admin_client(web: WebEnv) -> TestClient:
    client = web.client()
    login(client, "alice", ADMIN_PASSWORD)
    return client


def new_value(html: str) -> str:
    found = re.findall(r'<code class="token-value">(casb_[A-Za-z0-9_-]+)</code>', html)
    assert len(found) == 1, html
    return found[0]


def test_admin_sees_the_link_and_the_list_without_values(web: WebEnv) -> None:
    client = admin_client(web)
    assert '<a href="/tokens"' in client.get("/").text
    page = client.get("/tokens")
    assert page.status_code == 200
    assert "tests admin" in page.text
    assert "tests viewer" in page.text
    for token in (web.admin_token, web.viewer_token):
        assert token not in page.text
        assert token[14:20] not in page.text  # the secret starts after casb_<8 hex>_
        assert f"<code>{token[:13]}…</code>" in page.text
    assert "token-value" not in page.text


def test_viewer_has_no_link_and_gets_403(web: WebEnv) -> None:
    client = web.client()
    login(client, "victor", VIEWER_PASSWORD)
    overview = client.get("/")
    assert overview.status_code == 200
    assert 'href="/tokens"' not in overview.text
    assert client.get("/tokens").status_code == 403
    csrf = csrf_of(overview.text)
    assert client.post("/tokens", data={"csrf": csrf, "name": "x", "role": "admin"}).status_code == 403
    assert client.post("/tokens/1/revoke", data={"csrf": csrf}, follow_redirects=False).status_code == 403
    assert len(web.ctx.accounts.list_tokens()) == 2
    assert web.ctx.accounts.verify_token(web.admin_token) is not None


def test_create_shows_the_value_once_and_it_authenticates(web: WebEnv) -> None:
    client = admin_client(web)
    csrf = csrf_of(client.get("/tokens").text)
    created = client.post("/tokens", data={"csrf": csrf, "name": "siem", "role": "viewer"})
    assert created.status_code == 201
    token = new_value(created.text)
    assert created.text.count(token) == 1
    assert web.client(token).get("/api/v1/findings").status_code == 200
    assert web.client(token).get("/api/v1/tokens").status_code == 403  # it is a viewer token
    again = client.get("/tokens")
    assert "siem" in again.text
    assert token not in again.text
    assert token[14:20] not in again.text  # the secret starts after casb_<8 hex>_
    assert f"<code>{token[:13]}…</code>" in again.text
    info = next(t for t in web.ctx.accounts.list_tokens() if t.name == "siem")
    assert str(info.role) == "viewer"


def test_revoke_refuses_the_token_from_then_on(web: WebEnv) -> None:
    client = admin_client(web)
    csrf = csrf_of(client.get("/tokens").text)
    token = new_value(client.post("/tokens", data={"csrf": csrf, "name": "short-lived", "role": "admin"}).text)
    token_id = next(t.id for t in web.ctx.accounts.list_tokens() if t.name == "short-lived")
    assert f'action="/tokens/{token_id}/revoke"' in client.get("/tokens").text
    revoked = client.post(f"/tokens/{token_id}/revoke", data={"csrf": csrf}, follow_redirects=False)
    assert revoked.status_code == 303
    assert revoked.headers["location"] == "/tokens"
    assert web.client(token).get("/api/v1/tokens").status_code == 401
    page = client.get("/tokens").text
    assert f'action="/tokens/{token_id}/revoke"' not in page
    assert "revoked" in page


def test_forms_without_or_with_a_wrong_csrf_token_are_403(web: WebEnv) -> None:
    client = admin_client(web)
    client.get("/tokens")
    for data in ({"name": "x", "role": "admin"}, {"csrf": "forged", "name": "x", "role": "admin"}):
        assert client.post("/tokens", data=data).status_code == 403
        revoke = client.post("/tokens/1/revoke", data={k: v for k, v in data.items() if k == "csrf"},
                             follow_redirects=False)
        assert revoke.status_code == 403
    assert len(web.ctx.accounts.list_tokens()) == 2
    assert web.ctx.accounts.verify_token(web.admin_token) is not None


def test_bad_form_input_is_422_with_the_reason(web: WebEnv) -> None:
    client = admin_client(web)
    csrf = csrf_of(client.get("/tokens").text)
    for name, role, reason in (("x", "analyst", "role: Input should be &#39;admin&#39; or &#39;viewer&#39;"),
                               ("x", "", "role: Input should be"), ("  ", "viewer", "name: must not be blank"),
                               ("a\tb", "viewer", "name: must not contain control characters")):
        response = client.post("/tokens", data={"csrf": csrf, "name": name, "role": role})
        assert response.status_code == 422, (name, role)
        assert reason in response.text, response.text
        assert "token-value" not in response.text
    assert client.post("/tokens/abc/revoke", data={"csrf": csrf}).status_code == 422
    assert client.post(f"/tokens/{2**70}/revoke", data={"csrf": csrf}).status_code == 422
    assert len(web.ctx.accounts.list_tokens()) == 2


def test_revoking_an_unknown_token_is_404(web: WebEnv) -> None:
    client = admin_client(web)
    csrf = csrf_of(client.get("/tokens").text)
    response = client.post("/tokens/999/revoke", data={"csrf": csrf})
    assert response.status_code == 404
    assert "no API token with id 999" in response.text
