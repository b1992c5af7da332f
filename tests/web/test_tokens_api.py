"""API tokens over the REST API: admins list, create (the value once) and revoke; others are refused;
garbage input is a 422, never a 500; the routes are in the served OpenAPI document."""

from __future__ import annotations

import logging

import pytest

from conftest import WebEnv
from openai_casb.web.keys import token_digest

LISTED_FIELDS = {"id", "name", "role", "prefix", "created_at", "last_used_at", "revoked", "revoked_at"}


def test_created_token_authenticates_and_revoked_one_is_refused(web: WebEnv) -> None:
    admin = web.client(web.admin_token)
    created = admin.post("/api/v1/tokens", json={"name": "siem", "role": "viewer"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "siem"
    assert body["role"] == "viewer"
    assert body["revoked"] is False
    assert body["token"].startswith("casb_")

    reader = web.client(body["token"])
    assert reader.get("/api/v1/integrations").status_code == 200
    assert reader.get("/api/v1/tokens").status_code == 403  # a viewer token cannot manage tokens

    revoked = admin.delete(f"/api/v1/tokens/{body['id']}")
    assert revoked.status_code == 200
    assert revoked.json()["revoked"] is True
    assert revoked.json()["revoked_at"]
    refused = reader.get("/api/v1/integrations")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"
    # Revoking again changes nothing (the first revocation time stays).
    again = admin.delete(f"/api/v1/tokens/{body['id']}")
    assert again.status_code == 200
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]


def test_created_admin_token_can_manage_tokens(web: WebEnv) -> None:
    token = web.client(web.admin_token).post("/api/v1/tokens", json={"name": " ops ", "role": "admin"}).json()
    assert token["name"] == "ops"
    assert web.client(token["token"]).get("/api/v1/tokens").status_code == 200


def test_list_never_shows_values_or_hashes(web: WebEnv) -> None:
    admin = web.client(web.admin_token)
    new_value = admin.post("/api/v1/tokens", json={"name": "ci", "role": "viewer"}).json()["token"]
    listing = admin.get("/api/v1/tokens")
    assert listing.status_code == 200
    items = listing.json()
    assert [t["name"] for t in items] == ["tests admin", "tests viewer", "ci"]
    assert all(set(t) == LISTED_FIELDS for t in items)
    for secret in (new_value, web.admin_token, web.viewer_token):
        assert secret not in listing.text
        assert secret[14:20] not in listing.text  # the secret starts after casb_<8 hex>_
        assert secret[:13] in listing.text  # the public part, `prefix`
        assert token_digest(secret) not in listing.text
    web.ctx.accounts.flush_token_uses()
    used = {t["name"]: t["last_used_at"] for t in admin.get("/api/v1/tokens").json()}
    assert used["tests admin"] is not None
    assert used["ci"] is None


def test_viewers_get_403_and_anonymous_401(web: WebEnv) -> None:
    viewer = web.client(web.viewer_token)
    before = len(web.ctx.accounts.list_tokens())
    for method, path, body in (("GET", "/api/v1/tokens", None),
                               ("POST", "/api/v1/tokens", {"name": "x", "role": "admin"}),
                               ("DELETE", "/api/v1/tokens/1", None)):
        response = viewer.request(method, path, json=body)
        assert response.status_code == 403, (method, response.text)
        assert response.json()["error"] == {"code": "forbidden", "message": "this action needs an admin token"}
        assert web.client().request(method, path, json=body).status_code == 401
    assert len(web.ctx.accounts.list_tokens()) == before
    assert web.ctx.accounts.verify_token(web.admin_token) is not None  # token 1 was not revoked


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x", "role": "analyst"}, "role"),
    ({"name": "x", "role": "ADMIN"}, "role"),
    ({"name": "x", "role": None}, "role"),
    ({"name": "x"}, "role"),
    ({"role": "viewer"}, "name"),
    ({"name": "   ", "role": "viewer"}, "name"),
    ({"name": "line\nbreak", "role": "viewer"}, "name"),
    ({"name": "n" * 201, "role": "viewer"}, "name"),
    ({"name": 7, "role": "viewer"}, "name"),
    ({"name": "x", "role": "viewer", "token": "casb_chosen-by-caller"}, "token"),
])
def test_bad_create_input_is_422(web: WebEnv, body: dict[str, object], field: str) -> None:
    before = len(web.ctx.accounts.list_tokens())
    response = web.client(web.admin_token).post("/api/v1/tokens", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert ["body", field] in [d["location"] for d in error["details"]]
    assert len(web.ctx.accounts.list_tokens()) == before


def test_bad_role_names_the_choices(web: WebEnv) -> None:
    response = web.client(web.admin_token).post("/api/v1/tokens", json={"name": "x", "role": "analyst"})
    assert "'admin' or 'viewer'" in response.json()["error"]["details"][0]["message"]


@pytest.mark.parametrize("content", [b"", b"not json", b"[]", b'{"name": "x", "role": "viewer"'])
def test_garbage_bodies_are_422(web: WebEnv, content: bytes) -> None:
    response = web.client(web.admin_token).post("/api/v1/tokens", content=content,
                                                 headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("token_id", ["abc", "0", "-1", str(2**31), str(2**70), "1.5"])
def test_bad_ids_are_422(web: WebEnv, token_id: str) -> None:
    response = web.client(web.admin_token).delete(f"/api/v1/tokens/{token_id}")
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["location"] == ["path", "token_id"]


def test_unknown_id_is_404(web: WebEnv) -> None:
    response = web.client(web.admin_token).delete("/api/v1/tokens/999")
    assert response.status_code == 404
    assert response.json()["error"] == {"code": "not_found", "message": "no API token with id 999"}


def test_creation_and_revocation_are_logged_without_the_value(web: WebEnv,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    admin = web.client(web.admin_token)
    with caplog.at_level(logging.INFO, logger="openai_casb.web.accounts"):
        created = admin.post("/api/v1/tokens", json={"name": "siem", "role": "viewer"}).json()
        admin.delete(f"/api/v1/tokens/{created['id']}")
    messages = [r.getMessage() for r in caplog.records if r.name == "openai_casb.web.accounts"]
    assert messages == [f"API token {created['id']} (viewer, 'siem') created by token:tests admin",
                        f"API token {created['id']} (viewer, 'siem') revoked by token:tests admin"]
    assert created["token"] not in caplog.text


def test_openapi_document_has_the_token_routes(web: WebEnv) -> None:
    document = web.client(web.viewer_token).get("/api/v1/openapi.json").json()
    assert set(document["paths"]["/api/v1/tokens"]) == {"get", "post"}
    assert set(document["paths"]["/api/v1/tokens/{token_id}"]) == {"delete"}
    schemas = document["components"]["schemas"]
    assert set(schemas["TokenOut"]["properties"]) == LISTED_FIELDS
    assert set(schemas["TokenCreated"]["properties"]) == LISTED_FIELDS | {"token"}
    assert set(schemas["TokenCreate"]["properties"]) == {"name", "role"}
