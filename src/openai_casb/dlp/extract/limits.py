"""Limits that bound what extracting one file may cost: bytes, archive shape, time and memory.

Defaults follow Cloudflare DLP's published file limits (100 MB per file, ZIPs nested at most 10
levels, 200 MB uncompressed per inner file). Every limit is checked while streaming, against the
bytes actually produced, never only against what an archive declares.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MB = 1024 * 1024


class ExtractionLimits(BaseModel):
    """Per-file extraction limits, from `DlpSettings.limits` (a plain mapping, checked against this
    model when the policy file loads)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_file_bytes: int = Field(
        default=100 * MB, gt=0, description="Largest file accepted for scanning, as downloaded."
    )
    max_uncompressed_bytes: int = Field(
        default=200 * MB, gt=0, description="Largest decompressed size of one archive entry or OOXML part."
    )
    max_total_uncompressed_bytes: int = Field(
        default=1024 * MB, gt=0, description="Largest decompressed size of all entries of one file, nesting included."
    )
    max_compression_ratio: float = Field(
        default=100.0, gt=1, description="Largest uncompressed/compressed ratio of one archive entry (zip bombs)."
    )
    max_archive_entries: int = Field(
        default=10_000, gt=0, description="Most entries in one archive, nested archives counted together."
    )
    max_nesting: int = Field(default=10, ge=0, description="Deepest archive-in-archive nesting that is opened.")
    timeout_seconds: float = Field(
        default=60.0, gt=0, description="Wall-clock time one file may take in a worker before it is killed."
    )
    memory_mb: int = Field(default=1024, ge=64, description="Address-space limit (RLIMIT_AS) of each worker.")
    max_text_chars: int = Field(
        default=100 * MB, gt=0, description="Most text extracted from one file; the rest is cut off and reported."
    )
    ocr_min_bytes: int = Field(default=4 * 1024, ge=0, description="Smaller images are not sent to OCR.")
    ocr_max_bytes: int = Field(default=1 * MB, gt=0, description="Larger images are not sent to OCR.")
    chunk_chars: int = Field(default=256 * 1024, ge=1024, description="Size of the text chunks fed to the matcher.")

    @classmethod
    def from_mapping(cls, values: dict[str, Any] | None) -> ExtractionLimits:
        """Build limits from settings; unknown keys and bad values give one readable ValueError."""
        try:
            return cls.model_validate(values or {})
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'limits'}: {e['msg']}" for e in error.errors()
            )
            raise ValueError(f"invalid DLP extraction limits: {problems}") from None
