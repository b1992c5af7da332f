"""Every benchmark of the product in one command, each printing its side-by-side ratios.

    .venv/bin/pip install -e '.[test,bench,distributed]'
    .venv/bin/python bench/run_all.py            # the sizes of issue 9 (takes a while: about an hour)
    .venv/bin/python bench/run_all.py --quick    # smaller sizes, same measurements (a few minutes)
    .venv/bin/python bench/run_all.py --only scan,dlp-match

Each benchmark runs as its own process (so one's memory or threads never skew another's), its
output is streamed and also written to bench/results/<UTC time>.txt. What each figure means and
the latest results are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable

# name -> (script, full-size arguments, quick arguments)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "emulator": ("bench_emulator.py", [], ["--requests", "50"]),
    "crawl": ("bench_crawl.py", ["--conversations", "100000"], ["--conversations", "5000"]),
    "scan": ("bench_scan.py", [], ["--users", "5000", "--gpts", "500", "--conversations", "10000", "--files", "2000",
                                   "--projects", "10", "--rate-scale", "50"]),
    "dlp-match": ("bench_dlp_match.py", ["--mb", "50", "--sample-mb", "2"], ["--mb", "10", "--sample-mb", "1"]),
    "dlp-files": ("bench_dlp_files.py", [], ["--mb", "2", "--repeat", "1"]),
    "web": ("bench_web.py", [], ["--instances", "100000"]),
    "store": ("bench_store.py", [], ["--instances", "100000"]),
    "distributed": ("bench_distributed.py", [], ["--files", "100", "--conversations", "100", "--users", "200"]),
    "memory": ("bench_memory.py", [], ["--users", "1000,10000", "--matched", "500,5000"]),
}
PINNED = {"dlp-match"}  # measured per core: pinned to one core when taskset exists


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, same measurements")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()] or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    report = results / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}{'-quick' if args.quick else ''}.txt"
    failed: list[str] = []
    with report.open("w") as out:
        for name in chosen:
            script, full, quick = BENCHMARKS[name]
            if not (HERE / script).exists():
                print(f"== {name}: {script} is not there; skipped")
                continue
            command = [PYTHON, str(HERE / script), *(quick if args.quick else full)]
            if name in PINNED and shutil.which("taskset"):
                command = ["taskset", "-c", "0", *command]
            banner = f"\n== {name}: {' '.join(command[-len(quick if args.quick else full) - 1:])}\n"
            print(banner, flush=True)
            out.write(banner)
            started = time.perf_counter()
            process = subprocess.Popen(command, cwd=HERE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                       env={**os.environ, "PYTHONUNBUFFERED": "1"})
            assert process.stdout is not None
            for line in process.stdout:
                print(line, end="", flush=True)
                out.write(line)
            code = process.wait()
            footer = f"-- {name}: exit {code}, {time.perf_counter() - started:.0f} s\n"
            print(footer, flush=True)
            out.write(footer)
            if code:
                failed.append(name)
    print(f"\nwritten to {report}")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
