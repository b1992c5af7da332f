"""The environment of an `openai-casb` CLI run (typer's CliRunner) against a running emulator."""

from __future__ import annotations

from openai_casb.emulator import RunningEmulator


def emulator_cli_env(emulator: RunningEmulator, **overrides: str | None) -> dict[str, str | None]:
    """The emulator's organization, workspace and URLs; no keys, project, config or policy file (None unsets a
    variable for CliRunner, "" leaves a file unread); `overrides` on top."""
    env: dict[str, str | None] = {
        "OPENAI_ADMIN_KEY": None,
        "OPENAI_COMPLIANCE_KEY": None,
        "OPENAI_ORG_ID": emulator.organization_id,
        "CHATGPT_WORKSPACE_ID": emulator.workspace_id,
        "OPENAI_PROJECT_ID": None,
        "OPENAI_PROJECT_KEY": None,
        "OPENAI_ADMIN_BASE_URL": f"{emulator.base_url}/v1",
        "CHATGPT_COMPLIANCE_BASE_URL": f"{emulator.base_url}/v1",
        "OPENAI_CASB_CONFIG": "",
        "OPENAI_CASB_POLICY": "",
    }
    env.update(overrides)
    return env
