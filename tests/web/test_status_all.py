"""`status=all` on the API means every instance status, as `--status all` does in the CLI
(docs/exports.md, docs/api.md)."""

from __future__ import annotations

import json

from conftest import WebEnv


def test_exports_and_instances_accept_status_all(web: WebEnv) -> None:
    client = web.client(web.viewer_token)
    counts = {status: client.get("/api/v1/instances", params={"status": status, "limit": 500}).json()["total"]
              for status in ("active", "hidden", "resolved")}
    assert counts["resolved"] >= 1  # the seed has instances beyond the active ones
    every = sum(counts.values())

    response = client.get("/api/v1/exports/json", params={"status": "all"})
    assert response.status_code == 200, response.text
    assert len(json.loads(response.text)) == every
    assert {row["status"] for row in json.loads(response.text)} >= {"active", "resolved"}
    csv = client.get("/api/v1/exports/csv", params={"status": "all"})
    assert csv.status_code == 200, csv.text
    assert len(csv.text.strip().splitlines()) == every + 1  # the header

    assert client.get("/api/v1/instances", params={"status": "all", "limit": 500}).json()["total"] == every
    mixed = client.get("/api/v1/instances", params=[("status", "active"), ("status", "all"), ("limit", "500")])
    assert mixed.json()["total"] == every
    assert client.get("/api/v1/exports/json").status_code == 200
    assert len(client.get("/api/v1/exports/json").json()) == counts["active"]  # the default is unchanged
    assert client.get("/api/v1/exports/csv", params={"status": "everything"}).status_code == 422
