"""Compliance Logs Platform: `/logs` lists hourly log files by time window, `/logs/{id}` serves JSON Lines.

Only `CONVERSATION_MESSAGE` records are emulated, one per conversation message, each filed in the
UTC hour of its own time (`message_hours` gives the rule and the index); the other event types are
accepted and list no files.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from openai_casb.emulator import params
from openai_casb.emulator.errors import not_found
from openai_casb.emulator.message_hours import (
    WINDOW_SECONDS,
    conversation_filing_times,
    conversation_messages,
    hour_of,
)
from openai_casb.emulator.org import Org
from openai_casb.emulator.sequences import JsonObject
from openai_casb.emulator.state import emulator_state

CONVERSATION_MESSAGE = "CONVERSATION_MESSAGE"
KNOWN_EVENT_TYPES = (
    CONVERSATION_MESSAGE,
    "AUTH_LOG",
    "AUDIT_LOG",
    "APP_LOG",
    "APP_AUTH_LOG",
    "CODEX_LOG",
    "CODEX_SECURITY_LOG",
    "COSTS",
)
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
_LOG_ID = re.compile(r"^log_conversation_message_(\d+)$")


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def _parse_iso(raw: str, param: str) -> float:
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise params.bad_param(param, f"Invalid '{param}': expected an ISO-8601 time, got '{raw}'.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _check_principal(request: Request) -> None:
    org = emulator_state(request).org
    principal = request.path_params.get("org_id")
    if principal is not None and principal != org.organization_id:
        raise not_found("organization", principal)


async def list_logs(request: Request) -> JSONResponse:
    _check_principal(request)
    state = emulator_state(request)
    query = request.query_params
    event_types = query.getlist("event_type")
    if not event_types:
        raise params.bad_param("event_type", "Missing required parameter 'event_type'.")
    for event_type in event_types:
        if event_type not in KNOWN_EVENT_TYPES:
            raise params.bad_param("event_type", f"Invalid 'event_type': '{event_type}' is not a known log event type.")
    raw_after = query.get("after")
    if not raw_after:
        raise params.bad_param("after", "Missing required parameter 'after'.")
    after = _parse_iso(raw_after, "after")
    until = _parse_iso(query["before"], "before") if query.get("before") else state.config.clock()
    limit = params.limit(query, DEFAULT_LIMIT, MAX_LIMIT)
    starts: list[int] = []
    has_more = False
    if CONVERSATION_MESSAGE in event_types:
        # The first call builds the hour index (about a second for 100,000 conversations): off the event loop.
        hours = await run_in_threadpool(state.org.message_hours)
        starts, has_more = hours.windows(after, min(until, state.config.clock()), limit)
    data: list[JsonObject] = [
        {
            "id": f"log_conversation_message_{start}",
            "object": "compliance.log_file",
            "event_type": CONVERSATION_MESSAGE,
            "start_time": iso(start),
            "end_time": iso(start + WINDOW_SECONDS),
            "file_name": f"conversation_message_{iso(start)}.jsonl",
        }
        for start in starts
    ]
    last_end = iso(starts[-1] + WINDOW_SECONDS) if starts else iso(after)
    return JSONResponse({"object": "list", "data": data, "has_more": has_more, "last_end_time": last_end})


def _message_record(org: Org, conversation: JsonObject, message: JsonObject, filed_at: float) -> JsonObject:
    created = message.get("created_at")
    created_iso = iso(float(created)) if isinstance(created, int | float) and not isinstance(created, bool) else None
    timestamp = iso(filed_at)
    author = message.get("author") if isinstance(message.get("author"), dict) else {}
    content = message.get("content") if isinstance(message.get("content"), dict) else None
    files: Any = message.get("files")
    if isinstance(files, dict):
        files = files.get("data")
    return {
        "event_id": f"evt_{message.get('id')}",
        "type": CONVERSATION_MESSAGE,
        "principal": {"id": org.workspace_id, "type": "CHATGPT_WORKSPACE"},
        "actor": {
            "type": "ACCOUNT_USER",
            "user_id": conversation.get("user_id"),
            "user_email": conversation.get("user_email"),
        },
        "timestamp": timestamp,
        "message": {
            "id": message.get("id"),
            "parent_id": message.get("parent_id"),
            "created_at": created_iso,
            "author": {"type": (author or {}).get("role"), "client_type": "unknown"},
            "content": None if content is None else {"type": content.get("type"), "value": content.get("value")},
            "files": [
                {"id": f.get("id"), "object": "file", "name": f.get("name"), "created_at": f.get("created_at")}
                for f in (files if isinstance(files, list) else [])
                if isinstance(f, dict)
            ],
            "annotations": [],
        },
        "conversation": {
            "id": conversation.get("id"),
            "title": conversation.get("title"),
            "created_at": iso(float(conversation.get("created_at") or 0)),
            "is_pinned": False,
            "is_temporary_chat": False,
            "gpt_id": message.get("gpt_id"),
            "project_id": message.get("project_id"),
        },
    }


async def get_log(request: Request) -> Response:
    _check_principal(request)
    org = emulator_state(request).org
    log_id = request.path_params["log_file_id"]
    match = _LOG_ID.match(log_id)
    if match is None or int(match.group(1)) % WINDOW_SECONDS:
        raise not_found("log file", log_id)
    start = int(match.group(1))
    if start + WINDOW_SECONDS > emulator_state(request).config.clock():
        raise not_found("log file", log_id)
    # (filing time, conversation, message position) orders the file and keeps it stable.
    entries: list[tuple[float, int, int, JsonObject, JsonObject]] = []
    hours = await run_in_threadpool(org.message_hours)
    for index in hours.conversations_in(start):
        conversation = org.conversations.item(index)
        times = conversation_filing_times(conversation, org.conversation_update_time(index))
        for position, (message, filed_at) in enumerate(zip(conversation_messages(conversation), times, strict=True)):
            if hour_of(filed_at) == start:
                entries.append((filed_at, index, position, conversation, message))
    entries.sort(key=lambda entry: entry[:3])
    lines = [
        json.dumps(_message_record(org, conversation, message, filed_at), separators=(",", ":"))
        for filed_at, _index, _position, conversation, message in entries
    ]
    body = "".join(line + "\n" for line in lines)
    return Response(body, media_type="application/jsonl")


LOGS_ROUTES: list[tuple[Route, str]] = [
    (Route("/v1/compliance/workspaces/{workspace_id}/logs", list_logs), "list"),
    (Route("/v1/compliance/workspaces/{workspace_id}/logs/{log_file_id}", get_log), "file"),
    (Route("/v1/compliance/organizations/{org_id}/logs", list_logs), "list"),
    (Route("/v1/compliance/organizations/{org_id}/logs/{log_file_id}", get_log), "file"),
]
