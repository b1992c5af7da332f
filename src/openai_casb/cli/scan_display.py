"""Rich progress while a scan runs, and the summary printed when it ends (`scan` and `demo`)."""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from openai_casb.checks.registry import CheckRegistry
from openai_casb.detections import Severity
from openai_casb.inventory.model import FileScan, Source, SourceReport
from openai_casb.scanning import ScanResult
from openai_casb.store import InstanceStatus, Store

_STATE_STYLE = {"complete": "green", "partial": "yellow", "failed": "red", "skipped": "dim"}
_SEVERITY_STYLE = {Severity.CRITICAL: "bold red", Severity.HIGH: "red", Severity.MEDIUM: "yellow",
                   Severity.LOW: "cyan", Severity.INFO: "dim"}


class RichScanProgress:
    """Implements the scan's progress protocol: a line per source (pages, objects), then files and bytes."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(bar_width=None, pulse_style="cyan"),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[Source, TaskID] = {}
        self._files: TaskID | None = None
        self._file_count = 0
        self._file_bytes = 0
        self._lock = threading.Lock()  # file verdicts arrive from the scanning thread

    def __enter__(self) -> RichScanProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.__exit__(exc_type, exc, tb)

    def _task(self, source: Source) -> TaskID:
        if source not in self._tasks:
            self._tasks[source] = self._progress.add_task(source.value, total=None, detail="")
        return self._tasks[source]

    def update(self, source: Source, pages: int, objects: int) -> None:
        self._progress.update(self._task(source), detail=f"{pages:>6,} pages {objects:>9,} objects")

    def finished(self, report: SourceReport) -> None:
        style = _STATE_STYLE.get(report.state, "")
        detail = f"{report.pages:>6,} pages {report.objects:>9,} objects  [{style}]{report.state}[/]"
        task = self._task(report.source)
        self._progress.update(task, total=1, completed=1, detail=detail)

    def file_done(self, scan: FileScan) -> None:
        with self._lock:
            self._file_count += 1
            self._file_bytes += scan.size_bytes or 0
            if self._files is None:
                self._files = self._progress.add_task("files (DLP)", total=None, detail="")
            detail = f"{self._file_count:>6,} files {self._file_bytes / 1e6:>9,.1f} MB"
            self._progress.update(self._files, detail=detail)


def print_summary(console: Console, store: Store, result: ScanResult, registry: CheckRegistry) -> None:
    summary = result.summary
    status_style = {"complete": "green", "partial": "yellow", "failed": "red"}.get(summary.status, "")
    console.print(
        f"\nScan [bold]#{summary.scan_id}[/] of [bold]{result.integration.display_name}[/]: "
        f"[{status_style}]{summary.status}[/]  ·  {result.requests:,} API requests  ·  "
        f"{summary.new} new, {summary.reopened} reopened, {summary.resolved} resolved"
    )
    incomplete = [r for r in result.sources.values() if r.state in ("failed", "partial")]
    if incomplete:
        table = Table(title="Sources not read completely (they resolve nothing)", title_justify="left")
        for column in ("source", "state", "reason"):
            table.add_column(column)
        for report in incomplete:
            table.add_row(report.source.value, f"[{_STATE_STYLE[report.state]}]{report.state}[/]", report.reason or "")
        console.print(table)
    skipped = sorted(registry.get(type_id).metadata.name for type_id in result.not_evaluated_type_ids)
    if skipped:
        reasons = sorted({r.reason for r in result.sources.values() if r.state == "skipped" and r.reason})
        if incomplete:
            reasons.append("a source they read was incomplete")
        console.print(f"[dim]Not evaluated in this scan ({'; '.join(reasons)}): {', '.join(skipped)}[/]")
    if result.dlp.scanned.total() or result.dlp.not_scanned.total():
        console.print(
            f"DLP: {result.dlp.scanned.total():,} files scanned ({result.dlp.bytes_scanned / 1e6:,.1f} MB), "
            f"{len(result.dlp.matched):,} with a profile match, {result.dlp.not_scanned.total():,} not scanned"
        )
    table = Table(title="Active findings by severity", title_justify="left")
    table.add_column("severity")
    table.add_column("instances", justify="right")
    at_or_above = {level: active_at_or_above(store, result.integration.id, level) for level in Severity}
    for level in sorted(Severity, reverse=True):
        above = at_or_above[Severity(level + 1)] if level < Severity.CRITICAL else 0
        if at_or_above[level] - above:
            table.add_row(f"[{_SEVERITY_STYLE[level]}]{level.label}[/]", f"{at_or_above[level] - above:,}")
    console.print(table)


def active_at_or_above(store: Store, integration_id: int, level: Severity) -> int:
    return store.count_instances(
        integration_id=integration_id, status=InstanceStatus.ACTIVE, severity_min=level, finding_status="active"
    )
