# Types of the C extension _hsnative.c (built when the Hyperscan headers are installed).
KIND_ALPHABET: int
KIND_CHAIN: int
KIND_LINE: int
KIND_ALL: int
KIND_WINDOW: int
HYPERSCAN_VERSION: str

class Scanner:
    def __init__(
        self,
        expressions: list[bytes],
        reports: list[tuple[int, int]],
        classes: list[tuple[str, int, bytes, bytes, bytes | None, int, int]],
    ) -> None: ...
    def segments(
        self, data: bytes | str, /
    ) -> tuple[dict[str, list[tuple[int, int]]], dict[int, list[tuple[int, int]]]]: ...
