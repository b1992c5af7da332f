"""Images through OCR with the `tesseract` binary, when it is installed.

The binary is called directly (no pytesseract): image bytes on stdin, text on stdout, with a
timeout. Like Cloudflare, only images between `ocr_min_bytes` and `ocr_max_bytes` are sent.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

from openai_casb.dlp.extract.base import Budget, NotScanned, TextChunks, chunk_text

# Lets an installation point at a tesseract outside PATH (and tests at a stand-in).
TESSERACT_ENV = "OPENAI_CASB_TESSERACT"
OCR_UNAVAILABLE = "OCR unavailable: tesseract not installed"
# One OpenMP thread per tesseract: parallelism comes from the sandbox's workers. With tesseract's
# default (a thread per core) its CPU time grows faster than wall time and it would hit the
# RLIMIT_CPU it inherits from the worker before our wall-clock timeout, on an otherwise idle machine.
_TESSERACT_ENV = {"OMP_THREAD_LIMIT": "1"}


def tesseract_path() -> str | None:
    configured = os.environ.get(TESSERACT_ENV)
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("tesseract")


def extract_image(data: bytes, budget: Budget) -> TextChunks:
    limits = budget.limits
    binary = tesseract_path()
    if binary is None:
        raise NotScanned(OCR_UNAVAILABLE, cacheable=False)
    if not limits.ocr_min_bytes <= len(data) <= limits.ocr_max_bytes:
        raise NotScanned(
            f"image outside the OCR size window ({limits.ocr_min_bytes}-{limits.ocr_max_bytes} bytes)", cacheable=False
        )
    # Under the worker's own timeout, so that tesseract is stopped by us rather than orphaned
    # when the supervisor kills the worker.
    timeout = limits.timeout_seconds * 0.8
    try:
        completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [binary, "stdin", "stdout"],
            input=data,
            capture_output=True,
            timeout=timeout,
            check=False,
            env={**os.environ, **_TESSERACT_ENV},
        )
    except subprocess.TimeoutExpired:
        raise NotScanned(f"OCR timed out after {timeout:g} s", cacheable=False) from None
    except OSError as error:
        raise NotScanned(f"OCR failed to start ({type(error).__name__})", cacheable=False) from None
    if completed.returncode < 0:
        # Killed by a signal: a limit (SIGXCPU from the inherited RLIMIT_CPU, SIGKILL) or a crash.
        # Not the image's fault for certain, so another attempt may succeed: not cached.
        signum = -completed.returncode
        if signum == signal.SIGXCPU:
            raise NotScanned("OCR over the CPU time limit", cacheable=False)
        raise NotScanned(f"OCR stopped by signal {_signal_name(signum)}", cacheable=False)
    if completed.returncode != 0:
        raise NotScanned(f"OCR could not read the image (tesseract exit code {completed.returncode})")
    yield from chunk_text(completed.stdout.decode("utf-8", errors="replace"), limits.chunk_chars)


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return str(signum)
