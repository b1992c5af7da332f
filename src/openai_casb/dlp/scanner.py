"""Scanning files: hash, consult the verdict cache, extract and match in the sandbox, report.

Extraction and matching both run in a sandboxed worker, so the parent only ever sees counts and
masked samples. Results carry no matched value in plain form.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from openai_casb.dlp.cache import VerdictCache, cache_key
from openai_casb.dlp.extract.base import Budget, NotScanned, TextChunks
from openai_casb.dlp.extract.dispatch import extract_file
from openai_casb.dlp.extract.limits import ExtractionLimits
from openai_casb.dlp.extract.sniff import SNIFF_BYTES, name_reading
from openai_casb.dlp.sandbox import Ready, Sandbox, SandboxFailure
from openai_casb.inventory.model import AssetKind, EntryMatch, FileRef, FileScan

# (file bytes, file name, limits, budget) -> text chunks; replaceable so tests can inject hostile parsers.
Extractor = Callable[[bytes, str | None, ExtractionLimits, Budget], TextChunks]


class _MatchResult(Protocol):
    @property
    def entry_matches(self) -> tuple[EntryMatch, ...]: ...

    @property
    def matched_profiles(self) -> tuple[str, ...]: ...


class _Matcher(Protocol):
    def feed(self, chunk: str) -> None: ...

    def result(self) -> _MatchResult: ...


class MatchingEngine(Protocol):
    """What the scanner needs of `openai_casb.dlp.engine.DlpEngine`."""

    @property
    def profile_set_digest(self) -> str: ...

    def matcher(self) -> _Matcher: ...

    def redact(self, text: str) -> str: ...


Status = Literal["scanned", "not_scanned"]
_Job = tuple[int, str, str | None]  # (sequence number, path, file name)
MAX_NOTE_CHARS = 300  # a note or reason as shown, after redaction


@dataclass(frozen=True, slots=True)
class LocalFileResult:
    """One local file's verdict, for `openai-casb dlp scan` (or a folder that could not be read:
    `not_scanned`, its files unknown)."""

    path: Path
    status: Status
    reason: str | None = None
    matched_profiles: tuple[str, ...] = ()
    matches: tuple[EntryMatch, ...] = ()
    size_bytes: int | None = None
    content_sha256: str | None = None
    notes: tuple[str, ...] = ()  # skipped archive entries, truncation
    cached: bool = False
    partial: bool = False  # some content was not read (see notes)


@dataclass(frozen=True, slots=True)
class _Verdict:
    status: Status
    reason: str | None
    matched_profiles: tuple[str, ...]
    matches: tuple[EntryMatch, ...]
    notes: tuple[str, ...]
    size_bytes: int | None
    content_sha256: str | None
    cached: bool = False
    partial: bool = False


@dataclass(frozen=True, slots=True)
class UnreadableFolder:
    """A folder `walk_files` could not list: its files are neither scanned nor known."""

    path: Path
    reason: str


def _not_scanned(reason: str, size: int | None = None, sha: str | None = None) -> _Verdict:
    return _Verdict("not_scanned", reason, (), (), (), size, sha)


def _to_dict(
    status: Status, reason: str | None, result: _MatchResult | None, notes: Sequence[str], partial: bool = False
) -> dict[str, Any]:
    matches = [
        {
            "profile": m.profile,
            "entry": m.entry,
            "count": m.count,
            "masked_samples": list(m.masked_samples),
            "value_hashes": list(m.value_hashes),
        }
        for m in (result.entry_matches if result else ())
    ]
    return {
        "status": status,
        "reason": reason,
        "matched_profiles": list(result.matched_profiles) if result else [],
        "matches": matches,
        "notes": list(notes),
        "partial": partial,
    }


def _from_dict(verdict: dict[str, Any], size: int, sha: str, cached: bool) -> _Verdict:
    matches = tuple(
        EntryMatch(
            profile=str(m["profile"]),
            entry=str(m["entry"]),
            count=int(m["count"]),
            masked_samples=tuple(str(s) for s in m.get("masked_samples", ())),
            value_hashes=tuple(str(h) for h in m.get("value_hashes", ())),
        )
        for m in verdict.get("matches", ())
    )
    status: Status = "scanned" if verdict.get("status") == "scanned" else "not_scanned"
    notes = tuple(str(n) for n in verdict.get("notes", ()))
    # Verdicts cached before `partial` existed: every note but a fallback reading said what was skipped.
    partial = verdict.get("partial")
    if not isinstance(partial, bool):
        partial = any(not note.endswith("; read as text") for note in notes)
    return _Verdict(
        status,
        verdict.get("reason"),
        tuple(str(p) for p in verdict.get("matched_profiles", ())),
        matches,
        notes,
        size,
        sha,
        cached,
        partial,
    )


class FileScanner:
    """Scans files with one engine, in `workers` sandboxed processes. Close it (or use `with`)."""

    def __init__(
        self,
        engine: MatchingEngine,
        limits: ExtractionLimits,
        cache: VerdictCache | None,
        workers: int,
        *,
        extractor: Extractor = extract_file,
    ) -> None:
        self.engine = engine
        self.limits = limits
        self.cache = cache
        self.workers = max(1, workers)
        self._extractor = extractor
        self._sandbox: Sandbox[_Job, dict[str, Any]] | None = None
        self.extractions = 0  # files sent to a worker (cache misses), for tests and progress

    def __enter__(self) -> FileScanner:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def _pool(self) -> Sandbox[_Job, dict[str, Any]]:
        if self._sandbox is None:
            self._sandbox = Sandbox(
                self._scan_in_worker,
                workers=self.workers,
                timeout_seconds=self.limits.timeout_seconds,
                memory_mb=self.limits.memory_mb,
            )
        return self._sandbox

    def _scan_in_worker(self, job: _Job) -> dict[str, Any]:
        """Runs in a worker process: read, extract, match. Returns a verdict dict."""
        _sequence, path, name = job
        budget = Budget(self.limits)
        try:
            with open(path, "rb") as handle:
                data = handle.read(self.limits.max_file_bytes + 1)
            matcher = self.engine.matcher()
            for chunk in self._extractor(data, name, self.limits, budget):
                matcher.feed(chunk)
            result = matcher.result()
        except NotScanned as outcome:
            verdict = _to_dict("not_scanned", self._shown(outcome.reason), None, self._notes(budget), budget.partial)
            # Parts skipped for a reason another attempt could get past (OCR unavailable in an
            # archive entry) keep the whole file's verdict out of the cache, not only its own.
            verdict["cacheable"] = outcome.cacheable and budget.cacheable
            return verdict
        except OSError as error:
            verdict = _to_dict("not_scanned", f"unreadable ({type(error).__name__})", None, ())
            verdict["cacheable"] = False
            return verdict
        verdict = _to_dict("scanned", None, result, self._notes(budget), budget.partial)
        verdict["cacheable"] = budget.cacheable  # cut text, skipped parts another attempt could read
        return verdict

    def _shown(self, text: str) -> str:
        """A note or reason as it may be printed and cached. Notes quote names taken from the file
        (archive entries): whatever the engine detects in them is masked as matches are, then the
        text is shortened (after masking, so that a cut cannot hide a value from the engine)."""
        redacted = self.engine.redact(text)
        return redacted if len(redacted) <= MAX_NOTE_CHARS else redacted[: MAX_NOTE_CHARS - 3] + "..."

    def _notes(self, budget: Budget) -> list[str]:
        return [self._shown(note) for note in budget.notes]

    def _prepare(self, path: Path, name: str | None) -> _Verdict | tuple[str, str, int]:
        """A verdict decided without extraction (limit, unreadable, cache hit) or (cache key, sha256, size)."""
        try:
            if not path.is_file():
                return _not_scanned("not a regular file")
            size = path.stat().st_size
            if size == 0:
                return _not_scanned("empty file", 0)
            if size > self.limits.max_file_bytes:
                return _not_scanned(f"over the file size limit ({self.limits.max_file_bytes} bytes)", size)
            with open(path, "rb") as handle:
                head = handle.read(SNIFF_BYTES)
                handle.seek(0)
                sha = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as error:
            return _not_scanned(f"unreadable ({type(error).__name__})")
        # The name can change how the same bytes are read (JSON or text): it is part of the key.
        key = cache_key(sha, self.engine.profile_set_digest, name_reading(head, name))
        if self.cache is not None:
            cached = self.cache.get(key)
            if cached is not None:
                return _from_dict(cached, size, sha, cached=True)
        return key, sha, size

    def _scan(self, items: Iterable[tuple[Path, str | None] | UnreadableFolder]) -> Iterator[tuple[Path, _Verdict]]:
        """Verdicts for (path, name) pairs, in completion order; cache hits and unreadable
        folders come back at once."""
        known: dict[int, tuple[Path, str, str, int]] = {}  # sequence -> (path, cache key, sha256, size)

        def jobs() -> Iterator[_Job | Ready[tuple[Path, _Verdict]]]:
            for sequence, item in enumerate(items):
                if isinstance(item, UnreadableFolder):
                    yield Ready((item.path, _not_scanned(item.reason)))
                    continue
                path, name = item
                prepared = self._prepare(path, name)
                if isinstance(prepared, _Verdict):
                    yield Ready((path, prepared))
                    continue
                key, sha, size = prepared
                known[sequence] = (path, key, sha, size)
                self.extractions += 1
                yield sequence, str(path), name

        for item in self._pool().map(jobs()):
            if isinstance(item, Ready):
                yield item.value
                continue
            (sequence, _path, _name), outcome = item
            path, key, sha, size = known.pop(sequence)
            if isinstance(outcome, SandboxFailure):
                yield path, _not_scanned(outcome.reason, size, sha)
                continue
            if outcome.pop("cacheable", False) and self.cache is not None:
                self.cache.put(key, outcome)
            yield path, _from_dict(outcome, size, sha, cached=False)

    def scan_files(self, files: Iterable[tuple[Path, FileRef]]) -> Iterator[FileScan]:
        """FileScans for downloaded workspace files, in completion order."""
        refs: dict[Path, list[FileRef]] = {}

        def items() -> Iterator[tuple[Path, str | None]]:
            for path, ref in files:
                refs.setdefault(path, []).append(ref)
                yield path, ref.name

        for path, verdict in self._scan(items()):
            ref = refs[path].pop(0)
            yield FileScan(
                file=ref,
                status=verdict.status,
                reason=verdict.reason,
                matched_profiles=verdict.matched_profiles,
                matches=verdict.matches,
                size_bytes=verdict.size_bytes,
                content_sha256=verdict.content_sha256,
                notes=verdict.notes,
                partial=verdict.partial,
            )

    def scan_path(self, path: Path, file: FileRef) -> FileScan:
        """The verdict on one downloaded file."""
        for scan in self.scan_files([(path, file)]):
            return scan
        raise RuntimeError("scanner returned no verdict")  # unreachable: one verdict per file

    def scan_local(self, path: Path) -> LocalFileResult:
        """The verdict on one local file (a folder is `not a regular file`: use `scan_tree`)."""
        for result in self._local([path]):
            return result
        raise RuntimeError("scanner returned no verdict")  # unreachable: one verdict per path

    def scan_tree(self, paths: Iterable[Path]) -> Iterator[LocalFileResult]:
        """Verdicts for local files; folders are walked (symlinked folders are not followed), and a
        folder that cannot be read is a `not_scanned` result of its own."""
        return self._local(walk_files(paths))

    def _local(self, paths: Iterable[Path | UnreadableFolder]) -> Iterator[LocalFileResult]:
        items = (path if isinstance(path, UnreadableFolder) else (path, path.name) for path in paths)
        for path, verdict in self._scan(items):
            yield LocalFileResult(
                path=path,
                status=verdict.status,
                reason=verdict.reason,
                matched_profiles=verdict.matched_profiles,
                matches=verdict.matches,
                size_bytes=verdict.size_bytes,
                content_sha256=verdict.content_sha256,
                notes=verdict.notes,
                cached=verdict.cached,
                partial=verdict.partial,
            )


def walk_files(paths: Iterable[Path]) -> Iterator[Path | UnreadableFolder]:
    """Files under the given paths, folders walked in sorted order; missing paths pass through.

    A folder that cannot be listed (permissions, I/O error) comes out as an `UnreadableFolder`
    rather than being skipped in silence, as `os.walk` does without `onerror`.
    """
    for path in paths:
        if path.is_dir():
            errors: list[OSError] = []
            for root, dirs, names in os.walk(path, onerror=errors.append):
                yield from _unreadable(errors, path)
                dirs.sort()
                for name in sorted(names):
                    yield Path(root) / name
            yield from _unreadable(errors, path)
        else:
            yield path


def _unreadable(errors: list[OSError], top: Path) -> Iterator[UnreadableFolder]:
    for error in errors:
        folder = Path(os.fsdecode(error.filename)) if error.filename is not None else top
        yield UnreadableFolder(folder, f"unreadable folder ({type(error).__name__})")
    errors.clear()


def local_file_ref(path: Path) -> FileRef:
    """A FileRef for a local file, for callers that need a FileScan of it."""
    return FileRef(kind=AssetKind.CONVERSATION_FILE, file_id=str(path), name=path.name, container_id="local")
