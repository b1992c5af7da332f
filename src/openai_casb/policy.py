"""The policy file: thresholds of the rules, the mutelist, and DLP settings.

YAML, given with `--policy FILE` or the `OPENAI_CASB_POLICY` environment variable. Every key is
optional; `Policy()` is the documented default. Unknown keys are errors, so typos never pass
silently. See docs/policy.md.
"""

from __future__ import annotations

import logging
import os
import re
from datetime import UTC, date, datetime, time, timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from openai_casb.alerts.config import WebhookList
from openai_casb.detections import Detection
from openai_casb.dlp.settings import DlpSettings
from openai_casb.private_files import BoundedReadError, read_text_bounded, warn_if_shared

POLICY_ENV_VAR = "OPENAI_CASB_POLICY"

logger = logging.getLogger(__name__)
# Larger files are refused before they are parsed: PyYAML reads about half a megabyte a second, and a
# file read whole (`/dev/zero`, a log given by mistake) could exhaust memory. The largest word lists
# the DLP settings allow still fit.
MAX_POLICY_FILE_BYTES = 8 * 1024 * 1024

# Bounded so that a threshold always fits in a timedelta and a typo of extra zeros is caught.
ThresholdDays = Annotated[int, Field(strict=True, gt=0, le=36500)]


class PolicyError(ValueError):
    """The policy file is missing, unreadable or invalid. The message names the file and the key."""


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key_rotation_days: ThresholdDays = 90
    unused_key_days: ThresholdDays = 30
    stale_invite_days: ThresholdDays = 7
    inactive_user_days: ThresholdDays = 90


_LATEST = datetime.max.replace(tzinfo=UTC)
_EARLIEST = datetime.min.replace(tzinfo=UTC)


class MuteRule(BaseModel):
    """Hides matching instances, with a reason, until an optional expiry.

    `finding_type` is stored as the finding type id even when the file gives its exact name.
    `asset_id` and `asset_email` are fnmatch globs; emails are compared lower-cased.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    finding_type: str | None = None
    asset_id: str | None = None
    asset_email: str | None = None
    reason: str = Field(min_length=1)
    expires: datetime | date | None = None

    @field_validator("reason")
    @classmethod
    def _reason_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("reason must not be blank")
        return value

    @field_validator("expires", mode="before")
    @classmethod
    def _date_or_datetime(cls, value: object) -> object:
        """Only dates and datetimes. A quoted date (`'2026-09-30'`) is a date, lasting through that day
        (pydantic alone would read it as midnight); a number is refused, where pydantic would read
        `20260930` as seconds since 1970 and the rule would have expired long ago."""
        if value is None or isinstance(value, date):  # datetime is a date too
            return value
        if isinstance(value, str):
            text = value.strip()
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
            try:
                return datetime.fromisoformat(text)
            except ValueError:
                pass
        raise ValueError("expires must be a date (2026-09-30) or a datetime (2026-09-30T18:00:00Z)")

    @field_validator("finding_type")
    @classmethod
    def _known_finding_type(cls, value: str | None) -> str | None:
        if value is None:
            return None
        # Imported here: checks import this module for the Policy type.
        from openai_casb.checks.registry import default_registry

        check = default_registry().resolve(value.strip())
        if check is None:
            raise ValueError(
                f"unknown finding type {value!r}; use an id or exact name from `openai-casb finding-types`"
            )
        return check.id

    @model_validator(mode="after")
    def _selects_something(self) -> MuteRule:
        if self.finding_type is None and self.asset_id is None and self.asset_email is None:
            raise ValueError("a mute rule needs at least one of finding_type, asset_id, asset_email")
        return self

    @property
    def expires_at(self) -> datetime | None:
        """When the rule stops applying. A date means through the end of that day, UTC."""
        if self.expires is None:
            return None
        # Past the ends of datetime (`9999-12-31`, "forever", lasts through a day that has no end
        # representable; `9999-12-31T23:59:59-01:00` is later than any UTC datetime) the rule is
        # in force until the largest or from the smallest UTC datetime, never an OverflowError.
        if isinstance(self.expires, datetime):
            expires = self.expires if self.expires.tzinfo else self.expires.replace(tzinfo=UTC)
            try:
                expires.astimezone(UTC)
            except OverflowError:
                return _LATEST if expires.year == datetime.max.year else _EARLIEST
            return expires
        try:
            return datetime.combine(self.expires, time.min, tzinfo=UTC) + timedelta(days=1)
        except OverflowError:
            return _LATEST

    def active_at(self, now: datetime) -> bool:
        expires_at = self.expires_at
        return expires_at is None or now < expires_at

    def matches(self, detection: Detection) -> bool:
        if self.finding_type is not None and detection.finding_type_id != self.finding_type:
            return False
        if self.asset_id is not None and not fnmatchcase(detection.asset.id, self.asset_id):
            return False
        if self.asset_email is not None:
            email = detection.asset.email
            if email is None or not fnmatchcase(email.lower(), self.asset_email.lower()):
                return False
        return True


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    thresholds: Thresholds = Thresholds()
    mutelist: tuple[MuteRule, ...] = ()
    # The DLP layer owns this schema (profiles, custom profiles, limits).
    dlp: DlpSettings = Field(default_factory=DlpSettings)
    # Where lifecycle changes are sent after each scan (docs/webhooks.md); the alerts layer owns it.
    webhooks: WebhookList = ()

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_an_integer(cls, value: object) -> object:
        # `true` and `1.0` equal 1 in Python, and the Literal alone would take them.
        if isinstance(value, bool | float):
            raise ValueError("version must be the integer 1")
        return value

    def mute_rule_for(self, detection: Detection, now: datetime) -> MuteRule | None:
        """The first unexpired rule that matches this detection, else None."""
        for rule in self.mutelist:
            if rule.active_at(now) and rule.matches(detection):
                return rule
        return None


# Error messages quote a bad value only where it cannot be a credential: never under these
# sections (webhook URLs, signing secrets, tokens, passwords), never under a key named like a
# secret anywhere (`dlp.salt`), never under an unknown top-level key (a misspelt `webhooks:`), and
# never a list or mapping, which could hold any of those.
_SECRET_SECTIONS = frozenset({"webhooks"})
_SECRET_KEY = re.compile(r"secret|token|passw|salt|auth|credential|url|(?:^|_)key$", re.IGNORECASE)
# What a custom DLP entry looks for (a word list of codenames, a card number, a pattern) is the
# sensitive data itself: never quoted either.
_DLP_TERMS = frozenset({"words", "keywords", "pattern"})
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_ ]{0,60}")
_SHOWN_TYPES = (bool, int, float, str, date, time, type(None))


def _may_show_input(location: tuple[int | str, ...], value: object) -> bool:
    if not location or not isinstance(value, _SHOWN_TYPES):
        return False
    section = location[0]
    if section not in Policy.model_fields or section in _SECRET_SECTIONS:
        return False
    return not any(isinstance(part, str) and (_SECRET_KEY.search(part) or part in _DLP_TERMS) for part in location)


def _location(parts: tuple[int | str, ...]) -> str:
    secret_section = bool(parts) and parts[0] in _SECRET_SECTIONS
    location = ""
    for part in parts:
        if isinstance(part, int):
            location += f"[{part}]"
            continue
        # A key the user wrote under `webhooks:` is shown only if it looks like a key, not like
        # a value pasted in the wrong place (`https://hooks.slack.com/services/...:`).
        name = part if not secret_section or _PLAIN_KEY.fullmatch(part) else "<key>"
        location += f".{name}" if location else name
    return location


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        shown = item.get("input")
        value = f" (got {shown!r})" if item["type"] != "missing" and _may_show_input(item["loc"], shown) else ""
        lines.append(f"  {_location(item['loc']) or '<top level>'}: {item['msg']}{value}")
    return "\n".join(lines)


def _yaml_problem(error: yaml.YAMLError) -> str:
    """Where and what, without PyYAML's quote of the offending line (it may hold a secret)."""
    if not isinstance(error, yaml.MarkedYAMLError):
        return type(error).__name__
    parts = []
    for text, mark in ((error.context, error.context_mark), (error.problem, error.problem_mark)):
        if text:
            parts.append(f"{text} (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else text)
    return "; ".join(parts) or type(error).__name__


_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _PolicyLoader(yaml.SafeLoader):
    """SafeLoader whose value conversions fail as YAML errors at the value's line and column.

    PyYAML's own constructors let Python's error escape bare: a date that does not exist
    (`2026-02-30`), an explicit tag on text it cannot hold (`!!int abc`, `!!timestamp abc`), an
    integer too long for int(). Their messages may quote the value, so only the kind is said.
    """

    def construct_document(self, node: yaml.Node) -> object:
        _refuse_duplicate_keys(node)
        return super().construct_document(node)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> object:
        try:
            return super().construct_object(node, deep)
        except (yaml.YAMLError, RecursionError):
            raise
        except Exception:
            kind = "date or time that does not exist" if node.tag == _TIMESTAMP_TAG else "value its type cannot hold"
            raise yaml.constructor.ConstructorError(None, None, f"a {kind}", node.start_mark) from None


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _refuse_duplicate_keys(root: yaml.Node) -> None:
    """A key given twice in one mapping is an error (YAML says keys are unique; PyYAML keeps the last
    silently, so a second `mutelist:` would drop every rule of the first). Keys brought in by a
    merge (`<<: *defaults`) may be overridden, as YAML intends. Each node is visited once, so
    aliases cost nothing; the key is not quoted, only its line."""
    seen_nodes: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first_at: dict[tuple[str, str], int] = {}
            for key_node, value_node in node.value:
                stack.append(value_node)
                if key_node.tag == _MERGE_TAG:
                    continue
                stack.append(key_node)
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = (key_node.tag, key_node.value)
                if key in first_at:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"a key given twice in one mapping (first at line {first_at[key]})",
                        key_node.start_mark,
                    )
                first_at[key] = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def parse_policy(text: str, origin: str = "<policy>") -> Policy:
    """Parse and validate policy YAML; `origin` names the file in error messages."""
    try:
        data = yaml.load(text, Loader=_PolicyLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as error:
        raise PolicyError(f"policy file {origin}: not valid YAML: {_yaml_problem(error)}") from None
    except RecursionError:
        raise PolicyError(f"policy file {origin}: not valid YAML: nested too deeply") from None
    if data is None:
        return Policy()
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise PolicyError(f"policy file {origin}: expected a mapping of keys at the top level, got {kind}")
    try:
        return Policy.model_validate(data)
    except ValidationError as error:
        raise PolicyError(f"policy file {origin} is invalid:\n{_describe(error)}") from None


def load_policy(path: Path | None = None) -> Policy:
    """Load `path`, else the file named by OPENAI_CASB_POLICY, else the defaults."""
    if path is None:
        from_env = os.environ.get(POLICY_ENV_VAR, "").strip()
        if not from_env:
            return Policy()
        path = Path(from_env)
    try:
        text, mode = read_text_bounded(path, MAX_POLICY_FILE_BYTES, "policy file")
    except BoundedReadError as exc:
        raise PolicyError(str(exc)) from None
    policy = parse_policy(text, str(path))
    # Webhook URLs, signing secrets and credentials, and the DLP salt, are secrets.
    held = [name for name, present in (("webhooks", bool(policy.webhooks)), ("dlp.salt", policy.dlp.salt is not None))
            if present]
    warn_if_shared(logger, "policy", path, mode, " and ".join(held))
    return policy
