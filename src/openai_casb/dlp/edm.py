"""Exact data match: values from a CSV file, kept in memory only as salted hashes.

The CSV is read once; each cell of the chosen columns is normalised (whitespace collapsed,
case-folded unless case-sensitive, sentence punctuation ending the last token dropped) and only
its salted SHA-256 is kept. Text is matched by hashing runs of 1..n tokens, n being the longest
value in tokens, normalised the same way, and looking them up.

Tokens keep their inner punctuation ("J.R.", "ACCT-99.88", emails), so a value matches only as
written; only the end of a run is treated like the end of a cell, so that a value ending a
sentence ("... is Alice Wonderland.") matches, whether or not the cell itself ended with a dot.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MIN_VALUE_LENGTH = 6  # shorter cells match too much ordinary text (Cloudflare's rule)
MAX_TOKENS = 8
MAX_FILE_BYTES = 256 * 1024 * 1024

# Tokens: runs of characters that are not whitespace or common field punctuation.
_TOKEN = re.compile(r"[^\s,;:\"'()\[\]{}<>|]+")
# Dropped from the end of the last token of a value, and of a run of tokens in text.
_SENTENCE_END = ".!?\u2026\u3002\uff01\uff1f"  # . ! ? … 。！？


class EdmError(ValueError):
    """The EDM dataset cannot be used; the message says why (never quoting a value)."""


def _end_of_run(token: str) -> str:
    """The last token of a value or run without the sentence punctuation ending it (kept when
    the token is nothing else)."""
    return token.rstrip(_SENTENCE_END) or token


def normalize(value: str, case_sensitive: bool) -> str:
    tokens = _TOKEN.findall(value)
    if tokens:
        tokens[-1] = _end_of_run(tokens[-1])
    joined = " ".join(tokens)
    return joined if case_sensitive else joined.casefold()


def value_hash(salt: str, normalized: str) -> str:
    return hashlib.sha256(f"{salt}\x00edm\x00{normalized}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class EdmSet:
    name: str
    hashes: frozenset[str]
    token_counts: frozenset[int]
    case_sensitive: bool
    salt: str

    def __repr__(self) -> str:
        return f"EdmSet(name={self.name!r}, values={len(self.hashes)})"

    def find(self, text: str) -> Iterator[tuple[int, int, str]]:
        """(start, end, hash) of each run of tokens whose normalised form is in the set; longest first, no overlaps."""
        spans = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
        words = [text[s:e] if self.case_sensitive else text[s:e].casefold() for s, e in spans]
        # Each token as the last of a run: "Wonderland." ends a run as "wonderland".
        ends = [_end_of_run(word) for word in words]
        counts = sorted(self.token_counts, reverse=True)
        index = 0
        while index < len(spans):
            for count in counts:
                last = index + count - 1
                if last >= len(spans):
                    continue
                digest = value_hash(self.salt, " ".join([*words[index:last], ends[last]]))
                if digest in self.hashes:
                    # The match ends where the value does: the sentence punctuation is not part of it.
                    end = spans[last][1] - (len(words[last]) - len(ends[last]))
                    yield spans[index][0], end, digest
                    index += count
                    break
            else:
                index += 1


def _missing_columns(path: Path, missing: list[str], header: list[str]) -> str:
    """The error for columns not in the header. Header cells are not quoted: a file without a
    header has values in its first row, and no test tells a column name from a one-word value."""
    return (
        f"EDM file {path} has no column(s) {missing} (the names configured); its first row has "
        f"{len(header)} cell(s), not shown, and must be a header naming the columns"
    )


def load_edm(name: str, path: Path, columns: tuple[str, ...], case_sensitive: bool, salt: str) -> EdmSet:
    """Read a CSV (first row = column names) into salted hashes. Errors name the file, never a value."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise EdmError(f"EDM file {path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if not header:
                raise EdmError(f"EDM file {path} is empty; its first row must name the columns")
            header = [h.strip() for h in header]
            missing = [c for c in columns if c not in header]
            if missing:
                raise EdmError(_missing_columns(path, missing, header))
            wanted = [header.index(c) for c in columns] if columns else list(range(len(header)))
            hashes: set[str] = set()
            token_counts: set[int] = set()
            for row in reader:
                for column in wanted:
                    if column >= len(row):
                        continue
                    normalized = normalize(row[column], case_sensitive)
                    if len(normalized) < MIN_VALUE_LENGTH:
                        continue
                    tokens = normalized.count(" ") + 1
                    if tokens > MAX_TOKENS:
                        continue
                    hashes.add(value_hash(salt, normalized))
                    token_counts.add(tokens)
    except OSError as exc:
        raise EdmError(f"cannot read EDM file {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise EdmError(f"EDM file {path} is not a UTF-8 CSV: {type(exc).__name__}") from None
    if not hashes:
        raise EdmError(f"EDM file {path} has no value of at least {MIN_VALUE_LENGTH} characters")
    return EdmSet(name=name, hashes=frozenset(hashes), token_counts=frozenset(token_counts),
                  case_sensitive=case_sensitive, salt=salt)
