"""`openai-casb check` against the emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from openai_casb.cli.app import app
from openai_casb.emulator import EmulatorConfig, generate_org, running_emulator


@pytest.fixture(scope="module")
def emu() -> Iterator[Any]:
    org = generate_org("users=3,gpts=1,conversations=3,files=1", seed=2, now=datetime(2026, 11, 1, tzinfo=UTC))
    with running_emulator(org, EmulatorConfig()) as running:
        yield running


def env_for(emu: Any, **overrides: str | None) -> dict[str, str | None]:
    env: dict[str, str | None] = {
        "OPENAI_ADMIN_KEY": emu.admin_key,
        "OPENAI_COMPLIANCE_KEY": emu.compliance_key,
        "CHATGPT_WORKSPACE_ID": emu.workspace_id,
        "OPENAI_ADMIN_BASE_URL": emu.base_url + "/v1",
        "CHATGPT_COMPLIANCE_BASE_URL": emu.base_url + "/v1",
        "OPENAI_CASB_CONFIG": None,
        "OPENAI_PROJECT_ID": None,
        "OPENAI_PROJECT_KEY": None,
        "OPENAI_ORG_ID": None,
    }
    env.update(overrides)
    return env


def run_check(emu: Any, *args: str, **env: str | None) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, ["check", "--format", "json", *args], env=env_for(emu, **env))
    return result.exit_code, json.loads(result.stdout)


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in report["checks"]}


def test_healthy_integration_exits_zero(emu: Any) -> None:
    code, report = run_check(emu)
    assert code == 0, report
    assert report["healthy"] is True
    found = statuses(report)
    assert found["Admin API key"] == "healthy"
    assert found["Compliance API read scope"] == "healthy"
    assert found["Audit logs"] == "healthy"
    assert found["Workspace"] == "healthy"


def test_admin_key_without_compliance_scope_is_missing_scope(emu: Any) -> None:
    code, report = run_check(emu, OPENAI_COMPLIANCE_KEY=None)  # falls back to the admin key
    assert code == 1
    assert statuses(report)["Compliance API read scope"] == "missing scope"


def test_unknown_workspace_and_bad_key_are_broken(emu: Any) -> None:
    code, report = run_check(emu, "--workspace-id", "00000000-0000-4000-8000-000000000000")
    assert code == 1
    assert statuses(report)["Workspace"] == "broken"
    code, report = run_check(emu, OPENAI_ADMIN_KEY="sk-admin-wrongwrongwrongwrong")
    assert code == 1
    assert statuses(report)["Admin API key"] == "broken"
    assert "wrongwrongwrong" not in json.dumps(report)


def test_no_workspace_is_not_configured_and_project_checked(emu: Any) -> None:
    code, report = run_check(emu, "--project-id", "proj_does_not_exist", CHATGPT_WORKSPACE_ID=None)
    assert code == 1
    found = statuses(report)
    assert found["Compliance API"] == "not configured"
    assert found["Project scope"] == "broken"


def test_table_output_and_config_errors(emu: Any) -> None:
    result = CliRunner().invoke(app, ["check"], env=env_for(emu))
    assert result.exit_code == 0
    assert "Integration health" in result.stdout
    result = CliRunner().invoke(app, ["check"], env=env_for(emu, OPENAI_ADMIN_KEY=None))
    assert result.exit_code == 2
    assert "admin_key (OPENAI_ADMIN_KEY) is required" in result.output
    result = CliRunner().invoke(app, ["check", "--admin-base-url", "ftp://x"], env=env_for(emu))
    assert result.exit_code == 2
    assert "not an http(s) URL" in result.output
    assert "Traceback" not in result.output


def test_unreachable_api_is_broken_not_a_traceback(emu: Any) -> None:
    from openai_casb.emulator.server import free_port

    dead = f"http://127.0.0.1:{free_port()}/v1"
    result = CliRunner().invoke(
        app,
        ["check", "--format", "json", "--admin-base-url", dead, "--compliance-base-url", dead],
        env=env_for(emu),
    )
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert statuses(report)["Admin API key"] == "broken"
    assert "unreachable" in json.dumps(report)


def test_project_key_must_be_one_of_the_projects_keys(emu: Any) -> None:
    headers = {"Authorization": f"Bearer {emu.admin_key}"}
    base = emu.base_url + "/v1/organization/projects"
    project_id = httpx.get(base, headers=headers, params={"limit": 1}).json()["data"][0]["id"]
    listed = httpx.get(f"{base}/{project_id}/api_keys", headers=headers,
                       params={"limit": 100, "owner_project_access": "any"}).json()["data"]
    head, tail = listed[0]["redacted_value"].split("...")
    real = head + "-" + "Q7w" * 15 + tail  # what the listing shows of it: head...tail
    code, report = run_check(emu, "--project-id", project_id, OPENAI_PROJECT_KEY=real)
    assert code == 0, report
    assert statuses(report)["Project key"] == "healthy"
    bogus = "sk-proj-boguskeybogus"
    code, report = run_check(emu, "--project-id", project_id, OPENAI_PROJECT_KEY=bogus)
    assert code == 1
    assert statuses(report)["Project key"] == "broken"
    assert "boguskey" not in json.dumps(report)
    assert "Q7wQ7w" not in json.dumps(report)


def test_without_org_or_workspace_id_check_says_so_and_scan_refuses(emu: Any, tmp_path: Any) -> None:
    code, report = run_check(emu, CHATGPT_WORKSPACE_ID=None)
    assert code == 1
    assert statuses(report)["Organization or workspace id"] == "broken"
    assert statuses(report)["Admin API key"] == "healthy"
    scan = CliRunner().invoke(app, ["scan", "--db", str(tmp_path / "none.db")],
                              env=env_for(emu, CHATGPT_WORKSPACE_ID=None))
    assert scan.exit_code == 2, scan.output
    assert scan.output.strip().startswith("error: set OPENAI_ORG_ID")
    assert "Traceback" not in scan.output
    code, report = run_check(emu, CHATGPT_WORKSPACE_ID=None, OPENAI_ORG_ID="org-123")
    assert code == 0, report


def test_a_wrong_compliance_base_url_is_named_as_a_possible_cause(emu: Any) -> None:
    wrong = f"{emu.base_url}/v1/compliance/workspaces/{emu.workspace_id}"  # a path, not the base URL
    code, report = run_check(emu, CHATGPT_COMPLIANCE_BASE_URL=wrong)
    assert code == 1
    (workspace,) = [c for c in report["checks"] if c["name"] == "Workspace"]
    assert workspace["status"] == "broken"
    assert "Compliance base URL is wrong" in workspace["detail"]
