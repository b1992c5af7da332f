"""Ignored finding types and severity overrides in every export format.

`openai-casb ignore TYPE` keeps a type evaluated but its instances apart and out of open counts
(docs/lifecycle.md); each format says so the way its consumers read it. A severity override
(`openai-casb severity TYPE LEVEL`) must reach the SARIF rule, which GitHub ranks alerts by.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from export_fixtures import (
    ADMIN_KEY_UNUSED,
    GPT_ACTIONS,
    GPT_INSTANCE,
    INTEGRATION,
    KEY_INSTANCE,
    STALE_INVITE,
    T0,
    T1,
    sample_report,
)
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from test_ocsf_schema import CHECKER
from typer.testing import CliRunner

from openai_casb.checks.registry import default_registry
from openai_casb.cli.app import app
from openai_casb.detections import AssetRef, Detection, Severity
from openai_casb.exports.csv_export import CSV_COLUMNS, render_csv
from openai_casb.exports.html import render_html
from openai_casb.exports.json_export import render_json
from openai_casb.exports.markdown import render_markdown
from openai_casb.exports.model import ExportFinding, ExportInstance, ExportReport
from openai_casb.exports.ocsf import build_ocsf
from openai_casb.exports.sarif import build_sarif
from openai_casb.exports.summary import summarize
from openai_casb.inventory.model import AssetKind
from openai_casb.store import Store

SARIF_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0-rtm.5.json").read_text(encoding="utf-8"))
runner = CliRunner()


def _invite(index: int, status: str = "active") -> ExportInstance:
    return ExportInstance(
        instance_id=f"inst-ign-{index}",
        status=status,  # type: ignore[arg-type]  # one of INSTANCE_STATUSES
        asset=AssetRef(kind=AssetKind.INVITE, id=f"invite-ign-{index}", email=f"person{index}@acme.example"),
        evidence={"age_days": 40 + index},
        first_detected=T0,
        last_detected=T1,
        resolved_at=T1 if status == "resolved" else None,
    )


IGNORED_INSTANCES = (_invite(1), _invite(2))


def _report() -> ExportReport:
    """The sample report plus an ignored finding type (two open instances, Medium like the key finding)."""
    ignored = ExportFinding(INTEGRATION, replace(STALE_INVITE, severity=Severity.MEDIUM), Severity.MEDIUM,
                            IGNORED_INSTANCES, ignored=True)  # fmt: skip
    return replace(sample_report(), findings=(*sample_report().findings, ignored), filters={"status": "active"})


def _ids(records: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return {record["instance_id"]: record[key] for record in records}


# --- JSON and CSV: a field / a last column, existing ones unchanged ---


def test_json_marks_instances_of_ignored_types() -> None:
    records = json.loads(render_json(_report()))
    by_asset = {r["asset"]["id"]: r for r in records}
    assert by_asset["invite-ign-1"]["finding_status"] == "ignored"
    assert by_asset["invite-ign-2"]["finding_status"] == "ignored"
    assert by_asset["g-abc123"]["finding_status"] == "active"
    assert by_asset["key_abc"]["finding_status"] == "active"  # hidden instance, finding type not ignored
    assert by_asset["invite-ign-1"]["status"] == "active"  # the instance's own status is untouched


def test_csv_appends_finding_status_as_the_last_column() -> None:
    assert CSV_COLUMNS[-1] == "finding_status"
    assert CSV_COLUMNS[:-1][-2:] == ("evidence", "remediation_url")  # earlier columns keep their places
    rows = list(csv.DictReader(io.StringIO(render_csv(_report()))))
    assert _ids(rows, "finding_status") == {
        "inst-gpt-1": "active", "inst-key-1": "active", "inst-inv-1": "active", "inst-dlp-1": "active",
        "inst-ign-1": "ignored", "inst-ign-2": "ignored",
    }  # fmt: skip


# --- SARIF: suppressions on results, effective severity on rules ---


def _results(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["partialFingerprints"]["instanceId/v1"]: r for r in document["runs"][0]["results"]}


def test_sarif_suppresses_results_of_ignored_types() -> None:
    document = build_sarif(_report())
    jsonschema.validate(document, SARIF_SCHEMA)
    results = _results(document)
    for instance_id in ("inst-ign-1", "inst-ign-2"):
        (suppression,) = results[instance_id]["suppressions"]
        assert suppression["kind"] == "external"
        assert suppression["status"] == "accepted"
        assert "ignored" in suppression["justification"]
        assert results[instance_id]["properties"]["findingStatus"] == "ignored"
    assert "suppressions" not in results["inst-gpt-1"]
    assert results["inst-gpt-1"]["properties"]["findingStatus"] == "active"


def test_sarif_hidden_instance_of_an_ignored_type_carries_both_suppressions() -> None:
    hidden = replace(_invite(3, "hidden"), hidden_reason="known contractor")
    report = replace(_report(), findings=(ExportFinding(INTEGRATION, STALE_INVITE, Severity.LOW, (hidden,),
                                                        ignored=True),))  # fmt: skip
    document = build_sarif(report)
    jsonschema.validate(document, SARIF_SCHEMA)
    justifications = [s["justification"] for s in _results(document)["inst-ign-3"]["suppressions"]]
    assert justifications[0] == "known contractor"
    assert "ignored" in justifications[1]


def _rule(document: dict[str, Any], type_id: str) -> dict[str, Any]:
    return next(rule for rule in document["runs"][0]["tool"]["driver"]["rules"] if rule["id"] == type_id)


def test_sarif_rule_uses_the_overridden_severity() -> None:
    overridden = replace(sample_report(), findings=(
        ExportFinding(INTEGRATION, STALE_INVITE, Severity.CRITICAL, (_invite(1),)),  # catalog default: Low
        ExportFinding(INTEGRATION, GPT_ACTIONS, Severity.LOW, (GPT_INSTANCE,)),  # catalog default: High
    ))  # fmt: skip
    document = build_sarif(overridden)
    jsonschema.validate(document, SARIF_SCHEMA)
    invite_rule = _rule(document, STALE_INVITE.id)
    assert invite_rule["defaultConfiguration"]["level"] == "error"
    assert invite_rule["properties"]["security-severity"] == "9.5"
    gpt_rule = _rule(document, GPT_ACTIONS.id)
    assert gpt_rule["defaultConfiguration"]["level"] == "note"
    assert gpt_rule["properties"]["security-severity"] == "3.0"
    # The result level and the rule agree.
    assert _results(document)["inst-ign-1"]["level"] == invite_rule["defaultConfiguration"]["level"]


def test_sarif_rule_shared_by_integrations_takes_the_highest_open_severity() -> None:
    other = replace(INTEGRATION, id="int-other", display_name="Other")
    report = replace(sample_report(), findings=(
        ExportFinding(INTEGRATION, ADMIN_KEY_UNUSED, Severity.HIGH, (KEY_INSTANCE,)),
        ExportFinding(other, ADMIN_KEY_UNUSED, Severity.LOW, (replace(KEY_INSTANCE, instance_id="k-2"),)),
        # Ignored elsewhere: its override does not rank the rule while open findings exist.
        ExportFinding(replace(other, id="int-3"), ADMIN_KEY_UNUSED, Severity.CRITICAL,
                      (replace(KEY_INSTANCE, instance_id="k-3"),), ignored=True),
    ))  # fmt: skip
    rule = _rule(build_sarif(report), ADMIN_KEY_UNUSED.id)
    assert (rule["defaultConfiguration"]["level"], rule["properties"]["security-severity"]) == ("error", "8.0")
    only_ignored = replace(report, findings=report.findings[2:])
    rule = _rule(build_sarif(only_ignored), ADMIN_KEY_UNUSED.id)
    assert rule["properties"]["security-severity"] == "9.5"


# --- OCSF: status_id 3 Suppressed ---


def test_ocsf_instances_of_ignored_types_are_suppressed() -> None:
    resolved = _invite(4, "resolved")
    report = replace(_report(), findings=(*_report().findings,
                                          ExportFinding(INTEGRATION, STALE_INVITE, Severity.LOW, (resolved,),
                                                        ignored=True)))  # fmt: skip
    events = {e["finding_info"]["uid"]: e for e in build_ocsf(report)}
    for instance_id in ("inst-ign-1", "inst-ign-2"):
        event = events[instance_id]
        assert (event["status_id"], event["status"]) == (3, "Suppressed")
        assert "ignored" in event["status_detail"]
        ComplianceFinding.model_validate(event)
    assert events["inst-ign-4"]["status_id"] == 4  # resolved stays resolved
    assert events["inst-gpt-1"]["status_id"] == 1
    assert "status_detail" not in events["inst-gpt-1"]
    assert {uid: CHECKER.check_event(e) for uid, e in events.items() if CHECKER.check_event(e)} == {}


# --- Markdown and HTML: open counts exclude ignored, listed apart ---


def test_summary_counts_ignored_apart() -> None:
    summary = summarize(_report())
    by_severity = {count.severity: count.count for count in summary.by_severity}
    assert by_severity[Severity.MEDIUM] == 1  # the hidden key only; the two ignored invites are apart
    assert summary.total_instances == 4
    assert dict(summary.by_status) == {"active": 2, "hidden": 1, "resolved": 1}
    assert [(i.finding_type, i.severity, i.instances) for i in summary.ignored] == [
        ("OpenAI: Stale pending invite", Severity.MEDIUM, 2)
    ]
    assert summary.ignored_instances == 2


def test_markdown_lists_ignored_types_apart() -> None:
    text = render_markdown(_report())
    assert "| Medium | 1 |" in text
    assert "| Medium | 3 |" not in text
    findings_part, ignored_part = text.split("## Ignored finding types")
    assert "person1@acme.example" not in findings_part
    assert "person1@acme.example" in ignored_part
    assert "Stale pending invite" in ignored_part
    assert "| 2 |" in ignored_part
    assert "Still evaluated" in ignored_part
    # The non-ignored Stale pending invite finding (resolved instance) stays among findings.
    assert "new.hire@acme.example" in findings_part


def test_html_lists_ignored_types_apart() -> None:
    html = render_html(_report())
    findings_part, ignored_part = html.split("<h2>Ignored finding types")
    assert "4 instance(s); 2 active; 1 hidden; 1 resolved." in findings_part
    assert "person1@acme.example" not in findings_part
    assert "person1@acme.example" in ignored_part
    assert "<title>Medium: 1</title>" in findings_part  # chart bar counts open instances only
    assert "2 instance(s) of ignored finding types" in findings_part


def test_reports_without_ignored_types_have_no_ignored_section() -> None:
    assert "Ignored finding types" not in render_markdown(sample_report())
    assert "Ignored finding types" not in render_html(sample_report())


# --- End to end over a real store: `ignore` and `severity`, then `export` ---

STALE_INVITE_NAME = "OpenAI: Stale pending invite"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'casb.db'}"
    registry = default_registry()
    all_types = [check.id for check in registry]
    invite_id = registry.resolve(STALE_INVITE_NAME).id  # type: ignore[union-attr]
    with Store.open(url) as store:
        store.sync_finding_types(registry.infos())
        integration = store.ensure_integration("org-acme", "ws-acme", "Acme")
        detections = [
            Detection(invite_id, AssetRef(AssetKind.INVITE, f"inv-{n}", email=f"p{n}@acme.example"), {"age_days": 45})
            for n in range(2)
        ]
        at = datetime(2026, 3, 1, tzinfo=UTC)
        scan_id = store.begin_scan(integration.id, started_at=at)
        store.finish_scan(scan_id, detections=detections, evaluated_type_ids=all_types,
                          complete_type_ids=all_types, finished_at=at)  # fmt: skip
    return url


def _cli(*arguments: str) -> str:
    result = runner.invoke(app, list(arguments))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_cli_export_after_ignore(db: str) -> None:
    _cli("ignore", STALE_INVITE_NAME, "--db", db)
    records = json.loads(_cli("export", "-f", "json", "--db", db))
    assert {r["finding_status"] for r in records} == {"ignored"}  # listed, as `findings` lists them, but marked
    rows = list(csv.DictReader(io.StringIO(_cli("export", "-f", "csv", "--db", db))))
    assert {r["finding_status"] for r in rows} == {"ignored"}
    assert {e["status_id"] for e in json.loads(_cli("export", "-f", "ocsf", "--db", db))} == {3}
    results = json.loads(_cli("export", "-f", "sarif", "--db", db))["runs"][0]["results"]
    assert all(r["suppressions"][0]["status"] == "accepted" for r in results)
    assert len(results) == 2
    markdown = _cli("export", "-f", "markdown", "--db", db)
    assert "| Low | 0 |" in markdown
    assert "## Ignored finding types" in markdown
    _cli("unignore", STALE_INVITE_NAME, "--db", db)
    assert {r["finding_status"] for r in json.loads(_cli("export", "-f", "json", "--db", db))} == {"active"}


def test_cli_sarif_rule_follows_severity_override(db: str) -> None:
    _cli("severity", STALE_INVITE_NAME, "critical", "--db", db)
    document = json.loads(_cli("export", "-f", "sarif", "--db", db))
    jsonschema.validate(document, SARIF_SCHEMA)
    (rule,) = document["runs"][0]["tool"]["driver"]["rules"]
    assert rule["defaultConfiguration"]["level"] == "error"
    assert rule["properties"]["security-severity"] == "9.5"
    assert {r["level"] for r in document["runs"][0]["results"]} == {"error"}
