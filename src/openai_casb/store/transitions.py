"""The lifecycle rules for one instance (docs/lifecycle.md): reopen, mutelist hide/unhide, hide expiry.

Pure Python on the instance's lifecycle fields; `lifecycle.py` reads and writes them in batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openai_casb.store.records import MUTELIST, EventType, InstanceStatus, MuteKey, MuteRule, MuteRules


@dataclass(slots=True)
class InstanceState:
    """The lifecycle fields of one instance, as read from the database or about to be inserted."""

    id: int | None
    status: str
    hidden_by: str | None
    hidden_reason: str | None
    hidden_until: datetime | None
    resolved_at: datetime | None

    def lifecycle(self) -> tuple[object, ...]:
        return self.status, self.hidden_by, self.hidden_reason, self.hidden_until, self.resolved_at


Events = list[tuple[InstanceState, EventType, dict[str, Any]]]


def rule_lookup(mute_rules: MuteRules | None, key: MuteKey) -> MuteRule | None:
    if mute_rules is None:
        return None
    if callable(mute_rules):
        return mute_rules(key)
    return mute_rules.get(key)


def reopen(instance: InstanceState, now: datetime, events: Events) -> None:
    user_hidden = user_hide_in_force(instance, now)
    instance.status = InstanceStatus.HIDDEN if user_hidden else InstanceStatus.ACTIVE
    instance.resolved_at = None
    if not user_hidden:
        instance.hidden_by = instance.hidden_reason = None
        instance.hidden_until = None
    events.append((instance, EventType.REOPENED, {"status": str(instance.status)}))


def expire_hide(instance: InstanceState, now: datetime, events: Events) -> None:
    if instance.status == InstanceStatus.HIDDEN and instance.hidden_until and instance.hidden_until <= now:
        reason = "mutelist rule expired" if instance.hidden_by == MUTELIST else "hide expired"
        unhide(instance, events, {"reason": reason})


def user_hide_in_force(instance: InstanceState, now: datetime) -> bool:
    """A person's hide outlives a resolution: the instance comes back hidden."""
    return (
        instance.hidden_by is not None
        and instance.hidden_by != MUTELIST
        and (instance.hidden_until is None or instance.hidden_until > now)
    )


def apply_mute_rule(instance: InstanceState, rule: MuteRule | None, now: datetime, events: Events) -> None:
    in_force = rule is not None and (rule.expires_at is None or rule.expires_at > now)
    muted_by_list = instance.status == InstanceStatus.HIDDEN and instance.hidden_by == MUTELIST
    if rule is not None and in_force:
        if instance.status == InstanceStatus.ACTIVE or muted_by_list:
            changed = not muted_by_list
            instance.status = InstanceStatus.HIDDEN
            instance.hidden_by = MUTELIST
            instance.hidden_reason = rule.reason
            instance.hidden_until = rule.expires_at
            if changed:
                until = rule.expires_at.isoformat() if rule.expires_at else None
                events.append((instance, EventType.HIDDEN, {"by": MUTELIST, "reason": rule.reason, "until": until}))
        return  # a person's own hide wins over the mutelist
    if muted_by_list:
        reason = "mutelist rule expired" if rule is not None else "no mutelist rule matches any more"
        unhide(instance, events, {"reason": reason})


def unhide(instance: InstanceState, events: Events, details: dict[str, Any]) -> None:
    events.append((instance, EventType.UNHIDDEN, {"by": instance.hidden_by, **details}))
    instance.status = InstanceStatus.ACTIVE
    instance.hidden_by = instance.hidden_reason = None
    instance.hidden_until = None
