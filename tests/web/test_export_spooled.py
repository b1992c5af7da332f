"""REST exports are spooled whole before the response starts (exports/spool.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from conftest import WebEnv
from openai_casb.exports.safety import PlainSecretError


def test_an_export_streams_whole_and_a_late_leak_is_an_error_not_half_a_file(
    web: WebEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = web.client(web.viewer_token)
    response = client.get("/api/v1/exports/json")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="openai-casb-findings.json"'
    assert isinstance(json.loads(response.text), list)

    def late_leak(_report: object, _format: str) -> Iterator[str]:
        yield '[{"first": "record"},\n'
        raise PlainSecretError("export holds a plain key (1 found)")

    monkeypatch.setattr("openai_casb.web.api.inventory.iter_render", late_leak)
    served = TestClient(web.app, base_url="http://127.0.0.1", raise_server_exceptions=False)
    served.headers["Authorization"] = f"Bearer {web.viewer_token}"
    failed = served.get("/api/v1/exports/json")
    assert failed.status_code >= 500
    assert '"first"' not in failed.text
    assert failed.json()["error"]["code"]
