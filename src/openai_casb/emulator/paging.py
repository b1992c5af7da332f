"""Cursor pagination over a Collection, with the two envelopes (Admin and Compliance)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from openai_casb.emulator.errors import ApiError
from openai_casb.emulator.sequences import Collection, JsonObject


@dataclass
class Page:
    items: list[JsonObject]
    has_more: bool


class ReversedCollection(Collection):
    def __init__(self, inner: Collection) -> None:
        self._inner = inner

    def __len__(self) -> int:
        return len(self._inner)

    def item(self, index: int) -> JsonObject:
        return self._inner.item(len(self._inner) - 1 - index)

    def index_of(self, object_id: str) -> int | None:
        index = self._inner.index_of(object_id)
        return None if index is None else len(self._inner) - 1 - index


def cursor_index(collection: Collection, cursor: str, param: str) -> int:
    index = collection.index_of(cursor)
    if index is None:
        raise ApiError(
            400, f"Invalid '{param}': no object with id '{cursor}' in this list.", param=param, code="invalid_cursor"
        )
    return index


def forward(
    collection: Collection,
    start: int,
    limit: int,
    keep: Callable[[int], bool] | None = None,
) -> Page:
    """Up to `limit` objects from position `start` on, those for which keep(position) holds."""
    total = len(collection)
    if keep is None:
        end = min(total, start + limit)
        return Page([collection.item(i) for i in range(start, end)], end < total)
    positions: list[int] = []
    position = start
    while position < total and len(positions) < limit:
        if keep(position):
            positions.append(position)
        position += 1
    has_more = any(keep(i) for i in range(position, total))
    return Page([collection.item(i) for i in positions], has_more)


def backward(collection: Collection, end: int, limit: int, keep: Callable[[int], bool] | None = None) -> Page:
    """Up to `limit` objects just before position `end`, in list order (the `before` cursor)."""
    positions: list[int] = []
    position = end - 1
    while position >= 0 and len(positions) < limit:
        if keep is None or keep(position):
            positions.append(position)
        position -= 1
    has_more = any(keep is None or keep(i) for i in range(position, -1, -1))
    return Page([collection.item(i) for i in reversed(positions)], has_more)


def admin_envelope(page: Page) -> JsonObject:
    data = page.items
    return {
        "object": "list",
        "data": data,
        "first_id": data[0].get("id") if data else None,
        "last_id": data[-1].get("id") if data else None,
        "has_more": page.has_more,
    }


def compliance_envelope(page: Page) -> JsonObject:
    data = page.items
    return {"object": "list", "data": data, "last_id": data[-1].get("id") if data else None, "has_more": page.has_more}
