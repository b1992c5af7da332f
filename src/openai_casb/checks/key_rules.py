"""Rules over API keys: rotation age and use. Keys of archived projects are not evaluated."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from openai_casb.checks.common import admin_key_asset, age, iso, older_than, project_key_asset
from openai_casb.detections import AssetRef, Detection
from openai_casb.inventory.model import AdminApiKey, Inventory, ProjectApiKey

ApiKey = AdminApiKey | ProjectApiKey


def _keys_with_assets(inventory: Inventory, admin: bool) -> Iterator[tuple[ApiKey, AssetRef]]:
    if admin:
        for admin_key in inventory.admin_api_keys:
            yield admin_key, admin_key_asset(admin_key)
        return
    for project_key in inventory.project_api_keys:
        if not project_key.project_archived:
            yield project_key, project_key_asset(project_key)


def not_rotated(inventory: Inventory, finding_type_id: str, threshold_days: int, admin: bool) -> Iterable[Detection]:
    """Keys with `now - created_at > threshold_days`."""
    now = inventory.now
    for key, asset in _keys_with_assets(inventory, admin):
        if not older_than(now, key.created_at, threshold_days):
            continue
        elapsed = age(now, key.created_at)
        evidence = {
            "summary": (
                f"Key {asset.name!r} was created {elapsed['age_days']} days ago ({iso(key.created_at)}); "
                f"rotation is due after {threshold_days} days."
            ),
            "rule": "now - created_at > key_rotation_days",
            "created_at": iso(key.created_at),
            **elapsed,
            "threshold_days": threshold_days,
            "now": iso(now),
        }
        yield Detection(finding_type_id=finding_type_id, asset=asset, evidence=evidence)


def unused(inventory: Inventory, finding_type_id: str, threshold_days: int, admin: bool) -> Iterable[Detection]:
    """Keys never used and older than the threshold, or last used longer ago than the threshold."""
    now = inventory.now
    for key, asset in _keys_with_assets(inventory, admin):
        if key.last_used_at is None:
            if not older_than(now, key.created_at, threshold_days):
                continue
            elapsed = age(now, key.created_at)
            evidence = {
                "summary": (
                    f"Key {asset.name!r} was never used (or not since usage tracking began); created "
                    f"{elapsed['age_days']} days ago ({iso(key.created_at)}), threshold {threshold_days} days."
                ),
                "rule": "last_used_at is null and now - created_at > unused_key_days",
                "never_used": True,
                "last_used_at": None,
                "created_at": iso(key.created_at),
                **elapsed,
            }
        else:
            if not older_than(now, key.last_used_at, threshold_days):
                continue
            since = age(now, key.last_used_at)
            evidence = {
                "summary": (
                    f"Key {asset.name!r} was last used {since['age_days']} days ago ({iso(key.last_used_at)}); "
                    f"threshold {threshold_days} days."
                ),
                "rule": "now - last_used_at > unused_key_days",
                "never_used": False,
                "last_used_at": iso(key.last_used_at),
                "created_at": iso(key.created_at),
                "days_since_last_use": since["age_days"],
                "seconds_since_last_use": since["age_seconds"],
            }
        evidence.update(threshold_days=threshold_days, now=iso(now))
        yield Detection(finding_type_id=finding_type_id, asset=asset, evidence=evidence)
