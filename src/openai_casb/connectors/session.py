"""Building the two API clients from Settings, with their quotas and retry policy."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

import httpx

from openai_casb.config import Settings
from openai_casb.connectors.http import ApiClient, Sleep, read_only_client
from openai_casb.connectors.ratelimit import RollingWindowLimiter
from openai_casb.connectors.retry import RetryPolicy


def compliance_is_list_template(template: str) -> bool:
    """List endpoints end in a collection name; single objects and file contents end in an `{id}`."""
    return not template.rstrip("/").endswith("}")


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        max_retries=settings.max_retries,
        budget_seconds=settings.retry_budget_seconds,
        backoff_base_seconds=settings.backoff_base_seconds,
        backoff_cap_seconds=settings.backoff_cap_seconds,
        max_retry_after_seconds=settings.max_retry_after_seconds,
        rate_window_seconds=settings.rate_window_seconds + settings.rate_margin_seconds,
    )


@dataclass(slots=True)
class Clients:
    admin: ApiClient
    compliance: ApiClient | None
    # For signed download URLs: no Authorization header, never counted against a quota.
    unauthenticated: httpx.AsyncClient
    policy: RetryPolicy

    async def aclose(self) -> None:
        await self.admin.aclose()
        if self.compliance is not None:
            await self.compliance.aclose()
        await self.unauthenticated.aclose()

    async def __aenter__(self) -> Clients:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def requests(self) -> int:
        return self.admin.stats.requests + (self.compliance.stats.requests if self.compliance else 0)


def open_clients(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
    limiter: RollingWindowLimiter | None = None,
) -> Clients:
    """Clients for both APIs. `transport` and `sleep` are for tests (httpx.MockTransport, no waiting).

    `limiter` replaces the in-process quota limiter, e.g. with one shared by several worker processes.
    """
    limiter = limiter or RollingWindowLimiter(
        settings.rate_window_seconds, margin_seconds=settings.rate_margin_seconds, sleep=sleep
    )
    policy = retry_policy(settings)
    admin = ApiClient(
        name="admin",
        base_url=settings.admin_base_url,
        key=settings.admin_key,
        quota_for=lambda _template: settings.admin_requests_per_window,
        limiter=limiter,
        policy=policy,
        concurrency=settings.max_concurrency,
        timeout=settings.timeout_seconds,
        transport=transport,
        sleep=sleep,
        rng=rng,
    )
    compliance = None
    if settings.has_workspace:
        compliance = ApiClient(
            name="compliance",
            base_url=settings.compliance_base_url,
            key=settings.effective_compliance_key,
            quota_for=lambda template: (
                settings.compliance_list_requests_per_window
                if compliance_is_list_template(template)
                else settings.compliance_object_requests_per_window
            ),
            limiter=limiter,
            policy=policy,
            concurrency=settings.max_concurrency,
            timeout=settings.timeout_seconds,
            transport=transport,
            sleep=sleep,
            rng=rng,
        )
    unauthenticated = read_only_client(transport=transport, timeout=settings.timeout_seconds)
    return Clients(admin=admin, compliance=compliance, unauthenticated=unauthenticated, policy=policy)
