"""Profiles: named sets of detection entries with a match count and a confidence threshold.

The three predefined profiles mirror Cloudflare's; settings may disable them, change their
match count or confidence, and switch single entries off. Custom profiles add regexes, word lists
and exact data match entries.
"""

from __future__ import annotations

from dataclasses import dataclass

from openai_casb.dlp.detectors import financial, identifiers, secrets
from openai_casb.dlp.detectors.base import Detector
from openai_casb.dlp.settings import Confidence, DlpSettings

PREDEFINED_PROFILE_NAMES: tuple[str, ...] = (financial.PROFILE, identifiers.PROFILE, secrets.PROFILE)

# Medium by default: entries whose checksum a random number passes one time in ten (ABA, NHS,
# SIN, TFN, BSN, CPF, PESEL, personnummer) then count only near one of their keywords.
DEFAULT_CONFIDENCE = Confidence.MEDIUM


def _entries_of(detectors: tuple[Detector, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(entry for d in detectors for entry in d.entries))


PREDEFINED_ENTRIES: dict[str, tuple[str, ...]] = {
    financial.PROFILE: _entries_of(financial.DETECTORS),
    identifiers.PROFILE: _entries_of(identifiers.DETECTORS),
    secrets.PROFILE: _entries_of(secrets.DETECTORS),
}


@dataclass(frozen=True, slots=True)
class Profile:
    """A profile as the engine runs it: only its enabled entries."""

    name: str
    entries: tuple[str, ...]
    match_count: int
    confidence: Confidence
    predefined: bool


def resolve_predefined(settings: DlpSettings) -> tuple[Profile, ...]:
    """The enabled predefined profiles after applying `settings.profiles`. Unknown entries are errors."""
    profiles = []
    for name in PREDEFINED_PROFILE_NAMES:
        override = settings.profiles.get(name)
        known = PREDEFINED_ENTRIES[name]
        if override is not None:
            unknown = sorted(set(override.entries) - set(known))
            if unknown:
                raise ValueError(f"profile {name!r} has no entries {unknown}; known: {list(known)}")
        if override is not None and override.enabled is False:
            continue
        entries = tuple(e for e in known if override is None or override.entries.get(e, True))
        if not entries:
            continue
        profiles.append(
            Profile(
                name=name,
                entries=entries,
                match_count=override.match_count if override and override.match_count is not None else 0,
                confidence=override.confidence if override and override.confidence else DEFAULT_CONFIDENCE,
                predefined=True,
            )
        )
    return tuple(profiles)


def resolve_custom(settings: DlpSettings) -> tuple[Profile, ...]:
    return tuple(
        Profile(
            name=p.name,
            entries=tuple(e.name for e in p.entries if e.enabled),
            match_count=p.match_count,
            confidence=p.confidence,
            predefined=False,
        )
        for p in settings.custom_profiles
        if p.enabled and any(e.enabled for e in p.entries)
    )
