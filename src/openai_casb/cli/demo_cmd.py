"""`openai-casb demo`: the whole product on a generated organization, with nothing to set up.

Starts the emulator in-process on a free loopback port, scans it into a fresh SQLite database and
prints the findings and what to run next. The scanner talks to the emulator over real HTTP with
the same code it uses against api.openai.com and api.chatgpt.com.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Annotated

import platformdirs
import typer
from rich.console import Console

from openai_casb.cli.scan_cmd import FailOnOption, PolicyOption, fail_on_or_exit, policy_or_exit, scan_and_report
from openai_casb.config import Settings, load_settings
from openai_casb.emulator import EmulatorConfig, generate_org, running_emulator
from openai_casb.emulator.server import RunningEmulator
from openai_casb.private_files import ensure_private_dir
from openai_casb.scanning import ScanRequest
from openai_casb.store import Store

DEMO_ORG = (
    "users=300,invites=40,projects=12,keys_per_project=4,admin_keys=6,gpts=60,"
    "chatgpt_projects=15,conversations=600,files=150"
)
# The demo should take seconds, not the minutes the real quotas would impose on this many pages:
# both the emulator's quotas and the client's are raised by the same factor.
DEMO_RATE_SCALE = 100


def settings_for_emulator(emulator: RunningEmulator, rate_scale: float = DEMO_RATE_SCALE) -> Settings:
    """Settings that point the scanner at a running emulator, with client quotas scaled as its quotas are
    (quotas are whole requests: a fractional scale is rounded, at least 1 request a window)."""

    def scaled(requests: int) -> int:
        return max(1, round(requests * rate_scale))

    return load_settings(
        {
            "admin_key": emulator.admin_key,
            "compliance_key": emulator.compliance_key,
            "org_id": emulator.organization_id,
            "workspace_id": emulator.workspace_id,
            "admin_base_url": f"{emulator.base_url}/v1",
            "compliance_base_url": f"{emulator.base_url}/v1",
            "admin_requests_per_window": scaled(100),
            "compliance_list_requests_per_window": scaled(50),
            "compliance_object_requests_per_window": scaled(100),
        },
        env={},
    )


def default_demo_db() -> Path:
    return Path(platformdirs.user_data_dir("openai-casb")) / "demo.db"


def demo(
    db_file: Annotated[
        Path | None, typer.Option("--db-file", help="SQLite file to create (replaced). Default: user data dir.")
    ] = None,
    org: Annotated[str, typer.Option("--org", help="Size of the generated organization.")] = DEMO_ORG,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generated organization.")] = 7,
    policy: PolicyOption = None,
    fail_on: FailOnOption = None,
) -> None:
    """Scan a generated organization served by the built-in emulator into a fresh SQLite database."""
    console = Console()
    path = db_file or default_demo_db()
    ensure_private_dir(path.parent)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    level = fail_on_or_exit(fail_on)
    loaded_policy = policy_or_exit(policy)
    console.print(f"Generating an organization ({org}, seed {seed}) and starting the emulator...")
    generated = generate_org(org, seed=seed)
    config = EmulatorConfig(rate_limit_scale=DEMO_RATE_SCALE)
    with running_emulator(generated, config) as emulator:
        settings = settings_for_emulator(emulator)
        console.print(f"Emulator at {emulator.base_url}; scanning into {path}\n")
        request = ScanRequest(settings=settings, policy=loaded_policy, display_name="Demo organization (emulator)")
        with Store.open(str(path)) as store:
            scan_and_report(console, store, request, level)
        refused = emulator.stats().get("refused_non_get", 0)
    console.print(f"\n[dim]Read-only: the emulator refused {refused} non-GET requests (the scanner sends none).[/]")
    console.print("\nWhat to run next:")
    # As the user can type it: `openai-casb` when it is on PATH, else the path they ran (.venv/bin/...).
    me = "openai-casb" if shutil.which("openai-casb") else os.path.relpath(sys.argv[0])
    for command in (
        f"{me} findings --db {path}",
        f"{me} findings --db {path} --severity high --format json",
        f"{me} findings show ID --db {path}",
        f"{me} scans --db {path}",
        f"{me} finding-types",
        f"{me} serve --db {path}   # the dashboard (first: {me} users create NAME --role admin --db {path})",
        f"{me} emulator --generate users=1000,gpts=100 --seed 1   # serve an org to scan yourself",
    ):
        console.print(f"  [bold]{command}[/]")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
