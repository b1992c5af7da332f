"""Whole-scan benchmark (issue 9): a full scan, then a re-scan after 1% of the organization changed.

    .venv/bin/python bench/bench_scan.py     # 50,000 users, 5,000 GPTs, 100,000 conversations, 20,000 files
    .venv/bin/python bench/bench_scan.py --users 5000 --gpts 500 --conversations 10000 --files 2000   # quicker

The emulator serves the generated org with latency from its own process; `openai-casb scan` runs as
a real CLI process against it (its peak memory is read with wait4, so the emulator is not counted).
Quotas of both sides are multiplied by --rate-scale, so the floor the quotas allow shrinks with them
and the ratios stay meaningful. Printed, side by side from one run:
- full scan: API requests over the minimum pages needed (goal 1.00), wall time over the quota floor,
  peak RSS of the scanning process, files scanned;
- re-scan after 1% changed (1% new conversations, 1% of GPTs and of users modified): its requests,
  wall time and files over the full scan's (goal <= 5%).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from openai_casb.emulator import EmulatorConfig, generate_org, running_emulator
from openai_casb.emulator.org import Org
from openai_casb.emulator.sequences import Collection, JsonObject

ADMIN_QUOTA, LIST_QUOTA, OBJECT_QUOTA = 600, 50, 100


class Changed(Collection):
    """`base` with some objects modified and `extra` objects appended (ids from `new_id`)."""

    def __init__(self, base: Collection, modify: dict[int, Any], extra: list[JsonObject]) -> None:
        self._base, self._modify, self._extra = base, modify, extra
        self._extra_index = {obj["id"]: len(base) + i for i, obj in enumerate(extra)}

    def __len__(self) -> int:
        return len(self._base) + len(self._extra)

    def item(self, index: int) -> JsonObject:
        if index >= len(self._base):
            return self._extra[index - len(self._base)]
        obj = self._base.item(index)
        change = self._modify.get(index)
        return change(obj) if change else obj

    def index_of(self, object_id: str) -> int | None:
        return self._extra_index.get(object_id, self._base.index_of(object_id))


def changed_org(org: Org, fraction: float) -> Org:
    """The same org a while later: new conversations after the newest one, some GPTs and users changed."""
    n = len(org.conversations)
    new = max(1, int(n * fraction))
    last = org.conversation_update_time(n - 1)
    extra = []
    for k in range(new):
        obj = dict(org.conversations.item(k))
        obj["id"] = f"ffffffff-0000-4000-8000-{k:012d}"
        obj["last_active_at"] = last + 60.0 * (k + 1)
        extra.append(obj)

    def update_time(index: int) -> float:
        return org.conversation_update_time(index) if index < n else last + 60.0 * (index - n + 1)

    def publish(gpt: JsonObject) -> JsonObject:
        if not gpt.get("sharing"):
            return gpt
        return {**gpt, "sharing": {**gpt["sharing"], "visibility": "anyone-with-link"}}

    def log_in(user: JsonObject) -> JsonObject:
        return {**user, "api_key_last_used_at": int(last)}

    step = max(1, int(1 / fraction))
    return dataclasses.replace(
        org,
        conversations=Changed(org.conversations, {}, extra),
        conversation_update_time=update_time,
        conversation_user=None,
        gpts=Changed(org.gpts, dict.fromkeys(range(0, len(org.gpts), step), publish), []),
        users=Changed(org.users, dict.fromkeys(range(0, len(org.users), step), log_in), []),
    )


def serve(spec: str, seed: int, changed: float, config: EmulatorConfig, ready: Any, stop: Any) -> None:
    org = generate_org(spec, seed=seed)
    if changed:
        org = changed_org(org, changed)
    with running_emulator(org, config) as emulator:
        ready.put((emulator.base_url, emulator.organization_id, emulator.workspace_id))
        stop.wait()


def run_scan(args: argparse.Namespace, spec: str, changed: float, db: Path, workdir: Path) -> dict[str, Any]:
    scale = args.rate_scale
    config = EmulatorConfig(admin_key="sk-admin-bench-000000000000000000000000",
                            compliance_key="sk-proj-bench-0000000000", admin_rate_per_min=ADMIN_QUOTA,
                            rate_limit_scale=scale, latency_ms=args.latency_ms)
    ctx = multiprocessing.get_context("fork")
    ready, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=serve, args=(spec, args.seed, changed, config, ready, stop), daemon=True)
    server.start()
    base_url, org_id, workspace_id = ready.get(timeout=600)
    (workdir / "casb.toml").write_text(
        f"admin_requests_per_window = {int(ADMIN_QUOTA * scale)}\n"
        f"compliance_list_requests_per_window = {int(LIST_QUOTA * scale)}\n"
        f"compliance_object_requests_per_window = {int(OBJECT_QUOTA * scale)}\n"
        f"conversations_page_size = 500\npage_size = 100\n"
    )
    env = {**os.environ, "OPENAI_ADMIN_KEY": config.admin_key, "OPENAI_COMPLIANCE_KEY": config.compliance_key,
           "OPENAI_ORG_ID": org_id, "CHATGPT_WORKSPACE_ID": workspace_id,
           "OPENAI_ADMIN_BASE_URL": f"{base_url}/v1", "CHATGPT_COMPLIANCE_BASE_URL": f"{base_url}/v1"}
    command = [sys.executable, "-m", "openai_casb.cli", "scan", "--db", str(db), "--config", str(workdir / "casb.toml"),
               "--dlp-workers", str(args.dlp_workers)]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    stats = httpx.get(f"{base_url}/_emulator/stats", timeout=30).json()
    stop.set()
    server.join(timeout=30)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"scan failed:\n{output[-3000:]}")
    api = {k: v for k, v in stats["requests"].items() if "/files" not in k and "_files" not in k}
    return {"wall": wall, "maxrss_mib": usage.ru_maxrss / 1024, "api_requests": sum(api.values()),
            "by_template": api, "rate_limited": stats.get("rate_limited", 0),
            "downloads": sum(v for k, v in stats["requests"].items() if "_files" in k), "output": output}


def quota_floor(by_template: dict[str, int], scale: float, latency_s: float, projects: int) -> float:
    """The least time the quotas (as scaled) and the page chains allow: per endpoint template, the longer
    of (ceil(requests / quota) - 1) * 60 s and its chain of sequential pages times the latency."""
    floor = 0.0
    for endpoint, count in by_template.items():
        template = endpoint.split(" ", 1)[1]
        if template.startswith("/v1/organization"):
            quota = ADMIN_QUOTA
        else:
            quota = OBJECT_QUOTA if template.rstrip("/").endswith("}") else LIST_QUOTA
        chain = count / projects if "{project_id}" in template else count
        floor = max(floor, (math.ceil(count / (quota * scale)) - 1) * 60.0, chain * latency_s)
    return floor


def minimum_pages(org: Org, page: int, conversation_page: int, lookback_days: int = 400) -> int:
    """Pages a complete crawl cannot do without, from the org's own sizes."""
    def pages(count: int, size: int) -> int:
        return max(1, math.ceil(count / size))

    cutoff = time.time() - lookback_days * 86_400
    logins = sum(1 for e in org.audit_logs if e.get("type") == "login.succeeded" and e["effective_at"] >= cutoff)
    total = sum(pages(len(c), page) for c in (org.users, org.invites, org.admin_api_keys, org.projects,
                                              org.gpts, org.chatgpt_projects))
    total += pages(len(org.compliance_users), 200)  # workspace_users_page_size
    total += pages(logins, page) + pages(len(org.conversations), conversation_page)
    for project in org.projects:
        if not project.get("archived_at"):
            members = org.project_members(project["id"])
            total += pages(len(members.api_keys) if members else 0, page)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--gpts", type=int, default=5_000)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--rate-scale", type=float, default=10.0, help="multiplies every quota of both sides")
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--dlp-workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    spec = (f"users={args.users},invites={args.users // 100},projects={args.projects},keys_per_project=4,"
            f"admin_keys=10,gpts={args.gpts},chatgpt_projects={args.gpts // 10},"
            f"conversations={args.conversations},files={args.files}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir, db = Path(tmp), Path(tmp) / "bench.db"
        full = run_scan(args, spec, 0.0, db, workdir)
        again = run_scan(args, spec, args.changed, db, workdir)
    org = generate_org(spec, seed=args.seed)
    needed = minimum_pages(org, 100, 500)
    floor = quota_floor(full["by_template"], args.rate_scale, args.latency_ms / 1000, args.projects)
    print(f"org: {spec}; latency {args.latency_ms} ms; quotas x{args.rate_scale:g}")
    print(f"{'':34}{'full scan':>14}{'re-scan (1%)':>16}{'ratio':>10}")
    rows = [("API requests", full["api_requests"], again["api_requests"]),
            ("file downloads", full["downloads"], again["downloads"]),
            ("wall time (s)", full["wall"], again["wall"]),
            ("peak RSS of the scan (MiB)", full["maxrss_mib"], again["maxrss_mib"]),
            ("429 answers", full["rate_limited"], again["rate_limited"])]
    for name, a, b in rows:
        ratio = f"{b / a:.1%}" if a else "-"
        print(f"{name:34}{a:>14,.1f}{b:>16,.1f}{ratio:>10}")
    requests = full["api_requests"]
    print(f"full scan: requests / minimum pages = {requests} / {needed} = {requests / needed:.3f}")
    print(f"full scan: wall / quota floor = {full['wall']:.1f} s / {floor:.1f} s = {full['wall'] / floor:.2f}")
    print("\nlast lines of the re-scan's own summary:\n" + "\n".join(again["output"].splitlines()[-12:]))


if __name__ == "__main__":
    main()
