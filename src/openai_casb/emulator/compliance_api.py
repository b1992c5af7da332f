"""Compliance API handlers: `/v1/compliance/workspaces/{workspace_id}/...`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from openai_casb.emulator import params
from openai_casb.emulator.errors import ApiError, not_found
from openai_casb.emulator.paging import Page, compliance_envelope, cursor_index, forward
from openai_casb.emulator.render import FileRenderer, config_entries
from openai_casb.emulator.sequences import Collection, JsonObject, ListCollection
from openai_casb.emulator.signing import REDIRECT_TTL_SECONDS, signed_path
from openai_casb.emulator.state import apply_page_faults, base_url, emulator_state

PREFIX = "/v1/compliance/workspaces/{workspace_id}"
USERS_DEFAULT_LIMIT, USERS_MAX_LIMIT = 200, 1000
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
CONVERSATIONS_LIMIT = 500
SHARED_USERS_PAGE = 100
MAX_USERS_FILTER = 99  # "Must be less than 100 total users"

GPT_PREFIX = "compliance.workspace.gpt"
PROJECT_PREFIX = "compliance.workspace.project"


def _renderer(request: Request) -> FileRenderer:
    state = emulator_state(request)
    file_format = params.choice(request.query_params, "file_format", ("url", "id"), "url")
    return FileRenderer(state.org.files, file_format, base_url(request), state.config.url_secret, state.config.clock())


def _page(request: Request, collection: Collection, default: int, maximum: int) -> Page:
    query = request.query_params
    limit = params.limit(query, default, maximum)
    after = query.get("after")
    start = cursor_index(collection, after, "after") + 1 if after else 0
    return forward(collection, start, limit)


async def list_users(request: Request) -> JSONResponse:
    page = _page(request, emulator_state(request).org.compliance_users, USERS_DEFAULT_LIMIT, USERS_MAX_LIMIT)
    return JSONResponse(compliance_envelope(apply_page_faults(request, page, None)))


def _gpt_like_list(request: Request, collection: Collection, object_prefix: str) -> JSONResponse:
    renderer = _renderer(request)
    page = _page(request, collection, DEFAULT_LIMIT, MAX_LIMIT)
    page = apply_page_faults(request, page, None)
    page = Page([renderer.gpt_like(obj, object_prefix) for obj in page.items], page.has_more)
    return JSONResponse(compliance_envelope(page))


def _lookup(collection: Collection, object_id: str, what: str) -> JsonObject:
    obj = collection.get(object_id)
    if obj is None:
        raise not_found(what, object_id)
    return obj


def _configs(request: Request, obj: JsonObject, object_prefix: str) -> JSONResponse:
    renderer = _renderer(request)
    configs = ListCollection([c for c in config_entries(obj) if isinstance(c, dict)])
    page = _page(request, configs, DEFAULT_LIMIT, MAX_LIMIT)
    page = apply_page_faults(request, page, None)
    return JSONResponse(
        compliance_envelope(Page([renderer.config(c, object_prefix) for c in page.items], page.has_more))
    )


def _shared_users(request: Request, obj: JsonObject) -> JSONResponse:
    """Workspace users the object is shared with: its own `shared_users`, else its sharing recipients."""
    org = emulator_state(request).org
    own = obj.get("shared_users")
    users: list[JsonObject]
    if isinstance(own, list):
        users = [u for u in own if isinstance(u, dict)]
    else:
        sharing = obj.get("sharing")
        recipients: Any = sharing.get("recipients") if isinstance(sharing, dict) else None
        if isinstance(recipients, dict):
            recipients = recipients.get("data")
        users = []
        for recipient in recipients if isinstance(recipients, list) else []:
            if not isinstance(recipient, dict) or not isinstance(recipient.get("id"), str):
                continue
            known = org.compliance_users.get(recipient["id"])
            users.append(
                known or {"object": "compliance.workspace.user", "id": recipient["id"], "email": recipient.get("email")}
            )
    users.sort(key=lambda u: str(u.get("id")))
    collection = ListCollection(users)
    after = request.query_params.get("after")
    start = cursor_index(collection, after, "after") + 1 if after else 0
    page = apply_page_faults(request, forward(collection, start, SHARED_USERS_PAGE), None)
    return JSONResponse(compliance_envelope(page))


async def list_gpts(request: Request) -> JSONResponse:
    return _gpt_like_list(request, emulator_state(request).org.gpts, GPT_PREFIX)


async def get_gpt(request: Request) -> JSONResponse:
    gpt = _lookup(emulator_state(request).org.gpts, request.path_params["gpt_id"], "GPT")
    return JSONResponse(_renderer(request).gpt_like(gpt, GPT_PREFIX))


async def list_gpt_configs(request: Request) -> JSONResponse:
    gpt = _lookup(emulator_state(request).org.gpts, request.path_params["gpt_id"], "GPT")
    return _configs(request, gpt, GPT_PREFIX)


async def list_gpt_shared_users(request: Request) -> JSONResponse:
    return _shared_users(request, _lookup(emulator_state(request).org.gpts, request.path_params["gpt_id"], "GPT"))


async def list_projects(request: Request) -> JSONResponse:
    return _gpt_like_list(request, emulator_state(request).org.chatgpt_projects, PROJECT_PREFIX)


async def get_project(request: Request) -> JSONResponse:
    project = _lookup(emulator_state(request).org.chatgpt_projects, request.path_params["project_id"], "project")
    return JSONResponse(_renderer(request).gpt_like(project, PROJECT_PREFIX))


async def list_project_configs(request: Request) -> JSONResponse:
    project = _lookup(emulator_state(request).org.chatgpt_projects, request.path_params["project_id"], "project")
    return _configs(request, project, PROJECT_PREFIX)


async def list_project_shared_users(request: Request) -> JSONResponse:
    projects = emulator_state(request).org.chatgpt_projects
    return _shared_users(request, _lookup(projects, request.path_params["project_id"], "project"))


async def list_conversations(request: Request) -> JSONResponse:
    org = emulator_state(request).org
    query = request.query_params
    since = params.integer(query, "since_timestamp")
    after = query.get("after")
    if since is not None and after:
        raise ApiError(
            400,
            "'since_timestamp' cannot be used together with 'after'.",
            param="since_timestamp",
            code="invalid_value",
        )
    limit = params.limit(query, CONVERSATIONS_LIMIT, CONVERSATIONS_LIMIT)
    users = set(query.getlist("users"))
    if len(users) > MAX_USERS_FILTER:
        raise params.bad_param("users", f"Invalid 'users': must be less than 100 users, got {len(users)}.")
    renderer = _renderer(request)
    conversations = org.conversations
    if after:
        start = cursor_index(conversations, after, "after") + 1
    elif since is not None:
        start = org.first_conversation_updated_since(since)
    else:
        start = 0
    keep = None
    if users:
        owner = org.conversation_user or (lambda i: str(conversations.item(i).get("user_id")))
        keep = lambda i: owner(i) in users  # noqa: E731
    page = forward(conversations, start, limit, keep)
    previous = (lambda: conversations.item(start - 1)) if after and start > 0 else None
    page = apply_page_faults(request, page, previous)
    return JSONResponse(compliance_envelope(Page([renderer.conversation(c) for c in page.items], page.has_more)))


def _file_redirect(request: Request) -> Response:
    state = emulator_state(request)
    file_id = request.path_params["file_id"]
    stored = state.org.files.get(file_id)
    if stored is None and state.org.files.listed_but_missing(file_id):
        # Listed in a configuration or message, but the snapshot holds no bytes: gone, as an expired upload.
        raise ApiError(410, f"File '{file_id}' has expired.", code="file_expired")
    if stored is None:
        raise not_found("file", file_id)
    if stored.expired:
        raise ApiError(410, f"File '{file_id}' has expired.", code="file_expired")
    expires = int(state.config.clock()) + REDIRECT_TTL_SECONDS
    return RedirectResponse(base_url(request) + signed_path(state.config.url_secret, file_id, expires), status_code=307)


async def get_user_file(request: Request) -> Response:
    return _file_redirect(request)


async def get_gpt_file(request: Request) -> Response:
    return _file_redirect(request)


async def get_project_file(request: Request) -> Response:
    return _file_redirect(request)


# (route, kind) where kind is "list", "conversations", "single" or "file"; the kind picks the quota.
COMPLIANCE_ROUTES: list[tuple[Route, str]] = [
    (Route(f"{PREFIX}/users", list_users), "list"),
    (Route(f"{PREFIX}/users/{{user_id}}/files/{{file_id}}", get_user_file), "file"),
    (Route(f"{PREFIX}/conversations", list_conversations), "conversations"),
    (Route(f"{PREFIX}/gpts", list_gpts), "list"),
    (Route(f"{PREFIX}/gpts/{{gpt_id}}", get_gpt), "single"),
    (Route(f"{PREFIX}/gpts/{{gpt_id}}/configs", list_gpt_configs), "list"),
    (Route(f"{PREFIX}/gpts/{{gpt_id}}/shared_users", list_gpt_shared_users), "list"),
    (Route(f"{PREFIX}/gpt_files/{{file_id}}", get_gpt_file), "file"),
    (Route(f"{PREFIX}/projects", list_projects), "list"),
    (Route(f"{PREFIX}/projects/{{project_id}}", get_project), "single"),
    (Route(f"{PREFIX}/projects/{{project_id}}/configs", list_project_configs), "list"),
    (Route(f"{PREFIX}/projects/{{project_id}}/shared_users", list_project_shared_users), "list"),
    (Route(f"{PREFIX}/project_files/{{file_id}}", get_project_file), "file"),
]
