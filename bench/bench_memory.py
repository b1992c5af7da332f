"""Scan memory against the organization's size (issue 3, item 4): peak RSS side by side, two sizes each.

    .venv/bin/python bench/bench_memory.py        # 5,000 / 50,000 users; 2,000 / 20,000 matched files
    .venv/bin/python bench/bench_memory.py --users 2000,20000 --matched 500,5000
    .venv/bin/python bench/bench_memory.py --only users

Users: a real `openai-casb scan` process (as bench_scan.py: the emulator in its own process, the
scan's peak RSS read with wait4) over two generated orgs that differ only in their number of users
(and invites, 1 per 100 users); quotas multiplied by --rate-scale so it runs in minutes.

Matched files: a fresh process per size records N verdicts of files with DLP matches (shaped as DLP
makes them: masked samples, salted hashes, two entries) into the scan's `DlpOutcome`, as the DLP
pipeline does when they complete, then concludes and writes them as `openai-casb scan` does
(`scanning.run.conclude` and `Store.finish_scan` in one transaction, SQLite). Downloading and
scanning files is left out: it is bounded whatever the count (bench_scan.py measures it). Printed:
peak RSS of that process and the Python heap peak (tracemalloc) while recording and storing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def users_scan(args: argparse.Namespace, users: int, workdir: Path) -> dict[str, Any]:
    from bench_scan import run_scan

    spec = (
        f"users={users},invites={max(1, users // 100)},projects=10,keys_per_project=4,admin_keys=10,"
        f"gpts=200,chatgpt_projects=20,conversations={args.conversations},files={args.files}"
    )
    return run_scan(args, spec, 0.0, workdir / f"users-{users}.db", workdir)


def _verdict(index: int) -> Any:
    from openai_casb.inventory.model import AssetKind, EntryMatch, FileRef, FileScan

    file = FileRef(
        kind=AssetKind.CONVERSATION_FILE,
        file_id=f"file-Ec{index:010d}",
        name=f"customer_export_{index}.csv",
        container_id=f"6f0c2a4e-0000-4000-8000-{index:012d}",
        container_name=f"Quarterly numbers, draft {index}",
        owner_user_id=f"user-{index % 997:08d}",
        owner_email=f"person{index % 997}@example.com",
        created_at=NOW - timedelta(hours=index % 48),
        download_url=None,
    )
    matches = (
        EntryMatch(
            "PII",
            "Credit card number",
            3,
            ("****-****-****-1234", "****-****-****-9876", "****-****-****-5555"),
            tuple(f"{index:08x}{n}".ljust(64, "a") for n in range(3)),
        ),
        EntryMatch(
            "PII",
            "US social security number",
            2,
            ("***-**-6789", "***-**-4321"),
            tuple(f"{index:08x}{n}".ljust(64, "b") for n in range(2)),
        ),
    )
    return FileScan(
        file=file,
        status="scanned",
        matched_profiles=("PII",),
        matches=matches,
        size_bytes=40_000 + index,
        content_sha256=f"{index:064x}",
    )


def matched_files_child(count: int) -> dict[str, Any]:
    """Runs in a fresh process: record `count` matched verdicts, conclude, store; report memory."""
    from openai_casb.checks.registry import default_registry
    from openai_casb.inventory.collect import LastSeen
    from openai_casb.inventory.model import Inventory, Source, SourceReport
    from openai_casb.policy import Policy
    from openai_casb.scanning.pipeline import DlpOutcome
    from openai_casb.scanning.run import store_conclusion
    from openai_casb.store import Store

    with tempfile.TemporaryDirectory() as tmp, Store.open(str(Path(tmp) / "matched.db")) as store:
        registry = default_registry()
        integration = store.ensure_integration("org-bench", "ws-bench", "bench")
        store.sync_finding_types(registry.infos())
        scan_id = store.begin_scan(integration.id, NOW)
        sources = {s: SourceReport(s, "complete") for s in (Source.CONVERSATIONS, Source.CONVERSATION_FILES)}
        inventory = Inventory(now=NOW, organization_id="org-bench", workspace_id="ws-bench", sources=sources)
        baseline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        outcome = DlpOutcome()
        try:
            for index in range(count):
                outcome.record(_verdict(index))
            # The end of a scan exactly as `openai-casb scan` does it.
            _conclusion, summary = store_conclusion(store, scan_id, registry, inventory, outcome, True, Policy(), NOW,
                                                    incremental=False, high_water_mark=None, activity=LastSeen())
        finally:
            outcome.close()
        heap_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {
        "new": summary.new,
        "heap_peak_mib": heap_peak / 2**20,
        "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_mib": baseline_rss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", default="5000,50000", help="two user counts, comma-separated")
    parser.add_argument("--matched", default="2000,20000", help="two counts of matched files, comma-separated")
    parser.add_argument("--conversations", type=int, default=2_000)
    parser.add_argument("--files", type=int, default=200, help="files of the users' orgs (the same at both sizes)")
    parser.add_argument("--latency-ms", type=float, default=5.0)
    parser.add_argument("--rate-scale", type=float, default=50.0, help="multiplies every quota of both sides")
    parser.add_argument("--dlp-workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=("users", "matched"), help="measure one of the two")
    args = parser.parse_args()
    user_sizes = [int(n) for n in args.users.split(",")]
    matched_sizes = [int(n) for n in args.matched.split(",")]

    if args.only != "matched":
        with tempfile.TemporaryDirectory() as tmp:
            by_users = {n: users_scan(args, n, Path(tmp)) for n in user_sizes}
        print_users(args, user_sizes, by_users)
    if args.only != "users":
        context = multiprocessing.get_context("spawn")
        by_matched = {}
        for n in matched_sizes:
            with context.Pool(1) as pool:
                by_matched[n] = pool.apply(matched_files_child, (n,))
        print_matched(matched_sizes, by_matched)


def print_users(args: argparse.Namespace, sizes: list[int], by_users: dict[int, dict[str, Any]]) -> None:
    a, b = sizes
    print(
        f"whole scan (openai-casb scan), {args.conversations:,} conversations, {args.files:,} files, "
        f"quotas x{args.rate_scale:g}"
    )
    print(f"{'':32}{f'{a:,} users':>16}{f'{b:,} users':>16}{'per extra user':>18}")
    ra, rb = by_users[a]["maxrss_mib"], by_users[b]["maxrss_mib"]
    print(f"{'peak RSS of the scan (MiB)':32}{ra:>16,.0f}{rb:>16,.0f}{(rb - ra) * 1024 / (b - a):>15,.2f} KiB")
    print(f"{'wall time (s)':32}{by_users[a]['wall']:>16,.1f}{by_users[b]['wall']:>16,.1f}")


def print_matched(sizes: list[int], by_matched: dict[int, dict[str, Any]]) -> None:
    a, b = sizes
    ma, mb = by_matched[a], by_matched[b]
    print("\nmatched files: recorded as DLP completes them, concluded and stored in one transaction")
    print(f"{'':32}{f'{a:,} files':>16}{f'{b:,} files':>16}{'per extra file':>18}")
    for name, key in (("peak RSS of the process (MiB)", "maxrss_mib"), ("Python heap peak (MiB)", "heap_peak_mib")):
        extra = (mb[key] - ma[key]) * 1024 / (b - a)
        print(f"{name:32}{ma[key]:>16,.1f}{mb[key]:>16,.1f}{extra:>15,.2f} KiB")
    print(f"{'instances written':32}{ma['new']:>16,}{mb['new']:>16,}")


if __name__ == "__main__":
    main()
