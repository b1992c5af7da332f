"""`openai-casb dlp scan`: JSON and table output, profile selection, exit codes, bad input."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openai_casb.cli.app import app

runner = CliRunner()
POLICY = """
version: 1
dlp:
  custom_profiles:
    - name: Project codes
      entries:
        - kind: regex
          name: project code
          pattern: "PRJ-[0-9]{6}"
  limits:
    timeout_seconds: 30
"""
SECRET_TEXT = "card number 4716 2810 3355 7292\nproject PRJ-123456 and PRJ-654321\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "secret.txt").write_text(SECRET_TEXT)
    (tmp_path / "docs" / "clean.txt").write_text("nothing to see")
    (tmp_path / "docs" / "empty.txt").write_bytes(b"")
    (tmp_path / "policy.yaml").write_text(POLICY)
    return tmp_path


def _json(folder: Path, *args: str) -> tuple[int, list[dict[str, object]]]:
    result = runner.invoke(
        app, ["dlp", "scan", str(folder / "docs"), "--policy", str(folder / "policy.yaml"), "--format", "json", *args]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)


def test_json_output_one_object_per_file(folder: Path) -> None:
    code, files = _json(folder)
    assert code == 0
    by_name = {Path(str(f["path"])).name: f for f in files}
    assert set(by_name) == {"secret.txt", "clean.txt", "empty.txt"}
    secret = by_name["secret.txt"]
    assert secret["status"] == "scanned"
    matches = {(m["profile"], m["entry"]): m for m in secret["matches"]}  # type: ignore[union-attr]
    assert matches[("Project codes", "project code")]["count"] == 2
    assert "Project codes" in secret["matched_profiles"]  # type: ignore[operator]
    assert by_name["empty.txt"] == by_name["empty.txt"] | {"status": "not_scanned", "reason": "empty file"}
    assert by_name["clean.txt"]["matches"] == []
    assert "reason" not in by_name["clean.txt"]


def test_never_prints_raw_values(folder: Path) -> None:
    for fmt in ("json", "table"):
        result = runner.invoke(
            app, ["dlp", "scan", str(folder / "docs"), "--policy", str(folder / "policy.yaml"), "--format", fmt]
        )
        assert result.exit_code == 0
        for value in ("4716 2810 3355 7292", "PRJ-123456", "PRJ-654321"):
            assert value not in result.output
    assert "secret.txt" in result.output


def test_profile_restricts_matching(folder: Path) -> None:
    _code, files = _json(folder, "--profile", "Project codes")
    secret = next(f for f in files if str(f["path"]).endswith("secret.txt"))
    assert {m["profile"] for m in secret["matches"]} == {"Project codes"}  # type: ignore[union-attr]


def test_fail_on_match_sets_the_exit_code(folder: Path) -> None:
    assert _json(folder, "--fail-on-match")[0] == 1
    clean = runner.invoke(app, ["dlp", "scan", str(folder / "docs" / "clean.txt"), "--fail-on-match"])
    assert clean.exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dlp", "scan", "/nonexistent/path"], "no such file or folder"),
        (["dlp", "scan", ".", "--profile", "Nope"], "unknown profile"),
        (["dlp", "scan", ".", "--policy", "/nonexistent.yaml"], "does not exist"),
    ],
)
def test_bad_input_is_a_clear_error(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_limits_in_policy(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("dlp:\n  limits:\n    max_nesting: -3\n")
    result = runner.invoke(app, ["dlp", "scan", str(tmp_path), "--policy", str(tmp_path / "p.yaml")])
    assert result.exit_code == 2
    assert "max_nesting" in result.output


def test_entry_names_of_an_encrypted_zip_are_masked_in_notes(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("AKIAEL35CRPBUJFUPCR4.txt", "x")
        archive.writestr("card 4716 2810 3355 7292.bin", "x")
    data = bytearray(out.getvalue())
    for header, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # the "encrypted" flag of `zip -P`
        at = data.find(header)
        while at != -1:
            data[at + offset] |= 1
            at = data.find(header, at + 4)
    (tmp_path / "x.zip").write_bytes(bytes(data))
    result = runner.invoke(app, ["dlp", "scan", str(tmp_path / "x.zip"), "--format", "json"])
    assert result.exit_code == 0, result.output
    (verdict,) = json.loads(result.stdout)
    assert verdict["reason"] == "encrypted"
    assert len(verdict["notes"]) == 2
    assert "AKIAEL35CRPBUJFUPCR4" not in result.output
    assert "4716 2810 3355 7292" not in result.output
    assert "**** **** **** 7292" in verdict["notes"][1]


def test_unreadable_subfolder_is_a_not_scanned_entry(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = folder / "docs" / "locked"
    locked.mkdir()
    (locked / "hidden.txt").write_text(SECRET_TEXT)
    real_scandir = os.scandir

    def scandir(path: str) -> object:  # as for a chmod 000 folder, which root (running tests) can read
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code, files = _json(folder)
    assert code == 0  # the scan ran: an unreadable folder is reported like an unreadable file
    by_path = {str(f["path"]): f for f in files}
    assert str(locked / "hidden.txt") not in by_path
    assert by_path[str(locked)]["status"] == "not_scanned"
    assert by_path[str(locked)]["reason"] == "unreadable folder (PermissionError)"
    assert _json(folder, "--fail-on-match")[0] == 1  # other files still matched


def test_a_partly_read_file_says_so(tmp_path: Path) -> None:
    # One entry read, one not (encrypted): `scanned`, but only partly, in JSON and in the table.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("read.txt", "card number 4716 2810 3355 7292")
        archive.writestr("locked.txt", "x")
    data = bytearray(out.getvalue())
    for header, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # the second entry's headers
        data[data.find(header, data.find(header) + 4) + offset] |= 1
    (tmp_path / "x.zip").write_bytes(bytes(data))
    result = runner.invoke(app, ["dlp", "scan", str(tmp_path / "x.zip"), "--format", "json"])
    (verdict,) = json.loads(result.stdout)
    assert verdict["status"] == "scanned"
    assert verdict["partial"] is True
    assert verdict["matches"][0]["entry"] == "Visa Card Number"
    table = runner.invoke(app, ["dlp", "scan", str(tmp_path / "x.zip")], env={"COLUMNS": "200"})
    assert "scanned, partly" in table.stdout
    clean = tmp_path / "clean.txt"
    clean.write_text("nothing to see")
    (whole,) = json.loads(runner.invoke(app, ["dlp", "scan", str(clean), "--format", "json"]).stdout)
    assert whole["partial"] is False
