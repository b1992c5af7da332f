# Types of the C extension _exactnative.c (built when the PCRE2 headers are installed).
from collections.abc import Callable, Sequence
from typing import Any

FORM_NONE: int
FORM_REJECT: int
FORM_WEAK: int
FORM_SAMPLE: int

def configure(tables: dict[str, object], /) -> None: ...
def parts() -> dict[str, tuple[bool, bool, bool]]: ...
def classify(key: str, value: str, /) -> int: ...
def judge(key: str, text: str, start: int, end: int, /) -> int: ...
def refused(key: str, value: str, /) -> bool: ...

class Exact:
    def __init__(
        self,
        specs: Sequence[
            tuple[
                str, tuple[str, ...], tuple[bool, ...], bytes, int, bytes | None, int, bytes, bool, bytes | None,
                int, int, Callable[[str], str | None], Callable[[str, int, int], str | None] | None,
                Callable[[str], bool] | None, bool,
            ]
        ],
        keyword_window: int,
    ) -> None: ...
    def match(
        self, local: int, order: int, text: str, spans: list[tuple[int, int]], found: list[Any],
        census: dict[Any, Any] | None, /,
    ) -> None: ...
