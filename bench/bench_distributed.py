"""Distributed scan benchmark (issue 8): scan wall time and DLP throughput with 1 and 2 Celery workers.

    OPENAI_CASB_TEST_REDIS_URL=redis://127.0.0.1:6379/15 \\
    OPENAI_CASB_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
    .venv/bin/python bench/bench_distributed.py --files 400 --latency-ms 50

A generated organization is served by the emulator (in this process) with --latency-ms per request;
real `openai-casb worker` processes (solo pool) scan it into PostgreSQL (a fresh database per run)
through Redis (the db of the URL is flushed). Quotas are scaled up so that they do not bind: the
figures measure the workers, not the API's quotas. Printed per worker count: scan wall time
(trigger to finalized), the DLP phase (all crawl parts stored to finalized), files scanned and DLP
files/s, then the 2-worker/1-worker ratios.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from redis import Redis

from openai_casb.cli.demo_cmd import settings_for_emulator
from openai_casb.distributed import jobs
from openai_casb.distributed.client import trigger
from openai_casb.distributed.settings import load_distributed_settings
from openai_casb.emulator import EmulatorConfig, generate_org, running_emulator
from openai_casb.store import Store

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def write_config(settings: object, path: Path) -> Path:
    from pydantic import SecretStr

    lines = []
    for name in ("admin_key", "compliance_key", "org_id", "workspace_id", "admin_base_url", "compliance_base_url",
                 "admin_requests_per_window", "compliance_list_requests_per_window",
                 "compliance_object_requests_per_window"):
        value = getattr(settings, name)
        value = value.get_secret_value() if isinstance(value, SecretStr) else value
        lines.append(f'{name} = "{value}"' if isinstance(value, str) else f"{name} = {value}")
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def one_run(workers: int, emulator: object, redis_url: str, pg_url: str, batch: int, tmp: Path,
            timeout: float = 120.0) -> dict[str, float]:
    name = f"casb_bench_distributed_{secrets.token_hex(4)}"  # a database of its own (see tests/distributed)
    server = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    db_url = sa.make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    with Redis.from_url(redis_url) as redis:
        redis.flushdb()
    settings = settings_for_emulator(emulator)  # type: ignore[arg-type]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHATGPT_"))}
    env.update({"OPENAI_CASB_BROKER_URL": redis_url, "OPENAI_CASB_DB": db_url,
                "OPENAI_CASB_INTEGRATIONS": str(write_config(settings, tmp / f"bench{workers}.toml")),
                "OPENAI_CASB_DLP_BATCH_FILES": str(batch)})
    store = Store.open(db_url)
    log = (tmp / f"workers{workers}.log").open("wb")
    processes = [subprocess.Popen([sys.executable, "-m", "openai_casb.cli", "worker", "-n", f"bench{n}@%h",
                                   "--loglevel=WARNING"], env=env, stdout=log, stderr=subprocess.STDOUT)
                 for n in range(workers)]
    try:
        time.sleep(3.0)  # let the workers connect before the clock starts
        integration = store.ensure_integration(settings.org_id, settings.workspace_id, "bench")
        start = time.perf_counter()
        scan_id = trigger(store, integration.id, now=NOW, config=load_distributed_settings(env))
        crawled_at = None
        while True:
            job = jobs.get_job(store.engine, scan_id)
            if crawled_at is None and len(jobs.parts_with_prefix(store.engine, scan_id, "crawl:")) == 2:
                crawled_at = time.perf_counter()
            if job is not None and job.stage == jobs.DONE:
                break
            if time.perf_counter() - start > timeout:
                raise SystemExit(f"the scan did not finish in {timeout:g} s; worker log:\n"
                                 + (tmp / f"workers{workers}.log").read_text(errors="replace")[-4000:])
            time.sleep(0.05)
        end = time.perf_counter()
        (record,) = [r for r in store.list_scans(integration.id) if r.id == scan_id]
        files = sum(int(r.get("objects", 0)) for r in record.source_reports if str(r.get("source")).startswith("dlp."))
        dlp_seconds = end - (crawled_at or start)
        return {"wall": end - start, "dlp": dlp_seconds, "files": files, "files_per_s": files / dlp_seconds}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)
        store.close()
        with server.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        server.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--conversations", type=int, default=400)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--batch-files", type=int, default=25)
    parser.add_argument("--redis-url", default=os.environ.get("OPENAI_CASB_TEST_REDIS_URL"))
    parser.add_argument("--postgres-url", default=os.environ.get("OPENAI_CASB_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    if not args.redis_url or not args.postgres_url:
        parser.error("give --redis-url and --postgres-url (or OPENAI_CASB_TEST_REDIS_URL / _POSTGRES_URL)")
    spec = (f"users={args.users},invites=20,projects=5,keys_per_project=3,admin_keys=3,gpts=40,chatgpt_projects=10,"
            f"conversations={args.conversations},files={args.files}")
    org = generate_org(spec, seed=8, now=NOW)
    results = {}
    with tempfile.TemporaryDirectory() as folder, running_emulator(
        org, EmulatorConfig(rate_limit_scale=100, latency_ms=args.latency_ms)
    ) as emulator:
        for workers in (1, 2):
            results[workers] = one_run(workers, emulator, args.redis_url, args.postgres_url, args.batch_files,
                                       Path(folder))
            r = results[workers]
            print(f"{workers} worker(s): scan {r['wall']:.1f} s, DLP phase {r['dlp']:.1f} s, "
                  f"{r['files']:.0f} files, {r['files_per_s']:.1f} files/s", flush=True)
    print(f"2 workers / 1 worker: scan time x{results[2]['wall'] / results[1]['wall']:.2f}, "
          f"DLP throughput x{results[2]['files_per_s'] / results[1]['files_per_s']:.2f} "
          f"(cores: {os.cpu_count()}, latency {args.latency_ms:g} ms)")


if __name__ == "__main__":
    main()
