"""`openai-casb dlp scan`: the DLP engine over local files and folders, as the scanner runs it.

Prints counts and masked samples only, never a matched value. Exit codes: 0 when the scan ran
(whether or not anything matched, unless `--fail-on-match`), 1 with `--fail-on-match` when a file
matched a profile, 2 for bad input (missing path, invalid policy or profile name).
"""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from openai_casb.dlp.scanner import LocalFileResult

dlp_app = typer.Typer(name="dlp", help="Data loss prevention: scan files with the DLP profiles.", no_args_is_help=True)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def restrict_profiles(settings: Any, names: list[str]) -> Any:
    """DLP settings with only the named profiles enabled (predefined or custom)."""
    from openai_casb.dlp.profiles import PREDEFINED_PROFILE_NAMES
    from openai_casb.dlp.settings import ProfileSettings

    custom_names = [p.name for p in settings.custom_profiles]
    known = [*PREDEFINED_PROFILE_NAMES, *custom_names]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown profile(s) {', '.join(map(repr, unknown))}; known: {', '.join(map(repr, known))}")
    wanted = set(names)
    overrides = dict(settings.profiles)
    for name in PREDEFINED_PROFILE_NAMES:
        current = overrides.get(name) or ProfileSettings()
        overrides[name] = current.model_copy(update={"enabled": name in wanted})
    custom = [p.model_copy(update={"enabled": p.name in wanted}) for p in settings.custom_profiles]
    return settings.model_copy(update={"profiles": overrides, "custom_profiles": custom})


def result_document(result: LocalFileResult) -> dict[str, Any]:
    """One file's verdict as plain data: counts and masked samples only."""
    document: dict[str, Any] = {"path": str(result.path), "status": result.status}
    if result.status == "not_scanned":
        document["reason"] = result.reason
    document["matched_profiles"] = list(result.matched_profiles)
    document["matches"] = [
        {"profile": m.profile, "entry": m.entry, "count": m.count, "masked_samples": list(m.masked_samples)}
        for m in result.matches
    ]
    if result.notes:
        document["notes"] = list(result.notes)
    # Some content was not read (see notes): a scanned file without matches is not vouched for whole.
    document["partial"] = result.partial
    document["size_bytes"] = result.size_bytes
    document["sha256"] = result.content_sha256
    return document


def _table(results: list[LocalFileResult]) -> Table:
    table = Table(title="DLP scan", show_lines=False)
    table.add_column("File", overflow="fold")
    table.add_column("Status", no_wrap=True)
    table.add_column("Matched profiles", overflow="fold")
    table.add_column("Matches (entry: count, masked samples) or reason", overflow="fold")
    for result in results:
        if result.status == "not_scanned":
            detail = f"[yellow]{escape(result.reason or '')}[/yellow]"
        else:
            detail = "\n".join(
                escape(
                    f"{m.profile} / {m.entry}: {m.count}"
                    + (f" ({', '.join(m.masked_samples)})" if m.masked_samples else "")
                )
                for m in result.matches
            )
        if result.notes:
            detail += "\n" + "\n".join(f"[dim]{escape(note)}[/dim]" for note in result.notes)
        status = "[green]scanned[/green]" if result.status == "scanned" else "[yellow]not scanned[/yellow]"
        if result.status == "scanned" and result.partial:
            status = "[yellow]scanned, partly[/yellow]"
        table.add_row(escape(str(result.path)), status, escape(", ".join(result.matched_profiles)), detail)
    return table


@dlp_app.command("scan")
def scan(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (walked recursively).", show_default=False)],
    profile: Annotated[
        list[str] | None, typer.Option("--profile", "-p", help="Only this profile (repeatable); default all enabled.")
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.TABLE,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Policy file whose `dlp` section sets profiles and limits.")
    ] = None,
    fail_on_match: Annotated[
        bool, typer.Option("--fail-on-match", help="Exit with code 1 when any file matches a profile.")
    ] = False,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Parallel sandboxed workers.")] = min(
        2, os.cpu_count() or 1
    ),
) -> None:
    """Scan local files and folders with the DLP profiles; prints counts and masked samples only."""
    from openai_casb.dlp.cache import MemoryVerdictCache
    from openai_casb.dlp.engine import DlpEngine
    from openai_casb.dlp.extract.limits import ExtractionLimits
    from openai_casb.dlp.scanner import FileScanner
    from openai_casb.env_files import with_dlp_salt_file
    from openai_casb.policy import PolicyError, load_policy

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise _fail(f"no such file or folder: {', '.join(missing)}")
    try:
        settings = load_policy(policy).dlp
        if profile:
            settings = restrict_profiles(settings, profile)
        limits = ExtractionLimits.from_mapping(settings.limits)
        engine = DlpEngine.from_settings(with_dlp_salt_file(settings))
    except (PolicyError, ValueError, OSError) as error:
        raise _fail(str(error)) from None
    except Exception as error:  # e.g. a pattern the regex backend refuses: still the user's input
        raise _fail(f"could not build the DLP engine from these settings ({type(error).__name__}: {error})") from None
    with FileScanner(engine, limits, MemoryVerdictCache(), workers) as scanner:
        results = sorted(scanner.scan_tree(paths), key=lambda r: str(r.path))
    if output is OutputFormat.JSON:
        typer.echo(json.dumps([result_document(r) for r in results], indent=2))
    else:
        console = Console()
        console.print(_table(results))
        scanned = sum(r.status == "scanned" for r in results)
        matched = sum(bool(r.matched_profiles) for r in results)
        console.print(
            f"{len(results)} files: {scanned} scanned, {len(results) - scanned} not scanned, {matched} matched"
        )
    if fail_on_match and any(r.matched_profiles for r in results):
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    app.add_typer(dlp_app, name="dlp")
