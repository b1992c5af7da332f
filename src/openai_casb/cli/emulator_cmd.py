"""`openai-casb emulator`: serve an emulated OpenAI Admin API + ChatGPT Compliance API."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from openai_casb.emulator import FAULT_KINDS, ConfigError, EmulatorConfig, Org, SnapshotError, generate_org, load_snapshot
from openai_casb.emulator.config import new_admin_key, new_compliance_key
from openai_casb.emulator.gen_common import GenerateSpecError

LOOPBACK = ("127.0.0.1", "::1", "localhost")


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
    snapshot: Path | None = typer.Option(None, "--snapshot", help="Org snapshot JSON (docs/snapshot-format.md)."),
    generate: str | None = typer.Option(
        None, "--generate", help="Synthetic org, e.g. users=500,gpts=50,conversations=2000,files=300 (the default)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the synthetic org."),
    now: str | None = typer.Option(None, "--now", help="ISO-8601 'now' the synthetic org's ages are relative to."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8700, "--port", help="Port to listen on."),
    admin_key: str | None = typer.Option(None, "--admin-key", help="Accepted Admin API key (default: generated)."),
    compliance_key: str | None = typer.Option(
        None, "--compliance-key", help="Accepted Compliance API key (default: generated); may equal --admin-key."
    ),
    admin_rate_per_min: int = typer.Option(600, "--admin-rate-per-min", help="Admin API quota per key and endpoint."),
    rate_limit_scale: float = typer.Option(1.0, "--rate-limit-scale", help="Multiply every quota."),
    fault_rate: float = typer.Option(0.0, "--fault-rate", help="Share of requests (0..1) that get a fault."),
    fault_seed: int = typer.Option(0, "--fault-seed", help="Seed of the fault sequence."),
    fault_kinds: str = typer.Option(",".join(FAULT_KINDS), "--fault-kinds", help="Comma-separated fault kinds."),
    latency_ms: float = typer.Option(0.0, "--latency-ms", help="Added latency per request (0.5x-1.5x jitter)."),
    stall_seconds: float = typer.Option(35.0, "--stall-seconds", help="How long a 'stall' fault holds a response."),
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
    if host not in LOOPBACK:
        typer.secho(f"warning: listening on {host}, reachable beyond this machine", fg=typer.colors.YELLOW, err=True)
    base = f"http://{host}:{port}/v1"
    # The emulator's own keys are printed on purpose: they guard nothing but this local emulator.
    typer.echo(f"Admin API:       {base}/organization  key: {config.admin_key}")
    typer.echo(f"Compliance API:  {base}/compliance/workspaces/{org.workspace_id}  key: {config.compliance_key}")
    typer.echo(f"Organization:    {org.organization_id}  workspace: {org.workspace_id}")
    typer.echo(f"Serving:         {', '.join(f'{k}={v}' for k, v in org.summary().items())}")
    typer.echo(f"Stats:           http://{host}:{port}/_emulator/stats")
    try:
        uvicorn.Server(uvicorn_config(create_app(org, config), host, port, log_level="info")).run()
    except OSError as exc:
        raise _fail(f"cannot listen on {host}:{port}: {exc}") from None


def register(app: typer.Typer) -> None:
    app.command("emulator")(emulator)
