"""The real server: running_emulator in a thread, connection resets, stalls, latency, and the CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from openai_casb.cli.app import app as cli_app
from openai_casb.emulator import EmulatorConfig, Org, running_emulator


def test_running_emulator_serves_both_apis(org: Org) -> None:
    with running_emulator(org, EmulatorConfig(rate_limit_scale=100)) as emulator:
        assert emulator.base_url.startswith("http://127.0.0.1:")
        assert emulator.admin_key.startswith("sk-admin-")
        assert emulator.compliance_key.startswith("sk-proj-")
        with httpx.Client(base_url=emulator.base_url + "/v1") as client:
            users = client.get("/organization/users", headers={"Authorization": f"Bearer {emulator.admin_key}"})
            assert users.status_code == 200
            assert users.json()["data"]
            gpts = client.get(
                f"/compliance/workspaces/{emulator.workspace_id}/gpts",
                headers={"Authorization": f"Bearer {emulator.compliance_key}"},
            )
            assert gpts.status_code == 200
            client.delete("/organization/users/x")
        stats = emulator.stats()
        assert stats["requests"]["GET /v1/organization/users"] == 1
        assert stats["refused_non_get"] == 1
        assert emulator.organization_id == org.organization_id
        assert emulator.admin_key not in repr(emulator)


def test_reset_drops_the_connection_without_a_response(org: Org) -> None:
    config = EmulatorConfig(fault_rate=1.0, fault_kinds=("reset",))
    with running_emulator(org, config) as emulator, httpx.Client(base_url=emulator.base_url) as client:
        with pytest.raises(httpx.TransportError):
            client.get("/v1/organization/users", headers={"Authorization": f"Bearer {emulator.admin_key}"})
        assert emulator.stats()["faults"] == {"reset": 1}


def test_stall_outlasts_a_client_timeout(org: Org) -> None:
    config = EmulatorConfig(fault_rate=1.0, fault_kinds=("stall",), stall_seconds=1.5)
    with (
        running_emulator(org, config) as emulator,
        httpx.Client(base_url=emulator.base_url, timeout=0.3) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.get("/v1/organization/users", headers={"Authorization": f"Bearer {emulator.admin_key}"})


def test_cli_rejects_bad_input_without_traceback(tmp_path: Path) -> None:
    runner = CliRunner()
    both = runner.invoke(cli_app, ["emulator", "--snapshot", "x.json", "--generate", "users=1"])
    assert both.exit_code == 2
    assert "either --snapshot or --generate" in both.output
    bad_spec = runner.invoke(cli_app, ["emulator", "--generate", "users=lots"])
    assert bad_spec.exit_code == 2
    assert "whole number" in bad_spec.output
    missing = runner.invoke(cli_app, ["emulator", "--snapshot", str(tmp_path / "missing.json")])
    assert missing.exit_code == 2
    assert "not found" in missing.output
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"admin": []}))
    bad = runner.invoke(cli_app, ["emulator", "--snapshot", str(broken)])
    assert bad.exit_code == 2
    assert "admin must be an object" in bad.output
    faults = runner.invoke(cli_app, ["emulator", "--fault-kinds", "boom", "--fault-rate", "0.5"])
    assert faults.exit_code == 2
    assert "unknown fault kind" in faults.output
    for result in (both, bad_spec, missing, bad, faults):
        assert "Traceback" not in result.output


@pytest.mark.parametrize("command", [["emulator", "--generate", "users=1"], ["serve"]])
def test_a_busy_port_is_one_line_and_exit_2_before_any_banner(command: list[str], tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        extra = ["--db", str(tmp_path / "web.db")] if command == ["serve"] else []
        result = CliRunner().invoke(cli_app, [*command, "--host", "127.0.0.1", "--port", str(port), *extra])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [f"error: cannot listen on 127.0.0.1:{port}: Address already in use"]


def test_the_banners_base_urls_and_keys_work_as_the_scanners_settings(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "openai_casb.cli", "emulator", "--generate", "users=2,gpts=1",
               "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        lines: list[str] = []
        for line in iter(server.stdout.readline, ""):
            lines.append(line)
            if line.startswith("Stats:"):
                break
        banner = {line.split(":", 1)[0]: line.split(":", 1)[1].split() for line in lines}
        admin_url, admin_key = banner["Admin API"][2], banner["Admin API"][4]
        compliance_url, compliance_key = banner["Compliance API"][2], banner["Compliance API"][4]
        workspace = banner["Organization"][2]
        env = {**os.environ, "OPENAI_ADMIN_KEY": admin_key, "OPENAI_COMPLIANCE_KEY": compliance_key,
               "OPENAI_ADMIN_BASE_URL": admin_url, "CHATGPT_COMPLIANCE_BASE_URL": compliance_url,
               "CHATGPT_WORKSPACE_ID": workspace, "OPENAI_CASB_CONFIG": ""}
        check = subprocess.run([sys.executable, "-m", "openai_casb.cli", "check"], env=env, capture_output=True,
                               text=True, timeout=120, check=False)
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        server.terminate()
        server.wait(20)
