"""What `ApiClient.paginate` accepts as a list page: `has_more` a real boolean, and errors that say
which HTTP status the unusable body came with."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fake_api import mock_client

from openai_casb.connectors.errors import ApiError
from openai_casb.connectors.http import PageSizer
from openai_casb.connectors.models import admin as am
from openai_casb.connectors.readers import pages_of
from openai_casb.connectors.retry import RetryPolicy

KEY = "sk-admin-PLANTEDsecretKeyForEnvelopeTests0123456789"


def pages(handler: Callable[[httpx.Request], httpx.Response], sizer: PageSizer | None = None) -> list[list[Any]]:
    async def go() -> list[list[Any]]:
        async with mock_client(KEY, httpx.MockTransport(handler)) as client:
            return [page.data async for page in client.paginate("/organization/admin_api_keys", sizer=sizer)]

    return asyncio.run(go())


def first_page_then(last: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    """Page 1 says there is more; page 2 is `last`."""

    def handler(request: httpx.Request) -> httpx.Response:
        if "after" not in request.url.params:
            return httpx.Response(200, json={"object": "list", "data": [{"id": "key_1"}], "last_id": "key_1",
                                             "has_more": True})
        return httpx.Response(200, json={"object": "list", "data": [{"id": "key_2"}], "last_id": "key_2", **last})

    return handler


@pytest.mark.parametrize(
    ("last", "shown"),
    [
        ({}, "missing"),
        ({"has_more": None}, "NoneType, not a boolean"),
        ({"has_more": "false"}, "str, not a boolean"),
        ({"has_more": "true"}, "str, not a boolean"),
        ({"has_more": 0}, "int, not a boolean"),
    ],
)
@pytest.mark.parametrize("sized", [False, True])
def test_has_more_that_is_not_a_boolean_fails_the_listing(last: dict[str, Any], shown: str, sized: bool) -> None:
    """Taken for false, the listing would look complete and what it never listed would be resolved."""
    sizer = PageSizer(1_000_000, 10) if sized else None
    with pytest.raises(ApiError) as caught:
        pages(first_page_then(last), sizer)
    assert caught.value.status == 200
    assert str(caught.value).endswith(f": HTTP 200: list envelope's `has_more` is {shown}")


def test_boolean_has_more_is_followed_to_the_end() -> None:
    assert pages(first_page_then({"has_more": False})) == [[{"id": "key_1"}], [{"id": "key_2"}]]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            lambda: httpx.Response(200, json={"error": {"message": "internal"}}),
            "GET admin /organization/admin_api_keys: HTTP 200: response is an `error` object, not a list envelope",
        ),
        (
            lambda: httpx.Response(200, content=b"null"),
            "GET admin /organization/admin_api_keys: HTTP 200: response is not a list envelope (no `data` array)",
        ),
        (
            lambda: httpx.Response(302, headers={"location": "http://elsewhere.test/"}),
            "GET admin /organization/admin_api_keys: HTTP 302: response is not a list envelope (no `data` array)",
        ),
    ],
)
def test_an_unusable_body_says_the_status_it_came_with(answer: Callable[[], httpx.Response], expected: str) -> None:
    with pytest.raises(ApiError) as caught:
        pages(lambda _request: answer())
    assert str(caught.value) == expected


def test_a_malformed_item_says_the_status_its_page_came_with() -> None:
    async def go() -> None:
        transport = httpx.MockTransport(
            lambda _r: httpx.Response(200, json={"object": "list", "data": [{"id": 5}], "has_more": False})
        )
        async with mock_client(KEY, transport, policy=RetryPolicy(max_retries=0)) as client:
            async for _ in pages_of(client, "/organization/users", am.OrgUser):
                pass

    with pytest.raises(ApiError) as caught:
        asyncio.run(go())
    assert caught.value.status == 200
    assert str(caught.value).startswith("GET admin /organization/users: HTTP 200: malformed OrgUser at index 0: id:")
