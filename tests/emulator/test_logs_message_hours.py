"""Logs Platform: each CONVERSATION_MESSAGE record is filed in the UTC hour of its own message time."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from openai_casb.config import load_settings
from openai_casb.crawl import crawl
from openai_casb.emulator import Org, create_app, org_from_dict
from openai_casb.emulator.message_hours import MessageHours, conversation_filing_times
from openai_casb.emulator.sequences import Collection, JsonObject
from openai_casb.inventory.model import FileRef

from .conftest import ADMIN_KEY, COMPLIANCE_KEY, NOW, Api, FakeClock, make_config

WORKSPACE = "0b7e3c1a-1111-4222-8333-444455556666"
T = NOW.timestamp()  # 12:00 UTC, the clock fixture's start
H = 3600.0


def ts(raw: str) -> float:
    return datetime.fromisoformat(raw).timestamp()


def _message(message_id: str, created_at: float | None, file_id: str | None = None) -> JsonObject:
    files = [{"id": file_id, "name": f"{file_id}.txt", "created_at": created_at}] if file_id else []
    return {
        "object": "compliance.workspace.conversation.message",
        "id": message_id,
        "created_at": created_at,
        "author": {"role": "user"},
        "content": {"type": "text", "value": "hello"},
        "files": {"object": "list", "data": files, "has_more": False},
    }


def _conversation(conversation_id: str, created: float | None, last: float, messages: list[JsonObject]) -> JsonObject:
    return {
        "object": "compliance.workspace.conversation",
        "id": conversation_id,
        "user_id": "user-a",
        "user_email": "a@example.com",
        "created_at": created,
        "last_active_at": last,
        "title": conversation_id,
        "messages": {"object": "list", "data": messages, "has_more": False},
    }


def small_org() -> Org:
    """One conversation still going on in the current hour (12:xx), one that ended at 08:40,
    and two whose messages have no `created_at`."""
    conversations = [
        _conversation(
            "c-open",
            T - 3 * H,
            T + 600,
            [
                _message("o1", T - 3 * H + 600, "file-early-1"),  # 09:10
                _message("o2", T - 2 * H + 1200, "file-early-2"),  # 10:20
                _message("o3", T + 600, "file-late"),  # 12:10, the current hour
            ],
        ),
        _conversation(
            "c-done",
            T - 4 * H,
            T - 4 * H + 2400,
            [_message("d1", T - 4 * H + 1800, "file-done"), _message("d2", T - 4 * H + 2400)],
        ),
        # No created_at on the first and last message: the first takes the conversation's
        # created_at (07:05), the last the message before it (11:15).
        _conversation(
            "c-null",
            T - 5 * H + 300,
            T - H + 900,
            [_message("n1", None, "file-null"), _message("n2", T - H + 900), _message("n3", None)],
        ),
        # Nothing but the last update (06:50) to go by.
        _conversation("c-bare", None, T - 6 * H + 3000, [_message("b1", None)]),
    ]
    return org_from_dict({"workspace": {"id": WORKSPACE}, "compliance": {"conversations": conversations}})


def read_all(api: Api) -> dict[str, list[JsonObject]]:
    """start_time -> records of every listed log file, paging by `last_end_time`."""
    after, files = "1970-01-01T00:00:00Z", []
    while True:
        body = api.compliance("/logs", event_type="CONVERSATION_MESSAGE", after=after, limit=2).json()
        files += body["data"]
        after = body["last_end_time"]
        if not body["has_more"]:
            break
    served: dict[str, list[JsonObject]] = {}
    for log_file in files:
        response = api.compliance(f"/logs/{log_file['id']}")
        assert response.status_code == 200
        served[log_file["start_time"]] = [json.loads(line) for line in response.text.splitlines()]
    return served


def hour_start(iso_time: str) -> str:
    at = ts(iso_time)
    return datetime.fromtimestamp(at - at % H, NOW.tzinfo).isoformat().replace("+00:00", "Z")


def test_each_message_is_in_the_file_of_its_own_hour(api: Api, org: Org) -> None:
    served = read_all(api)
    records = [r for rs in served.values() for r in rs]
    assert len(records) == sum(len(c["messages"]["data"]) for c in org.conversations)
    for start, file_records in served.items():
        assert file_records, "only non-empty hours are listed"
        assert {hour_start(r["message"]["created_at"]) for r in file_records} == {start}
        assert [r["timestamp"] for r in file_records] == sorted(r["timestamp"] for r in file_records)
    # Generated conversations span up to 3 days, so their messages spread over several hours.
    by_conversation: dict[str, set[str]] = {}
    for start, file_records in served.items():
        for record in file_records:
            by_conversation.setdefault(record["conversation"]["id"], set()).add(start)
    assert any(len(hours) > 1 for hours in by_conversation.values())


def test_current_hour_conversation_contributes_its_published_messages(
    make_api: Callable[..., Api], clock: FakeClock
) -> None:
    clock.advance(1800)  # 12:30: the hour from 12:00 is not published yet
    api = make_api(small_org())
    served = read_all(api)
    files = {f["id"]: start for start, rs in served.items() for r in rs for f in r["message"]["files"]}
    assert files["file-early-1"] == "2026-06-01T09:00:00Z"
    assert files["file-early-2"] == "2026-06-01T10:00:00Z"
    assert "file-late" not in files
    assert "2026-06-01T12:00:00Z" not in served
    clock.advance(1800)  # 13:00: now it is
    later = read_all(api)
    assert [f["id"] for r in later["2026-06-01T12:00:00Z"] for f in r["message"]["files"]] == ["file-late"]
    assert later["2026-06-01T09:00:00Z"] == served["2026-06-01T09:00:00Z"]


def test_messages_without_created_at_follow_the_documented_rule(make_api: Callable[..., Api], clock: FakeClock) -> None:
    clock.advance(2 * H)
    served = read_all(make_api(small_org()))
    by_message = {r["message"]["id"]: r for rs in served.values() for r in rs}
    assert by_message["n1"]["timestamp"] == "2026-06-01T07:05:00Z"  # the conversation's created_at
    assert by_message["n3"]["timestamp"] == "2026-06-01T11:15:00Z"  # the message before it
    assert by_message["b1"]["timestamp"] == "2026-06-01T06:50:00Z"  # the conversation's last update
    assert [by_message[m]["message"]["created_at"] for m in ("n1", "n3", "b1")] == [None, None, None]
    assert by_message["n1"] in served["2026-06-01T07:00:00Z"]
    assert by_message["n3"] in served["2026-06-01T11:00:00Z"]
    assert by_message["b1"] in served["2026-06-01T06:00:00Z"]


def test_generated_message_times_match_the_conversations(org: Org) -> None:
    assert org.conversation_message_times is not None
    for index in range(len(org.conversations)):
        expected = conversation_filing_times(org.conversations.item(index), org.conversation_update_time(index))
        assert org.message_filing_times(index) == expected


class CountingCollection(Collection):
    def __init__(self, inner: Collection) -> None:
        self.inner = inner
        self.built = 0

    def __len__(self) -> int:
        return len(self.inner)

    def item(self, index: int) -> JsonObject:
        self.built += 1
        return self.inner.item(index)

    def index_of(self, object_id: str) -> int | None:
        return self.inner.index_of(object_id)


def test_serving_an_hour_builds_only_its_conversations(org: Org, make_api: Callable[..., Api]) -> None:
    counting = CountingCollection(org.conversations)
    target = dataclasses.replace(org, conversations=counting)
    api = make_api(target)
    listing = api.compliance("/logs", event_type="CONVERSATION_MESSAGE", after="1970-01-01T00:00:00Z").json()
    assert listing["data"]
    assert counting.built == 0  # the index reads the generator's message times, not conversations
    hour = listing["data"][len(listing["data"]) // 2]
    start = int(ts(hour["start_time"]))
    assert api.compliance(f"/logs/{hour['id']}").status_code == 200
    assert 0 < counting.built == len(target.message_hours().conversations_in(start)) < len(org.conversations) // 10


def test_windows_list_complete_hours_after_the_cursor() -> None:
    times = {0: [10 * H + 5], 1: [10 * H + 50, 12 * H + 1], 2: [13 * H]}
    hours = MessageHours(3, times.__getitem__)
    assert hours.hours == [10 * H, 12 * H, 13 * H]
    assert list(hours.conversations_in(int(10 * H))) == [0, 1]
    assert list(hours.conversations_in(int(11 * H))) == []
    assert hours.windows(0, 14 * H, 10) == ([10 * H, 12 * H, 13 * H], False)
    assert hours.windows(0, 14 * H, 2) == ([10 * H, 12 * H], True)
    assert hours.windows(11 * H, 14 * H, 10) == ([12 * H, 13 * H], False)  # an hour ending at `after` is done
    assert hours.windows(12 * H + 1, 14 * H, 10) == ([12 * H, 13 * H], False)  # the hour holding `after` is not
    assert hours.windows(0, 14 * H - 1, 10) == ([10 * H, 12 * H], False)  # 13:00-14:00 is not complete
    assert hours.windows(0, 12 * H + 1, 1) == ([10 * H], False)


def test_logs_crawl_keeps_the_files_of_a_conversation_still_going_on(clock: FakeClock) -> None:
    """The scanner's logs read: earlier messages of a conversation active now are inventoried."""
    clock.advance(1800)
    app = create_app(small_org(), make_config(clock))
    settings = load_settings(
        {
            "admin_key": ADMIN_KEY,
            "compliance_key": COMPLIANCE_KEY,
            "workspace_id": WORKSPACE,
            "org_id": "org-emulator",
            "admin_base_url": "http://emulator.test/v1",
            "compliance_base_url": "http://emulator.test/v1",
            "max_retries": 1,
        },
        None,
        {},
    )

    def handed_off(source: Any) -> set[str]:
        files: list[FileRef] = []

        async def on_file(ref: FileRef) -> None:
            files.append(ref)

        async def run() -> Any:
            transport = httpx.ASGITransport(app=app)
            return await crawl(settings, now=NOW, on_file=on_file, conversations_source=source, transport=transport)

        result = asyncio.run(run())
        assert result.conversations_read_from == source
        return {f.file_id for f in files}

    via_logs = handed_off("logs")
    assert via_logs == {"file-done", "file-early-1", "file-early-2", "file-null"}
    assert handed_off("conversations") == via_logs | {"file-late"}  # /conversations has the current hour too
