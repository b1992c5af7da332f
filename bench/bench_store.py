"""Write time and peak memory of `Store.finish_scan` with 1,000,000 detections in PostgreSQL.

    export OPENAI_CASB_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/bench_store.py [--instances 100000]

Three scans of the same integration, in the schema `bench_store` of that database (dropped at the end):
1. every detection is new;
2. the same detections, 1% with changed evidence and 1% gone (a complete scan resolves those);
3. the gone 1% come back (reopened).
Each row gives the wall time of `finish_scan`, the time per 1,000 instances and the process's peak
RSS measured during that call (a sampling thread reads /proc/self/status every 10 ms).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from openai_casb.checks import default_registry
from openai_casb.detections import AssetRef, Detection
from openai_casb.store import ScanSummary, Store

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA = "bench_store"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def rss_mib() -> float:
    """Resident set size now (VmRSS), in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


class PeakRss:
    """Samples VmRSS in a thread while the block runs; ru_maxrss would report the peak of the whole run."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mib())
            self._stop.wait(0.01)

    def __enter__(self) -> PeakRss:
        self.peak = rss_mib()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mib())


def schema_url(base: str) -> str:
    return make_url(base).update_query_dict({"options": f"-csearch_path={SCHEMA}"}).render_as_string(False)


def detections(count: int, types: list[tuple[str, str]], scan_number: int) -> Iterator[Detection]:
    """Scan 1: all; scan 2: 1% gone (n % 100 == 0) and 1% changed (n % 100 == 1); scan 3: all again."""
    for n in range(count):
        if scan_number == 2 and n % 100 == 0:
            continue
        type_id, kind = types[n % len(types)]
        age = 400 + (1 if scan_number >= 2 and n % 100 == 1 else 0)
        yield Detection(type_id, AssetRef(kind, f"asset-{n:07d}", name=f"Asset {n}",  # type: ignore[arg-type]
                                          email=f"user{n % 40_000}@bench.example"),
                        {"age_days": age, "threshold_days": 90})


def run_scan(store: Store, integration_id: int, count: int, types: list[tuple[str, str]], scan_number: int,
             evaluated: frozenset[str]) -> tuple[ScanSummary, float, float]:
    at = T0 + timedelta(days=scan_number)
    scan_id = store.begin_scan(integration_id, started_at=at)
    with PeakRss() as rss:
        started = time.perf_counter()
        summary = store.finish_scan(scan_id, detections=detections(count, types, scan_number),
                                    evaluated_type_ids=evaluated, complete_type_ids=evaluated, finished_at=at)
        elapsed = time.perf_counter() - started
    return summary, elapsed, rss.peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=1_000_000, help="detections per scan (default 1,000,000)")
    args = parser.parse_args()
    if args.instances < 100:
        parser.error("--instances must be at least 100")
    base = os.environ.get("OPENAI_CASB_BENCH_POSTGRES_URL", DEFAULT_URL)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    except OperationalError as exc:
        sys.exit(f"cannot reach PostgreSQL at {make_url(base).render_as_string(True)}: {exc.__class__.__name__}")
    rows: list[tuple[str, ScanSummary, float, float]] = []
    try:
        with Store.open(schema_url(base)) as store:
            registry = default_registry()
            store.sync_finding_types(registry.infos())
            integration = store.ensure_integration("org-bench", "ws-bench", "Bench Corp")
            types = [(check.metadata.id, check.metadata.asset_kind.value) for check in registry]
            evaluated = frozenset(type_id for type_id, _kind in types)
            base_rss = rss_mib()
            for number, label in ((1, "1: all new"), (2, "2: 1% changed, 1% gone"), (3, "3: 1% reopened")):
                summary, elapsed, peak = run_scan(store, integration.id, args.instances, types, number, evaluated)
                rows.append((label, summary, elapsed, peak))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        admin.dispose()
    print(f"finish_scan with {args.instances:,} detections (PostgreSQL; RSS before the scans {base_rss:.0f} MiB)")
    print(f"{'scan':26} {'new':>9} {'resolved':>9} {'reopened':>9} {'seconds':>9} {'ms/1k':>7} {'peak RSS MiB':>13}")
    for label, summary, elapsed, peak in rows:
        per_thousand = elapsed * 1000 / (args.instances / 1000)
        print(f"{label:26} {summary.new:9,} {summary.resolved:9,} {summary.reopened:9,} {elapsed:9.1f} "
              f"{per_thousand:7.1f} {peak:13.0f}")


if __name__ == "__main__":
    main()
