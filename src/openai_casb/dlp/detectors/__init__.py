"""Predefined detectors, grouped by the predefined profile they belong to."""

from __future__ import annotations

from openai_casb.dlp.detectors import financial, identifiers, secrets
from openai_casb.dlp.detectors.base import SEGMENT_ALPHABETS, Detector

PREDEFINED_DETECTORS: tuple[Detector, ...] = financial.DETECTORS + identifiers.DETECTORS + secrets.DETECTORS

__all__ = ["PREDEFINED_DETECTORS", "SEGMENT_ALPHABETS", "Detector"]
