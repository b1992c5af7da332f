"""DLP configuration: overrides of the predefined profiles and custom profiles.

Validated strictly (extra keys forbidden) so that a typo in a policy file is an error, not a
silently ignored setting. Custom regexes are bounded: no unbounded repeats, a bounded worst-case
match length, and nothing that can run away.
"""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from openai_casb.dlp.regex_bounds import compile_re2, max_width
from openai_casb.private_files import ensure_private_dir

MAX_MATCH_LENGTH = 1024  # longest text a custom entry may match, as Cloudflare allows
MAX_WORDS = 100_000
MAX_WORD_LENGTH = 256


class Confidence(StrEnum):
    """How sure a detection must be to count. Low counts every validated match."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return ("low", "medium", "high").index(self.value)

    @classmethod
    def _missing_(cls, value: object) -> Confidence | None:
        if isinstance(value, str):
            for member in cls:
                if member.value == value.strip().lower():
                    return member
        return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProfileSettings(_Strict):
    """Overrides for one predefined profile; unset fields keep the profile's defaults."""

    enabled: bool | None = None
    match_count: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    confidence: Confidence | None = None
    entries: dict[str, bool] = Field(default_factory=dict)  # entry name -> enabled


def check_regex(pattern: str) -> None:
    """Refuse what is not RE2, can match without bound (`*`, `+`, `{n,}`) or more than
    MAX_MATCH_LENGTH characters, or matches the empty string. Checked with RE2 itself, the engine
    custom patterns run on, so valid RE2 (`\\pL`, `\\z`, `[[:alpha:]]`) is accepted as documented."""
    compiled = compile_re2(pattern)
    if max_width(pattern) > MAX_MATCH_LENGTH:
        raise ValueError(
            f"regex may match more than {MAX_MATCH_LENGTH} characters; "
            "use bounded repeats like {1,64} instead of * or +"
        )
    if compiled.fullmatch("") is not None:
        raise ValueError("regex matches the empty string")


class RegexEntry(_Strict):
    kind: Literal["regex"] = "regex"
    name: Annotated[str, Field(min_length=1, max_length=120)]
    pattern: Annotated[str, Field(min_length=1, max_length=2000)]
    case_sensitive: bool = True
    keywords: tuple[str, ...] = ()  # proximity words that raise confidence
    enabled: bool = True

    @field_validator("pattern")
    @classmethod
    def _bounded(cls, pattern: str) -> str:
        check_regex(pattern)
        return pattern


class WordListEntry(_Strict):
    kind: Literal["words"] = "words"
    name: Annotated[str, Field(min_length=1, max_length=120)]
    words: tuple[str, ...]
    case_sensitive: bool = False
    keywords: tuple[str, ...] = ()
    enabled: bool = True

    @field_validator("words")
    @classmethod
    def _words(cls, words: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(dict.fromkeys(w.strip() for w in words if w.strip()))
        if not cleaned:
            raise ValueError("word list is empty")
        if len(cleaned) > MAX_WORDS:
            raise ValueError(f"word list has {len(cleaned)} words; at most {MAX_WORDS}")
        for word in cleaned:
            if len(word) > MAX_WORD_LENGTH or "\n" in word or "\r" in word:
                raise ValueError(f"words must be single-line and at most {MAX_WORD_LENGTH} characters")
        return cleaned


class ExactDataEntry(_Strict):
    """Exact data match: values of a CSV file, kept only as salted hashes (see dlp.edm)."""

    kind: Literal["edm"] = "edm"
    name: Annotated[str, Field(min_length=1, max_length=120)]
    csv_path: Path
    columns: tuple[str, ...] = ()  # header names to use; empty = every column
    case_sensitive: bool = False
    enabled: bool = True


CustomEntry = Annotated[RegexEntry | WordListEntry | ExactDataEntry, Field(discriminator="kind")]


class CustomProfile(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    entries: Annotated[list[CustomEntry], Field(min_length=1)]
    enabled: bool = True
    match_count: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    confidence: Confidence = Confidence.LOW

    @model_validator(mode="after")
    def _unique_entries(self) -> CustomProfile:
        names = [e.name for e in self.entries]
        if len(names) != len(set(names)):
            raise ValueError(f"profile {self.name!r} has duplicate entry names")
        return self


class DlpSettings(_Strict):
    profiles: dict[str, ProfileSettings] = Field(default_factory=dict)
    custom_profiles: list[CustomProfile] = Field(default_factory=list)
    limits: dict[str, Any] = Field(default_factory=dict)  # checked against dlp.extract's ExtractionLimits
    salt: Annotated[str, Field(min_length=8, max_length=512)] | None = None

    @field_validator("limits")
    @classmethod
    def _valid_limits(cls, limits: dict[str, Any]) -> dict[str, Any]:
        # Here, not when a scan starts to extract: a bad limit fails the policy file at load. Its
        # ValidationError is merged into this model's, so each error names `limits.<key>`.
        from openai_casb.dlp.extract.limits import ExtractionLimits

        ExtractionLimits.model_validate(limits)
        return limits

    @field_validator("profiles")
    @classmethod
    def _known_profiles(cls, profiles: dict[str, ProfileSettings]) -> dict[str, ProfileSettings]:
        from openai_casb.dlp.profiles import PREDEFINED_ENTRIES, PREDEFINED_PROFILE_NAMES

        unknown = sorted(set(profiles) - set(PREDEFINED_PROFILE_NAMES))
        if unknown:
            known = ", ".join(repr(n) for n in PREDEFINED_PROFILE_NAMES)
            raise ValueError(f"unknown predefined profile(s) {unknown}; known: {known}")
        for name, override in profiles.items():
            bad = sorted(set(override.entries) - set(PREDEFINED_ENTRIES[name]))
            if bad:
                raise ValueError(f"profile {name!r} has no entries {bad}; known: {list(PREDEFINED_ENTRIES[name])}")
        return profiles

    @model_validator(mode="after")
    def _unique_profiles(self) -> DlpSettings:
        from openai_casb.dlp.profiles import PREDEFINED_PROFILE_NAMES

        names = [p.name for p in self.custom_profiles]
        clash = (set(names) & set(PREDEFINED_PROFILE_NAMES)) | {n for n in names if names.count(n) > 1}
        if clash:
            raise ValueError(f"custom profile names must be unique and differ from predefined ones: {sorted(clash)}")
        return self


SALT_ENV = "OPENAI_CASB_DLP_SALT"


def installation_salt() -> str:
    """The salt for value hashes when settings give none: $OPENAI_CASB_DLP_SALT, else a random
    salt created once per installation in the user data directory (mode 0600)."""
    from_env = os.environ.get(SALT_ENV)
    if from_env:
        return from_env
    import platformdirs

    path = Path(platformdirs.user_data_dir("openai-casb")) / "dlp-salt"
    try:
        if path.exists():
            salt = path.read_text(encoding="ascii").strip()
            if len(salt) >= 32:
                return salt
        ensure_private_dir(path.parent)
        salt = secrets.token_hex(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(salt)
        return salt
    except OSError as exc:
        raise ValueError(
            f"cannot keep the DLP hash salt in {path} ({exc.strerror}); set `salt` in the DLP settings or ${SALT_ENV}"
        ) from None
