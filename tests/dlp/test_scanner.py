"""FileScanner: FileScans for workspace files, the content-hash cache, folder walking."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from files.fake_engine import FakeEngine

from openai_casb.dlp.cache import MemoryVerdictCache, cache_key
from openai_casb.dlp.extract import Budget, ExtractionLimits, extract_file
from openai_casb.dlp.scanner import FileScanner
from openai_casb.inventory.model import AssetKind, FileRef

LIMITS = ExtractionLimits(timeout_seconds=10, memory_mb=256)
PLANTED = b"ssn 123-45-6789 and PLANTED-ABCDEFGH and 987-65-4321"


def _ref(name: str) -> FileRef:
    return FileRef(kind=AssetKind.GPT_FILE, file_id=f"file-{name}", name=name, container_id="g-1")


class CountingExtractor:
    """Records each extraction in a file, since extraction happens in another process."""

    def __init__(self, log: Path) -> None:
        self.log = log

    def __call__(self, data: bytes, name: str | None, limits: ExtractionLimits, budget: Budget) -> Iterator[str]:
        with open(self.log, "a") as handle:
            handle.write(f"{name}\n")
        yield from extract_file(data, name, limits, budget)

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


def test_scan_path_returns_a_filescan_without_plain_values(tmp_path: Path) -> None:
    path = tmp_path / "upload.bin"
    path.write_bytes(PLANTED)
    with FileScanner(FakeEngine(), LIMITS, None, 1) as scanner:
        scan = scanner.scan_path(path, _ref("notes.txt"))
    assert scan.status == "scanned"
    assert scan.file.file_id == "file-notes.txt"
    assert scan.matched_profiles == ("test",)
    counts = {m.entry: m.count for m in scan.matches}
    assert counts == {"ssn": 2, "marker": 1}
    assert scan.size_bytes == len(PLANTED)
    assert scan.content_sha256 is not None
    assert len(scan.content_sha256) == 64
    assert "123-45-6789" not in repr(scan)
    assert "PLANTED-ABCDEFGH" not in repr(scan)


def test_same_content_is_not_extracted_twice(tmp_path: Path) -> None:
    extractor = CountingExtractor(tmp_path / "calls.log")
    cache = MemoryVerdictCache()
    first, second = tmp_path / "a.txt", tmp_path / "copy-of-a.txt"
    first.write_bytes(PLANTED)
    second.write_bytes(PLANTED)
    with FileScanner(FakeEngine(), LIMITS, cache, 1, extractor=extractor) as scanner:
        one = scanner.scan_local(first)
        two = scanner.scan_local(second)
        assert scanner.extractions == 1
    assert extractor.calls() == ["a.txt"]
    assert not one.cached
    assert two.cached
    assert two.matches == one.matches
    assert two.matched_profiles == one.matched_profiles


def test_changed_profile_set_misses_the_cache(tmp_path: Path) -> None:
    extractor = CountingExtractor(tmp_path / "calls.log")
    cache = MemoryVerdictCache()
    path = tmp_path / "a.txt"
    path.write_bytes(PLANTED)
    with FileScanner(FakeEngine(), LIMITS, cache, 1, extractor=extractor) as scanner:
        scanner.scan_local(path)
    other = FakeEngine()
    other.profile_set_digest = "fake-digest-2"
    with FileScanner(other, LIMITS, cache, 1, extractor=extractor) as scanner:
        assert not scanner.scan_local(path).cached
    assert len(extractor.calls()) == 2


def test_cache_holds_no_plain_values_and_limit_outcomes_are_not_cached(tmp_path: Path) -> None:
    cache = MemoryVerdictCache()
    path = tmp_path / "a.txt"
    path.write_bytes(PLANTED)
    long_text = tmp_path / "long.txt"
    long_text.write_bytes(b"x" * 10)
    with FileScanner(FakeEngine(), LIMITS, cache, 1) as scanner:
        result = scanner.scan_local(path)
    assert result.content_sha256 is not None
    stored = cache.get(cache_key(result.content_sha256, FakeEngine.profile_set_digest, "text"))
    assert stored is not None
    assert "123-45-6789" not in repr(stored)
    assert "PLANTED-ABCDEFGH" not in repr(stored)
    limits = ExtractionLimits(max_text_chars=5, timeout_seconds=10, memory_mb=256)
    with FileScanner(FakeEngine(), limits, cache, 1) as scanner:
        truncated = scanner.scan_local(long_text)
    assert any("truncated" in note for note in truncated.notes)
    assert len(cache) == 1  # the truncated verdict was not cached


def test_memory_cache_is_bounded() -> None:
    cache = MemoryVerdictCache(max_entries=2)
    for key in "abc":
        cache.put(key, {"status": "scanned"})
    assert cache.get("a") is None
    assert cache.get("c") == {"status": "scanned"}


def test_folders_are_walked_in_parallel_and_each_file_reported(tmp_path: Path) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "top.txt").write_bytes(PLANTED)
    (tmp_path / "sub" / "clean.txt").write_bytes(b"nothing here")
    (tmp_path / "sub" / "deeper" / "empty.txt").write_bytes(b"")
    missing = tmp_path / "missing.txt"
    with FileScanner(FakeEngine(), LIMITS, None, 2) as scanner:
        results = {r.path.name: r for r in scanner.scan_tree([tmp_path, missing])}
    assert set(results) == {"top.txt", "clean.txt", "empty.txt", "missing.txt"}
    assert results["top.txt"].matched_profiles == ("test",)
    assert results["clean.txt"].status == "scanned"
    assert results["clean.txt"].matches == ()
    assert results["empty.txt"].reason == "empty file"
    assert results["missing.txt"].reason == "not a regular file"


def test_scan_local_does_not_walk_folders(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(PLANTED)
    with FileScanner(FakeEngine(), LIMITS, None, 1) as scanner:
        result = scanner.scan_local(tmp_path)
    assert result.status == "not_scanned"
    assert result.reason == "not a regular file"


def test_scan_files_keeps_each_file_ref(tmp_path: Path) -> None:
    paths = []
    for index in range(4):
        path = tmp_path / f"f{index}"
        path.write_bytes(PLANTED if index % 2 else b"clean")
        paths.append((path, _ref(f"f{index}.txt")))
    with FileScanner(FakeEngine(), LIMITS, MemoryVerdictCache(), 2) as scanner:
        scans = {s.file.file_id: s for s in scanner.scan_files(paths)}
    assert {k: bool(v.matches) for k, v in scans.items()} == {
        "file-f0.txt": False,
        "file-f1.txt": True,
        "file-f2.txt": False,
        "file-f3.txt": True,
    }


def refuse_listing(monkeypatch: pytest.MonkeyPatch, *folders: Path) -> None:
    """os.scandir fails on these folders as on a chmod 000 folder for a non-root user (root,
    running the tests, is never refused)."""
    real_scandir = os.scandir
    refused = {os.fspath(folder) for folder in folders}

    def scandir(path: str = ".") -> object:
        if os.fspath(path) in refused:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_unreadable_folders_are_reported_not_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "locked" / "inner").mkdir(parents=True)
    (tmp_path / "locked" / "secret.txt").write_bytes(PLANTED)
    (tmp_path / "open").mkdir()
    (tmp_path / "open" / "a.txt").write_bytes(PLANTED)
    (tmp_path / "open" / "also-locked").mkdir()
    refuse_listing(monkeypatch, tmp_path / "locked", tmp_path / "open" / "also-locked")
    with FileScanner(FakeEngine(), LIMITS, None, 2) as scanner:
        results = {r.path: r for r in scanner.scan_tree([tmp_path])}
    assert set(results) == {tmp_path / "locked", tmp_path / "open" / "a.txt", tmp_path / "open" / "also-locked"}
    for folder in (tmp_path / "locked", tmp_path / "open" / "also-locked"):
        assert results[folder].status == "not_scanned"
        assert results[folder].reason == "unreadable folder (PermissionError)"
        assert results[folder].matches == ()
    assert results[tmp_path / "open" / "a.txt"].matched_profiles == ("test",)


def test_an_unreadable_folder_given_directly_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.txt").write_bytes(PLANTED)
    refuse_listing(monkeypatch, tmp_path)
    with FileScanner(FakeEngine(), LIMITS, None, 1) as scanner:
        (result,) = scanner.scan_tree([tmp_path])
    assert result.path == tmp_path
    assert result.reason == "unreadable folder (PermissionError)"
