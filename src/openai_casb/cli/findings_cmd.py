"""Findings from the store: `findings [show]`, `ignore`/`unignore`, `hide`/`unhide`, `severity`, `scans`."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from itertools import groupby
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from openai_casb.cli.common import EXIT_USAGE, DbOption, IntegrationOption, StatusChoice
from openai_casb.cli.common import chosen_integration as _chosen_integration
from openai_casb.cli.common import fail as _fail
from openai_casb.cli.common import open_store as _open
from openai_casb.cli.common import required_integration as _required_integration
from openai_casb.cli.common import store_failure as _store_failure
from openai_casb.detections import Severity
from openai_casb.store import InstanceView, ScanRecord, Store, StoreError


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", case_sensitive=False, help="table or json.")]
_SEVERITY_STYLE = {Severity.CRITICAL: "bold red", Severity.HIGH: "red", Severity.MEDIUM: "yellow",
                   Severity.LOW: "cyan", Severity.INFO: "dim"}
_PAGE = 1000


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def instance_document(view: InstanceView) -> dict[str, Any]:
    """One instance as the JSON output shows it."""
    hidden = ({"by": view.hidden_by, "reason": view.hidden_reason, "until": _iso(view.hidden_until)}
              if view.hidden_by else None)
    return {
        "id": view.id,
        "integration_id": view.integration_id,
        "finding_type_id": view.finding_type_id,
        "finding_type": view.finding_type,
        "severity": view.severity.label,
        "default_severity": view.default_severity.label,
        "group": view.group,
        "finding_status": str(view.finding_status),
        "status": str(view.status),
        "asset": {"kind": view.asset_kind, "id": view.asset_id, "name": view.asset_name, "email": view.asset_email,
                  "link": view.asset_link},
        "evidence": view.evidence,
        "first_detected": _iso(view.first_detected),
        "last_detected": _iso(view.last_detected),
        "resolved_at": _iso(view.resolved_at),
        "hidden": hidden,
        "new_in_scan_id": view.new_in_scan_id,
    }


def _asset_label(view: InstanceView) -> str:
    shown = view.asset_email or view.asset_name
    return f"{view.asset_kind} {shown} ({view.asset_id})" if shown else f"{view.asset_kind} {view.asset_id}"


def _short_name(name: str) -> str:
    return name.removeprefix("OpenAI: ")  # every type carries it; the table has no room to repeat it


def _group_table(title: str, views: list[InstanceView]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    table.add_column("ID", no_wrap=True, justify="right")
    table.add_column("Severity", no_wrap=True)
    table.add_column("Finding", ratio=3)
    table.add_column("Asset", ratio=3, overflow="fold")
    table.add_column("Status", no_wrap=True)
    table.add_column("First", no_wrap=True)
    table.add_column("Last", no_wrap=True)
    for view in sorted(views, key=lambda v: (-int(v.severity), v.finding_type, v.id)):
        table.add_row(str(view.id), f"[{_SEVERITY_STYLE[view.severity]}]{view.severity.label}[/]",
                      _short_name(view.finding_type), _asset_label(view), str(view.status),
                      view.first_detected.strftime("%Y-%m-%d"), view.last_detected.strftime("%Y-%m-%d"))
    return table


def _print_tables(console: Console, views: list[InstanceView]) -> None:
    shown = [v for v in views if v.finding_status == "active"]
    ignored = [v for v in views if v.finding_status == "ignored"]
    if not views:
        console.print("No findings match.")
    for group, members in groupby(sorted(shown, key=lambda v: (v.group_order, v.group)), key=lambda v: v.group):
        console.print(_group_table(group, list(members)))
    if ignored:
        console.print(_group_table("Ignored finding types (still evaluated)", ignored))


def _all_instances(store: Store, limit: int | None, **filters: Any) -> Iterator[InstanceView]:
    offset = 0
    while limit is None or offset < limit:
        page_size = _PAGE if limit is None else min(_PAGE, limit - offset)
        page = store.list_instances(limit=page_size, offset=offset, **filters)
        yield from page
        if len(page) < page_size:
            return
        offset += len(page)


findings_app = typer.Typer(help="Finding instances kept in the store, by group and severity.", no_args_is_help=False)


@findings_app.callback(invoke_without_command=True)
def findings(
    ctx: typer.Context,
    status: Annotated[StatusChoice, typer.Option("--status", case_sensitive=False,
                                                 help="Instance status to list.")] = StatusChoice.ACTIVE,
    severity: Annotated[str | None, typer.Option("--severity", help="Minimum severity: info..critical.")] = None,
    finding_type: Annotated[str | None, typer.Option("--type", help="Finding type ID or exact name.")] = None,
    search: Annotated[str | None, typer.Option("--search", help="Text in the asset's name, email or id.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="List at most this many.")] = None,
    output_format: FormatOption = OutputFormat.TABLE,
    db: DbOption = None,
    integration: IntegrationOption = None,
) -> None:
    """List finding instances grouped by category, most severe first (default: active ones)."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = db
        return
    try:
        minimum = Severity.parse(severity) if severity else None
    except ValueError as error:
        raise _fail(str(error), code=EXIT_USAGE) from None
    with _open(db) as store:
        try:
            chosen = _chosen_integration(store, integration)
            type_id = store.resolve_finding_type(finding_type).id if finding_type else None
            views = list(_all_instances(
                store, limit, integration_id=chosen.id if chosen else None,
                status=None if status is StatusChoice.ALL else str(status), severity_min=minimum,
                finding_type=type_id, search=search,
            ))
        except StoreError as error:
            raise _store_failure(error) from None
    if output_format is OutputFormat.JSON:
        typer.echo(json.dumps([instance_document(v) for v in views], indent=2))
        return
    _print_tables(Console(), views)


@findings_app.command("show")
def show(
    ctx: typer.Context,
    instance_id: Annotated[int, typer.Argument(metavar="ID", help="Instance id (first column of `findings`).")],
    output_format: FormatOption = OutputFormat.TABLE,
    db: DbOption = None,
) -> None:
    """One instance in full: asset, evidence and its lifecycle history."""
    with _open(db or ctx.obj) as store:
        try:
            detail = store.get_instance(instance_id)
        except StoreError as error:
            raise _store_failure(error) from None
    document = instance_document(detail.instance)
    document["events"] = [
        {"id": e.id, "type": str(e.event_type), "at": _iso(e.at), "scan_id": e.scan_id, "details": e.details}
        for e in detail.events
    ]
    if output_format is OutputFormat.JSON:
        typer.echo(json.dumps(document, indent=2))
        return
    console = Console()
    console.print(f"[bold]#{document['id']} {document['finding_type']}[/] ({document['finding_type_id']})")
    for label, value in (("Severity", document["severity"]), ("Status", document["status"]),
                         ("Finding", document["finding_status"]), ("Asset", _asset_label(detail.instance)),
                         ("Link", document["asset"]["link"]), ("First detected", document["first_detected"]),
                         ("Last detected", document["last_detected"]), ("Resolved", document["resolved_at"]),
                         ("Hidden", json.dumps(document["hidden"]) if document["hidden"] else None)):
        if value:
            console.print(f"{label}: {value}", highlight=False)
    console.print("Evidence:")
    console.print_json(data=document["evidence"])
    history = Table(title="History", title_justify="left")
    for column in ("At", "Event", "Scan", "Details"):
        history.add_column(column)
    for event in document["events"]:
        history.add_row(event["at"], event["type"], str(event["scan_id"] or "-"), json.dumps(event["details"]))
    console.print(history)


def _type_command(db: str | None, integration: str | None, finding_type: str, action: str) -> None:
    with _open(db) as store:
        try:
            chosen = _required_integration(store, integration)
            record = store.resolve_finding_type(finding_type)
            if action == "ignore":
                store.ignore_type(chosen.id, record.id)
            else:
                store.unignore_type(chosen.id, record.id)
        except StoreError as error:
            raise _store_failure(error) from None
    typer.echo(f"{action}d {record.name} ({record.id}) in {chosen.display_name}")


TypeArgument = Annotated[str, typer.Argument(metavar="TYPE", help="Finding type ID or exact name.")]
InstanceArgument = Annotated[int, typer.Argument(metavar="INSTANCE", help="Instance id (see `findings`).")]


def ignore(finding_type: TypeArgument, db: DbOption = None, integration: IntegrationOption = None) -> None:
    """Ignore a finding type: still evaluated, its instances shown apart."""
    _type_command(db, integration, finding_type, "ignore")


def unignore(finding_type: TypeArgument, db: DbOption = None, integration: IntegrationOption = None) -> None:
    """Stop ignoring a finding type."""
    _type_command(db, integration, finding_type, "unignore")


def hide(
    instance_id: InstanceArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why it is hidden (kept with the instance).")],
    by: Annotated[str | None, typer.Option("--by", help="Who hides it. Default: the login name.")] = None,
    db: DbOption = None,
) -> None:
    """Hide an instance; it stays hidden across scans until unhidden."""
    if not reason.strip():
        raise _fail("hiding needs a reason (--reason)", code=EXIT_USAGE)
    if by is not None and not by.strip():
        raise _fail("--by needs the name of who hides it", code=EXIT_USAGE)
    with _open(db) as store:
        try:
            store.hide(instance_id, reason, by=by or getpass.getuser())
        except StoreError as error:
            raise _store_failure(error) from None
    typer.echo(f"hid instance {instance_id}")


def unhide(instance_id: InstanceArgument, db: DbOption = None) -> None:
    """Show a hidden instance again."""
    with _open(db) as store:
        try:
            store.unhide(instance_id, by=getpass.getuser())
        except StoreError as error:
            raise _store_failure(error) from None
    typer.echo(f"unhid instance {instance_id}")


def severity(
    finding_type: TypeArgument,
    level: Annotated[str, typer.Argument(metavar="LEVEL", help="info, low, medium, high, critical or default.")],
    db: DbOption = None,
    integration: IntegrationOption = None,
) -> None:
    """Override a finding type's severity (`default` returns to the catalog's)."""
    try:
        new_level = None if level.strip().lower() == "default" else Severity.parse(level)
    except ValueError as error:
        raise _fail(f"{error} (or default)", code=EXIT_USAGE) from None
    with _open(db) as store:
        try:
            chosen = _required_integration(store, integration)
            record = store.resolve_finding_type(finding_type)
            store.override_severity(chosen.id, record.id, new_level)
        except StoreError as error:
            raise _store_failure(error) from None
    shown = new_level.label if new_level is not None else f"default ({record.severity.label})"
    typer.echo(f"severity of {record.name} in {chosen.display_name}: {shown}")


def _scan_document(scan: ScanRecord) -> dict[str, Any]:
    return {
        "id": scan.id, "integration_id": scan.integration_id, "integration": scan.integration_name,
        "started_at": _iso(scan.started_at), "finished_at": _iso(scan.finished_at), "status": str(scan.status),
        "new": scan.new, "reopened": scan.reopened, "resolved": scan.resolved,
        "severity_counts": scan.severity_counts, "sources": scan.source_reports, "errors": scan.errors,
    }


def scans(
    db: DbOption = None,
    integration: IntegrationOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Most recent scans to list.")] = 20,
    output_format: FormatOption = OutputFormat.TABLE,
) -> None:
    """Recent scans: status, counts, incomplete sources."""
    with _open(db) as store:
        try:
            chosen = _chosen_integration(store, integration)
            records = store.list_scans(chosen.id if chosen else None, limit=limit)
        except StoreError as error:
            raise _store_failure(error) from None
    documents = [_scan_document(scan) for scan in records]
    if output_format is OutputFormat.JSON:
        typer.echo(json.dumps(documents, indent=2))
        return
    table = Table(title="Scans", title_justify="left", title_style="bold")
    for column in ("ID", "Integration", "Started", "Status", "New/Reop/Res", "Open by severity", "Incomplete"):
        table.add_column(column, overflow="fold")
    for scan, doc in zip(records, documents, strict=True):
        incomplete = [s["source"] for s in doc["sources"] if s.get("state") in ("failed", "partial")]
        counts = ", ".join(f"{k} {v}" for k, v in sorted(doc["severity_counts"].items()))
        table.add_row(str(doc["id"]), doc["integration"], scan.started_at.strftime("%Y-%m-%d %H:%M"), doc["status"],
                      f"{doc['new']}/{doc['reopened']}/{doc['resolved']}", counts or "-", ", ".join(incomplete) or "-")
    Console().print(table if documents else "No scans yet.")


def register(app: typer.Typer) -> None:
    app.add_typer(findings_app, name="findings")
    app.command("ignore")(ignore)
    app.command("unignore")(unignore)
    app.command("hide")(hide)
    app.command("unhide")(unhide)
    app.command("severity")(severity)
    app.command("scans")(scans)
