"""`openai-casb serve`: the dashboard and REST API (docs/web.md)."""

from __future__ import annotations

import copy
import ipaddress
from pathlib import Path
from typing import Annotated, Any

import typer

from openai_casb.cli.common import HTTP_CLIENT_LOGGERS, bind_listener
from openai_casb.policy import PolicyError, load_policy
from openai_casb.store import Store, StoreError
from openai_casb.web.keys import SecretKeyError, load_secret


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


FORWARDED_ALLOW_IPS_ENV = "OPENAI_CASB_FORWARDED_ALLOW_IPS"


def parse_forwarded_allow_ips(value: str | None) -> list[str]:
    """The reverse proxies whose X-Forwarded-For/-Proto are believed: addresses or networks separated by
    commas. Empty: none (the default). `*` and anything that is not an address or network are refused,
    since believing anyone lets every client choose its own address (and dodge the login throttle)."""
    entries = [item.strip() for item in (value or "").split(",") if item.strip()]
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(
                f"--forwarded-allow-ips: {entry!r} is not an IP address or network; list the proxy's "
                "addresses (such as 10.0.0.5,192.168.1.0/24); '*' is refused"
            ) from None
    return entries


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    db: Annotated[str | None, typer.Option("--db", help="Database URL or SQLite file. Default: $OPENAI_CASB_DB, "
                                                         "else the user data directory.")] = None,
    insecure_cookies: Annotated[bool, typer.Option(
        "--insecure-cookies",
        help="Send the session cookie over plain HTTP. Only for http://localhost; behind TLS leave it off.")] = False,
    policy: Annotated[Path | None, typer.Option("--policy", help="Policy file (DLP profiles shown on the DLP page).",
                                                exists=False)] = None,
    key_file: Annotated[Path | None, typer.Option("--key-file", help="Secret key file (default: in the data "
                                                  "directory; $OPENAI_CASB_SECRET_KEY wins).")] = None,
    forwarded_allow_ips: Annotated[str | None, typer.Option(
        "--forwarded-allow-ips", envvar=FORWARDED_ALLOW_IPS_ENV,
        help="Reverse proxies (IP addresses or networks, comma-separated) whose X-Forwarded-For and "
             "X-Forwarded-Proto are believed. Default: none, the headers are ignored.")] = None,
) -> None:
    """Serve the dashboard and the REST API (/api/v1) until interrupted."""
    import uvicorn

    from openai_casb.web.app import create_app
    from openai_casb.web.context import WebContext
    from openai_casb.web.scan_launcher import ScanUnavailableError, configured_launcher

    try:
        trusted_proxies = parse_forwarded_allow_ips(forwarded_allow_ips)
    except ValueError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    if insecure_cookies and not _is_loopback(host):
        typer.secho(f"warning: --insecure-cookies while listening on {host}: session cookies can travel in clear "
                    "text; use it only on localhost", fg=typer.colors.YELLOW, err=True)
    try:
        secret = load_secret(key_file)
        loaded_policy = load_policy(policy)
        store = Store.open(db)
    except (SecretKeyError, PolicyError, StoreError) as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    try:  # distributed mode when OPENAI_CASB_BROKER_URL is set (docs/distributed.md)
        launcher, scans = configured_launcher(store, loaded_policy)
    except ScanUnavailableError as exc:
        store.close()
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    try:
        listener = bind_listener(host, port)
    except typer.Exit:
        store.close()
        raise
    ctx = WebContext(store=store, secret=secret, launcher=launcher, secure_cookies=not insecure_cookies,
                     policy=loaded_policy)
    typer.echo(f"openai-casb dashboard on http://{host}:{port}/ (database {store.url}; {scans})")
    try:
        config = uvicorn.Config(create_app(ctx), host=host, port=port, log_level="info", server_header=False,
                                log_config=serve_log_config(), **proxy_settings(trusted_proxies))
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        store.close()


def proxy_settings(trusted_proxies: list[str]) -> dict[str, Any]:
    """uvicorn's proxy-header settings: off without trusted proxies (uvicorn would otherwise believe
    127.0.0.1, or $FORWARDED_ALLOW_IPS); else only the listed peers' headers are read."""
    if not trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted_proxies}


def serve_log_config() -> dict[str, Any]:
    """uvicorn's logging plus the product's own INFO lines (token creation and revocation, scan
    warnings) on stderr: without a handler they were dropped. Log lines never hold secrets."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["openai_casb"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    for name in HTTP_CLIENT_LOGGERS:  # their INFO lines hold full URLs, webhook paths included
        config["loggers"][name] = {"level": "WARNING"}
    return config


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
