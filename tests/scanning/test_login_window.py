"""The inactive-user rule over a whole scan: logins older than the audit-log lookback still count."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openai_casb.cli.demo_cmd import settings_for_emulator
from openai_casb.emulator import EmulatorConfig, running_emulator
from openai_casb.emulator.snapshot import org_from_dict
from openai_casb.policy import Policy, Thresholds
from openai_casb.scanning import ScanRequest, ScanResult, run_scan
from openai_casb.store import Store
from tests.scanning.oracle import T

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DAY = 86_400


def _ts(days_ago: float) -> int:
    return int(NOW.timestamp() - days_ago * DAY)


def snapshot(login_days_ago: int) -> dict[str, Any]:
    return {
        "organization": {"id": "org-logins"},
        "admin": {
            "users": [{"object": "organization.user", "id": "u-login", "name": "A", "email": "a@example.com",
                       "role": "reader", "added_at": _ts(1000), "is_service_account": False,
                       "api_key_last_used_at": None}],
            "audit_logs": [{"object": "organization.audit_log", "id": "ev1", "type": "login.succeeded",
                            "effective_at": _ts(login_days_ago),
                            "actor": {"type": "session",
                                      "session": {"user": {"id": "u-login", "email": "a@example.com"}}}}],
        },
    }


def scan(data: dict[str, Any], store: Store, policy: Policy, **settings: Any) -> ScanResult:
    with running_emulator(org_from_dict(data), EmulatorConfig(rate_limit_scale=100)) as emulator:
        configured = settings_for_emulator(emulator).model_copy(
            update={"compliance_key": None, "workspace_id": None, **settings}
        )
        return asyncio.run(run_scan(store, ScanRequest(settings=configured, policy=policy), now=NOW))


def inactive(store: Store) -> list[Any]:
    return [i for i in store.list_instances(limit=100) if i.finding_type_id == T["inactive_user"]]


def test_login_older_than_the_lookback_but_within_the_threshold_keeps_a_person_active(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "db.sqlite"))
    policy = Policy(thresholds=Thresholds(inactive_user_days=500))
    scan(snapshot(450), store, policy)  # default lookback: 400 days
    assert inactive(store) == []


def test_lookback_lowered_below_the_threshold_reports_no_one_falsely(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "db.sqlite"))
    scan(snapshot(30), store, Policy(), audit_log_lookback_days=7)
    assert inactive(store) == []


def test_evidence_of_a_person_without_a_login_in_the_window_names_the_window(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "db.sqlite"))
    scan(snapshot(450), store, Policy())  # threshold 90, lookback 400: the login is not read
    (instance,) = inactive(store)
    evidence = instance.evidence
    assert "no login in the 400 days of audit log read" in evidence["summary"]
    assert evidence["signals"]["last_login_at"]["read_days"] == 400
    assert evidence["signals"]["last_login_at"]["source_state"] == "complete"
