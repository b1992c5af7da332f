"""The DLP pipeline of a scan: files are downloaded as the crawl finds them and scanned in the sandbox.

Memory stays bounded whatever the number of files: a bounded queue of file references feeds a
few downloaders, which feed one scanning thread (the sandboxed `FileScanner` runs its own worker
processes). Each downloaded file is deleted once scanned. Only the verdicts that matter are kept:
files with a matching profile (they become findings; their file names and container titles masked
by the DLP engine first), spooled to disk as they complete (`scanning.matched`), and a tally of
files not scanned, by reason.
"""

from __future__ import annotations

import asyncio
import queue
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from openai_casb.dlp.scanner import FileScanner
from openai_casb.inventory.model import LISTED_EXPIRED, AssetKind, FileRef, FileScan, Source, SourceReport
from openai_casb.scanning.matched import MatchedFiles
from openai_casb.scanning.names import verdict_named

# A download: the local path of the file, or the reason it could not be fetched, and whether that
# reason is final (an expired upload) rather than a failure that a later scan may get past.
Fetched = tuple[Path, None, None] | tuple[None, str, bool]
Fetch = Callable[[FileRef, Path], Awaitable[Fetched]]
# A verdict already known for this file (same file id, same profiles), so it need not be downloaded.
Known = Callable[[FileRef], FileScan | None]

SOURCE_OF_KIND = {
    AssetKind.CONVERSATION_FILE: Source.CONVERSATION_FILES,
    AssetKind.GPT_FILE: Source.GPT_FILES,
    AssetKind.PROJECT_FILE: Source.PROJECT_FILES,
}
_DONE = object()
UNSCANNED_EXAMPLES = 200  # not-scanned files kept by name per scan (the rest are counted)


class FileProgress(Protocol):
    def file_done(self, scan: FileScan) -> None: ...


@dataclass(slots=True)
class DlpOutcome:
    """What the DLP pipeline kept from a scan. Call `close` when done with it (it deletes the spool)."""

    matched: MatchedFiles = field(default_factory=MatchedFiles)
    unscanned_examples: list[FileScan] = field(default_factory=list)
    scanned: Counter[Source] = field(default_factory=Counter)
    not_scanned: Counter[Source] = field(default_factory=Counter)
    not_scanned_reasons: Counter[str] = field(default_factory=Counter)
    # Files that a later scan could read (download failed for a transient reason): while any
    # remain, the source is partial and resolves nothing.
    failed: Counter[Source] = field(default_factory=Counter)
    bytes_scanned: int = 0
    # Files scanned in part (skipped archive entries, cut text): counted in `scanned` too, and kept
    # among the examples with their notes, since their verdict does not vouch for all of the file.
    partial: Counter[Source] = field(default_factory=Counter)

    def record(self, scan: FileScan, transient_failure: bool = False) -> None:
        source = SOURCE_OF_KIND[scan.file.kind]
        if scan.status == "scanned":
            self.scanned[source] += 1
            self.bytes_scanned += scan.size_bytes or 0
            if scan.matched_profiles:
                self.matched.add(scan)
            if scan.partial:
                self.partial[source] += 1
                if len(self.unscanned_examples) < UNSCANNED_EXAMPLES:
                    self.unscanned_examples.append(scan)
            return
        self.not_scanned[source] += 1
        self.not_scanned_reasons[_reason_family(scan.reason)] += 1
        if transient_failure:
            self.failed[source] += 1
        if len(self.unscanned_examples) < UNSCANNED_EXAMPLES:
            self.unscanned_examples.append(scan)

    def close(self) -> None:
        self.matched.close()

    def report(self, source: Source, crawled: SourceReport | None, incremental: bool) -> SourceReport:
        """The state of a dlp.* source: complete only if its listing was complete and every file was read
        or is unreadable for good (expired, encrypted, over a limit)."""
        files = self.scanned[source] + self.not_scanned[source]
        if crawled is None or crawled.state == "skipped":
            reason = crawled.reason if crawled else "no workspace configured"
            return SourceReport(source, "skipped", reason, objects=files)
        if crawled.state != "complete":
            return SourceReport(source, crawled.state, crawled.reason, objects=files)
        if self.failed[source]:
            reason = f"{self.failed[source]} file(s) could not be downloaded; they will be retried next scan"
            return SourceReport(source, "partial", reason, objects=files)
        if incremental and source is Source.CONVERSATION_FILES:
            reason = "incremental scan: only conversations changed since the last scan were read"
            return SourceReport(source, "partial", reason, objects=files)
        return SourceReport(source, "complete", None, objects=files)


def _reason_family(reason: str | None) -> str:
    """Group reasons for the summary ("encrypted PDF" and "encrypted DOCX" count apart, numbers do not)."""
    text = (reason or "unknown").split("(")[0].strip()
    return text[:80]


class DlpPipeline:
    """Use as `async with DlpPipeline(...) as pipeline:`; `submit` each file; the outcome is `pipeline.outcome`."""

    def __init__(
        self,
        scanner: FileScanner,
        fetch: Fetch,
        *,
        downloaders: int = 4,
        progress: FileProgress | None = None,
        known: Known | None = None,
        remember: Callable[[FileScan], None] | None = None,
    ) -> None:
        self._scanner = scanner
        self._fetch = fetch
        self._downloaders = max(1, downloaders)
        self._progress = progress
        self._known = known
        self._remember = remember
        self.outcome = DlpOutcome()
        self._files: asyncio.Queue[FileRef | None] = asyncio.Queue(maxsize=self._downloaders * 4)
        self._to_scan: queue.Queue[tuple[Path, FileRef] | object] = queue.Queue(maxsize=scanner.workers * 2 + 2)
        self._lock = threading.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._scan_thread: asyncio.Future[None] | None = None
        self._workdir: Path | None = None

    async def __aenter__(self) -> DlpPipeline:
        self._workdir = Path(tempfile.mkdtemp(prefix="openai-casb-dlp-"))
        self._workdir.chmod(0o700)  # downloaded files may hold sensitive data
        self._tasks = [asyncio.create_task(self._download_loop()) for _ in range(self._downloaders)]
        self._scan_thread = asyncio.get_running_loop().run_in_executor(None, self._scan_loop)
        return self

    async def submit(self, file: FileRef) -> None:
        await self._files.put(file)

    async def __aexit__(self, exc_type: object, *_: object) -> None:
        try:
            for _task in self._tasks:
                await self._files.put(None)
            await asyncio.gather(*self._tasks)
        finally:
            await asyncio.to_thread(self._to_scan.put, _DONE)
            if self._scan_thread is not None:
                await self._scan_thread
            if self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)

    async def _download_loop(self) -> None:
        assert self._workdir is not None
        while (file := await self._files.get()) is not None:
            if file.listed_expired:
                # Before the remembered verdict: an upload that has expired since raises nothing now,
                # exactly as in a scan without history (same org, same findings).
                outcome = FileScan(file=file, status="not_scanned", reason=LISTED_EXPIRED)
                if self._remember is not None:
                    self._remember(outcome)
                self._record(outcome, transient=False)
                continue
            known = self._known(file) if self._known is not None else None
            if known is not None:
                self._record(known, transient=False)
                continue
            path, reason, final = await self._fetch(file, self._workdir)
            if path is None:
                outcome = FileScan(file=file, status="not_scanned", reason=reason)
                if final and self._remember is not None:
                    self._remember(outcome)  # an expired upload never comes back
                self._record(outcome, transient=not final)
                continue
            await asyncio.to_thread(self._to_scan.put, (path, file))

    def _queued(self, paths: dict[FileRef, list[Path]]) -> Iterator[tuple[Path, FileRef]]:
        while (item := self._to_scan.get()) is not _DONE:
            assert isinstance(item, tuple)
            path, file = item
            paths.setdefault(file, []).append(path)
            yield path, file

    def _scan_loop(self) -> None:
        paths: dict[FileRef, list[Path]] = {}
        try:
            for scan in self._scanner.scan_files(self._queued(paths)):
                # A downloaded file lives only until its verdict is back.
                pending = paths.get(scan.file)
                if pending:
                    pending.pop(0).unlink(missing_ok=True)
                self._record(scan, transient=False)
        except BaseException as error:
            # The scanner is gone (e.g. its worker processes could not start). Keep draining, so that
            # downloaders never block on a full queue, then let the error end the scan.
            reason = f"scanner failed ({type(error).__name__})"
            for path, file in self._queued({}):
                path.unlink(missing_ok=True)
                self._record(FileScan(file=file, status="not_scanned", reason=reason), transient=True)
            for file, leftover in paths.items():
                for path in leftover:
                    path.unlink(missing_ok=True)
                    self._record(FileScan(file=file, status="not_scanned", reason=reason), transient=True)
            raise

    def _record(self, scan: FileScan, transient: bool) -> None:
        if self._remember is not None and scan.status == "scanned" and not scan.partial:
            # Counts and masked samples by file id: no name. A partly read file is downloaded again
            # next scan (what it skipped may be readable then); the content-hash cache still spares
            # re-reading it when its verdict could not change.
            self._remember(scan)
        if scan.matched_profiles:
            # Its names become a finding's: masked by the engine that scanned it (scanning.names).
            scan = verdict_named(scan, self._scanner.engine.redact)
        with self._lock:
            self.outcome.record(scan, transient_failure=transient)
        if self._progress is not None:
            self._progress.file_done(scan)
