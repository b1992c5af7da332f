"""p50/p99 latency of the findings list API and the overview with 1,000,000 instances in PostgreSQL.

    OPENAI_CASB_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python bench/bench_web.py

Loads once (COPY) into the schema `bench_web` of that database and reuses it on later runs with the
same `--instances` (default 1,000,000); pass `--reload` to load again. Requests go through the real
app (ASGI, in process) with an admin token.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from openai_casb.checks import default_registry
from openai_casb.store import Store
from openai_casb.web.accounts import Role
from openai_casb.web.app import create_app
from openai_casb.web.context import WebContext

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA = "bench_web"
INSTANCES = 1_000_000
STATUSES = ("active",) * 8 + ("hidden", "resolved")


def schema_url(base: str) -> str:
    return make_url(base).update_query_dict({"options": f"-csearch_path={SCHEMA}"}).render_as_string(False)


def loaded_instances(base: str) -> int | None:
    engine = create_engine(schema_url(base))
    try:
        with engine.connect() as connection:
            if connection.execute(text("SELECT to_regclass('instances')")).scalar_one() is None:
                return None
            return int(connection.execute(text("SELECT count(*) FROM instances")).scalar_one())
    finally:
        engine.dispose()


def load(base: str, reload: bool, instances: int) -> str:
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    reload = reload or loaded_instances(base) not in (None, instances)
    with admin.connect() as connection:
        if reload:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"'))
    admin.dispose()
    url = schema_url(base)
    with Store.open(url) as store:
        with store.engine.connect() as connection:
            if connection.execute(text("SELECT count(*) FROM instances")).scalar_one() >= instances:
                return url
        started = time.perf_counter()
        registry = default_registry()
        store.sync_finding_types(registry.infos())
        integration = store.ensure_integration("org-bench", "ws-bench", "Bench Corp")
        types = [check.metadata for check in registry]
        for metadata in types:  # one finding row per type
            store.ignore_type(integration.id, metadata.id)
            store.unignore_type(integration.id, metadata.id)
        raw = store.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("SELECT id, finding_type_id FROM findings ORDER BY id")
            findings = cursor.fetchall()
            kinds = {m.id: m.asset_kind.value for m in types}
            now = datetime.now(UTC)
            with cursor.copy("COPY assets (id, integration_id, kind, external_id, name, email, link, metadata, "
                             "first_seen, last_seen) FROM STDIN") as copy:
                for n in range(1, instances + 1):
                    _finding_id, type_id = findings[n % len(findings)]
                    seen = now - timedelta(minutes=n % 50_000)
                    copy.write_row((n, integration.id, kinds[type_id], f"asset-{n:07d}", f"Asset {n}",
                                    f"user{n % 40_000}@bench.example", None, "{}", seen, seen))
            with cursor.copy("COPY instances (id, finding_id, asset_id, status, first_detected, last_detected, "
                             "evidence) FROM STDIN") as copy:
                evidence = json.dumps({"age_days": 400, "threshold_days": 90})
                for n in range(1, instances + 1):
                    finding_id, _type_id = findings[n % len(findings)]
                    seen = now - timedelta(minutes=n % 50_000)
                    copy.write_row((n, finding_id, n, STATUSES[n % len(STATUSES)], seen, seen, evidence))
            cursor.execute("SELECT setval('assets_id_seq', %s)", (instances,))
            cursor.execute("SELECT setval('instances_id_seq', %s)", (instances,))
            raw.commit()
            cursor.execute("ANALYZE assets")
            cursor.execute("ANALYZE instances")
            raw.commit()
        finally:
            raw.close()
        print(f"loaded {instances:,} instances in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return url


def measure(name: str, call: Callable[[], object], runs: int) -> tuple[str, float, float]:
    call()  # warm caches
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    return name, statistics.median(timings), p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reload", action="store_true", help="drop and load the data again")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--instances", type=int, default=INSTANCES, help="instances to load (default 1,000,000)")
    args = parser.parse_args()
    if args.instances < 1000:
        parser.error("--instances must be at least 1000")
    url = load(os.environ.get("OPENAI_CASB_BENCH_POSTGRES_URL", DEFAULT_URL), args.reload, args.instances)
    with Store.open(url) as store:
        ctx = WebContext(store=store, secret=b"bench-secret-with-at-least-32-characters",
                         launcher=lambda *_args: 0, secure_cookies=False)
        _info, token = ctx.accounts.create_token(Role.VIEWER, "bench")
        api = TestClient(create_app(ctx), headers={"Authorization": f"Bearer {token}"})
        if ctx.accounts.user("bench") is None:
            ctx.accounts.create_user("bench", Role.VIEWER, "bench-password-123")
        pages = TestClient(create_app(ctx))
        form = pages.get("/login").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        pages.post("/login", data={"csrf": form, "username": "bench", "password": "bench-password-123"})

        def get(client: TestClient, path: str) -> Callable[[], object]:
            def call() -> object:
                response = client.get(path)
                assert response.status_code == 200, response.text[:200]
                return response
            return call

        results = [
            measure("GET /api/v1/instances?limit=50", get(api, "/api/v1/instances?limit=50"), args.runs),
            measure("GET /api/v1/instances?severity=high&limit=50",
                    get(api, "/api/v1/instances?severity=high&limit=50"), args.runs),
            measure("GET /api/v1/instances?q=asset-0999&limit=50",
                    get(api, "/api/v1/instances?q=asset-0999&limit=50"), args.runs),
            measure("GET /api/v1/instances?offset=10000&limit=50",
                    get(api, "/api/v1/instances?offset=10000&limit=50"), args.runs),
            measure("GET /api/v1/findings", get(api, "/api/v1/findings"), args.runs),
            measure("GET / (overview page)", get(pages, "/"), args.runs),
        ]
    out = io.StringIO()
    out.write(f"{'request':48} {'p50 ms':>9} {'p99 ms':>9}\n")
    for name, p50, p99 in results:
        out.write(f"{name:48} {p50:9.1f} {p99:9.1f}\n")
    print(out.getvalue(), end="")


if __name__ == "__main__":
    main()
