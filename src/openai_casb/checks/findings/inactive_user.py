"""OpenAI: Inactive user (one instance per person, joined across both APIs by lower-cased email)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from openai_casb.checks.base import CheckMetadata, Group, Remediation
from openai_casb.checks.common import PEOPLE_URL, WORKSPACE_MEMBERS_URL, age, iso, older_than
from openai_casb.detections import AssetRef, Detection, Severity
from openai_casb.inventory.model import AssetKind, Inventory, Person, Source
from openai_casb.policy import Policy

METADATA = CheckMetadata(
    id="20ab9ddb-fd48-46a8-9fdf-9bb9b9061f21",
    name="OpenAI: Inactive user",
    severity=Severity.MEDIUM,
    enterprise=False,
    group=Group.ACCESS_SECURITY,
    asset_kind=AssetKind.USER,
    description=(
        "A person (organization member and/or workspace member) shows no activity for longer than the threshold."
    ),
    risk=(
        "Dormant accounts keep their roles, project access and API keys; they are a favourite target for account "
        "takeover, and if the person has left, their access no longer matches a real need."
    ),
    rule=(
        "latest of api_key_last_used_at, last login.succeeded audit event and last conversation last_active_at is "
        "older than inactive_user_days (default 90 days); with no activity signal, the earliest of added_at / "
        "created / workspace created_at is. Service accounts and persons whose every record is disabled are skipped."
    ),
    remediation=Remediation(
        console_url="https://platform.openai.com/settings/organization/people",
        steps=(
            "Review the person's active API keys first: removing a member can break API traffic that still uses them.",
            "API Platform: People > Members > Remove and confirm (transfer ownership first if they are the only owner; "
            "SCIM-managed members are removed in the identity provider).",
            "ChatGPT workspace: Workspace settings > Members (https://chatgpt.com/admin/members) > the member's "
            "menu > Remove member. Their GPTs move to a workspace owner for review.",
        ),
        api_calls=(
            "DELETE /v1/organization/users/{user_id}",
            "DELETE /v1/organization/projects/{project_id}/users/{user_id} (project access only)",
        ),
        notes=("The Compliance API cannot remove ChatGPT workspace members.",),
    ),
    references=(
        "https://help.openai.com/en/articles/4936812-managing-members-in-an-api-organization",
        "https://help.openai.com/en/articles/9186755-managing-projects-in-the-api-platform",
        "https://help.openai.com/en/articles/8266401-managing-members-seat-types-roles-and-access-in-chatgpt-enterprise",
        "https://help.openai.com/en/articles/8555535-managing-gpt-access-in-enterprise-and-edu-workspaces",
        "https://platform.openai.com/docs/api-reference/users",
    ),
    sources=(Source.ADMIN_USERS,),
    optional_sources=(Source.ADMIN_AUDIT_LOGS, Source.WORKSPACE_USERS, Source.CONVERSATIONS),
)

# Activity signals, with the source each comes from (so the evidence can say whether it was read).
_SIGNALS: tuple[tuple[str, Source], ...] = (
    ("api_key_last_used_at", Source.ADMIN_USERS),
    ("last_login_at", Source.ADMIN_AUDIT_LOGS),
    ("last_conversation_at", Source.CONVERSATIONS),
)
_MEMBERSHIP_DATES: tuple[tuple[str, Source], ...] = (
    ("added_at", Source.ADMIN_USERS),
    ("created", Source.ADMIN_USERS),
    ("workspace_created_at", Source.WORKSPACE_USERS),
)


def _values(person: Person, names: tuple[tuple[str, Source], ...]) -> dict[str, datetime]:
    found: dict[str, datetime | None] = {name: getattr(person, name) for name, _ in names}
    return {name: value for name, value in found.items() if value is not None}


def _asset(person: Person) -> AssetRef:
    return AssetRef(
        kind=AssetKind.USER,
        id=person.asset_id,
        name=person.name or person.email,
        email=person.email,
        link=PEOPLE_URL if person.org_user_id else WORKSPACE_MEMBERS_URL,
        metadata={
            "org_user_id": person.org_user_id,
            "workspace_user_ids": list(person.workspace_user_ids),
            "org_role": person.org_role,
            "workspace_role": person.workspace_role,
        },
    )


def _logins_read(inventory: Inventory) -> tuple[str, dict[str, Any]]:
    """What the absence of a login means in this scan: a phrase for the summary and evidence fields.

    Login events are read only back to `inventory.logins_read_since`; an older login was not read, so
    the evidence never claims "no login" beyond the window actually read."""
    state = inventory.state(Source.ADMIN_AUDIT_LOGS)
    since = inventory.logins_read_since
    if since is None or state in ("failed", "skipped"):
        return f"audit log {state}", {"read_since": None, "read_days": None}
    days = age(inventory.now, since)["age_days"]
    window = {"read_since": iso(since), "read_days": days}
    if state == "partial":
        return f"no login in the part of the last {days} days of audit log read", window
    return f"no login in the {days} days of audit log read", window


def _decide(person: Person, now: datetime, threshold: int, no_login: str) -> dict[str, Any] | None:
    """The deciding part of the evidence when the person is inactive, else None."""
    signals = _values(person, _SIGNALS)
    if signals:
        deciding = max(signals, key=lambda name: signals[name])
        last = signals[deciding]
        if not older_than(now, last, threshold):
            return None
        elapsed = age(now, last)
        login = "" if person.last_login_at is not None else f"; {no_login}"
        return {
            "summary": (
                f"{person.email or person.asset_id}: last activity {elapsed['age_days']} days ago "
                f"({deciding} at {iso(last)}{login}); threshold {threshold} days."
            ),
            "rule": "now - max(activity signals) > inactive_user_days",
            "deciding_signal": deciding,
            "last_activity_at": iso(last),
            "days_inactive": elapsed["age_days"],
            "seconds_inactive": elapsed["age_seconds"],
        }
    dates = _values(person, _MEMBERSHIP_DATES)
    if not dates:
        return None  # nothing to judge by: never reported rather than guessed
    deciding = min(dates, key=lambda name: dates[name])
    earliest = dates[deciding]
    if not older_than(now, earliest, threshold):
        return None
    elapsed = age(now, earliest)
    return {
        "summary": (
            f"{person.email or person.asset_id}: no activity signal ({no_login}); member since {iso(earliest)} "
            f"({deciding}), {elapsed['age_days']} days ago; threshold {threshold} days."
        ),
        "rule": "no activity signal and now - min(added_at, created, workspace created_at) > inactive_user_days",
        "deciding_signal": deciding,
        "last_activity_at": None,
        "member_since": iso(earliest),
        "days_inactive": elapsed["age_days"],
        "seconds_inactive": elapsed["age_seconds"],
    }


def evaluate(inventory: Inventory, policy: Policy) -> Iterator[Detection]:
    now = inventory.now
    threshold = policy.thresholds.inactive_user_days
    no_login, login_window = _logins_read(inventory)
    for person in inventory.persons:
        if person.is_service_account or person.all_records_disabled:
            continue
        decided = _decide(person, now, threshold, no_login)
        if decided is None:
            continue
        signals = _values(person, _SIGNALS)
        evidence = {
            **decided,
            "threshold_days": threshold,
            "now": iso(now),
            "available_signals": sorted(signals),
            "signals": {
                name: {
                    "value": iso(getattr(person, name)),
                    "source": source.value,
                    "source_state": inventory.state(source),
                    **(login_window if name == "last_login_at" else {}),
                }
                for name, source in _SIGNALS
            },
            "membership_dates": {
                name: {"value": iso(getattr(person, name)), "source": source.value}
                for name, source in _MEMBERSHIP_DATES
            },
            "person": {
                "email": person.email,
                "org_user_id": person.org_user_id,
                "workspace_user_ids": list(person.workspace_user_ids),
                "org_role": person.org_role,
                "workspace_role": person.workspace_role,
            },
        }
        yield Detection(finding_type_id=METADATA.id, asset=_asset(person), evidence=evidence)
