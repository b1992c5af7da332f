"""End-to-end DLP throughput per file type: extraction + matching through the sandboxed scanner.

Run: .venv/bin/python bench/bench_dlp_files.py [--mb 8] [--workers 1]

Builds one file per type from the same seeded text (about --mb MB of text each, planted values
included), scans each with FileScanner (no cache, so every run extracts and matches again) and
prints MB/s of file bytes and of extracted text, best of --repeat runs.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "dlp"))

from files.builders import docx_bytes, pdf_bytes, pptx_bytes, xlsx_bytes, zip_bytes

from openai_casb.dlp.engine import DlpEngine
from openai_casb.dlp.extract import ExtractionLimits
from openai_casb.dlp.scanner import FileScanner
from openai_casb.dlp.settings import DlpSettings

WORDS = [
    "the",
    "quarterly",
    "report",
    "shows",
    "revenue",
    "growth",
    "across",
    "all",
    "regions",
    "with",
    "stable",
    "margins",
    "and",
    "new",
    "customers",
]
PLANTED = [
    "card number 4716 2810 3355 7292",
    "ssn 536-22-1947",
    "iban GB82 WEST 1234 5698 7654 32",
    "aws key AKIA2OGYBAH6QJ7ZXK5C",
]


def lines(megabytes: float, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    size = 0
    while size < megabytes * 1024 * 1024:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16)))
        if rng.random() < 0.01:
            line += " " + rng.choice(PLANTED)
        out.append(line)
        size += len(line) + 1
    return out


def build(kind: str, text: list[str]) -> bytes:
    if kind == "txt":
        return "\n".join(text).encode()
    if kind == "csv":
        return ("id,text\n" + "\n".join(f'{i},"{line}"' for i, line in enumerate(text))).encode()
    if kind == "json":
        return json.dumps([{"id": i, "text": line} for i, line in enumerate(text)]).encode()
    if kind == "docx":
        return docx_bytes(text)
    if kind == "xlsx":
        return xlsx_bytes({"data": [[i, line] for i, line in enumerate(text)]})
    if kind == "pptx":
        per = max(1, len(text) // 200)
        return pptx_bytes(["\n".join(text[i : i + per]) for i in range(0, len(text), per)], [])
    if kind == "pdf":
        return pdf_bytes([text[i : i + 50] for i in range(0, len(text), 50)])
    if kind == "zip":
        return zip_bytes({f"part{i}.txt": "\n".join(text[i::4]).encode() for i in range(4)})
    raise ValueError(kind)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=8.0, help="MB of text per file (default 8)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--kinds", default="txt,csv,json,docx,xlsx,pptx,pdf,zip")
    parser.add_argument("--repeat", type=int, default=3, help="runs per type; the fastest is shown (default 3)")
    args = parser.parse_args()
    text = lines(args.mb)
    text_mb = sum(len(line) + 1 for line in text) / 1024 / 1024
    engine = DlpEngine.from_settings(DlpSettings())
    limits = ExtractionLimits(timeout_seconds=600, memory_mb=4096)
    print(f"{'type':<6} {'file MB':>8} {'text MB':>8} {'seconds':>8} {'file MB/s':>10} {'text MB/s':>10}  matches")
    with tempfile.TemporaryDirectory() as folder, FileScanner(engine, limits, None, args.workers) as scanner:
        scanner.scan_local(Path(__file__))  # start the worker outside the measurement
        for kind in args.kinds.split(","):
            path = Path(folder) / f"bench.{kind}"
            path.write_bytes(build(kind, text))
            file_mb = path.stat().st_size / 1024 / 1024
            seconds = float("inf")
            for _ in range(max(1, args.repeat)):  # the first run also pays lazy imports in the worker
                started = time.perf_counter()
                result = scanner.scan_local(path)
                seconds = min(seconds, time.perf_counter() - started)
            found = sum(m.count for m in result.matches) if result.status == "scanned" else result.reason
            print(
                f"{kind:<6} {file_mb:>8.2f} {text_mb:>8.2f} {seconds:>8.2f} "
                f"{file_mb / seconds:>10.2f} {text_mb / seconds:>10.2f}  {found}"
            )


if __name__ == "__main__":
    main()
