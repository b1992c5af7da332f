"""Key material of the web layer: the installation secret, credential encryption, password and token hashes.

The secret comes from `OPENAI_CASB_SECRET_KEY` (or the file `OPENAI_CASB_SECRET_KEY_FILE` names), else
from a key file in the data directory that is created 0600 and refused when group or others can read it.
Purpose-specific keys are derived from it with HKDF so that the session signing key never doubles as
the encryption key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Any

import platformdirs
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from openai_casb.env_files import MAX_SECRET_FILE_BYTES, EnvFileError, env_value
from openai_casb.private_files import BoundedReadError, ensure_private_dir, read_text_bounded

SECRET_KEY_ENV = "OPENAI_CASB_SECRET_KEY"  # noqa: S105 - the name of a variable
KEY_FILE_NAME = "secret.key"
TOKEN_PREFIX = "casb_"  # noqa: S105 - a public prefix, not a secret
TOKEN_PUBLIC_ID_BYTES = 4  # 8 hex digits after `casb_`: the stored, listed part of a token
_TOKEN_FORM = re.compile(r"(casb_[0-9a-f]{8})_[A-Za-z0-9_-]{43}")

# scrypt cost: ~16 MiB and tens of milliseconds per hash, the interactive-login setting of RFC 7914.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


class SecretKeyError(Exception):
    """The installation secret is missing, unreadable or too widely readable. The message says what to do."""


def default_key_file() -> Path:
    return Path(platformdirs.user_data_dir("openai-casb")) / KEY_FILE_NAME


def load_secret(key_file: Path | None = None) -> bytes:
    """The installation secret: from the environment (`OPENAI_CASB_SECRET_KEY` or `..._FILE`), else the
    key file (created 0600 when missing)."""
    try:
        from_env = (env_value(SECRET_KEY_ENV) or "").strip()
    except EnvFileError as exc:
        raise SecretKeyError(str(exc)) from None
    if from_env:
        if len(from_env) < 32:
            raise SecretKeyError(f"{SECRET_KEY_ENV} is too short; use at least 32 random characters")
        return from_env.encode()
    path = key_file or default_key_file()
    try:
        ensure_private_dir(path.parent)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key_file(path)
    except OSError as exc:
        raise SecretKeyError(f"cannot create the key file {path}: {exc.strerror}") from None
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return _read_key_file(path)


def _read_key_file(path: Path) -> bytes:
    value, mode = _secret_in_file(path, "key file", "delete it to have a new one made")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretKeyError(
            f"key file {path} is accessible by group or others (mode {stat.filemode(mode)}); run `chmod 600 {path}`"
        )
    return value


def _secret_in_file(path: Path, what: str, if_short: str) -> tuple[bytes, int]:
    """A secret held in `path` and the file's mode: read bounded, a regular file only (a FIFO would
    block), surrounding whitespace removed, at least 32 characters. `what` names the file in messages
    and `if_short` says what to do about a short one; the contents never appear in them."""
    try:
        text, mode = read_text_bounded(path, MAX_SECRET_FILE_BYTES, what, regular_only=True)
    except BoundedReadError as exc:
        raise SecretKeyError(str(exc)) from None
    value = text.strip()
    if len(value) < 32:
        raise SecretKeyError(f"{what} {path} holds fewer than 32 characters; {if_short}")
    return value.encode(), mode


def load_existing_secret(key_file: Path | None = None) -> bytes:
    """The installation secret as `load_secret` finds it, but a missing key file is an error instead of
    being created (a command that re-encrypts with the secret must not invent a new one)."""
    try:
        from_env = (env_value(SECRET_KEY_ENV) or "").strip()
    except EnvFileError as exc:
        raise SecretKeyError(str(exc)) from None
    path = key_file or default_key_file()
    if not from_env and not path.exists():
        raise SecretKeyError(f"no installation secret: {SECRET_KEY_ENV} (or {SECRET_KEY_ENV}_FILE) is not set "
                             f"and the key file {path} does not exist")
    return load_secret(key_file)


def read_secret_from_file(path: Path, what: str) -> bytes:
    """A secret held in `path` (an old key file, or the file an old `..._FILE` variable named), read as the
    product reads its own key file (`_secret_in_file`), whatever its mode. `what` names the source in
    messages (e.g. "--old-key-file")."""
    return _secret_in_file(path, what, "is it the right file?")[0]


def derive_key(secret: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(secret)


class CredentialCipher:
    """Encrypts integration credentials at rest (Fernet: AES-128-CBC + HMAC-SHA256)."""

    def __init__(self, secret: bytes) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret, "openai-casb credentials")))

    def __repr__(self) -> str:
        return "CredentialCipher(<key hidden>)"

    def encrypt(self, document: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(document, sort_keys=True).encode())

    def decrypt(self, ciphertext: bytes) -> dict[str, Any]:
        try:
            loaded = json.loads(self._fernet.decrypt(ciphertext))
        except InvalidToken:
            raise SecretKeyError(
                "cannot decrypt stored integration credentials: the secret key changed; re-enter the credentials"
            ) from None
        if not isinstance(loaded, dict):
            raise SecretKeyError("stored integration credentials are malformed; re-enter them")
        return loaded

    def can_decrypt(self, ciphertext: bytes) -> bool:
        """Whether this key opens `ciphertext` (its HMAC checks); the plaintext is not kept."""
        try:
            self._fernet.decrypt(ciphertext)
        except InvalidToken:
            return False
        return True

    def reencrypt(self, ciphertext: bytes, old: CredentialCipher) -> bytes:
        """`ciphertext`, made with `old`, encrypted with this key instead (the plaintext byte for byte)."""
        try:
            plaintext = old._fernet.decrypt(ciphertext)
        except InvalidToken:
            raise SecretKeyError("cannot decrypt stored integration credentials with the old key") from None
        return self._fernet.encrypt(plaintext)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${encoded[0]}${encoded[1]}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
        digest = hashlib.scrypt(password.encode(), salt=salt, n=int(n), r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


# Spent on unknown usernames too, so that response time does not reveal which usernames exist.
DUMMY_PASSWORD_HASH = hash_password(secrets.token_urlsafe(16))


def new_api_token() -> str:
    """`casb_<public id>_<secret>`: 8 hex digits that tell tokens apart (stored, listed) and 256 random bits
    (never stored: only the SHA-256 of the whole token is)."""
    return f"{TOKEN_PREFIX}{secrets.token_hex(TOKEN_PUBLIC_ID_BYTES)}_{secrets.token_urlsafe(32)}"


def token_public_part(token: str) -> str:
    """What may be stored and shown of a token: `casb_<public id>` for a token of the current form, else
    `casb_` alone (tokens made before the public id carry nothing but their secret after `casb_`)."""
    match = _TOKEN_FORM.fullmatch(token)
    return match.group(1) if match else TOKEN_PREFIX


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
