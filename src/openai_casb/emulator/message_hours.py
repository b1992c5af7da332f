"""Which hourly Logs Platform file holds each conversation message: the UTC hour of its own time.

A message is filed at its `created_at`. One without a usable `created_at` (null or not a number)
takes the filing time of the message before it in the conversation; a first message without one
takes the conversation's `created_at`, else the conversation's last update time. So every message
lands in exactly one hour, the same one on every call.

The index maps each hour to the conversations with a message in it. It is built once, on the
first Logs Platform request, by reading every conversation's message times (a cheap callback for
generated orgs); after that, listing hours is a bisection and serving one reads only its conversations.
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import Any

from openai_casb.emulator.sequences import JsonObject

WINDOW_SECONDS = 3600


def hour_of(timestamp: float) -> int:
    return int(timestamp // WINDOW_SECONDS) * WINDOW_SECONDS


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def conversation_messages(conversation: JsonObject) -> list[JsonObject]:
    messages: Any = conversation.get("messages")
    if isinstance(messages, dict):
        messages = messages.get("data")
    return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []


def filing_times(created: Sequence[float | None], conversation_created: float | None, updated: float) -> list[float]:
    """The filing time of each message, in order, from their `created_at` (None where unusable)."""
    times: list[float] = []
    previous = conversation_created if conversation_created is not None else updated
    for value in created:
        previous = value if value is not None else previous
        times.append(previous)
    return times


def conversation_filing_times(conversation: JsonObject, updated: float) -> list[float]:
    """`filing_times` of a conversation object (messages as `conversation_messages` lists them)."""
    created = [_number(m.get("created_at")) for m in conversation_messages(conversation)]
    return filing_times(created, _number(conversation.get("created_at")), updated)


class MessageHours:
    """Hour start -> ascending indexes of the conversations with at least one message filed in it."""

    def __init__(self, count: int, times_of: Callable[[int], Sequence[float]]) -> None:
        by_hour: dict[int, array[int]] = {}
        for index in range(count):
            # dict.fromkeys: each hour once per conversation, in first-seen order.
            for hour in dict.fromkeys(hour_of(t) for t in times_of(index)):
                bucket = by_hour.get(hour)
                if bucket is None:
                    bucket = by_hour[hour] = array("q")
                bucket.append(index)
        self._by_hour = by_hour
        self.hours: list[int] = sorted(by_hour)

    def windows(self, after: float, until: float, limit: int) -> tuple[list[int], bool]:
        """Starts of non-empty hours ending after `after` and by `until`, at most `limit`; and whether more follow."""
        first = bisect_right(self.hours, after - WINDOW_SECONDS)  # first hour with h + 1 h > after
        stop = max(first, bisect_right(self.hours, until - WINDOW_SECONDS))  # past the last with h + 1 h <= until
        starts = self.hours[first : min(stop, first + limit)]
        return starts, first + limit < stop

    def conversations_in(self, hour: int) -> Sequence[int]:
        return self._by_hour.get(hour, array("q"))


class LazyMessageHours:
    """Builds `MessageHours` on first use, once, even when two server threads ask at the same time."""

    def __init__(self, build: Callable[[], MessageHours]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._built: MessageHours | None = None

    def get(self) -> MessageHours:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = self._build()
        return self._built
