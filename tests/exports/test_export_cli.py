"""`openai-casb export` and `events` over a real (SQLite) store filled by two scans."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openai_casb.checks.registry import default_registry
from openai_casb.cli.app import app
from openai_casb.detections import AssetRef, Detection
from openai_casb.exports.events import EVENT_FIELDS
from openai_casb.inventory.model import AssetKind
from openai_casb.store import Store

UNUSED_ADMIN_KEY = "49c75a36-1e64-437b-98a1-e54ec35d0a64"
GPT_ACTIONS = "5a2995f5-0cc1-4af3-9045-cdf7e6601f7b"
DLP_CONVERSATION = "9aca654d-b331-4052-a5b4-2ceecced8676"
runner = CliRunner()


def _key(asset_id: str) -> Detection:
    return Detection(UNUSED_ADMIN_KEY, AssetRef(AssetKind.ADMIN_API_KEY, asset_id, name=f"key {asset_id}"),
                     {"redacted_value": "sk-admin...abc"})  # fmt: skip


def _gpt(asset_id: str) -> Detection:
    return Detection(GPT_ACTIONS, AssetRef(AssetKind.GPT, asset_id, name=f"<b>GPT {asset_id}</b>",
                                           link=f"https://chatgpt.com/g/{asset_id}"),
                     {"action_domains": ["api.example.com"]})  # fmt: skip


def _file(asset_id: str) -> Detection:
    return Detection(DLP_CONVERSATION, AssetRef(AssetKind.CONVERSATION_FILE, asset_id, name="payroll.xlsx",
                                                email="alice@acme.example"),
                     {"matched_profiles": ["Financial information"], "masked_samples": ["****-1234"]})  # fmt: skip


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'casb.db'}"
    registry = default_registry()
    all_types = [check.id for check in registry]
    with Store.open(url) as store:
        store.sync_finding_types(registry.infos())
        integration = store.ensure_integration("org-acme", "ws-acme", "Acme")
        for day, detections in ((1, [_key("k1"), _key("k2"), _gpt("g1")]), (2, [_key("k1"), _gpt("g1"), _file("f1")])):
            at = datetime(2026, 3, day, tzinfo=UTC)
            scan_id = store.begin_scan(integration.id, started_at=at)
            store.finish_scan(scan_id, detections=detections, evaluated_type_ids=all_types,
                              complete_type_ids=all_types, finished_at=at)  # fmt: skip
    return url


def test_export_every_format_to_a_file(db: str, tmp_path: Path) -> None:
    for name in ("json", "csv", "ocsf", "sarif", "html", "markdown"):
        target = tmp_path / f"out.{name}"
        result = runner.invoke(app, ["export", "--format", name, "--db", db, "--output", str(target)])
        assert result.exit_code == 0, result.output
        assert target.read_text(encoding="utf-8")


def test_export_json_carries_catalog_remediation(db: str) -> None:
    result = runner.invoke(app, ["export", "--format", "json", "--db", db])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert sorted(r["asset"]["id"] for r in records) == ["f1", "g1", "k1"]  # k2 resolved by scan 2
    gpt = next(r for r in records if r["asset"]["id"] == "g1")
    assert gpt["remediation"]["steps"]
    assert gpt["remediation"]["console_url"].startswith("https://")


def test_export_filters_status_severity_type(db: str) -> None:
    resolved = runner.invoke(app, ["export", "-f", "csv", "--db", db, "--status", "resolved"])
    rows = list(csv.DictReader(io.StringIO(resolved.stdout)))
    assert [(r["asset_id"], r["status"]) for r in rows] == [("k2", "resolved")]
    high = json.loads(runner.invoke(app, ["export", "-f", "json", "--db", db, "--severity", "high"]).stdout)
    assert sorted(r["asset"]["id"] for r in high) == ["f1", "g1"]
    by_type = json.loads(runner.invoke(app, ["export", "-f", "json", "--db", db, "--type", GPT_ACTIONS]).stdout)
    assert [r["asset"]["id"] for r in by_type] == ["g1"]


def test_export_ocsf_marks_new_and_dlp_classes(db: str) -> None:
    events = json.loads(runner.invoke(app, ["export", "-f", "ocsf", "--db", db]).stdout)
    by_asset = {e["resources"][0]["uid"]: e for e in events}
    assert by_asset["f1"]["class_uid"] == 2006
    assert by_asset["f1"]["status_id"] == 1  # first seen by the latest scan
    assert by_asset["g1"]["status_id"] == 2  # seen before: in progress


def test_events_stream(db: str) -> None:
    result = runner.invoke(app, ["events", "--db", db, "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(tuple(line) == EVENT_FIELDS for line in lines)
    assert sorted((line["AssetExternalID"], line["EventType"]) for line in lines) == [
        ("f1", "detected"), ("g1", "detected"), ("k1", "detected"), ("k2", "detected"), ("k2", "resolved"),
    ]  # fmt: skip
    since = runner.invoke(app, ["events", "--db", db, "--since", "1"])
    assert sorted(json.loads(line)["AssetExternalID"] for line in since.stdout.splitlines()) == ["f1", "k2"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["export", "-f", "json", "--severity", "urgent"], "unknown severity 'urgent'"),
        (["export", "-f", "json", "--integration", "nope"], "no integration 'nope'"),
        (["export", "-f", "json", "--type", "not-a-type"], "not-a-type"),
        (["export", "-f", "xml"], "xml"),
        (["events", "--since", "-1"], "greater than or equal to 0"),
        (["events", "--integration", "nope"], "no integration 'nope'"),
    ],
)
def test_bad_input_gives_a_clear_error(db: str, arguments: list[str], message: str) -> None:
    result = runner.invoke(app, [*arguments, "--db", db])
    assert result.exit_code == 2  # usage errors exit 2 (README, Exit codes)
    assert message in result.output
    assert "Traceback" not in result.output


def test_unwritable_output_is_a_clear_error(db: str, tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "out.json"
    result = runner.invoke(app, ["export", "-f", "json", "--db", db, "--output", str(target)])
    assert result.exit_code == 1
    assert "cannot write" in result.output
