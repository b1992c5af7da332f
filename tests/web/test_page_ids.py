"""Dashboard path ids are bounded like the API's: out of range is a 422, unknown is a 404, never a
500 from the database driver (SQLite and PostgreSQL integers overflow past 2**63 - 1)."""

from __future__ import annotations

import pytest

from conftest import ADMIN_PASSWORD, WebEnv, csrf_of, login

HUGE = "99999999999999999999"


@pytest.mark.parametrize("path", [f"/instances/{HUGE}", f"/scans/{HUGE}/progress.json",
                                  f"/findings/{HUGE}/OAI-GPT-001"])
def test_out_of_range_ids_in_pages_are_422(web: WebEnv, path: str) -> None:
    client = web.client()
    login(client, "alice", ADMIN_PASSWORD)
    assert client.get(path).status_code == 422


@pytest.mark.parametrize(("path", "form"), [
    (f"/instances/{HUGE}/hide", {"reason": "x"}),
    (f"/instances/{HUGE}/unhide", {}),
    (f"/findings/{HUGE}/OAI-GPT-001/ignore", {}),
    (f"/findings/{HUGE}/OAI-GPT-001/unignore", {}),
    (f"/findings/{HUGE}/OAI-GPT-001/severity", {"level": "high"}),
    (f"/integrations/{HUGE}/scan", {}),
])
def test_out_of_range_ids_in_forms_are_422(web: WebEnv, path: str, form: dict[str, str]) -> None:
    client = web.client()
    login(client, "alice", ADMIN_PASSWORD)
    token = csrf_of(client.get("/").text)
    response = client.post(path, data={"csrf": token, **form}, follow_redirects=False)
    assert response.status_code == 422, response.text


def test_scan_of_an_unknown_integration_from_the_dashboard_is_404_as_in_the_api(web: WebEnv) -> None:
    client = web.client()
    login(client, "alice", ADMIN_PASSWORD)
    token = csrf_of(client.get("/").text)
    response = client.post("/integrations/999/scan", data={"csrf": token}, follow_redirects=False)
    assert response.status_code == 404
    api = web.client(web.admin_token).post("/api/v1/integrations/999/scans")
    assert api.status_code == 404
