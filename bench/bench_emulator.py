"""Throughput of the emulator serving a large generated org (50,000 users, 5,000 GPTs, 100,000 conversations).

Run: .venv/bin/python bench/bench_emulator.py [--requests N] [--latency-ms M] [--concurrency C]
Prints requests/s for a page of 500 conversations and a page of 100 users, without and with latency.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from openai_casb.emulator import generate_org
from openai_casb.emulator.server import free_port

SPEC = (
    "users=50000,invites=200,projects=50,keys_per_project=10,admin_keys=20,gpts=5000,chatgpt_projects=500,"
    "conversations=100000,files=20000"
)
SEED = 42
ADMIN_KEY = "sk-admin-bench-0000000000000000"
COMPLIANCE_KEY = "sk-proj-bench-0000000000000000"


def measure(label: str, requests: int, concurrency: int, call: Callable[[httpx.Client, int], int]) -> None:
    def worker(worker_index: int) -> int:
        done = 0
        with httpx.Client(timeout=60) as client:
            for n in range(worker_index, requests, concurrency):
                status = call(client, n)
                if status != 200:
                    raise SystemExit(f"{label}: unexpected HTTP {status}")
                done += 1
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        total = sum(pool.map(worker, range(concurrency)))
    elapsed = time.perf_counter() - started
    print(f"{label:<58} {total / elapsed:9.1f} req/s  ({total} requests, concurrency {concurrency}, {elapsed:.2f} s)")


@contextmanager
def serve(latency_ms: float) -> Iterator[str]:
    """The emulator as its own process (as users run it), so the benchmark client does not share its GIL."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "openai-casb"),
        "emulator",
        "--generate",
        SPEC,
        "--seed",
        str(SEED),
        "--port",
        str(port),
        "--admin-key",
        ADMIN_KEY,
        "--compliance-key",
        COMPLIANCE_KEY,
        "--rate-limit-scale",
        "1000000",
        "--latency-ms",
        str(latency_ms),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/_emulator/stats", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("the emulator did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def run(requests: int, latency_ms: float, concurrency: int) -> None:
    org = generate_org(SPEC, seed=SEED)  # the same lazy org the server builds: ids and workspace agree
    conversation_ids = [org.conversations.item(i)["id"] for i in range(0, len(org.conversations) - 500, 997)]
    user_ids = [org.users.item(i)["id"] for i in range(0, len(org.users) - 100, 499)]
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    compliance = {"Authorization": f"Bearer {COMPLIANCE_KEY}"}
    for latency in (0.0, latency_ms):
        with serve(latency) as base:
            conversations_url = f"{base}/v1/compliance/workspaces/{org.workspace_id}/conversations"
            users_url = f"{base}/v1/organization/users"
            rng = random.Random(1)

            def conversations(client: httpx.Client, _n: int, url: str = conversations_url, pick: Any = rng) -> int:
                response = client.get(
                    url, params={"limit": 500, "after": pick.choice(conversation_ids)}, headers=compliance
                )
                return response.status_code if len(response.json()["data"]) == 500 else -1

            def users(client: httpx.Client, _n: int, url: str = users_url, pick: Any = rng) -> int:
                response = client.get(url, params={"limit": 100, "after": pick.choice(user_ids)}, headers=admin)
                return response.status_code if len(response.json()["data"]) == 100 else -1

            suffix = f"latency {latency:.0f} ms" if latency else "no latency"
            measure(f"conversations, page of 500 ({suffix})", max(requests // 10, 5), concurrency, conversations)
            measure(f"admin users, page of 100 ({suffix})", requests, concurrency, users)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200, help="requests per user-page measurement")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    run(args.requests, args.latency_ms, args.concurrency)


if __name__ == "__main__":
    main()
