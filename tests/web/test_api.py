"""REST API behaviour: filters and pagination, hide/unhide, ignore and severity, integrations with
encrypted credentials, scans, exports, the error envelope and security headers."""

from __future__ import annotations

from seed import CUSTOM_ACTIONS, INACTIVE_USER
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import WebEnv
from openai_casb.web.app import SECURITY_HEADERS
from openai_casb.web.models import IntegrationCredentialRow

ADMIN_KEY = "sk-admin-" + "Q7w8E9r0T1y2U3i4O5p6A7s8"


def test_instances_filter_search_and_paginate(web: WebEnv) -> None:
    client = web.client(web.viewer_token)
    everything = client.get("/api/v1/instances").json()
    assert everything["total"] == 12
    high = client.get("/api/v1/instances", params={"severity": "high"}).json()
    assert high["total"] == 7
    assert {i["severity"] for i in high["items"]} == {"high"}
    users = client.get("/api/v1/instances", params={"type": INACTIVE_USER, "q": "becker"}).json()
    assert [i["asset_name"] for i in users["items"]] == ["Noah Becker"]
    group = client.get("/api/v1/instances", params={"group": "Access security"}).json()
    assert group["total"] == 5
    first = client.get("/api/v1/instances", params={"limit": 5, "offset": 0}).json()
    second = client.get("/api/v1/instances", params={"limit": 5, "offset": 5}).json()
    assert first["total"] == second["total"] == 12
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    resolved = client.get("/api/v1/instances", params={"status": "resolved"}).json()
    assert {i["asset_name"] for i in resolved["items"]} >= {"Legacy Intake Form"}


def test_hide_then_unhide_with_history(web: WebEnv) -> None:
    client = web.client(web.admin_token)
    hidden = client.post("/api/v1/instances/1/hide", json={"reason": "accepted risk"}).json()
    assert hidden["status"] == "hidden"
    assert hidden["hidden_reason"] == "accepted risk"
    assert hidden["hidden_by"] == "token:tests admin"
    assert client.get("/api/v1/instances", params={"status": "hidden"}).json()["total"] == 1
    shown = client.post("/api/v1/instances/1/unhide").json()
    assert shown["status"] == "active"
    assert [e["event_type"] for e in shown["events"]][-2:] == ["hidden", "unhidden"]
    assert client.post("/api/v1/instances/1/unhide").status_code == 409
    assert client.post("/api/v1/instances/999999/hide", json={"reason": "x"}).status_code == 404
    assert client.post("/api/v1/instances/1/hide", json={"reason": "   "}).status_code == 422
    for until in ("9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+01:00", "2020-01-01T00:00:00Z",
                  "2030-01-01T00:00:00", 99999999999, "soon"):
        refused = client.post("/api/v1/instances/1/hide", json={"reason": "x", "until": until})
        assert refused.status_code == 422, (until, refused.text)
        assert "until" in refused.text


def test_ignore_and_override_severity(web: WebEnv) -> None:
    client = web.client(web.admin_token)
    base = f"/api/v1/integrations/1/finding-types/{CUSTOM_ACTIONS}"
    assert client.post(f"{base}/ignore").json()["ignored"] is True
    assert client.get("/api/v1/instances", params={"ignored": "true"}).json()["total"] == 2
    assert client.delete(f"{base}/ignore").json()["ignored"] is False
    assert client.put(f"{base}/severity", json={"severity": "critical"}).json()["severity_override"] == "critical"
    assert client.get("/api/v1/instances", params={"severity": "critical"}).json()["total"] == 2
    assert client.put(f"{base}/severity", json={"severity": None}).json()["severity_override"] is None
    assert client.put(f"{base}/severity", json={"severity": "urgent"}).status_code == 422
    assert client.post("/api/v1/integrations/1/finding-types/no-such-type/ignore").status_code == 404


def test_integration_credentials_are_encrypted_at_rest(web: WebEnv) -> None:
    client = web.client(web.admin_token)
    response = client.post("/api/v1/integrations", json={
        "display_name": "Globex", "organization_id": "org-globex", "admin_key": ADMIN_KEY})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["has_credentials"] is True
    assert ADMIN_KEY not in response.text
    with Session(web.store.engine) as session:
        row = session.scalars(select(IntegrationCredentialRow)
                              .where(IntegrationCredentialRow.integration_id == created["id"])).one()
    assert ADMIN_KEY.encode() not in row.ciphertext
    assert web.ctx.accounts.load_credentials(created["id"], web.ctx.cipher)["admin_key"] == ADMIN_KEY
    listed = client.get("/api/v1/integrations").text
    assert ADMIN_KEY not in listed
    assert "Globex" in listed


def test_integration_input_errors_are_4xx_with_the_envelope(web: WebEnv) -> None:
    client = web.client(web.admin_token)
    for body in ({}, {"display_name": "x"}, {"display_name": "x", "organization_id": "o", "admin_key": "short"},
                 {"display_name": "x", "workspace_id": "w", "admin_key": ADMIN_KEY},
                 {"display_name": "x", "organization_id": "o", "admin_key": ADMIN_KEY, "admin_base_url": "ftp://x"}):
        response = client.post("/api/v1/integrations", json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "invalid_request"
        assert ADMIN_KEY not in response.text
    assert client.post("/api/v1/integrations", content=b"{not json",
                       headers={"content-type": "application/json"}).status_code == 422


def test_trigger_scan_then_follow_its_progress(web: WebEnv) -> None:
    client = web.client(web.admin_token)
    assert client.post("/api/v1/integrations/1/scans").status_code == 409  # no credentials stored yet
    web.ctx.accounts.save_credentials(1, web.ctx.cipher, {"admin_key": ADMIN_KEY})
    started = client.post("/api/v1/integrations/1/scans")
    assert started.status_code == 202
    scan_id = started.json()["scan_id"]
    running = client.get(f"/api/v1/scans/{scan_id}").json()
    assert running["status"] == "running"
    assert running["progress"]["stage"] == "reading compliance.gpts"
    assert web.launcher.calls == [(1, {"admin_key": ADMIN_KEY})]
    assert client.get("/api/v1/scans", params={"limit": 2}).json()["total"] == 5
    assert client.post("/api/v1/integrations/77/scans").status_code == 404


def test_lists_of_types_findings_assets_profiles(web: WebEnv) -> None:
    client = web.client(web.viewer_token)
    assert len(client.get("/api/v1/finding-types").json()) == 15
    findings = {f["finding_type_id"]: f for f in client.get("/api/v1/findings").json()}
    assert findings[CUSTOM_ACTIONS]["active"] == 2
    assert findings[CUSTOM_ACTIONS]["resolved"] == 1
    assets = client.get("/api/v1/assets", params={"kind": "user"}).json()
    assert assets["total"] == 3
    assert all(a["active_instances"] == 1 for a in assets["items"])
    assert "Financial Information" in {p["name"] for p in client.get("/api/v1/dlp/profiles").json()}
    health = client.get("/api/v1/integrations/health").json()[0]
    assert health["last_scan_status"] == "complete"
    assert health["sources"]


def test_exports_in_every_format(web: WebEnv) -> None:
    client = web.client(web.viewer_token)
    for name, media in (("json", "application/json"), ("csv", "text/csv"), ("sarif", "application/sarif+json"),
                        ("markdown", "text/markdown"), ("html", "text/html"), ("ocsf", "application/json")):
        response = client.get(f"/api/v1/exports/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith(media)
        assert "attachment" in response.headers["content-disposition"]
    assert "Jira Triage Bot" in client.get("/api/v1/exports/csv").text
    assert client.get("/api/v1/exports/pdf").status_code == 422


def test_security_headers_everywhere(web: WebEnv) -> None:
    for client, path in ((web.client(), "/login"), (web.client(), "/static/app.css"),
                         (web.client(web.viewer_token), "/api/v1/instances"), (web.client(), "/api/v1/instances")):
        response = client.get(path)
        for header, value in SECURITY_HEADERS.items():
            assert response.headers[header] == value
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp


def test_openapi_document_lists_the_api(web: WebEnv) -> None:
    document = web.client(web.viewer_token).get("/api/v1/openapi.json").json()
    assert "/api/v1/instances" in document["paths"]
    assert all(path.startswith("/api/v1/") for path in document["paths"])
