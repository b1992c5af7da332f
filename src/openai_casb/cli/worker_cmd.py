"""`openai-casb worker`, `scheduler`, `trigger` and `schedule`: the distributed mode (extra `distributed`).

Celery is imported only when one of these commands runs, so the base install works without it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import platformdirs
import typer
from rich.console import Console
from rich.table import Table

from openai_casb.cli.common import quiet_http_client_logs
from openai_casb.store import NotFoundError, Store, StoreError

IntegrationOption = Annotated[int, typer.Option("--integration", help="Integration id (see `openai-casb schedule`).")]
DbOption = Annotated[str | None, typer.Option("--db", help="Database URL or SQLite file. Default: $OPENAI_CASB_DB.")]


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(2)


def _celery_app() -> Any:
    """The tasks' Celery app, or a clear error without the extra or with bad settings."""
    from openai_casb.distributed.celery_app import DistributedUnavailableError, require_celery
    from openai_casb.distributed.settings import DistributedConfigError

    try:
        require_celery()
        from openai_casb.distributed import tasks
    except (DistributedUnavailableError, DistributedConfigError) as exc:
        raise _fail(str(exc)) from None
    return tasks.app


def _check_policy() -> None:
    """A worker refuses to start with a policy file (OPENAI_CASB_POLICY) its tasks could not use,
    instead of failing every scan it is given."""
    from openai_casb.policy import PolicyError, load_policy
    from openai_casb.scanning.run import DlpSetup, DlpSetupError

    try:
        DlpSetup.from_policy(load_policy())
    except (PolicyError, DlpSetupError) as exc:
        raise _fail(str(exc)) from None


def _open_store(db: str | None) -> Store:
    try:
        return Store.open(db)
    except StoreError as exc:
        raise _fail(str(exc)) from None


def worker(
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1, help="Tasks at once (threads pool).")] = 1,
    pool: Annotated[str, typer.Option("--pool", help="solo (default: one task at a time) or threads.")] = "solo",
    loglevel: Annotated[str, typer.Option("--loglevel", help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
    hostname: Annotated[str | None, typer.Option("--hostname", "-n", help="Worker name.")] = None,
) -> None:
    """Run a Celery worker: crawls, DLP batches and finalizers of distributed scans.

    Broker: $OPENAI_CASB_BROKER_URL (default redis://127.0.0.1:6379/0); database: $OPENAI_CASB_DB;
    credentials: the config files in $OPENAI_CASB_INTEGRATIONS, or those stored in the web UI.
    """
    # Not prefork: its pool processes are daemonic, and the DLP sandbox must fork processes of its own.
    # Scale out with more worker processes (one per core) instead.
    if pool not in ("solo", "threads"):
        raise _fail(f"--pool must be solo or threads, not {pool!r}")
    _check_policy()
    app = _celery_app()
    from openai_casb.distributed.celery_app import QUEUE

    argv = ["worker", f"--concurrency={concurrency}", f"--pool={pool}", f"--loglevel={loglevel}", "-Q", QUEUE]
    if hostname:
        argv += ["-n", hostname]
    quiet_http_client_logs()  # Celery logs at INFO; httpx's request lines would show webhook URLs
    app.worker_main(argv=argv)


def scheduler(
    schedule_file: Annotated[
        Path | None, typer.Option("--schedule-file", help="Where Celery beat keeps its state.")
    ] = None,
    loglevel: Annotated[str, typer.Option("--loglevel", help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
) -> None:
    """Run the scheduler (Celery beat): every tick, scans each integration whose interval has passed."""
    app = _celery_app()
    state = schedule_file or Path(platformdirs.user_data_dir("openai-casb")) / "celerybeat-schedule"
    state.parent.mkdir(parents=True, exist_ok=True)
    quiet_http_client_logs()
    app.start(argv=["beat", f"--schedule={state}", f"--loglevel={loglevel}"])


def trigger(
    integration: IntegrationOption,
    full: Annotated[bool, typer.Option("--full", help="Read every conversation again.")] = False,
    db: DbOption = None,
) -> None:
    """Queue a scan of one integration on the workers and print its scan id."""
    _celery_app()
    from openai_casb.distributed.client import QueueUnreachableError
    from openai_casb.distributed.client import trigger as trigger_scan
    from openai_casb.distributed.locks import ScanAlreadyRunningError
    from openai_casb.distributed.settings import DistributedConfigError

    # This command prints the failure itself (one `error:` line); without a handler of its own, the
    # client's warning would reach the terminal too, through logging's last-resort handler.
    client_log = logging.getLogger("openai_casb.distributed.client")
    if not any(isinstance(handler, logging.NullHandler) for handler in client_log.handlers):
        client_log.addHandler(logging.NullHandler())
    with _open_store(db) as store:
        try:
            scan_id = trigger_scan(store, integration, full=full)
        except (NotFoundError, ScanAlreadyRunningError, DistributedConfigError, StoreError,
                QueueUnreachableError) as exc:
            raise _fail(str(exc)) from None
    typer.echo(f"scan {scan_id} of integration {integration} queued")


def schedule(
    integration: Annotated[int | None, typer.Option("--integration", help="Integration to change.")] = None,
    every: Annotated[float | None, typer.Option("--every", help="Interval in hours (default 12).")] = None,
    enable: Annotated[bool | None, typer.Option("--enable/--disable", help="Scan it on schedule or not.")] = None,
    db: DbOption = None,
) -> None:
    """List integrations and their scan schedules, or set one's interval with --integration and --every."""
    from openai_casb.distributed import schedule as schedules

    now = datetime.now(UTC)
    with _open_store(db) as store:
        if integration is not None:
            if every is None and enable is None:
                raise _fail("give --every HOURS and/or --enable/--disable with --integration")
            if every is not None and not 0 < every <= 24 * 365:
                raise _fail("--every must be more than 0 and at most 8760 hours")
            try:
                store.get_integration(integration)
            except NotFoundError as exc:
                raise _fail(str(exc)) from None
            schedules.set_schedule(store.engine, integration, hours=every, enabled=enable, now=now)
        elif every is not None or enable is not None:
            raise _fail("--every and --enable/--disable need --integration")
        known = {s.integration_id: s for s in schedules.schedules(store.engine)}
        table = Table("id", "integration", "every (h)", "next scan", "enabled")
        for item in store.integrations():
            entry = known.get(item.id)
            table.add_row(
                str(item.id), item.display_name,
                f"{entry.interval.total_seconds() / 3600:g}" if entry else "-",
                entry.next_run_at.isoformat(timespec="seconds") if entry else "not scheduled",
                ("yes" if entry.enabled else "no") if entry else "-",
            )
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("scheduler")(scheduler)
    app.command("trigger")(trigger)
    app.command("schedule")(schedule)
