"""HMAC-SHA256 signatures: `X-OpenAI-CASB-Signature: t=<unix seconds>,v1=<hex>` over `t + "." + body`."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-OpenAI-CASB-Signature"
# A receiver rejects signatures older (or newer) than this, so a captured request cannot be replayed later.
REPLAY_WINDOW_SECONDS = 300


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={compute_signature(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str, body: bytes, now: int, tolerance: int = REPLAY_WINDOW_SECONDS
) -> bool:
    """True when one `v1` signature matches and `t` is within `tolerance` seconds of `now`."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures or abs(now - timestamp) > tolerance:
        return False
    expected = compute_signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
