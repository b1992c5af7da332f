"""`openai-casb scan`: read the organization and workspace, evaluate, and store the findings."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from openai_casb.checks.registry import default_registry
from openai_casb.cli.common import DbOption, fail
from openai_casb.cli.common import open_store as _open
from openai_casb.cli.scan_display import RichScanProgress, active_at_or_above, print_summary
from openai_casb.config import (
    MISSING_IDENTITY,
    AdminBaseUrlOption,
    ComplianceBaseUrlOption,
    ConfigFileOption,
    OrgIdOption,
    ProjectIdOption,
    Settings,
    WorkspaceIdOption,
    has_identity,
    settings_or_exit,
)
from openai_casb.detections import Severity
from openai_casb.policy import Policy, PolicyError, load_policy
from openai_casb.scanning import ScanRequest, ScanResult, run_scan
from openai_casb.scanning.run import DlpSetup, DlpSetupError
from openai_casb.store import ScanNotRunningError, ScanRunningError, ScanStatus, Store

# Exit codes of `scan` (and `demo`) past 0, 1 (interrupted, store errors) and 2 (usage, bad policy, already
# running): distinct, so that a cron or CI wrapper can tell "risky findings" from "nothing was read".
EXIT_FAIL_ON = 3
EXIT_SCAN_FAILED = 4


class ConversationsSourceChoice(StrEnum):
    AUTO = "auto"
    CONVERSATIONS = "conversations"
    LOGS = "logs"


PolicyOption = Annotated[
    Path | None,
    typer.Option("--policy", help="Policy file (YAML): thresholds, mutelist, DLP. Default: $OPENAI_CASB_POLICY."),
]
FailOnOption = Annotated[
    str | None,
    typer.Option("--fail-on", metavar="SEVERITY",
                 help="Exit 3 when an active instance at or above this severity exists "
                      "(info|low|medium|high|critical)."),
]


def policy_or_exit(path: Path | None) -> Policy:
    try:
        return load_policy(path)
    except PolicyError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


def fail_on_or_exit(text: str | None) -> Severity | None:
    if text is None:
        return None
    try:
        return Severity.parse(text)
    except ValueError as error:
        typer.echo(f"error: --fail-on: {error}", err=True)
        raise typer.Exit(2) from None


def scan_and_report(
    console: Console, store: Store, request: ScanRequest, fail_on: Severity | None
) -> ScanResult:
    """Run a scan with progress, print its summary, and apply `--fail-on`.

    Exit 4 when the scan `failed` (no source could be read: its findings are not a view of the org,
    so this comes before `--fail-on`'s exit 3); a `partial` scan exits as a complete one. Exit 2
    when the policy's DLP settings cannot be used (an unreadable EDM file: found before the
    scan is recorded) or a scan of the integration is already running; exit 1 when this one was taken
    for dead (interrupted) by another before it could store its results. One line each, no traceback.
    """
    registry = default_registry()
    try:
        dlp = DlpSetup.from_policy(request.policy)
    except DlpSetupError as error:
        raise fail(str(error), code=2) from None
    try:
        with RichScanProgress(console) as progress:
            result = asyncio.run(run_scan(store, request, progress=progress, registry=registry, dlp=dlp))
    except ScanRunningError as error:
        raise fail(str(error), code=2) from None
    except ScanNotRunningError as error:
        raise fail(str(error), code=1) from None
    print_summary(console, store, result, registry)
    if result.summary.status == ScanStatus.FAILED:
        raise fail(f"scan #{result.summary.scan_id} failed: no source could be read (reasons above)",
                   code=EXIT_SCAN_FAILED)
    if fail_on is not None and active_at_or_above(store, result.integration.id, fail_on):
        console.print(f"[red]--fail-on {fail_on.label.lower()}: active findings at or above it exist[/]")
        raise typer.Exit(EXIT_FAIL_ON)
    return result


def scan(
    db: DbOption = None,
    policy: PolicyOption = None,
    config_file: ConfigFileOption = None,
    admin_base_url: AdminBaseUrlOption = None,
    compliance_base_url: ComplianceBaseUrlOption = None,
    org_id: OrgIdOption = None,
    workspace_id: WorkspaceIdOption = None,
    project_id: ProjectIdOption = None,
    full: Annotated[bool, typer.Option("--full", help="Read every conversation again, not only what changed.")] = False,
    conversations_source: Annotated[
        ConversationsSourceChoice,
        typer.Option("--conversations-source", help="auto: whichever the workspace answers."),
    ] = ConversationsSourceChoice.AUTO,
    dlp_workers: Annotated[int, typer.Option("--dlp-workers", min=1, max=64, help="Sandboxed DLP processes.")] = 1,
    fail_on: FailOnOption = None,
) -> None:
    """Scan the organization (Admin API) and workspace (Compliance API) and store the findings."""
    settings: Settings = settings_or_exit(
        config_file=config_file, admin_base_url=admin_base_url, compliance_base_url=compliance_base_url,
        org_id=org_id, workspace_id=workspace_id, project_id=project_id,
    )
    if not has_identity(settings):
        typer.echo(f"error: {MISSING_IDENTITY}", err=True)
        raise typer.Exit(2)
    request = ScanRequest(
        settings=settings, policy=policy_or_exit(policy), full=full,
        conversations_source=conversations_source.value, dlp_workers=dlp_workers,
    )
    level = fail_on_or_exit(fail_on)
    console = Console()
    with _open(db) as store:
        scan_and_report(console, store, request, level)


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)
