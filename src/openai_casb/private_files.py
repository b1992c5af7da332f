"""Files only their owner may read: the data directory, the SQLite database, the key and the salt;
and settings files (config, policy, `<NAME>_FILE` secrets) read bounded, as UTF-8, with one message per failure.

The database holds password and token hashes, encrypted integration credentials, findings naming
people and salted DLP hashes; the data directory also holds the installation secret. Both are
created owner-only (directory 0700, files 0600) whatever the umask allows. SQLite gives the files it
creates beside a database (`-wal`, `-shm`, `-journal`) the database file's own mode, so creating the
database file 0600 before SQLite opens it covers them too.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path


def ensure_private_dir(path: Path) -> None:
    """Create `path` (and missing parents) with the last component 0700; an existing one is left as is."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:  # created by another process meanwhile
        if not path.is_dir():
            raise


def create_private_file(path: Path) -> bool:
    """Create `path` empty with mode 0600 when it does not exist; whether this call created it."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    os.close(descriptor)
    return True


def exposure(path: Path) -> str | None:
    """Why `path` is readable by more than its owner (group or others have any access), else None."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return f"mode {stat.filemode(mode)}"
    return None


class NotARegularFile(OSError):
    """`read_bounded(..., regular_only=True)` opened a FIFO, a device or a socket."""


def read_bounded(path: Path, limit: int, regular_only: bool = False) -> tuple[bytes, int]:
    """At most `limit` + 1 bytes of `path` (more than `limit`: the file is too large) and its mode,
    both from one open file. Raises OSError as `open` and `read` do. With `regular_only`, the open
    does not wait (a FIFO would block until written to) and anything but a regular file is refused
    (NotARegularFile; IsADirectoryError for a directory)."""
    if not regular_only:
        with path.open("rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            return handle.read(limit + 1), mode
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(descriptor, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(str(path))
        if not stat.S_ISREG(mode):
            raise NotARegularFile(str(path))
        return handle.read(limit + 1), mode


class BoundedReadError(ValueError):
    """A file read by `read_text_bounded` cannot be used. The message names what the file is for and
    its path (and why), never the content."""


def read_text_bounded(
    path: Path, limit: int, what: str, shown_as: str | None = None, regular_only: bool = False
) -> tuple[str, int]:
    """The UTF-8 text of `path` (at most `limit` bytes) and its mode, both from one open file.

    Raises BoundedReadError, whose message is `"{what} {path} <why>"` (`what` as "config file" or
    "OPENAI_ADMIN_KEY_FILE:"; `shown_as` in place of the path when the path may not be shown), when
    the file does not exist, is a directory, is not readable, cannot be read, is larger than `limit`
    or is not UTF-8; with `regular_only` (see `read_bounded`), when it is not a regular file."""
    where = f"{what} {path if shown_as is None else shown_as}"
    try:
        raw, mode = read_bounded(path, limit, regular_only)
    except NotARegularFile:
        raise BoundedReadError(f"{where} is not a regular file (a FIFO, a device or a socket)") from None
    except FileNotFoundError:
        raise BoundedReadError(f"{where} does not exist") from None
    except IsADirectoryError:
        raise BoundedReadError(f"{where} is a directory, not a file") from None
    except PermissionError:
        raise BoundedReadError(f"{where} is not readable by this user") from None
    except OSError as exc:
        raise BoundedReadError(f"{where} cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(raw) > limit:
        raise BoundedReadError(f"{where} is larger than {limit} bytes; is it the right file?")
    try:
        return raw.decode("utf-8"), mode
    except UnicodeDecodeError as exc:
        # The offset of the first bad byte, never the bytes: the file may hold a secret.
        raise BoundedReadError(f"{where} is not UTF-8 (byte {exc.start})") from None


def warn_if_shared(log: logging.Logger, what: str, path: Path, mode: int, held: str) -> None:
    """A settings file holding secrets (`held`, e.g. "admin_key") that its group or others may read
    (or write) is used, with a warning naming the fix; `what` is "config" or "policy"."""
    if not held or os.name != "posix" or not stat.S_ISREG(mode) or not mode & 0o077:
        return
    log.warning(
        "warning: %s file %s holds %s but its mode is %s (not only its owner can read it); run `chmod 600 %s`",
        what, path, held, oct(stat.S_IMODE(mode)), path,
    )
