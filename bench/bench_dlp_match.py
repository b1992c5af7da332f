"""DLP matching throughput and recall: our engine vs Presidio's pattern recognizers and detect-secrets.

    .venv/bin/pip install -q -e '.[test,bench]'
    taskset -c 0 .venv/bin/python bench/bench_dlp_match.py --mb 50 --sample-mb 2

The corpus is the labelled generator of tests/dlp/quality with sparse plants (one value or hard
negative every ~5 KB of neutral prose, numbers and dates). Our engine is measured as a scan uses
it: `engine.matcher()` fed the whole corpus in 256 K-character chunks, cut before timing starts
(best of --repeat runs, after a warm-up). Slow engines run on the first --sample-mb and their MB/s
is measured there (not extrapolated); Presidio is warmed up too and timed best of two runs.
The process pins itself to one CPU when it can (and says so), and every engine is timed by the
CPU time of this thread (`time.thread_time`), so that other work on a shared machine, which takes
the core away now and then, does not count as this engine's time.

With the native modules built (setup.py), rows are given for each native part and its Python
twin: the search (native: the C match handler and segment rules; or the Python binding) and the
exact step (native: the per-hit regex, validators, judges and keywords in C; or Python).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "dlp"))

from quality.generator import Label, filler, generate_corpus

from openai_casb.dlp.detectors.search import NATIVE_AVAILABLE, encode, hyperscan
from openai_casb.dlp.engine import DlpEngine
from openai_casb.dlp.engine_native import NATIVE_EXACT_AVAILABLE
from openai_casb.dlp.settings import DlpSettings

# Entries Presidio / detect-secrets have an equivalent for: ours -> theirs.
PRESIDIO = {
    "Visa Card Number": "CREDIT_CARD",
    "Mastercard Card Number": "CREDIT_CARD",
    "Amex Card Number": "CREDIT_CARD",
    "Discover Card Number": "CREDIT_CARD",
    "Diners Card Number": "CREDIT_CARD",
    "JCB Card Number": "CREDIT_CARD",
    "UnionPay Card Number": "CREDIT_CARD",
    "IBAN": "IBAN_CODE",
    "ABA Routing Number": "ABA_ROUTING_NUMBER",
    "US Social Security Number": "US_SSN",
    "US ITIN": "US_ITIN",
    "UK NHS Number": "UK_NHS",
    "UK National Insurance Number": "UK_NINO",
    "Australia TFN": "AU_TFN",
    "India Aadhaar": "IN_AADHAAR",
    "Spain DNI/NIE": "ES_NIF",
    "Poland PESEL": "PL_PESEL",
}
DETECT_SECRETS = {
    "AWS Access Key ID": "AWS Access Key",
    "GitHub Token": "GitHub Token",
    "OpenAI API Key": "OpenAI Token",
    "PEM Private Key": "Private Key",
    "JSON Web Token": "JSON Web Token",
    "Slack Token": "Slack Token",
    "Stripe Secret Key": "Stripe Access Key",
    "npm Token": "NPM tokens",
    "PyPI Token": "PyPI upload token",
    "Azure Storage Account Key": "Azure Storage Account access key",
}


def corpus(megabytes: float) -> tuple[str, list[Label]]:
    per_entry = max(1, int(megabytes * 1_000_000 / 5_000 / 45))
    return generate_corpus(seed=2024, per_entry=per_entry, negatives_per_kind=per_entry // 2, spacing=5000)


def recall(labels: list[Label], spans: list[tuple[int, int, str]], mapping: dict[str, str] | None) -> dict[str, str]:
    found: dict[str, int] = Counter()
    planted: dict[str, int] = Counter()
    for lab in labels:
        if lab.entry is None or (mapping is not None and lab.entry not in mapping):
            continue
        want = mapping[lab.entry] if mapping else lab.entry
        planted[lab.entry] += 1
        if any(s < lab.end and lab.start < e and kind == want for s, e, kind in spans):
            found[lab.entry] += 1
    return {entry: f"{found[entry]}/{planted[entry]}" for entry in sorted(planted)}


CHUNK_CHARS = 256 * 1024  # what the extractors feed the matcher (`chunk_chars`)
SCAN_ALONE = "openai-casb: its hyperscan database alone"  # the floor, not an engine result
# The floor through python-hyperscan's API: it calls a Python function for every match.
SCAN_WITH_HANDLER = "openai-casb: same, Python handler counting"
NATIVE_SEGMENTS = "openai-casb: native segment search alone"
FLOORS = (SCAN_ALONE, SCAN_WITH_HANDLER, NATIVE_SEGMENTS)
# The backends measured: the native search when built, the Python binding, RE2.
# (search backend, exact step): the native search with the C exact step first (what a scan uses
# where both are built), then each native part replaced by its Python twin.
BACKENDS = (
    ([("hyperscan-native", "native")] if NATIVE_AVAILABLE and NATIVE_EXACT_AVAILABLE else [])
    + ([("hyperscan-native", "python")] if NATIVE_AVAILABLE else [])
    + ([("hyperscan-python", "python")] if hyperscan else [])
    + [("re2", "python")]
)


def bench_ours(text: str, labels: list[Label], backend: tuple[str, str], repeat: int) -> tuple[float, dict[str, str]]:
    search, exact = backend
    engine = DlpEngine.from_settings(
        DlpSettings(salt="bench-salt-value"), backend=search, exact=exact  # type: ignore[arg-type]
    )
    engine.match(text[:100_000])  # warm up
    # The chunks exist before matching starts, as a scan's extractor hands them over.
    chunks = [text[offset : offset + CHUNK_CHARS] for offset in range(0, len(text), CHUNK_CHARS)]
    best = float("inf")
    for _ in range(repeat):
        started = time.thread_time()
        matcher = engine.matcher()
        for chunk in chunks:
            matcher.feed(chunk)
        matcher.result()
        best = min(best, time.thread_time() - started)
    detections = engine.detections(text)  # positions, for recall (not timed)
    return len(text) / 1e6 / best, recall(labels, [(d.start, d.end, d.entry) for d in detections], None)


def bench_scan_alone(text: str, repeat: int, count_matches: bool = False) -> float:
    """The floor of our engine on this corpus: Hyperscan scanning the engine's compiled database with
    no match handler (no segments, no exact step, no validation), or with a Python handler that only
    counts (what any use of the Python binding pays per match). Reaches into the engine on purpose."""
    engine = DlpEngine.from_settings(DlpSettings(salt="bench-salt-value"), backend="hyperscan-python")
    database = engine._search._database  # type: ignore[attr-defined]
    matches = [0]

    def count(_id: int, _start: int, _end: int, _flags: int, _context: object) -> None:
        matches[0] += 1

    handler = count if count_matches else None
    best = float("inf")
    for _ in range(repeat):
        started = time.thread_time()
        for offset in range(0, len(text), CHUNK_CHARS):
            database.scan(text[offset : offset + CHUNK_CHARS].encode("ascii", "replace"), match_event_handler=handler)
        best = min(best, time.thread_time() - started)
    if count_matches:
        print(f"hyperscan matches reported: {matches[0] / repeat / (len(text) / 1e6):.0f} per MB")
    return len(text) / 1e6 / best


def bench_native_segments(text: str, repeat: int) -> float:
    """The native search's own floor: Hyperscan and the segment rules in C (what replaces the two
    rows above when the extension is built), no exact step."""
    engine = DlpEngine.from_settings(DlpSettings(salt="bench-salt-value"), backend="hyperscan-native")
    best = float("inf")
    for _ in range(repeat):
        started = time.thread_time()
        for offset in range(0, len(text), CHUNK_CHARS):
            chunk = text[offset : offset + CHUNK_CHARS]
            engine._search.segments(chunk if chunk.isascii() else encode(chunk))  # as the engine does
        best = min(best, time.thread_time() - started)
    return len(text) / 1e6 / best


def pin_to_one_cpu() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity on this platform)"
    allowed = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {allowed[0]})
    return f"pinned to CPU {allowed[0]}"


def summary(found: dict[str, str]) -> str:
    """"100 % on N entries", or the total and the entries below 100 %."""
    pairs = [tuple(int(n) for n in value.split("/")) for value in found.values()]
    hit, planted = sum(p[0] for p in pairs), sum(p[1] for p in pairs)
    missed = [f"{entry} {value}" for entry, value in found.items() if value.split("/")[0] != value.split("/")[1]]
    total = f"{100 * hit / planted:.1f} % ({hit}/{planted}) on {len(found)} entries" if planted else "-"
    return total + (f"; below 100 %: {', '.join(missed)}" if missed else "")


def bench_presidio(text: str, labels: list[Label], repeat: int = 2) -> tuple[float, dict[str, str]] | None:
    try:
        from presidio_analyzer import predefined_recognizers as pr
    except ImportError:
        return None
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    names = [
        "CreditCardRecognizer",
        "IbanRecognizer",
        "AbaRoutingRecognizer",
        "UsSsnRecognizer",
        "UsItinRecognizer",
        "NhsRecognizer",
        "UkNinoRecognizer",
        "AuTfnRecognizer",
        "InAadhaarRecognizer",
        "EsNifRecognizer",
        "PlPeselRecognizer",
    ]
    recognizers = [getattr(pr, n)() for n in names if hasattr(pr, n)]

    def analyze(sample: str) -> list[tuple[int, int, str]]:
        spans: list[tuple[int, int, str]] = []
        for offset in range(0, len(sample), 100_000):  # Presidio's guidance: analyse in chunks
            chunk = sample[offset : offset + 100_000]
            for recognizer in recognizers:
                for r in recognizer.analyze(chunk, recognizer.supported_entities, nlp_artifacts=None):
                    spans.append((offset + r.start, offset + r.end, r.entity_type))
        return spans

    # Measured as ours is: warmed up (its patterns compile on first use), best of `repeat` runs.
    analyze(text[:100_000])
    best = float("inf")
    for _ in range(repeat):
        started = time.thread_time()
        spans = analyze(text)
        best = min(best, time.thread_time() - started)
    return len(text) / 1e6 / best, recall(labels, spans, PRESIDIO)


def bench_detect_secrets(text: str, labels: list[Label]) -> tuple[float, dict[str, str]] | None:
    try:
        from detect_secrets.core.scan import scan_line
        from detect_secrets.settings import default_settings
    except ImportError:
        return None
    spans: list[tuple[int, int, str]] = []
    started = time.thread_time()
    with default_settings():
        offset = 0
        for line in text.split("\n"):
            for secret in scan_line(line):
                value = secret.secret_value or ""
                at = line.find(value) if value else -1
                if at >= 0:
                    spans.append((offset + at, offset + at + len(value), secret.type))
            offset += len(line) + 1
    elapsed = time.thread_time() - started
    return len(text) / 1e6 / elapsed, recall(labels, spans, DETECT_SECRETS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=50)
    parser.add_argument("--sample-mb", type=float, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(pin_to_one_cpu())
    text, labels = corpus(args.mb)
    sample_length = int(args.sample_mb * 1_000_000)
    sample_labels = [lab for lab in labels if lab.end <= sample_length]
    print(
        f"corpus: {len(text) / 1e6:.1f} MB, {sum(1 for lab in labels if lab.entry)} planted values, "
        f"{sum(1 for lab in labels if lab.entry is None)} hard negatives; sample {args.sample_mb} MB"
    )
    rows: list[tuple[str, float, dict[str, str]]] = []
    for backend in BACKENDS:
        speed, found = bench_ours(text, labels, backend, args.repeat)
        rows.append((f"openai-casb ({backend[0]}, {backend[1]} exact step), full corpus", speed, found))
    # The same prose, numbers and dates without any planted value: the cost of the scan itself,
    # without the per-value work (exact match, validation, keywords, masks and hashes).
    prose = filler(random.Random(2024), len(text))
    for backend in BACKENDS:
        speed, _ = bench_ours(prose, [], backend, args.repeat)
        rows.append((f"openai-casb ({backend[0]}, {backend[1]} exact step), same prose, no values", speed, {}))
    if hyperscan:
        rows.append((SCAN_ALONE, bench_scan_alone(text, args.repeat), {}))
        rows.append((SCAN_WITH_HANDLER, bench_scan_alone(text, args.repeat, count_matches=True), {}))
    if NATIVE_AVAILABLE:
        rows.append((NATIVE_SEGMENTS, bench_native_segments(text, args.repeat), {}))
    for name, run in (
        ("presidio pattern recognizers", bench_presidio),
        ("detect-secrets scan_line", bench_detect_secrets),
    ):
        measured = run(text[:sample_length], sample_labels)
        if measured is None:
            print(f"{name}: not installed (pip install -e '.[bench]')")
            continue
        rows.append((f"{name}, first {args.sample_mb} MB", *measured))
    presidio = next((speed for name, speed, _ in rows if name.startswith("presidio")), None)
    print(f"\n| {'engine (1 core)':72s} | {'MB/s':>8s} | {'ours / it':>9s} | recall on planted values |")
    print(f"|{'-' * 74}|{'-' * 9}:|{'-' * 10}:|{'-' * 26}|")
    for name, speed, found in rows:
        ratio = f"{rows[0][1] / speed:.1f}" if not name.startswith("openai-casb") else "-"
        print(f"| {name:72s} | {speed:8.1f} | {ratio:>9s} | {summary(found)} |")
    if presidio:
        for name, speed, _ in rows:
            if name.startswith("openai-casb") and name not in FLOORS:
                print(f"{name}: {speed / presidio:.0f}x Presidio's pattern recognizers")
    print("\nrecall on planted values (found/planted)")
    for name, _, found in rows:
        print(f"  {name}: " + ", ".join(f"{entry} {value}" for entry, value in found.items()))
    # Our recall on the same sample and entries the others cover, for a like-for-like comparison.
    engine = DlpEngine.from_settings(DlpSettings(salt="bench-salt-value"))
    sample_spans = [(d.start, d.end, d.entry) for d in engine.detections(text[:sample_length])]
    for title, mapping in (("presidio", PRESIDIO), ("detect-secrets", DETECT_SECRETS)):
        ours_on_sample = recall([lab for lab in sample_labels if lab.entry in mapping], sample_spans, None)
        print(
            f"  openai-casb on the sample, {title} entries: " + ", ".join(f"{e} {v}" for e, v in ours_on_sample.items())
        )


if __name__ == "__main__":
    main()
