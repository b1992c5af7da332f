"""Admin API handlers: `/v1/organization/...`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from openai_casb.emulator import params
from openai_casb.emulator.errors import ApiError, not_found
from openai_casb.emulator.org import ProjectMembers
from openai_casb.emulator.paging import (
    Page,
    ReversedCollection,
    admin_envelope,
    backward,
    cursor_index,
    forward,
)
from openai_casb.emulator.sequences import Collection, JsonObject
from openai_casb.emulator.state import apply_page_faults, emulator_state

ADMIN_MAX_LIMIT = 100
ADMIN_DEFAULT_LIMIT = 20
PREFIX = "/v1/organization"


def _list(request: Request, collection: Collection, keep: Any = None) -> JSONResponse:
    query = request.query_params
    limit = params.limit(query, ADMIN_DEFAULT_LIMIT, ADMIN_MAX_LIMIT)
    after = query.get("after")
    start = cursor_index(collection, after, "after") + 1 if after else 0
    page = forward(collection, start, limit, keep)
    page = apply_page_faults(request, page, None)
    return JSONResponse(admin_envelope(page))


def _single(collection: Collection, object_id: str, what: str) -> JSONResponse:
    obj = collection.get(object_id)
    if obj is None:
        raise not_found(what, object_id)
    return JSONResponse(obj)


async def list_users(request: Request) -> JSONResponse:
    users = emulator_state(request).org.users
    emails = {e.lower() for e in params.array(request.query_params, "emails")}
    keep = None
    if emails:
        keep = lambda i: str(users.item(i).get("email") or "").lower() in emails  # noqa: E731
    return _list(request, users, keep)


async def get_user(request: Request) -> JSONResponse:
    return _single(emulator_state(request).org.users, request.path_params["user_id"], "user")


async def list_invites(request: Request) -> JSONResponse:
    return _list(request, emulator_state(request).org.invites)


async def get_invite(request: Request) -> JSONResponse:
    return _single(emulator_state(request).org.invites, request.path_params["invite_id"], "invite")


def _archived(project: JsonObject) -> bool:
    return project.get("status") == "archived" or project.get("archived_at") is not None


async def list_projects(request: Request) -> JSONResponse:
    projects = emulator_state(request).org.projects
    include_archived = params.boolean(request.query_params, "include_archived", False)
    keep = None if include_archived else (lambda i: not _archived(projects.item(i)))
    return _list(request, projects, keep)


def _project(request: Request) -> tuple[JsonObject, ProjectMembers]:
    org = emulator_state(request).org
    project_id = request.path_params["project_id"]
    project = org.projects.get(project_id)
    members = org.project_members(project_id) if project is not None else None
    if project is None or members is None:
        raise not_found("project", project_id)
    return project, members


def _active_project(request: Request) -> ProjectMembers:
    project, members = _project(request)
    if _archived(project):
        raise ApiError(400, f"Project {project['id']} is archived.", param="project_id", code="project_archived")
    return members


async def get_project(request: Request) -> JSONResponse:
    project, _ = _project(request)
    return JSONResponse(project)


async def list_project_users(request: Request) -> JSONResponse:
    return _list(request, _active_project(request).users)


async def get_project_user(request: Request) -> JSONResponse:
    return _single(_active_project(request).users, request.path_params["user_id"], "project user")


async def list_service_accounts(request: Request) -> JSONResponse:
    return _list(request, _active_project(request).service_accounts)


async def get_service_account(request: Request) -> JSONResponse:
    members = _active_project(request)
    return _single(members.service_accounts, request.path_params["service_account_id"], "service account")


async def list_project_api_keys(request: Request) -> JSONResponse:
    _, members = _project(request)
    access = params.choice(request.query_params, "owner_project_access", ("active", "inactive", "any"), "active")
    keys = members.api_keys
    keep = None
    if access != "any":
        # A key without the field counts as active: that is the visibility the default applies.
        keep = lambda i: keys.item(i).get("owner_project_access", "active") == access  # noqa: E731
    return _list(request, keys, keep)


async def get_project_api_key(request: Request) -> JSONResponse:
    _, members = _project(request)
    return _single(members.api_keys, request.path_params["api_key_id"], "API key")


async def list_admin_api_keys(request: Request) -> JSONResponse:
    keys = emulator_state(request).org.admin_api_keys
    order = params.choice(request.query_params, "order", ("asc", "desc"), "asc")
    return _list(request, keys if order == "asc" else ReversedCollection(keys))


async def get_admin_api_key(request: Request) -> JSONResponse:
    return _single(emulator_state(request).org.admin_api_keys, request.path_params["key_id"], "admin API key")


def _actor_ids_and_emails(event: JsonObject) -> tuple[set[str], set[str]]:
    ids: set[str] = set()
    emails: set[str] = set()
    actor = event.get("actor")
    if not isinstance(actor, dict):
        return ids, emails
    for holder_key in ("session", "api_key"):
        holder = actor.get(holder_key)
        if not isinstance(holder, dict):
            continue
        if holder_key == "api_key" and isinstance(holder.get("id"), str):
            ids.add(holder["id"])
        for principal_key in ("user", "service_account"):
            principal = holder.get(principal_key)
            if isinstance(principal, dict):
                if isinstance(principal.get("id"), str):
                    ids.add(principal["id"])
                if isinstance(principal.get("email"), str):
                    emails.add(principal["email"].lower())
    return ids, emails


def _audit_filter(request: Request) -> Any:
    query = request.query_params
    event_types = set(params.array(query, "event_types"))
    actor_ids = set(params.array(query, "actor_ids"))
    actor_emails = {e.lower() for e in params.array(query, "actor_emails")}
    project_ids = set(params.array(query, "project_ids"))
    resource_ids = set(params.array(query, "resource_ids"))
    bounds = {op: params.integer(query, f"effective_at[{op}]") for op in ("gt", "gte", "lt", "lte")}
    params.boolean(query, "tenant_only", False)  # accepted; every emulated event is organization-level

    def matches(event: JsonObject) -> bool:
        event_type = event.get("type")
        if event_types and event_type not in event_types:
            return False
        at = event.get("effective_at")
        at = at if isinstance(at, int | float) else 0
        if bounds["gt"] is not None and not at > bounds["gt"]:
            return False
        if bounds["gte"] is not None and not at >= bounds["gte"]:
            return False
        if bounds["lt"] is not None and not at < bounds["lt"]:
            return False
        if bounds["lte"] is not None and not at <= bounds["lte"]:
            return False
        if project_ids:
            project = event.get("project")
            if not isinstance(project, dict) or project.get("id") not in project_ids:
                return False
        if resource_ids:
            details = event.get(str(event_type))
            if not isinstance(details, dict) or details.get("id") not in resource_ids:
                return False
        if actor_ids or actor_emails:
            ids, emails = _actor_ids_and_emails(event)
            if actor_ids and not ids & actor_ids:
                return False
            if actor_emails and not emails & actor_emails:
                return False
        return True

    active = (
        event_types
        or actor_ids
        or actor_emails
        or project_ids
        or resource_ids
        or any(v is not None for v in bounds.values())
    )
    return matches if active else None


async def list_audit_logs(request: Request) -> JSONResponse:
    events = emulator_state(request).org.audit_logs
    query = request.query_params
    limit = params.limit(query, ADMIN_DEFAULT_LIMIT, ADMIN_MAX_LIMIT)
    matches = _audit_filter(request)
    keep = None if matches is None else (lambda i: matches(events.item(i)))
    after, before = query.get("after"), query.get("before")
    if after and before:
        raise ApiError(400, "Use either 'after' or 'before', not both.", param="before", code="invalid_value")
    page: Page
    if before:
        page = backward(events, cursor_index(events, before, "before"), limit, keep)
    else:
        start = cursor_index(events, after, "after") + 1 if after else 0
        page = forward(events, start, limit, keep)
    return JSONResponse(admin_envelope(apply_page_faults(request, page, None)))


ADMIN_ROUTES: list[tuple[Route, bool]] = [
    (Route(f"{PREFIX}/users", list_users), True),
    (Route(f"{PREFIX}/users/{{user_id}}", get_user), False),
    (Route(f"{PREFIX}/invites", list_invites), True),
    (Route(f"{PREFIX}/invites/{{invite_id}}", get_invite), False),
    (Route(f"{PREFIX}/projects", list_projects), True),
    (Route(f"{PREFIX}/projects/{{project_id}}", get_project), False),
    (Route(f"{PREFIX}/projects/{{project_id}}/users", list_project_users), True),
    (Route(f"{PREFIX}/projects/{{project_id}}/users/{{user_id}}", get_project_user), False),
    (Route(f"{PREFIX}/projects/{{project_id}}/service_accounts", list_service_accounts), True),
    (Route(f"{PREFIX}/projects/{{project_id}}/service_accounts/{{service_account_id}}", get_service_account), False),
    (Route(f"{PREFIX}/projects/{{project_id}}/api_keys", list_project_api_keys), True),
    (Route(f"{PREFIX}/projects/{{project_id}}/api_keys/{{api_key_id}}", get_project_api_key), False),
    (Route(f"{PREFIX}/admin_api_keys", list_admin_api_keys), True),
    (Route(f"{PREFIX}/admin_api_keys/{{key_id}}", get_admin_api_key), False),
    (Route(f"{PREFIX}/audit_logs", list_audit_logs), True),
]
