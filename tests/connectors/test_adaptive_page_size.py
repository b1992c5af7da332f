"""/conversations pages adapt their `limit` to a byte budget: memory stays bounded whatever the
size of a conversation, and the inventory read is the same as with fixed pages."""

from __future__ import annotations

import asyncio
import json
import math
import tracemalloc
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fake_api import mock_client

from openai_casb.config import load_settings
from openai_casb.connectors.http import ApiClient, PageSizer
from openai_casb.connectors.readers import WS_CONVERSATIONS, ComplianceReader

KEY = "sk-proj-PLANTEDsecretKeyForAdaptivePages0123456"
MB = 1024 * 1024
WORKSPACE = "ws_1"


@dataclass
class ConversationsApi:
    """A /conversations endpoint with conversations of the given sizes (bytes of padding each)."""

    sizes: list[int]
    calls: list[dict[str, Any]] = field(default_factory=list)
    # Encoded once, before any measurement: the server's cost per page is then one joined body.
    encoded: list[bytes] = field(init=False)

    def __post_init__(self) -> None:
        self.encoded = [json.dumps(self.conversation(i)).encode() for i in range(len(self.sizes))]

    def conversation(self, index: int) -> dict[str, Any]:
        return {
            "id": f"conv_{index:05d}",
            "user_id": f"user_{index % 7}",
            "last_active_at": 1_700_000_000 + index,
            "title": "x" * self.sizes[index],
        }

    def handler(self, request: httpx.Request) -> httpx.Response:
        query = request.url.params
        limit = int(query["limit"])
        after = query.get("after")
        start = int(after.removeprefix("conv_")) + 1 if after else 0
        end = min(start + limit, len(self.sizes))
        last_id = json.dumps(f"conv_{end - 1:05d}" if end > start else None)
        has_more = json.dumps(end < len(self.sizes))
        pieces = [b'{"object": "list", "data": [']
        for index in range(start, end):
            pieces.extend([b", "] if index > start else [])
            pieces.append(self.encoded[index])
        pieces.append(f'], "last_id": {last_id}, "has_more": {has_more}}}'.encode())
        self.calls.append(
            {"limit": limit, "after": after, "since": query.get("since_timestamp"), "bytes": sum(map(len, pieces))}
        )

        async def stream() -> AsyncIterator[bytes]:
            # Piece by piece, as a server sends it: a client that stops reading stops the copy.
            for piece in pieces:
                yield piece

        return httpx.Response(200, content=stream(), headers={"content-type": "application/json"})


def make_client(api: ConversationsApi) -> ApiClient:
    return mock_client(KEY, httpx.MockTransport(api.handler), name="compliance", quota=100_000)


def read_all(api: ConversationsApi, page_size: int, page_bytes: int, since: float | None = 1_600_000_000) -> list[str]:
    async def main() -> list[str]:
        async with make_client(api) as client, httpx.AsyncClient() as bare:
            reader = ComplianceReader(
                client, WORKSPACE, bare, conversations_page_size=page_size, conversations_page_bytes=page_bytes
            )
            return [c.id async for page in reader.conversations(since) for c in page]

    return asyncio.run(main())


def assert_consistent_cursors(api: ConversationsApi, ids: list[str]) -> None:
    """since_timestamp only on the first page (and its smaller re-asks), `after` on every other;
    every conversation read once, in order."""
    first = [call for call in api.calls if call["after"] is None]
    assert api.calls[: len(first)] == first
    assert all(call["since"] is not None for call in first)
    assert all(call["since"] is None and call["after"] in ids for call in api.calls[len(first) :])
    assert ids == [f"conv_{i:05d}" for i in range(len(api.sizes))]


def test_limit_shrinks_to_the_byte_budget_for_megabyte_conversations() -> None:
    api = ConversationsApi([1 * MB] * 60)
    ids = read_all(api, page_size=200, page_bytes=8 * MB)

    assert_consistent_cursors(api, ids)
    dropped = [call for call in api.calls if call["bytes"] > 2 * 8 * MB]
    kept = [call for call in api.calls if call["bytes"] <= 2 * 8 * MB]
    # The first page at the configured 200 (60 MB) is dropped past 16 MB and asked again smaller.
    assert dropped[0]["limit"] == 200
    assert all(call["after"] is None for call in dropped)
    # Once a page is measured, every page holds what the budget allows: 7 conversations of 1 MB.
    assert {call["limit"] for call in kept[1:]} == {7}
    assert max(call["bytes"] for call in kept[1:]) <= 8 * MB
    assert len(kept) <= 1 + math.ceil(60 / 7)


def test_small_conversations_keep_the_configured_page_size() -> None:
    api = ConversationsApi([2_000] * 1_000)
    ids = read_all(api, page_size=200, page_bytes=32 * MB)

    assert_consistent_cursors(api, ids)
    # No request more than the 5 pages of 200 the data needs.
    assert [call["limit"] for call in api.calls] == [200] * 5


def test_a_page_that_passes_twice_the_budget_is_dropped_and_asked_again_smaller() -> None:
    # 30 tiny conversations, then large ones: the limit measured on tiny ones would ask for 50 MB.
    api = ConversationsApi([500] * 30 + [1 * MB] * 40)
    ids = read_all(api, page_size=50, page_bytes=4 * MB)

    assert ids == [f"conv_{i:05d}" for i in range(70)]
    complete = [call for call in api.calls if call["bytes"] <= 2 * 4 * MB]
    dropped = [call for call in api.calls if call["bytes"] > 2 * 4 * MB]
    assert dropped, "the tiny conversations must have led to one page too large"
    for call in dropped:
        # Asked again from the same cursor with fewer conversations.
        retry = api.calls[api.calls.index(call) + 1]
        assert retry["after"] == call["after"]
        assert retry["limit"] < call["limit"]
    assert max(call["bytes"] for call in complete) <= 2 * 4 * MB
    # Once measured, the large conversations come 3 a page (4 MB / 1 MB and change).
    assert api.calls[-2]["limit"] == 3


def test_a_conversation_larger_than_the_cap_is_still_read_alone() -> None:
    api = ConversationsApi([1_000, 3 * MB, 1_000, 1_000])
    ids = read_all(api, page_size=100, page_bytes=1 * MB, since=None)

    assert ids == [f"conv_{i:05d}" for i in range(4)]
    # Asked again, smaller each time, until the 3 MB conversation came alone.
    attempts = [call for call in api.calls if call["after"] == "conv_00000"]
    assert [a["limit"] for a in attempts] == sorted({a["limit"] for a in attempts}, reverse=True)
    assert attempts[-1]["limit"] == 1
    assert attempts[-1]["bytes"] > 3 * MB


def peak_heap(page_size: int, page_bytes: int | None) -> int:
    """tracemalloc peak while reading 60 conversations of 1 MB, pages dropped as they come."""
    api = ConversationsApi([1 * MB] * 60)

    async def main() -> int:
        async with make_client(api) as client:
            sizer = PageSizer(page_bytes, page_size) if page_bytes is not None else None
            path = {"workspace_id": WORKSPACE}
            seen = 0
            tracemalloc.start()
            try:
                async for page in client.paginate(WS_CONVERSATIONS, path, {"limit": page_size}, sizer=sizer):
                    seen += len(page.data)
                    del page
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert seen == 60
            return peak

    return asyncio.run(main())


def test_peak_memory_follows_the_budget_not_the_page_size() -> None:
    bounded = peak_heap(page_size=200, page_bytes=8 * MB)
    whole = peak_heap(page_size=200, page_bytes=None)  # one 60 MB page, as before
    # Measured 74 MiB against 180 MiB. The mock server's copy of each page counts too, and one
    # page is fetched ahead, so a few budgets are alive at the peak; none of it follows page_size.
    assert whole > 2 * 60 * MB
    assert bounded < 12 * 8 * MB
    assert bounded < whole / 2


def test_page_budget_is_a_config_file_setting(tmp_path: Path) -> None:
    config = tmp_path / "casb.toml"
    config.write_text('admin_key = "sk-admin-x"\nconversations_page_bytes = 8388608\n')
    assert load_settings({}, config, {}).conversations_page_bytes == 8 * MB
    assert load_settings({"admin_key": "sk-admin-x"}, None, {}).conversations_page_bytes == 32 * MB
