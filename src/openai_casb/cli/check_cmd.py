"""`openai-casb check`: test every credential and scope and print an integration-health table."""

from __future__ import annotations

import asyncio
import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from openai_casb.config import (
    AdminBaseUrlOption,
    ComplianceBaseUrlOption,
    ConfigFileOption,
    OrgIdOption,
    ProjectIdOption,
    WorkspaceIdOption,
    settings_or_exit,
)
from openai_casb.connectors.health import HealthCheck, check_integration

_STYLE = {"healthy": "green", "broken": "bold red", "missing scope": "yellow", "not configured": "dim"}


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def _table(checks: list[HealthCheck]) -> Table:
    table = Table(title="Integration health")
    table.add_column("Check")
    table.add_column("Status")
    table.add_column("Detail", overflow="fold")
    for check in checks:
        table.add_row(check.name, f"[{_STYLE[check.status]}]{check.status}[/]", check.detail)
    return table


def check(
    config: ConfigFileOption = None,
    admin_base_url: AdminBaseUrlOption = None,
    compliance_base_url: ComplianceBaseUrlOption = None,
    org_id: OrgIdOption = None,
    workspace_id: WorkspaceIdOption = None,
    project_id: ProjectIdOption = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json.")] = OutputFormat.TABLE,
) -> None:
    """Test the admin key, Compliance `read` scope, workspace, audit logging and project scope.

    Exit code 1 when anything is broken or a scope is missing.
    """
    settings = settings_or_exit(
        config_file=config,
        admin_base_url=admin_base_url,
        compliance_base_url=compliance_base_url,
        org_id=org_id,
        workspace_id=workspace_id,
        project_id=project_id,
    )
    checks = asyncio.run(check_integration(settings))
    failing = any(c.failing for c in checks)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps({"healthy": not failing, "checks": [c.as_dict() for c in checks]}, indent=2))
    else:
        Console().print(_table(checks))
    if failing:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
