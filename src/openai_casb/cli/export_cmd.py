"""`export` (current findings in six formats) and `events` (the lifecycle stream for a SIEM)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated

import typer

from openai_casb.checks.registry import RegistryError
from openai_casb.cli.common import EXIT_USAGE, DbOption, IntegrationOption, StatusChoice
from openai_casb.cli.common import chosen_integration as _integration
from openai_casb.cli.common import fail as _fail
from openai_casb.cli.common import open_store as _open
from openai_casb.cli.common import store_failure as _store_failure
from openai_casb.detections import Severity
from openai_casb.exports.events import render_events_jsonl
from openai_casb.exports.formats import iter_render
from openai_casb.exports.safety import PlainSecretError
from openai_casb.exports.source import ExportFilters, build_events, build_report
from openai_casb.exports.spool import copy_to, spool
from openai_casb.store import StoreError

OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", dir_okay=False, writable=True, help="Write to this file instead of stdout."),
]


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    OCSF = "ocsf"
    SARIF = "sarif"
    HTML = "html"
    MARKDOWN = "markdown"


class EventFormat(StrEnum):
    JSONL = "jsonl"


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise _fail(f"cannot write {output}: {error.strerror or error}") from None
    typer.echo(f"wrote {output}", err=True)


def _write_spooled(spooled: IO[bytes], output: Path | None) -> None:
    """An export checked whole (exports/spool.py), copied out without holding it in memory."""
    if output is None:
        sys.stdout.flush()
        copy_to(spooled, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    try:
        with output.open("wb") as destination:
            copy_to(spooled, destination)
    except OSError as error:
        raise _fail(f"cannot write {output}: {error.strerror or error}") from None
    typer.echo(f"wrote {output}", err=True)


def export(
    output_format: Annotated[ExportFormat, typer.Option("--format", "-f", case_sensitive=False,
                                                        help="json, csv, ocsf, sarif, html or markdown.")],
    output: OutputOption = None,
    status: Annotated[StatusChoice, typer.Option("--status", case_sensitive=False,
                                                 help="Instance status to export.")] = StatusChoice.ACTIVE,
    severity: Annotated[str | None, typer.Option("--severity", help="Minimum severity: info..critical.")] = None,
    finding_type: Annotated[str | None, typer.Option("--type", help="Finding type ID or exact name.")] = None,
    db: DbOption = None,
    integration: IntegrationOption = None,
) -> None:
    """Export current findings (default: active instances) with their remediation."""
    try:
        minimum = Severity.parse(severity) if severity else None
    except ValueError as error:
        raise _fail(str(error), code=EXIT_USAGE) from None
    with _open(db) as store:
        try:
            chosen = _integration(store, integration)
            type_id = store.resolve_finding_type(finding_type).id if finding_type else None
            filters = ExportFilters(
                integration_id=chosen.id if chosen else None,
                statuses=None if status is StatusChoice.ALL else (status.value,),
                severity_min=minimum,
                finding_type_id=type_id,
            )
            spooled = spool(iter_render(build_report(store, filters), output_format.value))
        except StoreError as error:
            raise _store_failure(error) from None
        except (RegistryError, PlainSecretError) as error:
            raise _fail(str(error)) from None
    _write_spooled(spooled, output)


def events(
    since: Annotated[int | None, typer.Option("--since", metavar="SCAN", min=0,
                                              help="Only events after this scan id.")] = None,
    output_format: Annotated[EventFormat, typer.Option("--format", "-f", case_sensitive=False,
                                                       help="jsonl (one JSON object per line).")] = EventFormat.JSONL,
    output: OutputOption = None,
    db: DbOption = None,
    integration: IntegrationOption = None,
) -> None:
    """Lifecycle changes (detected, reopened, resolved, hidden, unhidden), oldest first, for a SIEM."""
    with _open(db) as store:
        try:
            chosen = _integration(store, integration)
            stream = build_events(store, since_scan_id=since, integration_id=chosen.id if chosen else None)
            text = render_events_jsonl(stream)
        except StoreError as error:
            raise _store_failure(error) from None
        except (RegistryError, PlainSecretError) as error:
            raise _fail(str(error)) from None
    _write(text, output)


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("events")(events)
