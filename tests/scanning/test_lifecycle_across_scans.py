"""The lifecycle of findings.md across successive scans of changing snapshots, through the whole product."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from openai_casb.cli.demo_cmd import settings_for_emulator
from openai_casb.emulator import EmulatorConfig, running_emulator
from openai_casb.emulator.snapshot import org_from_dict
from openai_casb.policy import Policy, parse_policy
from openai_casb.scanning import ScanRequest, ScanResult, run_scan
from openai_casb.store import InstanceStatus, Store
from tests.scanning.oracle import T

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DAY = 86_400
WORKSPACE = "7d3c0a8e-1b2f-4c5d-9e6f-0a1b2c3d4e5f"


def _ts(days_ago: float) -> int:
    return int(NOW.timestamp() - days_ago * DAY)


def snapshot() -> dict[str, Any]:
    owner = {"type": "user", "object": "organization.user", "id": "user-owner", "name": "Owner",
             "created_at": _ts(900), "role": "owner"}
    return {
        "organization": {"id": "org-lifecycle", "name": "Lifecycle"},
        "workspace": {"id": WORKSPACE},
        "admin": {
            "users": [{"object": "organization.user", "id": "user-owner", "name": "Owner", "email": "owner@example.com",
                       "role": "owner", "added_at": _ts(900), "api_key_last_used_at": _ts(1)}],
            "admin_api_keys": [
                {"object": "organization.admin_api_key", "id": "key_old", "name": "old",
                 "redacted_value": "sk-admin...old", "created_at": _ts(200), "expires_at": None,
                 "last_used_at": _ts(1), "owner": owner},
            ],
            "invites": [
                {"object": "organization.invite", "id": "invite-owner", "email": "new@example.com", "role": "owner",
                 "status": "pending", "created_at": _ts(2), "expires_at": _ts(-5), "accepted_at": None, "projects": []},
            ],
        },
        "compliance": {
            "users": [{"object": "compliance.workspace.user", "id": "user-owner", "email": "owner@example.com",
                       "name": "Owner", "created_at": float(_ts(900)), "role": "account-owner", "status": "active"}],
            "gpts": [{
                "object": "compliance.workspace.gpt", "id": "g-public", "owner_id": "user-owner",
                "owner_email": "owner@example.com", "builder_name": "Owner", "created_at": float(_ts(50)),
                "sharing": {"object": "compliance.workspace.gpt.sharing", "visibility": "gpt-store",
                            "permissions": {"object": "compliance.workspace.gpt.permissions", "can_read": True,
                                            "can_view_config": False, "can_write": False}, "recipients": []},
                "latest_config": {"object": "list", "has_more": False, "last_id": "gzm_cnf_1", "data": [{
                    "object": "compliance.workspace.gpt.configuration", "id": "gzm_cnf_1", "name": "Public helper",
                    "created_at": float(_ts(50)), "files": {"object": "list", "data": [], "has_more": False},
                    "tools": {"object": "list", "data": [], "has_more": False}}]},
            }],
        },
    }


def scan(data: dict[str, Any], store: Store, *, policy: Policy | None = None, compliance_key: str | None = None,
         now: datetime = NOW) -> ScanResult:
    with running_emulator(org_from_dict(data), EmulatorConfig(rate_limit_scale=100)) as emulator:
        settings = settings_for_emulator(emulator)
        if compliance_key is not None:
            settings = settings.model_copy(update={"compliance_key": SecretStr(compliance_key)})
        return asyncio.run(run_scan(store, ScanRequest(settings=settings, policy=policy or Policy()), now=now))


def by_key(store: Store) -> dict[tuple[str, str], InstanceStatus]:
    return {(i.finding_type_id, i.asset_id): i.status for i in store.list_instances(limit=10_000)}


def test_resolve_then_reopen(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "db.sqlite"))
    data = snapshot()
    first = scan(data, store)
    assert first.summary.new == 3
    assert by_key(store) == {
        (T["admin_key_not_rotated"], "key_old"): "active",
        (T["high_privilege_invite"], "invite-owner"): "active",
        (T["gpt_store"], "g-public"): "active",
    }
    fixed = copy.deepcopy(data)
    fixed["admin"]["admin_api_keys"][0]["created_at"] = _ts(3)  # rotated
    fixed["admin"]["invites"][0]["status"] = "accepted"
    second = scan(fixed, store)
    assert (second.summary.new, second.summary.resolved) == (0, 2)
    assert by_key(store)[(T["admin_key_not_rotated"], "key_old")] == "resolved"
    assert by_key(store)[(T["high_privilege_invite"], "invite-owner")] == "resolved"
    third = scan(data, store)  # the old key is back (say, restored from a backup)
    assert third.summary.reopened == 2
    assert set(by_key(store).values()) == {InstanceStatus.ACTIVE}
    assert len(by_key(store)) == 3, "a reopened instance is the same instance, not a new one"


def test_hidden_instance_stays_hidden_and_is_not_new_again(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "db.sqlite"))
    scan(snapshot(), store)
    gpt = next(i for i in store.list_instances() if i.asset_id == "g-public")
    store.hide(gpt.id, "approved by the CISO for the public launch", by="alice")
    again = scan(snapshot(), store)
    assert again.summary.new == 0
    assert by_key(store)[(T["gpt_store"], "g-public")] == "hidden"


def test_a_source_that_failed_resolves_nothing(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "db.sqlite"))
    scan(snapshot(), store)
    fixed = snapshot()
    fixed["compliance"]["gpts"][0]["sharing"]["visibility"] = "invite-only"
    broken = scan(fixed, store, compliance_key="sk-proj-wrong-key-000000000000")
    assert broken.summary.status == "partial"
    assert any(r.state == "failed" for r in broken.sources.values())
    assert by_key(store)[(T["gpt_store"], "g-public")] == "active", "a failed source must not resolve"
    healthy = scan(fixed, store)
    assert healthy.summary.resolved == 1
    assert by_key(store)[(T["gpt_store"], "g-public")] == "resolved"


def test_mutelist_hides_until_it_expires(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "db.sqlite"))
    expires = (NOW + timedelta(days=10)).date().isoformat()
    policy = parse_policy(
        f"version: 1\nmutelist:\n  - finding_type: {T['gpt_store']}\n    asset_id: g-*\n"
        f"    reason: marketing GPT, public on purpose\n    expires: {expires}\n",
        "policy.yaml",
    )
    scan(snapshot(), store, policy=policy)
    assert by_key(store)[(T["gpt_store"], "g-public")] == "hidden"
    scan(snapshot(), store, policy=policy, now=NOW + timedelta(days=12))
    assert by_key(store)[(T["gpt_store"], "g-public")] == "active"
