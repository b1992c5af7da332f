"""Property-based tests of the API response parsers: whatever an API sends, parsing either succeeds or
fails with a validation error the crawl turns into a clear source failure; it never crashes otherwise.

Starting from valid objects in the APIs' own shapes (openai-apis.md examples), hypothesis drops
fields, nulls them, changes their types and adds unknown ones, at any depth.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from openai_casb.connectors.errors import ApiError
from openai_casb.connectors.http import parse_page
from openai_casb.connectors.models import admin as am
from openai_casb.connectors.models import compliance as cm
from openai_casb.inventory import collect

JSON_SCALARS = (
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False) | st.text(max_size=20)
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)

PROJECT = {"id": "proj_abc", "object": "organization.project", "name": "P", "created_at": 1711471533,
           "archived_at": None, "status": "active"}
EXAMPLES: dict[str, tuple[dict[str, Any], Callable[[dict[str, Any]], object]]] = {
    "admin_api_key": (
        {"object": "organization.admin_api_key", "id": "key_abc", "name": "Main", "redacted_value": "sk-admin...def",
         "created_at": 1711471533, "expires_at": None, "last_used_at": 1711471534,
         "owner": {"type": "service_account", "object": "organization.service_account", "id": "svc", "name": "S",
                   "created_at": 1711471533, "role": "member"}},
        lambda d: collect.admin_api_key(am.AdminApiKey.model_validate(d)),
    ),
    "project_api_key": (
        {"object": "organization.project.api_key", "redacted_value": "sk-abc...def", "name": "K",
         "created_at": 1711471533, "last_used_at": None, "id": "key_abc", "owner_project_access": "active",
         "owner": {"type": "user", "user": {"id": "user_abc", "name": "F", "email": "u@example.com",
                                            "role": "owner", "created_at": 1711471533}}},
        lambda d: collect.project_api_key(am.ProjectApiKey.model_validate(d), am.Project.model_validate(PROJECT)),
    ),
    "invite": (
        {"object": "organization.invite", "id": "invite-def", "email": "n@example.com", "role": "owner",
         "status": "pending", "created_at": 1711471533, "expires_at": 1712076333, "accepted_at": None,
         "projects": [{"id": "proj_abc", "role": "owner"}]},
        lambda d: collect.invite(am.Invite.model_validate(d)),
    ),
    "gpt": (
        {"object": "compliance.workspace.gpt", "id": "g-abc", "created_at": 1716990000.1, "owner_id": "user-A",
         "owner_email": "a@example.com", "builder_name": "B",
         "sharing": {"object": "compliance.workspace.gpt.sharing", "visibility": "anyone-with-link",
                     "recipients": [{"id": "user-B", "email": "b@example.com"}]},
         "latest_config": {"object": "list", "has_more": False, "last_id": "gzm_cnf_1", "data": [
             {"id": "gzm_cnf_1", "name": "Sales", "created_at": 1716990001.0,
              "files": {"object": "list", "has_more": False, "data": [
                  {"id": "file-1", "name": "p.pdf", "created_at": 1716990002.0, "download_url": "https://x"}]},
              "tools": {"object": "list", "has_more": False, "data": [
                  {"type": "custom_action", "action_domain": "api.example.com", "auth_type": "none"}]}}]}},
        lambda d: collect.gpt(cm.GptOrProject.model_validate(d)),
    ),
    "conversation": (
        {"object": "compliance.workspace.conversation", "id": "6f1c", "workspace_id": "0b7e", "user_id": "user-A",
         "user_email": "a@example.com", "created_at": 1716990000.12, "last_active_at": 1716993600.12, "title": "R",
         "messages": {"object": "list", "has_more": False, "data": [
             {"id": "m1", "parent_id": None, "created_at": 1716990000.12,
              "author": {"role": "user", "tool_name": None},
              "content": {"type": "text", "value": "hi"},
              "files": {"object": "list", "has_more": False, "data": [
                  {"id": "file-9", "name": "q2.xlsx", "created_at": 1716990000.0, "download_url": "https://x"}]}}]}},
        lambda d: collect.conversation_files(cm.Conversation.model_validate(d)),
    ),
    "workspace_user": (
        {"object": "compliance.workspace.user", "id": "user-A", "email": "a@example.com", "name": "A",
         "created_at": 1718000000.12, "role": "account-owner", "status": "active"},
        lambda d: collect.persons([], [cm.WorkspaceUser.model_validate(d)]),
    ),
    "org_user": (
        {"object": "organization.user", "id": "user_abc", "name": "F", "email": "u@example.com", "role": "owner",
         "added_at": 1711471533, "api_key_last_used_at": None,
         "user": {"object": "user", "id": "user_abc", "enabled": True, "banned": False}},
        lambda d: collect.persons([am.OrgUser.model_validate(d)], []),
    ),
}


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(obj, dict):
        for key, value in obj.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, example: dict[str, Any]) -> dict[str, Any]:
    """The example with a few of its fields, at any depth, dropped, nulled, retyped, or joined by unknown ones."""
    obj = copy.deepcopy(example)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(obj)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = obj
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["drop", "null", "retype", "extra"]))
        if action == "drop" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "null":
            parent[path[-1]] = None
        elif action == "retype":
            parent[path[-1]] = draw(JSON)
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(JSON)
    return obj


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_valid_examples_parse(name: str) -> None:
    example, parse = EXAMPLES[name]
    parse(example)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_objects_parse_or_fail_with_a_validation_error(name: str, data: st.DataObject) -> None:
    example, parse = EXAMPLES[name]
    obj = data.draw(mutated(example))
    with contextlib.suppress(ValidationError):  # the crawl reports the source as failed with its message
        parse(obj)


@given(body=JSON)
@settings(max_examples=300, deadline=None)
def test_any_page_body_is_a_page_or_a_clear_api_error(body: Any) -> None:
    well_formed = isinstance(body, dict) and isinstance(body.get("data"), list)
    if well_formed:
        assert isinstance(parse_page(body, "GET /v1/organization/users").data, list)
    else:
        with pytest.raises(ApiError, match="GET /v1/organization/users"):
            parse_page(body, "GET /v1/organization/users")
