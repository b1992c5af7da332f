"""One rolling-window quota per (API key, endpoint template) shared by every worker, kept in Redis.

Same semantics as `connectors.ratelimit.RollingWindowLimiter` (at most N requests in any rolling
window, plus a margin), but the window lives in a Redis sorted set updated by one Lua script, so
N workers on M machines together never exceed the API's quota. Redis' own clock stamps requests,
so workers' clocks need not agree. Keys are named by a hash of the API key, never the key itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Mapping

from pydantic import SecretStr
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from openai_casb.config import Settings
from openai_casb.connectors.ratelimit import RollingWindowLimiter, Sleep

KEY_PREFIX = "openai-casb:ratelimit"

# KEYS[1] the window; ARGV: window (ms), limit, a unique member. Returns 0 when a request may be
# sent now (and records it), else how many ms to wait before the oldest request leaves the window.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(tonumber(oldest[2]) + window - now, 1)
"""


def key_fingerprint(key: SecretStr) -> str:
    """A stable, non-reversible name for an API key (its SHA-256, shortened)."""
    return hashlib.sha256(key.get_secret_value().encode()).hexdigest()[:32]


def client_fingerprints(settings: Settings) -> dict[str, str]:
    """Client name (as `connectors.http.ApiClient` names them) -> fingerprint of the key it sends."""
    return {
        "admin": key_fingerprint(settings.admin_key),
        "compliance": key_fingerprint(settings.effective_compliance_key),
    }


class RedisRollingWindowLimiter(RollingWindowLimiter):
    """A drop-in for `RollingWindowLimiter` (`acquire("admin:/organization/users", 100)`) shared through Redis.

    `fingerprints` maps a client name to the fingerprint of its API key; a quota key is then
    `openai-casb:ratelimit:<fingerprint>:<template>`, shared by every client sending that key.
    """

    def __init__(
        self,
        redis_url: str,
        fingerprints: Mapping[str, str],
        window_seconds: float,
        *,
        margin_seconds: float = 0.05,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(window_seconds, margin_seconds=margin_seconds, sleep=sleep)
        self._window_ms = max(1, round((window_seconds + margin_seconds) * 1000))
        self._url = redis_url
        self._fingerprints = dict(fingerprints)
        self._redis: AsyncRedis | None = None  # bound to the event loop that first uses it

    def redis_key(self, key: str) -> str:
        client, _, template = key.partition(":")
        fingerprint = self._fingerprints.get(client)
        if fingerprint is None:
            raise KeyError(f"no API key fingerprint for client {client!r}")
        return f"{KEY_PREFIX}:{fingerprint}:{template}"

    async def acquire(self, key: str, limit: int) -> None:
        if self._redis is None:
            self._redis = AsyncRedis.from_url(self._url)
        name = self.redis_key(key)
        while True:
            member = uuid.uuid4().hex
            wait_ms = int(await self._redis.eval(_ACQUIRE, 1, name, self._window_ms, limit, member))
            if wait_ms == 0:
                return
            await self._sleep(wait_ms / 1000)

    def sent_in_window(self, key: str) -> int:
        with Redis.from_url(self._url) as redis:
            seconds, micros = redis.time()
            now_ms = seconds * 1000 + micros // 1000
            return int(redis.zcount(self.redis_key(key), now_ms - self._window_ms + 1, "+inf"))

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


def shared_limiter(redis_url: str, settings: Settings) -> RedisRollingWindowLimiter:
    return RedisRollingWindowLimiter(
        redis_url, client_fingerprints(settings), settings.rate_window_seconds,
        margin_seconds=settings.rate_margin_seconds,
    )
