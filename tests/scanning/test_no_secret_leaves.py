"""After a full scan with planted keys and sensitive values, none of them appears in plain form in a
log line, a database row, a CLI output or an export."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openai_casb.cli.app import app
from openai_casb.cli.demo_cmd import settings_for_emulator
from openai_casb.emulator import EmulatorConfig, generate_org, running_emulator
from openai_casb.policy import Policy
from openai_casb.scanning import ScanRequest, run_scan
from openai_casb.store import Store
from tests.db_dump import database_text

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ADMIN_KEY = "sk-admin-PLANTEDadminKEY0123456789abcdefghijklmnopqrstuv"
COMPLIANCE_KEY = "sk-proj-PLANTEDcomplianceKEY0123456789abcdefghijklmn"
EXPORT_FORMATS = ("json", "csv", "ocsf", "sarif", "html", "markdown")


def _needles(planted: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    needles = {"admin key": ADMIN_KEY, "admin key body": ADMIN_KEY[12:40],
               "compliance key": COMPLIANCE_KEY, "compliance key body": COMPLIANCE_KEY[12:40]}
    for file_id, values in planted.items():
        for kind, value in values:
            # PEM blocks are matched on their body; every other value whole.
            body = value.splitlines()[1] if value.startswith("-----BEGIN") else value
            needles[f"{kind} in {file_id}"] = body
    return needles


def test_no_key_or_planted_value_leaves_the_scanner(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    org = generate_org("users=60,gpts=20,chatgpt_projects=6,conversations=80,files=40,admin_keys=3", seed=3, now=NOW)
    needles = _needles(org.planted_files())
    assert len(needles) > 6, "the generated org should plant sensitive values"
    db = tmp_path / "secrets.db"
    caplog.set_level(logging.DEBUG)
    config = EmulatorConfig(admin_key=ADMIN_KEY, compliance_key=COMPLIANCE_KEY, rate_limit_scale=100)
    with running_emulator(org, config) as emulator, Store.open(str(db)) as store:
        request = ScanRequest(settings=settings_for_emulator(emulator), policy=Policy())
        result = asyncio.run(run_scan(store, request, now=NOW))
    assert result.dlp.matched, "the scan should have found the planted values"

    outputs = {"logs": "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records)}
    outputs["database"] = database_text(f"sqlite:///{db}")
    runner = CliRunner()
    for name, args in {
        "findings table": ["findings", "--db", str(db), "--status", "all"],
        "findings json": ["findings", "--db", str(db), "--format", "json", "--status", "all"],
        "scans": ["scans", "--db", str(db)],
        **{f"export {fmt}": ["export", "--db", str(db), "--format", fmt] for fmt in EXPORT_FORMATS},
        "events": ["events", "--db", str(db), "--format", "jsonl"],
    }.items():
        run = runner.invoke(app, args)
        assert run.exit_code == 0, f"{name}: {run.output[-1000:]}"
        outputs[name] = run.output
    leaks = [f"{what} in {where}" for where, body in outputs.items() for what, needle in needles.items()
             if needle in body]
    assert leaks == []
