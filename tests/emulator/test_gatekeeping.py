"""Auth, limits, quotas, read-only refusal and stats."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from openai_casb.emulator import ConfigError, EmulatorConfig, Org

from .conftest import ADMIN_KEY, COMPLIANCE_KEY, Api, FakeClock


def envelope_of(response: object) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    error: dict[str, object] = body["error"]
    return error


def test_missing_and_wrong_keys_answer_401(api: Api) -> None:
    assert api.http.get("/v1/organization/users").status_code == 401
    wrong = api.http.get("/v1/organization/users", headers={"Authorization": "Bearer sk-admin-wrong"})
    assert wrong.status_code == 401
    assert envelope_of(wrong)["code"] == "invalid_api_key"
    assert "sk-admin-wrong" not in wrong.text
    assert api.compliance("/users", key="sk-proj-wrong").status_code == 401


def test_compliance_key_on_admin_paths_is_401(api: Api) -> None:
    response = api.http.get("/v1/organization/users", headers={"Authorization": f"Bearer {COMPLIANCE_KEY}"})
    assert response.status_code == 401


def test_admin_key_without_compliance_scope_is_403(api: Api) -> None:
    response = api.compliance("/users", key=ADMIN_KEY)
    assert response.status_code == 403
    assert envelope_of(response)["code"] == "insufficient_permissions"


def test_one_key_with_both_scopes(org: Org, make_api: Callable[..., Api]) -> None:
    api = make_api(org, compliance_key=ADMIN_KEY)
    assert api.compliance("/users", key=ADMIN_KEY).status_code == 200
    assert api.admin("/users").status_code == 200


def test_unknown_workspace_is_404(api: Api) -> None:
    response = api.http.get(
        "/v1/compliance/workspaces/00000000-0000-0000-0000-000000000000/users",
        headers={"Authorization": f"Bearer {COMPLIANCE_KEY}"},
    )
    assert response.status_code == 404
    assert envelope_of(response)["param"] == "workspace_id"


@pytest.mark.parametrize(
    ("path", "limit"),
    [("/users", 0), ("/users", 101), ("/users", "ten"), ("/audit_logs", 500), ("/invites", -1)],
)
def test_admin_limit_out_of_range_is_400(api: Api, path: str, limit: object) -> None:
    response = api.admin(path, limit=limit)
    assert response.status_code == 400
    assert envelope_of(response)["param"] == "limit"


@pytest.mark.parametrize(
    ("path", "limit"), [("/conversations", 501), ("/conversations", 0), ("/gpts", 101), ("/users", 1001)]
)
def test_compliance_limit_out_of_range_is_400(api: Api, path: str, limit: int) -> None:
    response = api.compliance(path, limit=limit)
    assert response.status_code == 400
    assert envelope_of(response)["param"] == "limit"


def test_bad_file_format_and_users_filter(api: Api) -> None:
    assert api.compliance("/gpts", file_format="pdf").status_code == 400
    too_many = [("users", f"user-{n}") for n in range(100)]
    response = api.http.get(
        f"/v1/compliance/workspaces/{api.org.workspace_id}/conversations",
        params=too_many,
        headers={"Authorization": f"Bearer {COMPLIANCE_KEY}"},
    )
    assert response.status_code == 400


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "HEAD"])
def test_every_non_get_is_refused_and_counted(api: Api, method: str) -> None:
    for path in ("/v1/organization/users", f"/v1/compliance/workspaces/{api.org.workspace_id}/gpts/g-x", "/anything"):
        response = api.http.request(method, path, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        assert response.status_code == 405
    stats = api.http.get("/_emulator/stats").json()
    assert stats["refused_non_get"] == 3


def test_compliance_list_quota_and_retry_after(org: Org, make_api: Callable[..., Api], clock: FakeClock) -> None:
    api = make_api(org, rate_limit_scale=0.1)  # 50/min lists -> 5, 100/min singles -> 10
    for _ in range(5):
        assert api.compliance("/users").status_code == 200
    clock.advance(20)
    refused = api.compliance("/users")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "40"
    assert envelope_of(refused)["code"] == "rate_limit_exceeded"
    # Another endpoint template and another key have their own windows.
    assert api.compliance("/gpts").status_code == 200
    gpt = org.gpts.item(0)["id"]
    assert all(api.compliance(f"/gpts/{gpt}").status_code == 200 for _ in range(10))
    assert api.compliance(f"/gpts/{org.gpts.item(1)['id']}").status_code == 429  # same template, same window
    clock.advance(40)
    assert api.compliance("/users").status_code == 200
    stats = api.http.get("/_emulator/stats").json()
    assert stats["rate_limited"] == 2
    assert stats["by_endpoint_status"]["GET /v1/compliance/workspaces/{workspace_id}/users"] == {"200": 6, "429": 1}


def test_rolling_window_frees_one_slot_at_a_time(org: Org, make_api: Callable[..., Api], clock: FakeClock) -> None:
    api = make_api(org, admin_rate_per_min=3, rate_limit_scale=1.0)
    for step in range(3):
        assert api.admin("/users").status_code == 200
        clock.advance(10 * (step + 1))  # admitted at t=0, 10, 30
    assert api.admin("/users").status_code == 200  # the t=0 slot left the window exactly now
    refused = api.admin("/users")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "10"


def test_stats_count_per_template_and_status(api: Api, org: Org) -> None:
    api.admin("/users")
    api.admin(f"/users/{org.users.item(0)['id']}")
    api.admin("/users", limit=0)
    api.http.get("/nowhere")
    stats = api.http.get("/_emulator/stats").json()
    assert stats["requests"]["GET /v1/organization/users"] == 2
    assert stats["requests"]["GET /v1/organization/users/{user_id}"] == 1
    assert stats["statuses"]["400"] == 1
    assert stats["statuses"]["404"] == 1


@pytest.mark.parametrize(
    "settings",
    [
        {"fault_rate": 2.0},
        {"fault_kinds": ("explode",)},
        {"rate_limit_scale": 0},
        {"admin_key": ""},
        {"latency_ms": -1},
        {"port": 70000},
    ],
)
def test_bad_config_is_a_clear_error(settings: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        EmulatorConfig(**settings)  # type: ignore[arg-type]


def test_config_repr_hides_keys() -> None:
    config = EmulatorConfig(admin_key="sk-admin-supersecretvalue123", compliance_key="sk-proj-anothersecret456")
    assert "supersecret" not in repr(config)
    assert "anothersecret" not in repr(config)
