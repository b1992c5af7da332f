"""A workspace verdict's notes and `partial` flag survive everything that carries a FileScan: the
distributed codec, the matched spool, the remembered verdicts by file id, the finding's evidence,
and the scan's summary of files not read in full."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from openai_casb.checks.file_rules import files_with_matches
from openai_casb.distributed.codec import dump_outcome, load_outcome, merge_outcome
from openai_casb.inventory.model import AssetKind, EntryMatch, FileRef, FileScan, Source
from openai_casb.scanning.file_cache import KEY_PREFIX, FileVerdicts
from openai_casb.scanning.matched import MatchedFiles
from openai_casb.scanning.pipeline import DlpOutcome, DlpPipeline, Fetched
from openai_casb.scanning.run import summarise_errors
from openai_casb.store import Store

NOTE = "entry shot.png not scanned: OCR unavailable: tesseract not installed"
LISTED = datetime(2026, 11, 24, tzinfo=UTC)


def _scan(file_id: str, *, matched: bool = True, partial: bool = True) -> FileScan:
    file = FileRef(AssetKind.CONVERSATION_FILE, file_id, f"{file_id}.zip", "conv-1", created_at=LISTED)
    return FileScan(
        file=file,
        status="scanned",
        matched_profiles=("PII",) if matched else (),
        matches=(EntryMatch("PII", "SSN", 2, ("***-**-6789",), ("ee" * 32,)),) if matched else (),
        notes=(NOTE,) if partial else (),
        partial=partial,
    )


def test_notes_and_partial_survive_the_distributed_codec() -> None:
    outcome = DlpOutcome()
    outcome.record(_scan("f-1"))
    outcome.record(_scan("f-2", matched=False))
    outcome.record(_scan("f-3", partial=False))
    merged = DlpOutcome()
    merge_outcome(merged, load_outcome(dump_outcome(outcome)))
    by_id = {s.file.file_id: s for s in merged.matched}
    assert by_id["f-1"].notes == (NOTE,)
    assert by_id["f-1"].partial
    assert by_id["f-3"].notes == ()
    assert not by_id["f-3"].partial
    assert merged.partial[Source.CONVERSATION_FILES] == 2
    assert merged.scanned[Source.CONVERSATION_FILES] == 3
    # A partly read file is listed with the files not read, its notes with it.
    assert [(s.file.file_id, s.notes) for s in merged.unscanned_examples] == [("f-1", (NOTE,)), ("f-2", (NOTE,))]
    assert "files scanned in part (skipped entries or pages, text cut at the limit): 2" in summarise_errors({}, merged)
    outcome.close()
    merged.close()


def test_a_part_stored_before_partial_existed_still_loads() -> None:
    outcome = DlpOutcome()
    outcome.record(_scan("f-1", partial=False))
    text = dump_outcome(outcome).replace(',"notes":[],"partial":false', "").replace(',"partial":{}', "")
    assert '"partial"' not in text
    loaded = load_outcome(text)
    assert loaded.matched[0].notes == ()
    assert not loaded.matched[0].partial
    outcome.close()


def test_notes_survive_the_matched_spool() -> None:
    spool = MatchedFiles()
    spool.add(_scan("f-1"))
    assert [s.notes for s in spool] == [(NOTE,)]
    assert next(iter(spool)).partial
    spool.close()


def test_notes_and_partial_are_in_the_finding_evidence() -> None:
    (partial,) = files_with_matches([_scan("f-1")], AssetKind.CONVERSATION_FILE, "dlp_conversation_file")
    assert partial.evidence["partial"] is True
    assert partial.evidence["notes"] == [NOTE]
    (full,) = files_with_matches([_scan("f-2", partial=False)], AssetKind.CONVERSATION_FILE, "dlp_conversation_file")
    assert full.evidence["partial"] is False
    assert full.evidence["notes"] == []


def test_remembered_verdicts_keep_their_notes(tmp_path: Path) -> None:
    """A verdict read in full may still carry notes (a fallback reading): they are remembered."""
    fallback = "malformed PDF; read as text"
    with Store.open(f"sqlite:///{tmp_path / 'casb.db'}") as store:
        integration = store.ensure_integration("org-test", None, "org-test")
        verdicts = FileVerdicts(store, integration.id, "digest-1")
        scan = dataclasses.replace(_scan("f-1", partial=False), notes=(fallback,))
        verdicts.remember(scan)
        known = verdicts.known(scan.file)
    assert known == scan
    assert known.notes == (fallback,)
    assert not known.partial


def test_a_partly_read_verdict_is_refused_by_file_id(tmp_path: Path) -> None:
    """What it skipped may be readable next scan: remembering it would hide that for good."""
    with Store.open(f"sqlite:///{tmp_path / 'casb.db'}") as store:
        integration = store.ensure_integration("org-test", None, "org-test")
        verdicts = FileVerdicts(store, integration.id, "digest-1")
        scan = _scan("f-1")
        with pytest.raises(ValueError, match="partly read"):
            verdicts.remember(scan)
        assert verdicts.known(scan.file) is None


def test_a_verdict_remembered_with_its_partial_flag_still_loads(tmp_path: Path) -> None:
    """Rows written while the flag was stored (always false: partial verdicts were never remembered)."""
    with Store.open(f"sqlite:///{tmp_path / 'casb.db'}") as store:
        integration = store.ensure_integration("org-test", None, "org-test")
        verdicts = FileVerdicts(store, integration.id, "digest-1")
        scan = _scan("f-1", partial=False)
        key = f"{KEY_PREFIX}{integration.id}:{scan.file.kind.value}:{scan.file.file_id}:digest-1"
        store.dlp_cache_put(key, {
            "status": "scanned", "reason": None, "matched_profiles": ["PII"],
            "matches": [dataclasses.asdict(m) for m in scan.matches],
            "size_bytes": None, "content_sha256": None, "notes": [], "partial": False,
        })
        assert verdicts.known(scan.file) == scan


class _Scanner:
    """Hands back a fixed verdict per file id."""

    workers = 1

    def __init__(self, verdicts: dict[str, FileScan]) -> None:
        self.verdicts = verdicts

    class engine:
        @staticmethod
        def redact(text: str) -> str:
            return text

    def scan_files(self, files: Iterable[tuple[Path, FileRef]]) -> Iterator[FileScan]:
        for _path, file in files:
            yield self.verdicts[file.file_id]


def test_a_partly_read_file_is_not_remembered_by_file_id(tmp_path: Path) -> None:
    verdicts = {"f-1": _scan("f-1"), "f-2": _scan("f-2", partial=False)}
    remembered: list[str] = []

    async def fetch(file: FileRef, folder: Path) -> Fetched:
        path = folder / file.file_id
        path.write_bytes(b"content")
        return path, None, None

    async def run() -> None:
        pipeline = DlpPipeline(
            _Scanner(verdicts),  # type: ignore[arg-type]
            fetch,
            remember=lambda scan: remembered.append(scan.file.file_id),
        )
        async with pipeline:
            for verdict in verdicts.values():
                await pipeline.submit(verdict.file)
        pipeline.outcome.close()

    asyncio.run(asyncio.wait_for(run(), timeout=60))  # a guard against a hang, not a timing assertion
    # What f-1 skipped may be readable next scan (tesseract installed): it is downloaded again.
    assert remembered == ["f-2"]
