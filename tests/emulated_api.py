"""The REST API of a web context, with an admin token and one integration pointing at an emulator."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from openai_casb.web.accounts import Role
from openai_casb.web.app import create_app
from openai_casb.web.context import WebContext


def api_with_emulated_integration(ctx: WebContext, emulator: Any) -> tuple[TestClient, int]:
    """An admin client of `ctx`'s API, and the id of the integration it created for `emulator`."""
    _info, token = ctx.accounts.create_token(Role.ADMIN, "t")
    api = TestClient(create_app(ctx), base_url="http://127.0.0.1", headers={"Authorization": f"Bearer {token}"})
    created = api.post("/api/v1/integrations", json={
        "display_name": "Emulated", "organization_id": emulator.organization_id,
        "workspace_id": emulator.workspace_id, "admin_key": emulator.admin_key,
        "compliance_key": emulator.compliance_key, "admin_base_url": f"{emulator.base_url}/v1",
        "compliance_base_url": f"{emulator.base_url}/v1",
    })
    assert created.status_code == 201, created.text
    return api, int(created.json()["id"])
