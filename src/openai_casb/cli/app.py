"""The `openai-casb` command. Each command group lives in its own module and registers here."""

from __future__ import annotations

import importlib

import typer

from openai_casb import __version__

app = typer.Typer(
    name="openai-casb",
    help="Read-only CASB for OpenAI: posture findings and DLP for an OpenAI organization and its ChatGPT workspace.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold credentials
)

# Modules under openai_casb.cli that define `register(app)`. Add a line to add a command group.
COMMAND_MODULES: tuple[str, ...] = (
    "emulator_cmd",
    "catalog_cmd",
    "findings_cmd",
    "export_cmd",
    "dlp_cmd",
    "check_cmd",
    "serve_cmd",
    "tokens_cmd",
    "scan_cmd",
    "demo_cmd",
    "worker_cmd",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"openai-casb {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """openai-casb."""


def _register_all() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"openai_casb.cli.{name}")
        module.register(app)


_register_all()


def main() -> None:
    app()
