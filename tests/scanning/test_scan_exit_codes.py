"""`openai-casb scan` exit codes, as a cron or CI wrapper reads them: 0 for a scan that read something
(complete or partial), 3 for `--fail-on`, 4 for a scan that failed (no source could be read)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from openai_casb.cli.app import app
from openai_casb.cli.scan_display import active_at_or_above
from openai_casb.detections import Severity
from openai_casb.emulator import EmulatorConfig, RunningEmulator, generate_org, running_emulator
from openai_casb.emulator.org import Org
from openai_casb.store import ScanStatus, Store
from tests.emulated_cli import emulator_cli_env

ORG = "users=8,invites=2,projects=2,keys_per_project=2,admin_keys=2,gpts=3,chatgpt_projects=2,conversations=6,files=3"


@pytest.fixture(scope="module")
def org() -> Org:
    return generate_org(ORG, seed=2)


@pytest.fixture(scope="module")
def emulator(org: Org) -> Iterator[RunningEmulator]:
    with running_emulator(org, EmulatorConfig(rate_limit_scale=100)) as running:
        yield running


def scan(emulator: RunningEmulator, db: Path, *args: str, keys: tuple[str, str] | None = None) -> Result:
    admin_key, compliance_key = keys or (emulator.admin_key, emulator.compliance_key)
    env = emulator_cli_env(emulator, OPENAI_ADMIN_KEY=admin_key, OPENAI_COMPLIANCE_KEY=compliance_key)
    return CliRunner().invoke(app, ["scan", "--db", str(db), *args], env=env)


def statuses(db: Path) -> list[ScanStatus]:
    with Store.open(str(db)) as store:
        return [s.status for s in sorted(store.list_scans(), key=lambda s: s.id)]


def test_a_scan_with_wrong_keys_fails_with_exit_4_even_under_fail_on(emulator: RunningEmulator, tmp_path: Path) -> None:
    db = tmp_path / "casb.db"
    assert scan(emulator, db).exit_code == 0  # findings stored, which --fail-on low would see
    wrong = ("sk-admin-wrong-000000000000000000", "sk-compliance-wrong-0000000000000")
    run = scan(emulator, db, "--fail-on", "low", keys=wrong)
    assert run.exit_code == 4, run.output
    assert statuses(db) == [ScanStatus.COMPLETE, ScanStatus.FAILED]
    with Store.open(str(db)) as store:
        (scan_id,) = [s.id for s in store.list_scans() if s.status == ScanStatus.FAILED]
    assert f"error: scan #{scan_id} failed: no source could be read" in run.output
    assert "wrong-000" not in run.output, "a key is never printed"


def test_a_partial_scan_exits_0_and_fail_on_still_exits_3(
    org: Org, emulator: RunningEmulator, tmp_path: Path
) -> None:
    db = tmp_path / "casb.db"
    one_project = ("--project-id", org.projects.item(0)["id"])  # the org-wide reads are then incomplete
    run = scan(emulator, db, *one_project)
    assert run.exit_code == 0, run.output
    fail_on = scan(emulator, db, *one_project, "--fail-on", "low")
    assert fail_on.exit_code == 3, fail_on.output
    assert statuses(db) == [ScanStatus.PARTIAL, ScanStatus.PARTIAL]


def test_fail_on_help_names_every_severity_it_accepts() -> None:
    shown = CliRunner().invoke(app, ["scan", "--help"], env={"COLUMNS": "300"})
    assert shown.exit_code == 0
    assert "(info|low|medium|high|critical)" in shown.stdout
    assert "(low|medium|high)" not in shown.stdout


@pytest.mark.parametrize("level", ["info", "critical"])
def test_fail_on_accepts_info_and_critical(emulator: RunningEmulator, tmp_path: Path, level: str) -> None:
    db = tmp_path / "casb.db"
    run = scan(emulator, db, "--fail-on", level)
    with Store.open(str(db)) as store:
        (integration,) = store.integrations()
        expected = 3 if active_at_or_above(store, integration.id, Severity.parse(level)) else 0
    assert run.exit_code == expected, run.output
    assert "error:" not in run.output


def test_an_unknown_fail_on_severity_is_a_usage_error(emulator: RunningEmulator, tmp_path: Path) -> None:
    run = scan(emulator, tmp_path / "casb.db", "--fail-on", "extreme")
    assert run.exit_code == 2
    assert "unknown severity 'extreme'" in run.output
    assert not (tmp_path / "casb.db").exists() or statuses(tmp_path / "casb.db") == []
