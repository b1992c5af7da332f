"""A policy whose DLP settings cannot be used stops `openai-casb scan` before anything is recorded.

Bad `dlp.limits` fail the policy file at load; an EDM file that cannot be read fails building the DLP
engine, which the CLI does before the scan is begun. Either way: exit 2, the documented message, no
traceback, and no scan (nor integration) in the store. A caller that does not build the engine
first (the web launcher) gets the failure recorded on the scan instead.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from openai_casb.config import Settings
from openai_casb.policy import parse_policy
from openai_casb.scanning import ScanRequest, run_scan
from openai_casb.scanning.run import DlpSetup, DlpSetupError
from openai_casb.store import ScanStatus, Store

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
MISSING_CSV = "/nonexistent/customers.csv"
NO_FILE = "No such file or directory"
EDM_POLICY = f"dlp: {{custom_profiles: [{{name: X, entries: [{{kind: edm, name: e, csv_path: {MISSING_CSV}}}]}}]}}\n"
# Port 9 (discard) is never listened on: a scan that got as far as reading would fail its sources.
ENV = {
    "OPENAI_ADMIN_KEY": "sk-admin-test-0000000000000000",
    "OPENAI_COMPLIANCE_KEY": "sk-compliance-test-000000000000",
    "OPENAI_ORG_ID": "org-test",
    "CHATGPT_WORKSPACE_ID": "ws-test",
    "OPENAI_ADMIN_BASE_URL": "http://127.0.0.1:9/v1",
    "CHATGPT_COMPLIANCE_BASE_URL": "http://127.0.0.1:9/v1",
    "OPENAI_CASB_CONFIG": "",
}


@pytest.mark.parametrize(
    ("policy", "stderr_lines"),
    [
        (EDM_POLICY, [f"error: DLP settings of the policy: cannot read EDM file {MISSING_CSV}: {NO_FILE}"]),
        ("dlp: {limits: {bogus: 1}}\n", [
            "error: policy file {path} is invalid:",
            "  dlp.limits.bogus: Extra inputs are not permitted (got 1)",
        ]),
        ("dlp: {limits: {max_file_bytes: -1}}\n", [
            "error: policy file {path} is invalid:",
            "  dlp.limits.max_file_bytes: Input should be greater than 0 (got -1)",
        ]),
        ("mutelist:\n  - asset_id: x\n    reason: ok\n    expires: 2026-02-30\n",
         ["error: policy file {path}: not valid YAML: a date or time that does not exist (line 4, column 14)"]),
    ],
    ids=["edm-file-missing", "unknown-limit", "negative-limit", "impossible-date"],
)
def test_cli_scan_refuses_the_policy_before_recording_a_scan(
    tmp_path: Path, policy: str, stderr_lines: list[str]
) -> None:
    db, path = tmp_path / "casb.db", tmp_path / "policy.yaml"
    path.write_text(policy, encoding="utf-8")
    Store.open(str(db)).close()  # migrated and empty, so that "no row" is a real observation
    done = subprocess.run(
        [sys.executable, "-m", "openai_casb.cli", "scan", "--db", str(db)],
        env={**os.environ, **ENV, "OPENAI_CASB_POLICY": str(path)},
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.splitlines() == [line.format(path=path) for line in stderr_lines]
    with Store.open(str(db)) as store:
        assert store.list_scans() == []
        assert store.integrations() == []


def test_without_a_setup_run_scan_records_the_failure_on_the_scan(store: Store) -> None:
    """The web launcher returns the scan id at once: the scan itself must say why it failed."""
    settings = Settings.model_validate({key: ENV[env] for env, key in (
        ("OPENAI_ADMIN_KEY", "admin_key"), ("OPENAI_ORG_ID", "org_id"), ("OPENAI_ADMIN_BASE_URL", "admin_base_url"),
    )})
    request = ScanRequest(settings=settings, policy=parse_policy(EDM_POLICY))
    begun: list[int] = []
    with pytest.raises(DlpSetupError, match="cannot read EDM file"):
        asyncio.run(run_scan(store, request, now=NOW, on_begin=begun.append))
    (scan,) = store.list_scans()
    assert [scan.id] == begun
    assert scan.status == ScanStatus.FAILED
    assert scan.errors == [
        f"scan aborted: DlpSetupError: DLP settings of the policy: cannot read EDM file {MISSING_CSV}: {NO_FILE}"
    ]


def test_an_engine_error_of_another_kind_is_named_not_quoted(monkeypatch: pytest.MonkeyPatch) -> None:
    # A regex backend's own error may quote the pattern, which may spell a DLP value.
    def refuse(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError("cannot compile Project-Falcon-\\d{4}")

    monkeypatch.setattr("openai_casb.scanning.run.DlpEngine.from_settings", refuse)
    with pytest.raises(DlpSetupError) as caught:
        DlpSetup.from_policy(parse_policy(""))
    assert str(caught.value) == "DLP settings of the policy: the DLP engine could not be built (RuntimeError)"
