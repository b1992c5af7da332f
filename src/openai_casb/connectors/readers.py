"""Typed, page-by-page readers of the endpoints the scanner uses (all GET)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from openai_casb.connectors.errors import ApiError, PaginationError
from openai_casb.connectors.http import ApiClient, PageSizer, ParamValue
from openai_casb.connectors.models import admin as am
from openai_casb.connectors.models import compliance as cm
from openai_casb.connectors.retry import Retrier, RetriesExhausted, Transient, is_retryable_status

M = TypeVar("M", bound=BaseModel)

USERS = "/organization/users"
INVITES = "/organization/invites"
PROJECTS = "/organization/projects"
PROJECT = "/organization/projects/{project_id}"
PROJECT_API_KEYS = "/organization/projects/{project_id}/api_keys"
ADMIN_API_KEYS = "/organization/admin_api_keys"
AUDIT_LOGS = "/organization/audit_logs"

WS = "/compliance/workspaces/{workspace_id}"
WS_USERS = WS + "/users"
WS_GPTS = WS + "/gpts"
WS_GPT_CONFIGS = WS_GPTS + "/{gpt_id}/configs"
WS_PROJECTS = WS + "/projects"
WS_PROJECT_CONFIGS = WS_PROJECTS + "/{project_id}/configs"
WS_CONVERSATIONS = WS + "/conversations"
WS_LOGS = WS + "/logs"
WS_LOG_FILE = WS + "/logs/{log_file_id}"


def parse_items(model: type[M], items: list[Any], endpoint: str, status: int | None = None) -> list[M]:
    parsed: list[M] = []
    for index, item in enumerate(items):
        try:
            parsed.append(model.model_validate(item))
        except ValidationError as exc:
            # Only locations and messages: pydantic's str() would echo the input values.
            where = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'object'}: {e['msg']}" for e in exc.errors()[:3])
            raise ApiError(endpoint, f"malformed {model.__name__} at index {index}: {where}", status=status) from None
    return parsed


async def pages_of(
    client: ApiClient,
    template: str,
    model: type[M],
    path_params: dict[str, str] | None = None,
    params: dict[str, ParamValue] | None = None,
    first_page_params: dict[str, ParamValue] | None = None,
    sizer: PageSizer | None = None,
) -> AsyncIterator[list[M]]:
    endpoint = f"{client.name} {template}"
    async for page in client.paginate(template, path_params, params, first_page_params=first_page_params, sizer=sizer):
        yield parse_items(model, page.data, endpoint, page.status)


class AdminReader:
    def __init__(self, client: ApiClient, page_size: int = 100) -> None:
        self.client = client
        self.page_size = page_size

    def users(self) -> AsyncIterator[list[am.OrgUser]]:
        return pages_of(self.client, USERS, am.OrgUser, params={"limit": self.page_size})

    def invites(self) -> AsyncIterator[list[am.Invite]]:
        return pages_of(self.client, INVITES, am.Invite, params={"limit": self.page_size})

    def projects(self) -> AsyncIterator[list[am.Project]]:
        return pages_of(self.client, PROJECTS, am.Project, params={"limit": self.page_size, "include_archived": True})

    async def project(self, project_id: str) -> am.Project:
        body = await self.client.get_json(PROJECT, {"project_id": project_id})
        return parse_items(am.Project, [body], f"admin {PROJECT}")[0]

    def project_api_keys(self, project_id: str) -> AsyncIterator[list[am.ProjectApiKey]]:
        # owner_project_access=any: without it the API hides some enabled keys.
        return pages_of(
            self.client,
            PROJECT_API_KEYS,
            am.ProjectApiKey,
            {"project_id": project_id},
            {"limit": self.page_size, "owner_project_access": "any"},
        )

    def admin_api_keys(self) -> AsyncIterator[list[am.AdminApiKey]]:
        return pages_of(self.client, ADMIN_API_KEYS, am.AdminApiKey, params={"limit": self.page_size})

    def login_events(self, since_epoch: int) -> AsyncIterator[list[am.AuditLogEvent]]:
        return pages_of(
            self.client,
            AUDIT_LOGS,
            am.AuditLogEvent,
            params={"limit": self.page_size, "event_types[]": ["login.succeeded"], "effective_at[gte]": since_epoch},
        )


def iso_utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ComplianceReader:
    def __init__(
        self,
        client: ApiClient,
        workspace_id: str,
        unauthenticated: httpx.AsyncClient,
        page_size: int = 100,
        conversations_page_size: int = 200,
        users_page_size: int = 200,
        conversations_page_bytes: int = 32 * 1024 * 1024,
    ) -> None:
        self.client = client
        self.workspace = {"workspace_id": workspace_id}
        self.unauthenticated = unauthenticated
        self.page_size = page_size
        self.conversations_page_size = conversations_page_size
        self.users_page_size = users_page_size
        self.conversations_page_bytes = conversations_page_bytes

    def users(self) -> AsyncIterator[list[cm.WorkspaceUser]]:
        return pages_of(self.client, WS_USERS, cm.WorkspaceUser, self.workspace, {"limit": self.users_page_size})

    def gpts(self) -> AsyncIterator[list[cm.GptOrProject]]:
        return pages_of(self.client, WS_GPTS, cm.GptOrProject, self.workspace, {"limit": self.page_size})

    def projects(self) -> AsyncIterator[list[cm.GptOrProject]]:
        return pages_of(self.client, WS_PROJECTS, cm.GptOrProject, self.workspace, {"limit": self.page_size})

    def gpt_configs(self, gpt_id: str) -> AsyncIterator[list[cm.Config]]:
        """Every configuration of a GPT (the whole list its `latest_config` may give only part of)."""
        return pages_of(
            self.client, WS_GPT_CONFIGS, cm.Config, {**self.workspace, "gpt_id": gpt_id}, {"limit": self.page_size}
        )

    def project_configs(self, project_id: str) -> AsyncIterator[list[cm.Config]]:
        """Every configuration of a ChatGPT project."""
        return pages_of(
            self.client,
            WS_PROJECT_CONFIGS,
            cm.Config,
            {**self.workspace, "project_id": project_id},
            {"limit": self.page_size},
        )

    def conversations(self, since: float | None) -> AsyncIterator[list[cm.Conversation]]:
        # since_timestamp on the first page only: with `after` the API rejects (1.1.5) or ignores (1.1.1) it.
        first: dict[str, ParamValue] | None = {"since_timestamp": int(since)} if since is not None else None
        # `limit` follows the bytes per conversation measured so far (PageSizer), at most the page size.
        sizer = PageSizer(self.conversations_page_bytes, self.conversations_page_size)
        return pages_of(
            self.client,
            WS_CONVERSATIONS,
            cm.Conversation,
            self.workspace,
            {"limit": self.conversations_page_size},
            first,
            sizer,
        )

    async def log_files(self, event_type: str, after_epoch: float) -> AsyncIterator[list[cm.LogFileRef]]:
        """Logs Platform list, paged by time: the next `after` is the page's `last_end_time`."""
        endpoint = f"{self.client.name} {WS_LOGS}"
        after = iso_utc(after_epoch)
        seen: set[str] = set()
        while True:
            body = await self.client.get_json(
                WS_LOGS, self.workspace, {"event_type": event_type, "after": after, "limit": self.page_size}
            )
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise ApiError(endpoint, "response is not a list envelope (no `data` array)")
            yield parse_items(cm.LogFileRef, body["data"], endpoint)
            if not body.get("has_more"):
                return
            next_after = body.get("last_end_time")
            if not next_after:
                raise PaginationError(f"GET {endpoint}: has_more is true but no last_end_time")
            if next_after in seen or next_after == after:
                raise PaginationError(f"GET {endpoint}: last_end_time {next_after!r} repeated; stopping")
            seen.add(next_after)
            after = str(next_after)

    async def log_records(self, log_file_id: str) -> list[dict[str, Any]]:
        """One Logs Platform file, JSON Lines. A 307 is followed without the Bearer key.

        Both hops are retried under the client's policy: the authenticated one by `ApiClient`, the
        signed URL here. A body cut short is fetched again from the hop that sent it."""
        endpoint = f"{self.client.name} {WS_LOG_FILE}"
        retrier = self.client.retrier()

        async def from_api() -> list[dict[str, Any]]:
            response = await self.client.request(
                WS_LOG_FILE, {**self.workspace, "log_file_id": log_file_id}, expect_json=False
            )
            if not 300 <= response.status_code < 400:
                return json_lines(response.content, endpoint)
            location = response.headers.get("location")
            if not location:
                raise ApiError(endpoint, "redirect without a Location header", status=response.status_code)
            return await self._signed_log_file(location, endpoint, retrier)

        try:
            return await retrier.run(from_api, endpoint)
        except RetriesExhausted as exc:
            raise ApiError(endpoint, str(exc), status=exc.status) from None

    async def _signed_log_file(self, url: str, endpoint: str, retrier: Retrier) -> list[dict[str, Any]]:
        async def from_signed_url() -> list[dict[str, Any]]:
            # The bare client: the signed URL's host must never see the Bearer key.
            response = await self.unauthenticated.get(url)
            status = response.status_code
            if status == 200:
                return json_lines(response.content, endpoint)
            if is_retryable_status(status):
                raise Transient(f"HTTP {status}", status, response)
            raise ApiError(endpoint, "signed log file URL failed", status=status)

        try:
            return await retrier.run(from_signed_url, f"{endpoint} (signed URL)")
        except RetriesExhausted as exc:
            # Only the endpoint template: the signed URL's query string is a credential.
            raise ApiError(endpoint, f"signed log file URL: {exc}", status=exc.status) from None


def json_lines(content: bytes, endpoint: str) -> list[dict[str, Any]]:
    """The objects of a JSON Lines body. A last line with no newline that does not parse is a body
    cut short in transit (`Transient`); any other bad line is a malformed file (`ApiError`)."""
    lines = content.splitlines()
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines) and not content.endswith((b"\n", b"\r")):
                raise Transient(f"log file truncated (line {number} is incomplete)") from None
            raise ApiError(endpoint, f"log file line {number} is not JSON") from None
        if isinstance(record, dict):
            records.append(record)
    return records
