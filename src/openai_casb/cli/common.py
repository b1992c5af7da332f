"""What the store-reading commands share: the `--db` and `--integration` options and their errors."""

from __future__ import annotations

import logging
import socket
from enum import StrEnum
from typing import Annotated

import typer

from openai_casb.store import Integration, NotFoundError, Store, StoreError

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL or SQLite file. Default: $OPENAI_CASB_DB, else the user data directory."),
]
IntegrationOption = Annotated[
    str | None,
    typer.Option("--integration", help="Integration id, organization id, workspace id or name (when several)."),
]


# HTTP clients that log every request's full URL at INFO: webhook URLs carry secrets in their path
# (a Slack incoming webhook is a credential), so the long-running commands keep them at WARNING.
HTTP_CLIENT_LOGGERS = ("httpx", "httpcore")


def quiet_http_client_logs() -> None:
    for name in HTTP_CLIENT_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


class StatusChoice(StrEnum):
    ACTIVE = "active"
    HIDDEN = "hidden"
    RESOLVED = "resolved"
    ALL = "all"


# Exit codes shared by every command (README, "Exit codes"): 2 when the command line is wrong (a bad
# argument or option, a name or id that does not exist, an unusable database URL); 1 when a well-formed
# request cannot be done (refused by the data's state, an I/O error). Commands add their own on top
# (scan: 3 and 4); typer/click already exits 2 on options and arguments it cannot parse.
EXIT_ERROR = 1
EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_ERROR) -> typer.Exit:
    """Print `error: message` to stderr; the caller raises the returned Exit (no traceback for users)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=code)


def store_failure(error: StoreError) -> typer.Exit:
    """A store error as an exit: an unknown id or name given by the user is a usage error (2); any other
    refusal (already hidden, not hidden, resolved) or failure is 1."""
    return fail(str(error), code=EXIT_USAGE if isinstance(error, NotFoundError) else EXIT_ERROR)


def open_store(db: str | None) -> Store:
    try:
        return Store.open(db)
    except StoreError as error:
        raise fail(str(error), code=EXIT_USAGE) from None


def describe_integrations(integrations: list[Integration]) -> str:
    return ", ".join(f"{i.id} ({i.display_name})" for i in integrations)


def chosen_integration(store: Store, selector: str | None) -> Integration | None:
    """The integration named by --integration, or None (meaning all) when not given."""
    if not selector:
        return None
    integrations = store.integrations()
    wanted = selector.strip()
    for integration in integrations:
        if wanted in (str(integration.id), integration.organization_id, integration.workspace_id,
                      integration.display_name):
            return integration
    raise fail(f"no integration {selector!r}; known: {describe_integrations(integrations) or 'none'}",
               code=EXIT_USAGE)


def required_integration(store: Store, selector: str | None) -> Integration:
    """The integration named by --integration, else the only one there is."""
    chosen = chosen_integration(store, selector)
    if chosen is not None:
        return chosen
    integrations = store.integrations()
    if not integrations:
        raise fail("no integration in this database yet; run `openai-casb scan` first")
    if len(integrations) > 1:
        raise fail(f"several integrations; choose one with --integration: {describe_integrations(integrations)}",
                   code=EXIT_USAGE)
    return integrations[0]


def bind_listener(host: str, port: int) -> socket.socket:
    """The server's listening socket, bound before anything is printed: a busy port or a wrong
    host is then one `error:` line and exit code 2, not a banner followed by uvicorn's failure."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as error:
        raise fail(f"cannot listen on {host}:{port}: {error}", code=2) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise fail(f"cannot listen on {host}:{port}: {error.strerror or error}", code=2) from None
    sock.set_inheritable(True)
    return sock
