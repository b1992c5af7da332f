"""Exports as a stream of chunks, one instance (record, event, row, result) at a time.

`render` used to build every record, then one JSON document of them all, then its text: about
seven times the output in memory at once (1.7 GB for an OCSF export of 100,000 instances).
Here each instance is encoded on its own and handed out, so what is held beyond the report's
records is one instance's text; `formats.render` joins the chunks. The text is the same as a
whole-document `json.dumps(..., indent=2)`: every record is dumped alone and indented to its
place (JSON strings hold no raw newline, so indenting lines cannot change a value).

Every chunk passes `ensure_no_plain_secrets`: a key cannot span two chunks, as chunks are whole
records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from openai_casb.exports.common import dumps
from openai_casb.exports.safety import ensure_no_plain_secrets

_SENTINEL = "\x00openai-casb-stream-items\x00"


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.split("\n"))


def iter_json_array(items: Iterable[Any], what: str, level: int = 1) -> Iterator[str]:
    """`dumps(list(items)) + "\\n"`, as chunks; `level` is the array's items' depth."""
    prefix = "  " * level
    first = True
    for item in items:
        chunk = ("[\n" if first else ",\n") + _indent(dumps(item), prefix)
        first = False
        yield ensure_no_plain_secrets(chunk, what)
    yield "[]\n" if first else "\n]\n"


def iter_json_document(document: dict[str, Any], path: tuple[str | int, ...], items: Iterable[Any],
                       what: str) -> Iterator[str]:  # fmt: skip
    """`dumps(document) + "\\n"` where the list at `path` is filled from `items` as they come."""
    holder: Any = document
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = [_SENTINEL]
    text = dumps(document) + "\n"
    marker = dumps(_SENTINEL)
    start = text.index(marker)
    line_start = text.rindex("\n", 0, start) + 1
    prefix = text[line_start:start]
    head = text[:line_start].rstrip("[\n ")  # up to and without the list's opening bracket
    tail = text[start + len(marker) :]
    tail = tail[tail.index("]") + 1 :]  # after the list's closing bracket
    closing_indent = prefix[: len(prefix) - 2]
    yield ensure_no_plain_secrets(head, what)
    first = True
    for item in items:
        chunk = (" [\n" if first else ",\n") + _indent(dumps(item), prefix)
        first = False
        yield ensure_no_plain_secrets(chunk, what)
    yield ensure_no_plain_secrets((" []" if first else f"\n{closing_indent}]") + tail, what)


def iter_lines(rows: Iterable[Any], encode: Callable[[Any], str], what: str) -> Iterator[str]:
    for row in rows:
        yield ensure_no_plain_secrets(encode(row), what)
