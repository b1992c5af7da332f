"""Pure transforms from API models to inventory records, including the tolerated API quirks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from openai_casb.connectors.models import admin as am
from openai_casb.connectors.models import compliance as cm
from openai_casb.inventory import collect
from openai_casb.inventory.model import AssetKind


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def org_user(**fields: Any) -> am.OrgUser:
    base: dict[str, Any] = {"object": "organization.user", "id": "user_1", "email": "a@example.com", "added_at": 100}
    base.update(fields)
    return am.OrgUser.model_validate(base)


def ws_user(**fields: Any) -> cm.WorkspaceUser:
    base: dict[str, Any] = {"id": "user-W1", "email": "a@example.com", "created_at": 200.5, "status": "active"}
    base.update(fields)
    return cm.WorkspaceUser.model_validate(base)


def test_admin_key_owned_by_service_account_and_unknown_fields_kept() -> None:
    key = am.AdminApiKey.model_validate(
        {
            "object": "organization.admin_api_key",
            "id": "key_1",
            "redacted_value": "sk-admin...def",
            "created_at": 1711471533,
            "expires_at": None,
            "future_field": {"x": 1},
            "owner": {
                "type": "service_account",
                "object": "organization.service_account",
                "id": "svc",
                "role": "member",
            },
        }
    )
    assert key.model_extra == {"object": "organization.admin_api_key", "future_field": {"x": 1}}
    record = collect.admin_api_key(key)
    assert record.owner_type == "service_account"
    assert record.created_at == at(1711471533)
    assert record.last_used_at is None
    assert record.expires_at is None


def test_project_key_owners() -> None:
    project = am.Project.model_validate({"id": "proj_1", "name": "P", "created_at": 1, "status": "archived"})
    user_key = am.ProjectApiKey.model_validate(
        {
            "id": "k1",
            "created_at": 5,
            "last_used_at": 6,
            "owner_project_access": "inactive",
            "owner": {"type": "user", "user": {"id": "u1", "email": "u@example.com", "name": "U"}},
        }
    )
    svc_key = am.ProjectApiKey.model_validate(
        {
            "id": "k2",
            "created_at": 5.0,
            "owner": {"type": "service_account", "service_account": {"id": "s1", "name": "S"}},
        }
    )
    user_record = collect.project_api_key(user_key, project)
    svc_record = collect.project_api_key(svc_key, project)
    assert (user_record.owner_id, user_record.owner_email, user_record.owner_project_access) == (
        "u1",
        "u@example.com",
        "inactive",
    )
    assert user_record.project_archived
    assert (svc_record.owner_type, svc_record.owner_id, svc_record.owner_email) == ("service_account", "s1", None)
    assert svc_record.last_used_at is None


def test_invite_without_projects_and_with_owner_project() -> None:
    bare = collect.invite(
        am.Invite.model_validate({"id": "i1", "email": "x@y", "role": "reader", "status": "pending", "created_at": 9})
    )
    assert bare.projects == ()
    full = collect.invite(
        am.Invite.model_validate(
            {
                "id": "i2",
                "email": "x@y",
                "role": "reader",
                "status": "pending",
                "created_at": 9,
                "projects": [{"id": "p", "role": "owner"}],
            }
        )
    )
    assert full.projects[0].role == "owner"


@pytest.mark.parametrize(
    "latest_config",
    [
        [{"id": "c1", "name": "N", "tools": [{"type": "browser"}], "files": [{"id": "f1", "name": "a.pdf"}]}],
        {
            "object": "list",
            "has_more": False,
            "last_id": None,
            "data": [
                {
                    "id": "c1",
                    "name": "N",
                    "tools": {"object": "list", "data": [{"type": "browser"}]},
                    "files": {"object": "list", "data": [{"id": "f1", "name": "a.pdf"}]},
                }
            ],
        },
    ],
)
def test_gpt_latest_config_bare_list_or_envelope(latest_config: Any) -> None:
    obj = cm.GptOrProject.model_validate(
        {
            "id": "g-1",
            "owner_id": "u",
            "owner_email": "o@example.com",
            "created_at": 1716990000.1,
            "sharing": {
                "visibility": "gpt-store",
                "recipients": {"object": "list", "data": [{"id": "u2", "email": "b@x"}]},
            },
            "latest_config": latest_config,
        }
    )
    assert obj.sharing is not None
    assert obj.sharing.recipients[0].email == "b@x"
    gpt = collect.gpt(obj)
    assert gpt.visibility == "gpt-store"
    assert [t.type for t in gpt.tools] == ["browser"]
    assert gpt.files[0].kind is AssetKind.GPT_FILE
    assert gpt.files[0].container_id == "g-1"
    assert gpt.name == "N"


def test_third_party_gpt_and_nulls_where_spec_says_not_nullable() -> None:
    obj = cm.GptOrProject.model_validate({"id": "g-x", "builder_name": None, "latest_config": None, "sharing": None})
    gpt = collect.gpt(obj)
    assert gpt.third_party
    assert gpt.tools == ()
    project = collect.chatgpt_project(
        cm.GptOrProject.model_validate({"id": "g-p-1", "latest_config": {"object": "list", "data": []}})
    )
    assert project.config_id is None


def test_conversation_files_with_file_info_and_expired_files() -> None:
    conversation = cm.Conversation.model_validate(
        {
            "id": "c1",
            "user_id": "user-W1",
            "user_email": "a@example.com",
            "title": "T",
            "last_active_at": 5.5,
            "messages": {
                "object": "list",
                "data": [
                    {
                        "id": "m1",
                        "parent_id": None,
                        "files": {
                            "object": "list",
                            "data": [{"id": "f1", "name": "x.txt", "created_at": None, "download_url": None}],
                        },
                    },
                    {
                        "id": "m2",
                        "files": [{"id": "f2", "name": "y.txt", "user_id": "user-W9"}, {"id": "f1", "name": "x.txt"}],
                    },
                ],
            },
        }
    )
    refs = collect.conversation_files(conversation)
    assert [(r.file_id, r.owner_user_id) for r in refs] == [("f1", "user-W1"), ("f2", "user-W9")]
    assert refs[0].download_url is None
    assert refs[0].container_name == "T"


def test_iso_timestamps_from_logs_platform() -> None:
    event = cm.ConversationMessageEvent.model_validate(
        {
            "event_id": "e",
            "type": "CONVERSATION_MESSAGE",
            "timestamp": "2026-05-20T12:47:09.501218Z",
            "actor": {"user_id": "u", "user_email": "A@x"},
            "conversation": {"id": "c"},
            "message": {"files": [{"id": "f", "name": "n"}]},
        }
    )
    assert event.timestamp == pytest.approx(datetime(2026, 5, 20, 12, 47, 9, 501218, tzinfo=UTC).timestamp())
    assert collect.log_event_files(event)[0].owner_email == "A@x"
    with pytest.raises(ValueError, match="timestamp"):
        cm.Conversation.model_validate({"id": "c", "last_active_at": True})


def test_person_join_by_lowercased_email_with_all_signals() -> None:
    logins = collect.LastSeen()
    collect.login_activity(
        [
            am.AuditLogEvent.model_validate(
                {
                    "id": "a",
                    "type": "login.succeeded",
                    "effective_at": 1000,
                    "actor": {"type": "session", "session": {"user": {"id": "user_1", "email": "A@example.com"}}},
                }
            ),
            am.AuditLogEvent.model_validate(
                {
                    "id": "b",
                    "type": "login.failed",
                    "effective_at": 5000,
                    "actor": {"type": "session", "session": {"user": {"id": "user_1"}}},
                }
            ),
        ],
        logins,
    )
    chats = collect.LastSeen()
    collect.conversation_activity(
        [
            cm.Conversation.model_validate({"id": "c1", "user_id": "user-W1", "last_active_at": 3000.5}),
            cm.Conversation.model_validate({"id": "c2", "user_id": "user-W1", "last_active_at": 2000.0}),
        ],
        chats,
    )
    people = collect.persons(
        [org_user(email="A@Example.com", api_key_last_used_at=500, created=50, role="owner")],
        [ws_user(role="account-admin")],
        logins,
        chats,
    )
    assert len(people) == 1
    person = people[0]
    assert person.asset_id == "user_1"
    assert person.email == "a@example.com"
    assert person.workspace_user_ids == ("user-W1",)
    assert person.api_key_last_used_at == at(500)
    assert person.last_login_at == at(1000)  # login.failed is not activity
    assert person.last_conversation_at == at(3000.5)
    assert (person.added_at, person.created, person.workspace_created_at) == (at(100), at(50), at(200.5))
    assert (person.org_role, person.workspace_role) == ("owner", "account-admin")
    assert not person.all_records_disabled


def test_person_disabled_only_when_every_record_is() -> None:
    disabled_org = org_user(user={"enabled": False})
    banned_org = org_user(id="user_2", email="b@example.com", user={"enabled": True, "banned": True})
    people = collect.persons(
        [disabled_org, banned_org],
        [ws_user(status="active"), ws_user(id="user-W2", email="b@example.com", status="inactive")],
    )
    by_email = {p.email: p for p in people}
    assert not by_email["a@example.com"].all_records_disabled
    assert by_email["b@example.com"].all_records_disabled


def test_workspace_only_and_emailless_records_stay_separate() -> None:
    people = collect.persons(
        [org_user(id="svc_1", email=None, is_service_account=True)],
        [ws_user(id="user-W5", email="solo@example.com"), ws_user(id="user-W6", email=None)],
    )
    assert [(p.asset_id, p.org_user_id, p.is_service_account) for p in people] == [
        ("svc_1", "svc_1", True),
        ("user-W5", None, False),
        ("user-W6", None, False),
    ]


def test_last_seen_merge_keeps_latest() -> None:
    stored = collect.LastSeen(by_id={"u": 10.0, "v": 50.0}, by_email={"a@x": 10.0})
    fresh = collect.LastSeen()
    fresh.add("u", "A@x", 20.0)
    fresh.add("v", None, 30.0)
    fresh.merge(stored)
    assert fresh.by_id == {"u": 20.0, "v": 50.0}
    assert fresh.by_email == {"a@x": 20.0}
