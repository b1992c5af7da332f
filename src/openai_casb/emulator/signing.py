"""HMAC-signed download URLs that need no Bearer key, like the real signed blob URLs."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

REDIRECT_TTL_SECONDS = 300  # the 307 target of a file endpoint expires after 5 minutes
LISTED_URL_TTL_SECONDS = 3600  # `download_url` inside listed objects works for one hour


def _signature(secret: str, file_id: str, expires: int) -> str:
    return hmac.new(secret.encode(), f"{file_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def signed_path(secret: str, file_id: str, expires: int) -> str:
    return f"/_files/{quote(file_id, safe='')}?expires={expires}&sig={_signature(secret, file_id, expires)}"


def verify(secret: str, file_id: str, expires: str | None, signature: str | None, now: float) -> str | None:
    """None when the signature is valid and unexpired, else the reason it is refused."""
    if not expires or not signature or not expires.isdigit():
        return "missing or malformed signature"
    if not hmac.compare_digest(_signature(secret, file_id, int(expires)), signature):
        return "signature does not match"
    if now > int(expires):
        return "signed URL has expired"
    return None
