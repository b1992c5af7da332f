"""Integration health: is every credential valid and every scope granted? (GET only, one page each.)"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx

from openai_casb.config import MISSING_IDENTITY, Settings, has_identity
from openai_casb.connectors.errors import ApiError, ConnectorError
from openai_casb.connectors.http import ApiClient, Sleep
from openai_casb.connectors.readers import (
    ADMIN_API_KEYS,
    AUDIT_LOGS,
    PROJECT,
    WS_CONVERSATIONS,
    WS_LOGS,
    WS_USERS,
    AdminReader,
    iso_utc,
)
from openai_casb.connectors.session import open_clients

HealthStatus = Literal["healthy", "broken", "missing scope", "not configured"]


@dataclass(frozen=True, slots=True)
class HealthCheck:
    name: str
    status: HealthStatus
    detail: str

    @property
    def failing(self) -> bool:
        return self.status in ("broken", "missing scope")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def _probe(client: ApiClient, template: str, path_params: dict[str, str], params: dict[str, Any]) -> None:
    await client.get_json(template, path_params, params)


def _describe(exc: ConnectorError) -> str:
    return str(exc)


async def _admin_checks(settings: Settings, admin: ApiClient) -> list[HealthCheck]:
    checks: list[HealthCheck] = []
    try:
        await _probe(admin, ADMIN_API_KEYS, {}, {"limit": 1})
        checks.append(HealthCheck("Admin API key", "healthy", f"{settings.admin_base_url} answered"))
    except ApiError as exc:
        status: HealthStatus = "missing scope" if exc.status == 403 else "broken"
        if exc.status is None:
            reason = "Admin API unreachable"
        else:
            reason = "admin key rejected" if exc.unauthorized else "Admin API error"
        checks.append(HealthCheck("Admin API key", status, f"{reason}: {exc}"))
        return checks  # nothing else on the Admin API can work
    except ConnectorError as exc:
        checks.append(HealthCheck("Admin API key", "broken", f"Admin API unreachable: {_describe(exc)}"))
        return checks
    try:
        await _probe(admin, AUDIT_LOGS, {}, {"limit": 1, "event_types[]": ["login.succeeded"]})
        checks.append(HealthCheck("Audit logs", "healthy", "audit logging is enabled"))
    except ConnectorError as exc:
        checks.append(HealthCheck("Audit logs", "broken", f"audit logging not enabled or not readable: {exc}"))
    if settings.project_id is None:
        checks.append(HealthCheck("Project scope", "not configured", "all projects are read"))
    else:
        try:
            body = await admin.get_json(PROJECT, {"project_id": settings.project_id})
            archived = isinstance(body, dict) and body.get("status") == "archived"
            detail = f"project {settings.project_id} found" + (" (archived)" if archived else "")
            checks.append(HealthCheck("Project scope", "healthy", detail))
        except ConnectorError as exc:
            checks.append(HealthCheck("Project scope", "broken", f"project {settings.project_id}: {exc}"))
        if settings.project_key is not None:
            checks.append(await _project_key_check(admin, settings.project_id, settings.project_key.get_secret_value()))
    return checks


def _matches_redacted(key: str, redacted: str | None) -> bool:
    """Whether `key` has the head and tail a listing shows of it (`sk-proj...xyz`, `sk-abc...def`)."""
    if not redacted or "..." not in redacted:
        return False
    head, tail = redacted.split("...", 1)
    return bool(head) and len(tail) >= 2 and key.startswith(head) and key.endswith(tail)


async def _project_key_check(admin: ApiClient, project_id: str, key: str) -> HealthCheck:
    """The project key is checked against the project's own key list, read with the admin key: it must
    be one of them (by the redacted form the API shows). The project key itself is never sent."""
    if not key.startswith("sk-"):
        return HealthCheck("Project key", "broken", "does not look like an OpenAI key")
    try:
        async for page in AdminReader(admin).project_api_keys(project_id):
            for listed in page:
                if _matches_redacted(key, listed.redacted_value):
                    return HealthCheck("Project key", "healthy", f"one of project {project_id}'s keys ({listed.id})")
    except ConnectorError as exc:
        return HealthCheck("Project key", "broken", f"the keys of project {project_id} could not be read: {exc}")
    return HealthCheck("Project key", "broken", f"not one of project {project_id}'s active keys (compared with the "
                       "redacted forms the Admin API lists; the key itself is never sent)")


async def _compliance_checks(settings: Settings, compliance: ApiClient) -> list[HealthCheck]:
    workspace = {"workspace_id": settings.workspace_id or ""}
    try:
        await _probe(compliance, WS_USERS, workspace, {"limit": 1})
    except ApiError as exc:
        if exc.status == 404:
            # A wrong base URL is a 404 too (the real API answers unknown paths so): name both causes.
            return [HealthCheck("Workspace", "broken", f"workspace {settings.workspace_id} not found, or the "
                                f"Compliance base URL is wrong (it ends in /v1): {exc}")]
        if exc.status == 403:
            return [HealthCheck("Compliance API read scope", "missing scope", f"key lacks the `read` scope: {exc}")]
        prefix = "Compliance API unreachable: " if exc.status is None else ""
        return [HealthCheck("Compliance API read scope", "broken", f"{prefix}{exc}")]
    except ConnectorError as exc:
        return [HealthCheck("Compliance API read scope", "broken", f"Compliance API unreachable: {exc}")]
    checks = [
        HealthCheck("Compliance API read scope", "healthy", "compliance key has `read`"),
        HealthCheck("Workspace", "healthy", f"workspace {settings.workspace_id} found"),
    ]
    try:
        await _probe(compliance, WS_CONVERSATIONS, workspace, {"limit": 1})
        checks.append(HealthCheck("Conversations", "healthy", "read from /conversations"))
    except ApiError as exc:
        if exc.status not in (404, 405, 410):
            checks.append(HealthCheck("Conversations", "broken", str(exc)))
            return checks
        since = iso_utc((datetime.now(UTC) - timedelta(days=1)).timestamp())
        try:
            await _probe(
                compliance, WS_LOGS, workspace, {"event_type": "CONVERSATION_MESSAGE", "after": since, "limit": 1}
            )
            checks.append(HealthCheck("Conversations", "healthy", "read from the Logs Platform (/logs)"))
        except ConnectorError as logs_exc:
            checks.append(HealthCheck("Conversations", "broken", f"neither /conversations nor /logs: {logs_exc}"))
    except ConnectorError as exc:
        checks.append(HealthCheck("Conversations", "broken", str(exc)))
    return checks


async def check_integration(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None, sleep: Sleep = asyncio.sleep
) -> list[HealthCheck]:
    """Every credential and scope, in display order. Never raises for an API answer."""
    # A health check should answer quickly: a couple of retries show a flaky link, more only delay.
    settings = settings.model_copy(update={"max_retries": min(settings.max_retries, 2)})
    async with open_clients(settings, transport=transport, sleep=sleep) as clients:
        jobs = [_admin_checks(settings, clients.admin)]
        if clients.compliance is not None:
            jobs.append(_compliance_checks(settings, clients.compliance))
        results = await asyncio.gather(*jobs)
    checks = [check for group in results for check in group]
    if not has_identity(settings):
        checks.insert(0, HealthCheck("Organization or workspace id", "broken", MISSING_IDENTITY))
    if clients.compliance is None:
        checks.append(HealthCheck("Compliance API", "not configured", "no workspace configured (CHATGPT_WORKSPACE_ID)"))
    return checks
