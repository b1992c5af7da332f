"""`read_text_bounded` (openai_casb.private_files): the one bounded UTF-8 reader of the config file, the
policy file and `<NAME>_FILE` secrets. Each failure is one message naming what the file is for and its
path, never the content."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from openai_casb import private_files
from openai_casb.private_files import BoundedReadError, read_text_bounded

SECRET = "sk-admin-NEVER-SHOWN"
LIMIT = 64


def refusal(path: Path, limit: int = LIMIT) -> str:
    with pytest.raises(BoundedReadError) as caught:
        read_text_bounded(path, limit, "settings file")
    message = str(caught.value)
    assert message.startswith(f"settings file {path} "), message
    assert SECRET not in message
    return message


def test_the_text_and_the_mode_of_the_open_file(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text(SECRET + "\n", encoding="utf-8")
    path.chmod(0o640)
    text, mode = read_text_bounded(path, LIMIT, "settings file")
    assert text == SECRET + "\n"
    assert stat.S_ISREG(mode)
    assert stat.S_IMODE(mode) == 0o640


def test_a_file_of_exactly_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "full"
    path.write_bytes(b"x" * LIMIT)
    assert read_text_bounded(path, LIMIT, "settings file")[0] == "x" * LIMIT


def test_each_kind_of_failure_has_its_own_message(tmp_path: Path) -> None:
    assert refusal(tmp_path / "absent").endswith(" does not exist")
    assert refusal(tmp_path).endswith(" is a directory, not a file")
    under_a_file = tmp_path / "file"
    under_a_file.write_text(SECRET, encoding="utf-8")
    assert refusal(under_a_file / "x").endswith(f" cannot be read ({os.strerror(20)})")  # ENOTDIR
    large = tmp_path / "large"
    large.write_text(SECRET * 10, encoding="utf-8")
    assert refusal(large).endswith(f" is larger than {LIMIT} bytes; is it the right file?")
    binary = tmp_path / "binary"
    binary.write_bytes(SECRET.encode() + b"\xff" + SECRET.encode())
    assert refusal(binary).endswith(f" is not UTF-8 (byte {len(SECRET)})")


def test_a_file_its_reader_may_not_open_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The suite may run as root, who opens a 0000 file: the refusal of `open` is made here instead.
    def denied(_path: Path, _limit: int, _regular_only: bool = False) -> tuple[bytes, int]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(private_files, "read_bounded", denied)
    assert refusal(tmp_path / "locked").endswith(" is not readable by this user")


def test_a_device_that_never_ends_is_refused_as_too_large() -> None:
    assert refusal(Path("/dev/zero")).endswith(f" is larger than {LIMIT} bytes; is it the right file?")


def test_regular_only_refuses_a_fifo_without_waiting_and_a_device(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # nobody writes to it: a blocking open would wait for ever
    with pytest.raises(BoundedReadError, match="is not a regular file"):
        read_text_bounded(fifo, 100, "secret", regular_only=True)
    with pytest.raises(BoundedReadError, match="is not a regular file"):
        read_text_bounded(Path("/dev/zero"), 100, "secret", regular_only=True)
    with pytest.raises(BoundedReadError, match="is a directory"):
        read_text_bounded(tmp_path, 100, "secret", regular_only=True)
    plain = tmp_path / "plain"
    plain.write_text("value")
    assert read_text_bounded(plain, 100, "secret", regular_only=True)[0] == "value"
