"""Indexable collections of API objects, either materialised (a snapshot) or computed on demand.

Every list endpoint works on positions: `after=<id>` is `index_of(id) + 1`, so a lazily generated
collection whose ids encode their index pages in O(page size).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import Any

JsonObject = dict[str, Any]


class Collection(ABC):
    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def item(self, index: int) -> JsonObject:
        """The object at `index` (0 <= index < len)."""

    @abstractmethod
    def index_of(self, object_id: str) -> int | None: ...

    def get(self, object_id: str) -> JsonObject | None:
        index = self.index_of(object_id)
        return None if index is None else self.item(index)

    def __iter__(self) -> Iterator[JsonObject]:
        return (self.item(i) for i in range(len(self)))


class ListCollection(Collection):
    def __init__(self, items: list[JsonObject], id_key: str = "id") -> None:
        self._items = items
        self._index: dict[str, int] = {}
        for position, obj in enumerate(items):
            object_id = obj.get(id_key)
            if isinstance(object_id, str):
                self._index.setdefault(object_id, position)

    def __len__(self) -> int:
        return len(self._items)

    def item(self, index: int) -> JsonObject:
        return self._items[index]

    def index_of(self, object_id: str) -> int | None:
        return self._index.get(object_id)


class LazyCollection(Collection):
    """Object i is `build(i)`; `parse_index(id)` recovers i from an id (None when it is not one of ours)."""

    def __init__(
        self, count: int, build: Callable[[int], JsonObject], parse_index: Callable[[str], int | None]
    ) -> None:
        self._count = count
        self._build = build
        self._parse_index = parse_index

    def __len__(self) -> int:
        return self._count

    def item(self, index: int) -> JsonObject:
        return self._build(index)

    def index_of(self, object_id: str) -> int | None:
        index = self._parse_index(object_id)
        if index is None or not 0 <= index < self._count:
            return None
        return index


EMPTY = ListCollection([])
