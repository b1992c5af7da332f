"""Secrets from files named by `<NAME>_FILE` (Docker and Kubernetes secrets), beside plain `<NAME>`.

Every environment variable that holds a secret, or a URL that may hold a password, is read through
`env_value`: `OPENAI_ADMIN_KEY`, `OPENAI_COMPLIANCE_KEY`, `OPENAI_PROJECT_KEY`, `OPENAI_CASB_SECRET_KEY`,
`OPENAI_CASB_DLP_SALT`, `OPENAI_CASB_DB`, `OPENAI_CASB_BROKER_URL` and `OPENAI_CASB_REDIS_URL`.

The rules (docs/configuration.md, "Secrets in files"):
- `NAME` and `NAME_FILE` both set (non-blank) is ambiguous and refused, naming the two variables.
- The file is read bounded (`MAX_SECRET_FILE_BYTES`), must be UTF-8 and not empty; one trailing
  newline (`\\n` or `\\r\\n`, as `echo` or an editor leaves) is dropped, nothing else.
- A missing, unreadable or too large file is refused with its path; a file that its group or others
  may read is used with a warning naming the `chmod` to run.
- Errors and warnings name variables and paths, never the value.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from openai_casb.private_files import BoundedReadError, read_text_bounded, warn_if_shared

if TYPE_CHECKING:
    from openai_casb.dlp.settings import DlpSettings

FILE_SUFFIX = "_FILE"
DLP_SALT_ENV = "OPENAI_CASB_DLP_SALT"  # dlp.settings.SALT_ENV, which reads the variable itself
# A key, a salt or a URL is well under a kilobyte; a bigger file is the wrong file (or /dev/zero).
MAX_SECRET_FILE_BYTES = 64 * 1024

logger = logging.getLogger(__name__)

# (variable, path, mode) already warned about: a worker reads its settings on every tick.
_warned: set[tuple[str, str, int]] = set()
_warned_lock = threading.Lock()


class EnvFileError(ValueError):
    """`NAME` and `NAME_FILE` are both set, or the file cannot be used. Safe to show: it never holds the value."""


def file_variable(name: str) -> str:
    return name + FILE_SUFFIX


def env_value(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """The value of `name`: `env[name]` as it is (None when unset), or the content of the file that
    `env[name + "_FILE"]` names when `name` is unset or blank. Raises EnvFileError (see the module)."""
    environment = os.environ if env is None else env
    direct = environment.get(name)
    file_name = file_variable(name)
    path_text = environment.get(file_name, "").strip()
    if not path_text:
        return direct
    if direct is not None and direct.strip():
        raise EnvFileError(f"both {name} and {file_name} are set; set only one of them")
    return read_secret_file(name, Path(path_text))


def with_dlp_salt_file(settings: DlpSettings) -> DlpSettings:
    """`settings` for `DlpEngine.from_settings`: when they give no salt and `OPENAI_CASB_DLP_SALT_FILE`
    is set, with the salt it names (the engine itself reads only `$OPENAI_CASB_DLP_SALT`, then the
    installation's salt file). Precedence is unchanged: the settings' salt, then the environment."""
    if settings.salt is not None or not os.environ.get(file_variable(DLP_SALT_ENV), "").strip():
        return settings  # the settings' salt, or `$OPENAI_CASB_DLP_SALT` (or none) read by the engine as before
    salt = env_value(DLP_SALT_ENV)
    try:  # validated as a policy's salt is (8 to 512 characters); the error never quotes it
        return type(settings).model_validate({**settings.model_dump(), "salt": salt})
    except ValueError:
        raise EnvFileError(f"{file_variable(DLP_SALT_ENV)}: the salt in the file must be 8 to 512 characters") from None


def _shown_path(path: Path) -> str | None:
    """None (show the path) for what exists or looks like a path; else a stand-in: a secret put in the
    `_FILE` variable by mistake (`OPENAI_ADMIN_KEY_FILE=sk-admin-...`, a database URL) must not be
    printed back as a missing file's name."""
    text = str(path)
    if os.path.lexists(text):
        return None
    looks_like_a_path = text.startswith(("/", "./", "../", "~")) and "://" not in text
    if looks_like_a_path and not any(character.isspace() for character in text):
        return None
    return "(its value, not shown: it does not look like a path and may be a secret set in the wrong variable)"


def read_secret_file(name: str, path: Path) -> str:
    """The secret of variable `name` held in `path` (see the module's rules). Only a regular file is
    read: a FIFO would block the process until written to."""
    try:
        text, mode = read_text_bounded(
            path, MAX_SECRET_FILE_BYTES, f"{file_variable(name)}:", shown_as=_shown_path(path), regular_only=True
        )
    except BoundedReadError as exc:
        raise EnvFileError(str(exc)) from None
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if not text.strip():
        raise EnvFileError(f"{file_variable(name)}: {path} is empty")
    _warn_once(name, path, mode)
    return text


def _warn_once(name: str, path: Path, mode: int) -> None:
    key = (name, str(path), mode)
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    warn_if_shared(logger, "secret", path, mode, name)
