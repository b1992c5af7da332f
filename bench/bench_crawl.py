"""Crawl benchmark against the emulator: request efficiency, wall time against the quota floor, memory.

    .venv/bin/python bench/bench_crawl.py --conversations 100000 --latency-ms 20

Prints three ratios:
- requests / minimum pages needed (goal 1.00 without faults): every request the emulator saw,
  over the pages the inventory strictly needs at the page sizes used;
- wall time / floor (goal <= 1.1): the floor is, per endpoint template, the longer of the time the
  rolling 60 s quota forces ((ceil(requests / quota) - 1) * 60 s) and the chain of sequential pages
  times the mean latency; the crawl's floor is the largest of these;
- peak memory of the crawling process (the crawl runs in a child process, so the emulator's own
  memory is not counted): ru_maxrss, and the tracemalloc peak when --tracemalloc is given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import resource
import time
import tracemalloc
from datetime import UTC, datetime
from typing import Any

NOW = datetime(2026, 11, 1, tzinfo=UTC)
COMPLIANCE_LIST_QUOTA = 50
COMPLIANCE_OBJECT_QUOTA = 100


def child_crawl(settings_values: dict[str, Any], use_tracemalloc: bool) -> dict[str, Any]:
    """Runs in a fresh process: crawl, count files, report sizes and memory."""
    from openai_casb.config import load_settings
    from openai_casb.crawl import crawl
    from openai_casb.inventory.model import FileRef

    if use_tracemalloc:
        tracemalloc.start()
    settings = load_settings(settings_values, None, {})
    files = 0

    async def on_file(_ref: FileRef) -> None:
        nonlocal files
        files += 1

    started = time.perf_counter()
    result = asyncio.run(crawl(settings, now=NOW, on_file=on_file))
    wall = time.perf_counter() - started
    inventory = result.inventory
    keys_per_project: dict[str, int] = {}
    for key in inventory.project_api_keys:
        keys_per_project[key.project_id] = keys_per_project.get(key.project_id, 0) + 1
    return {
        "wall": wall,
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "tracemalloc_peak": tracemalloc.get_traced_memory()[1] if use_tracemalloc else None,
        "sources": {s.value: [r.state, r.objects, r.reason] for s, r in inventory.sources.items()},
        "keys_per_project": keys_per_project,
        "files": files,
    }


def minimum_pages(report: dict[str, Any], projects: int, page_size: int, conversations_page_size: int,
                  workspace_users_page_size: int) -> int:
    sources = report["sources"]

    def pages(objects: int, size: int) -> int:
        return max(1, math.ceil(objects / size))

    total = 0
    for name in (
        "admin.users",
        "admin.invites",
        "admin.admin_api_keys",
        "admin.projects",
        "admin.audit_logs",
        "compliance.gpts",
        "compliance.projects",
    ):
        total += pages(sources[name][1], page_size)
    # Workspace users come 200 a page (the spec's default and the crawl's), not `page_size`.
    total += pages(sources["compliance.users"][1], workspace_users_page_size)
    total += pages(sources["compliance.conversations"][1], conversations_page_size)
    keys = report["keys_per_project"]
    total += sum(pages(count, page_size) for count in keys.values())
    total += projects - len(keys)  # a project without keys still needs one (empty) page
    return total


def wall_floor(by_template: dict[str, int], admin_quota: int, latency_s: float, projects: int) -> float:
    floor = 0.0
    for endpoint, count in by_template.items():
        template = endpoint.split(" ", 1)[1]
        if template.startswith("/v1/organization"):
            quota = admin_quota
        else:
            quota = COMPLIANCE_OBJECT_QUOTA if template.rstrip("/").endswith("}") else COMPLIANCE_LIST_QUOTA
        # Project keys are read for all projects at once; every other list is one chain of pages.
        chain = count / projects if "{project_id}" in template else count
        floor = max(floor, (math.ceil(count / quota) - 1) * 60.0, chain * latency_s)
    return floor


def main() -> None:
    from openai_casb.emulator import EmulatorConfig, generate_org, running_emulator

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--projects", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--conversations-page-size", type=int, default=500)
    parser.add_argument("--workspace-users-page-size", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tracemalloc", action="store_true", help="also measure the Python heap peak (slower)")
    args = parser.parse_args()

    spec = (
        f"users={args.users},invites=50,projects={args.projects},keys_per_project=5,admin_keys=5,"
        f"gpts=100,chatgpt_projects=20,conversations={args.conversations},files=200"
    )
    org = generate_org(spec, seed=args.seed, now=NOW)
    config = EmulatorConfig(latency_ms=args.latency_ms)
    with running_emulator(org, config) as emu:
        settings = {
            "admin_key": emu.admin_key,
            "compliance_key": emu.compliance_key,
            "workspace_id": emu.workspace_id,
            "admin_base_url": emu.base_url + "/v1",
            "compliance_base_url": emu.base_url + "/v1",
            "admin_requests_per_window": config.admin_rate_per_min,
            "page_size": args.page_size,
            "conversations_page_size": args.conversations_page_size,
            "workspace_users_page_size": args.workspace_users_page_size,
        }
        context = multiprocessing.get_context("spawn")
        with context.Pool(1) as pool:
            report = pool.apply(child_crawl, (settings, args.tracemalloc))
        stats = emu.stats()

    incomplete = {k: v for k, v in report["sources"].items() if v[0] != "complete"}
    needed = minimum_pages(report, args.projects, args.page_size, args.conversations_page_size,
                           args.workspace_users_page_size)
    floor = wall_floor(stats["requests"], config.admin_rate_per_min, args.latency_ms / 1000.0, args.projects)
    result = {
        "conversations": report["sources"]["compliance.conversations"][1],
        "conversation_files": report["files"],
        "requests": stats["total"],
        "minimum_pages": needed,
        "requests_over_minimum": round(stats["total"] / needed, 3),
        "rate_limited_by_server": stats["rate_limited"],
        "wall_seconds": round(report["wall"], 2),
        "floor_seconds": round(floor, 2),
        "wall_over_floor": round(report["wall"] / floor, 3) if floor else None,
        "peak_rss_mib": round(report["maxrss_kib"] / 1024, 1),
        "tracemalloc_peak_mib": round(report["tracemalloc_peak"] / 2**20, 1) if report["tracemalloc_peak"] else None,
        "incomplete_sources": incomplete,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
