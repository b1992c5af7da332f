"""`openai-casb emulator`: serve an emulated OpenAI Admin API + ChatGPT Compliance API."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from openai_casb.cli.common import bind_listener
from openai_casb.emulator import (
    FAULT_KINDS,
    ConfigError,
    EmulatorConfig,
    Org,
    SnapshotError,
    generate_org,
    load_snapshot,
)
from openai_casb.emulator.config import new_admin_key, new_compliance_key
from openai_casb.emulator.gen_common import GenerateSpecError

LOOPBACK = ("127.0.0.1", "::1", "localhost")
GENERATE_HELP = "Synthetic org, e.g. users=500,gpts=50,conversations=2000,files=300 (default: a small one)."
COMPLIANCE_KEY_HELP = "Accepted Compliance API key (default: generated); may equal --admin-key."


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def _load_org(snapshot: Path | None, generate: str | None, seed: int, now: str | None) -> Org:
    if snapshot is not None and generate is not None:
        raise _fail("use either --snapshot or --generate, not both")
    if snapshot is not None:
        return load_snapshot(snapshot)
    moment = None
    if now is not None:
        try:
            moment = datetime.fromisoformat(now)
        except ValueError:
            raise _fail(f"--now must be an ISO-8601 time, got {now!r}") from None
        if moment.tzinfo is None:
            raise _fail("--now needs a time zone, e.g. 2026-01-31T12:00:00+00:00")
    return generate_org(generate or "", seed=seed, now=moment)


def emulator(
    snapshot: Annotated[Path | None, typer.Option(help="Org snapshot JSON (docs/snapshot-format.md).")] = None,
    generate: Annotated[str | None, typer.Option(help=GENERATE_HELP)] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic org.")] = 0,
    now: Annotated[str | None, typer.Option(help="ISO-8601 'now' the synthetic org's ages are relative to.")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8700,
    admin_key: Annotated[str | None, typer.Option(help="Accepted Admin API key (default: generated).")] = None,
    compliance_key: Annotated[str | None, typer.Option(help=COMPLIANCE_KEY_HELP)] = None,
    admin_rate_per_min: Annotated[int, typer.Option(help="Admin API quota per key and endpoint.")] = 600,
    rate_limit_scale: Annotated[float, typer.Option(help="Multiply every quota.")] = 1.0,
    fault_rate: Annotated[float, typer.Option(help="Share of requests (0..1) that get a fault.")] = 0.0,
    fault_seed: Annotated[int, typer.Option(help="Seed of the fault sequence.")] = 0,
    fault_kinds: Annotated[str, typer.Option(help="Comma-separated fault kinds.")] = ",".join(FAULT_KINDS),
    latency_ms: Annotated[float, typer.Option(help="Added latency per request (0.5x-1.5x jitter).")] = 0.0,
    stall_seconds: Annotated[float, typer.Option(help="How long a 'stall' fault holds a response.")] = 35.0,
) -> None:
    """Serve an emulated OpenAI Admin API and ChatGPT Enterprise Compliance API (read-only)."""
    import uvicorn

    from openai_casb.emulator import create_app
    from openai_casb.emulator.server import uvicorn_config

    kinds = tuple(k.strip() for k in fault_kinds.split(",") if k.strip())
    try:
        org = _load_org(snapshot, generate, seed, now)
        config = EmulatorConfig(
            admin_key=admin_key or new_admin_key(),
            compliance_key=compliance_key or new_compliance_key(),
            admin_rate_per_min=admin_rate_per_min,
            rate_limit_scale=rate_limit_scale,
            fault_rate=fault_rate,
            fault_seed=fault_seed,
            fault_kinds=kinds,
            latency_ms=latency_ms,
            host=host,
            port=port,
            stall_seconds=stall_seconds,
        )
    except (SnapshotError, GenerateSpecError, ConfigError) as exc:
        raise _fail(str(exc)) from None
    listener = bind_listener(host, port)
    if host not in LOOPBACK:
        typer.secho(f"warning: listening on {host}, reachable beyond this machine", fg=typer.colors.YELLOW, err=True)
    base = f"http://{host}:{port}/v1"
    # The emulator's own keys are printed on purpose: they guard nothing but this local emulator.
    # Base URLs as the scanner takes them (--admin-base-url / --compliance-base-url): both end in /v1.
    typer.echo(f"Admin API:       base URL {base}  key: {config.admin_key}")
    typer.echo(f"Compliance API:  base URL {base}  key: {config.compliance_key}")
    typer.echo(f"Organization:    {org.organization_id}  workspace: {org.workspace_id}")
    typer.echo(f"Serving:         {', '.join(f'{k}={v}' for k, v in org.summary().items())}")
    typer.echo(f"Stats:           http://{host}:{port}/_emulator/stats")
    uvicorn.Server(uvicorn_config(create_app(org, config), host, port, log_level="info")).run(sockets=[listener])


def register(app: typer.Typer) -> None:
    app.command("emulator")(emulator)
