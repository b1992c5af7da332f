"""Safe text extraction: bytes in, text chunks or a typed `NotScanned` outcome out."""

from openai_casb.dlp.extract.base import Budget, LimitExceeded, NotScanned
from openai_casb.dlp.extract.dispatch import extract_file
from openai_casb.dlp.extract.limits import ExtractionLimits
from openai_casb.dlp.extract.sniff import Kind, detect_kind

__all__ = ["Budget", "ExtractionLimits", "Kind", "LimitExceeded", "NotScanned", "detect_kind", "extract_file"]
