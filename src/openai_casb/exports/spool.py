"""An export written out in full before anyone reads it, without holding it in memory.

`iter_render` gives an export in chunks, and a chunk holding a plain key raises
`PlainSecretError` only when it is reached. Writing the chunks straight to the user's file or to
an HTTP response would leave half an export behind on that error (and an HTTP status already
sent). So the chunks go to a temporary file first (in memory up to SPOOL_MEMORY_BYTES, on disk
beyond, mode 0600): the whole export is checked before its first byte leaves.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, BinaryIO

SPOOL_MEMORY_BYTES = 8 << 20
READ_BYTES = 64 << 10


def spool(chunks: Iterable[str]) -> IO[bytes]:
    """The chunks, UTF-8, in a temporary file rewound to its start. Closed (and gone) if
    producing a chunk raises, and the error goes on."""
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115 - returned open
    try:
        for chunk in chunks:
            spooled.write(chunk.encode("utf-8"))
        spooled.seek(0)
    except BaseException:
        spooled.close()
        raise
    return spooled


def copy_to(spooled: IO[bytes], destination: BinaryIO) -> None:
    with spooled:
        shutil.copyfileobj(spooled, destination, READ_BYTES)


def read_chunks(spooled: IO[bytes]) -> Iterator[bytes]:
    """The spooled bytes in READ_BYTES pieces, closing the file at the end (a streamed response)."""
    with spooled:
        while piece := spooled.read(READ_BYTES):
            yield piece
