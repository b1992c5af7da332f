"""Errors the emulator did not plan for still answer in OpenAI's error envelope."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from openai_casb.emulator import EmulatorConfig, Org, create_app
from openai_casb.emulator.sequences import ListCollection

WORKSPACE = "0b7e3c1a-1111-4222-8333-444455556666"


class _Broken(ListCollection):
    def item(self, index: int) -> dict[str, Any]:
        raise RuntimeError("a bug in a collection")


def test_an_unexpected_error_answers_a_500_in_openais_envelope() -> None:
    org = Org(organization_id="org-x", organization_name="X", workspace_id=WORKSPACE, users=_Broken([{"id": "u"}]))
    app = create_app(org, EmulatorConfig(admin_key="sk-admin-a", compliance_key="sk-proj-b"))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/v1/organization/users", headers={"Authorization": "Bearer sk-admin-a"})
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "message": "The server had an error processing your request.",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
