"""Seeded fault injection: one RNG stream drawn once per eligible request, so a given seed and
request sequence always produce the same faults."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

# Kinds a handler applies (they need to know the page); the rest the gate applies.
LIST_KINDS = frozenset({"short_page"})
CONVERSATION_KINDS = frozenset({"short_page", "repeat"})


@dataclass(frozen=True)
class EndpointKind:
    is_list: bool
    is_conversations: bool


class FaultInjector:
    def __init__(self, rate: float, seed: int, kinds: tuple[str, ...]) -> None:
        self._rate = rate
        self._kinds = kinds
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._burst_left: dict[tuple[str, str], int] = {}

    def draw(self, key: str, template: str, endpoint: EndpointKind) -> str | None:
        """The fault for this request, or None."""
        if self._rate <= 0:
            return None
        with self._lock:
            left = self._burst_left.get((key, template), 0)
            if left > 0:
                self._burst_left[(key, template)] = left - 1
                return "burst429"
            if self._rng.random() >= self._rate:
                return None
            applicable = [k for k in self._kinds if self._applies(k, endpoint)]
            if not applicable:
                return None
            kind = self._rng.choice(applicable)
            if kind == "burst429":
                # This request and the next 1..3 to the same (key, endpoint) answer 429.
                self._burst_left[(key, template)] = self._rng.randint(1, 3)
            return kind

    @staticmethod
    def _applies(kind: str, endpoint: EndpointKind) -> bool:
        if kind == "repeat":
            return endpoint.is_conversations
        if kind == "short_page":
            return endpoint.is_list
        return True
