"""Behaviour of the formats beyond their golden files: schemas, escaping, mappings, secret guard."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from export_fixtures import DLP_INSTANCE, GPT_INSTANCE, INTEGRATION, KEY_INSTANCE, empty_report, sample_report
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding

from openai_casb.detections import Severity
from openai_casb.exports.csv_export import CSV_COLUMNS, render_csv
from openai_casb.exports.events import EVENT_FIELDS
from openai_casb.exports.formats import RENDERERS, render
from openai_casb.exports.html import render_html
from openai_casb.exports.json_export import render_json
from openai_casb.exports.model import IGNORED_JUSTIFICATION, ExportFinding, ExportReport
from openai_casb.exports.ocsf import DataSecurityFinding, build_ocsf
from openai_casb.exports.safety import PlainSecretError, find_plain_secrets
from openai_casb.exports.sarif import build_sarif, sarif_level

SARIF_SCHEMA = Path(__file__).parent / "schemas" / "sarif-2.1.0-rtm.5.json"


def _by_instance(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {event["finding_info"]["uid"]: event for event in events}


def test_csv_header_is_pinned() -> None:
    assert CSV_COLUMNS == (
        "integration_id", "integration_name", "finding_type_id", "finding_type", "group", "severity", "status",
        "new", "instance_id", "asset_kind", "asset_id", "asset_name", "asset_email", "asset_link",
        "first_detected", "last_detected", "resolved_at", "evidence", "remediation_url", "finding_status",
    )  # fmt: skip
    rows = list(csv.reader(io.StringIO(render_csv(sample_report()))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 5


def test_csv_neutralises_formulas() -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(sample_report()))))
    key_row = next(row for row in rows if row["instance_id"] == KEY_INSTANCE.instance_id)
    assert key_row["asset_name"].startswith("'=")


def test_json_has_the_findings_fields_plus_remediation() -> None:
    records = json.loads(render_json(sample_report()))
    assert {tuple(sorted(r)) for r in records} == {
        tuple(sorted(["finding_type_id", "finding_type", "severity", "status", "asset", "evidence",
                      "first_detected", "last_detected", "remediation", "finding_status",
                      "id", "integration_id", "resolved_at"]))
    }  # fmt: skip
    assert records[0]["asset"] == {
        "kind": "gpt", "id": "g-abc123", "name": GPT_INSTANCE.asset.name, "email": "owner@acme.example",
        "link": "https://chatgpt.com/g/g-abc123",
    }  # fmt: skip


def test_ocsf_classes_statuses_and_library_validation() -> None:
    events = _by_instance(build_ocsf(sample_report()))
    assert {uid: e["class_uid"] for uid, e in events.items()} == {
        "inst-gpt-1": 2003, "inst-key-1": 2003, "inst-inv-1": 2003, "inst-dlp-1": 2006,
    }  # fmt: skip
    assert {uid: e["status_id"] for uid, e in events.items()} == {
        "inst-gpt-1": 1, "inst-key-1": 3, "inst-inv-1": 4, "inst-dlp-1": 2,
    }  # fmt: skip
    for event in events.values():
        model = DataSecurityFinding if event["class_uid"] == 2006 else ComplianceFinding
        model.model_validate(event)  # the library's pydantic models enforce required attributes and enums
        assert event["type_uid"] == event["class_uid"] * 100 + event["activity_id"]
        assert event["metadata"]["product"] == {"name": "openai-casb", "vendor_name": "openai-casb project",
                                                "version": "0.1.0"}  # fmt: skip
        # Data Security Finding has no remediation attribute in OCSF: it travels in `unmapped`.
        assert (event.get("remediation") or event["unmapped"]["remediation"])["desc"]
        assert event["resources"][0]["uid"]
        assert event["finding_info"]["first_seen_time"] <= event["finding_info"]["last_seen_time"]
    assert events["inst-inv-1"]["activity_id"] == 3  # resolved -> Close
    assert events["inst-inv-1"]["compliance"]["status_id"] == 1  # Pass once resolved
    assert events["inst-dlp-1"]["data_security"]["detection_pattern"] == "Financial information"
    assert events["inst-dlp-1"]["file"] == {"name": "payroll.xlsx", "uid": "file-xyz", "type_id": 1,
                                            "type": "Regular File"}  # fmt: skip


def test_ocsf_severity_mapping_follows_effective_severity() -> None:
    report = sample_report()
    critical = replace(report, findings=(ExportFinding(INTEGRATION, report.findings[3].finding_type,
                                                       Severity.CRITICAL, (GPT_INSTANCE,)),))  # fmt: skip
    (event,) = build_ocsf(critical)
    assert (event["severity_id"], event["severity"]) == (5, "Critical")


def test_sarif_validates_against_the_2_1_0_schema() -> None:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    document = build_sarif(sample_report())
    jsonschema.validate(document, schema)
    run = document["runs"][0]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == [
        "5a2995f5-0cc1-4af3-9045-cdf7e6601f7b", "49c75a36-1e64-437b-98a1-e54ec35d0a64",
        "18fd5b21-8489-485e-9c93-0bd4a696e724", "9aca654d-b331-4052-a5b4-2ceecced8676",
    ]  # fmt: skip
    levels = {r["partialFingerprints"]["instanceId/v1"]: r["level"] for r in run["results"]}
    assert levels == {"inst-gpt-1": "error", "inst-key-1": "warning", "inst-inv-1": "none", "inst-dlp-1": "error"}
    hidden = next(r for r in run["results"] if r["partialFingerprints"]["instanceId/v1"] == "inst-key-1")
    assert hidden["suppressions"] == [{"kind": "external", "status": "accepted",
                                       "justification": "break-glass key, reviewed"}]  # fmt: skip
    assert run["tool"]["driver"]["rules"][0]["help"]["text"].startswith("1. Open Workspace settings")


def test_sarif_resolved_results_pass_with_level_none() -> None:
    """SARIF 2.1.0 §3.27.9/§3.27.10: a resolved instance is `kind: pass`, whose `level` SHALL be
    `none`; results still open keep the default kind (fail) and their severity's level."""
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    # Every instance resolved, one of them also of an ignored type: the suppressions stay.
    resolved = replace(sample_report(), findings=tuple(
        replace(finding, ignored=index == 0,
                instances=tuple(replace(i, status="resolved", is_new=False) for i in finding.instances))
        for index, finding in enumerate(sample_report().findings)
    ))  # fmt: skip
    for report in (sample_report(), resolved):
        document = build_sarif(report)
        jsonschema.validate(document, schema)
        for result, (finding, instance) in zip(document["runs"][0]["results"], report.instance_rows(), strict=True):
            if instance.status == "resolved":
                assert (result.get("kind"), result["level"]) == ("pass", "none")
                assert result["baselineState"] == "absent"
            else:
                assert result.get("kind", "fail") == "fail"
                assert result["level"] == sarif_level(finding.severity) != "none"
            ignored = {"kind": "external", "status": "accepted", "justification": IGNORED_JUSTIFICATION}
            assert (ignored in result.get("suppressions", [])) == finding.ignored
    assert any(instance.status == "resolved" for _, instance in sample_report().instance_rows())
    assert any(finding.ignored for finding, _ in resolved.instance_rows())


def test_sarif_schema_rejects_a_broken_document() -> None:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    document = build_sarif(sample_report())
    document["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)


def test_html_is_self_contained_and_escaped() -> None:
    html = render_html(sample_report())
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    assert "<svg" in html
    assert "<style>" in html
    for external in ('src="http', "<link", "@import", "url("):
        assert external not in html
    assert "Acme &lt;Prod&gt; &amp; Co" in html
    assert "Remove the action or restrict the GPT." in html


@pytest.mark.parametrize("format_name", sorted(RENDERERS))
def test_every_format_handles_no_findings(format_name: str) -> None:
    assert render(empty_report(), format_name)


@pytest.mark.parametrize("format_name", sorted(RENDERERS))
def test_every_format_refuses_a_plain_key(format_name: str) -> None:
    leaked = replace(DLP_INSTANCE, evidence={"sample": "sk-proj-" + "A1b2C3d4" * 5})
    report = sample_report()
    report = ExportReport(
        generated_at=report.generated_at, catalog_version="1.0.0", product_version="0.1.0",
        findings=(ExportFinding(INTEGRATION, report.findings[1].finding_type, Severity.HIGH, (leaked,)),),
    )  # fmt: skip
    with pytest.raises(PlainSecretError) as caught:
        render(report, format_name)
    assert "A1b2C3d4" not in str(caught.value)


def test_redacted_keys_are_not_flagged() -> None:
    assert find_plain_secrets("sk-admin...xyz and sk-proj...abc") == []


def test_event_fields_are_exactly_the_contract() -> None:
    assert EVENT_FIELDS == (
        "FindingTypeID", "FindingTypeDisplayName", "FindingTypeSeverity", "AssetDisplayName", "AssetExternalID",
        "AssetLink", "DetectedTimestamp", "InstanceID", "IntegrationID", "IntegrationDisplayName",
        "EventType", "EventTime",
    )  # fmt: skip
    golden = (Path(__file__).parent / "golden" / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert all(tuple(json.loads(line)) == EVENT_FIELDS for line in golden)
    assert [json.loads(line)["EventType"] for line in golden] == ["detected", "hidden", "resolved", "detected",
                                                                  "detected"]  # fmt: skip


def test_the_whole_catalog_renders_and_validates() -> None:
    """One instance of every real finding type, through every format and both validators."""
    from openai_casb.checks.registry import default_registry
    from openai_casb.detections import AssetRef
    from openai_casb.exports.model import ExportInstance
    from openai_casb.exports.source import export_finding_type

    findings = []
    for index, check in enumerate(default_registry()):
        finding_type = export_finding_type(check.metadata)
        instance = ExportInstance(
            instance_id=str(index), status="active", is_new=index % 2 == 0,
            asset=AssetRef(finding_type.asset_kind, f"asset-{index}", name=f"asset {index}"),
            evidence={"matched_profiles": ["PII"]} if finding_type.is_dlp else {"n": index},
            first_detected=GPT_INSTANCE.first_detected, last_detected=GPT_INSTANCE.last_detected,
        )  # fmt: skip
        findings.append(ExportFinding(INTEGRATION, finding_type, finding_type.severity, (instance,)))
    report = replace(sample_report(), findings=tuple(findings))
    for format_name in RENDERERS:
        assert render(report, format_name)
    events = build_ocsf(report)
    assert len(events) == len(findings) == 15
    assert sum(1 for e in events if e["class_uid"] == 2006) == 3
    for event in events:
        (DataSecurityFinding if event["class_uid"] == 2006 else ComplianceFinding).model_validate(event)
    jsonschema.validate(build_sarif(report), json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
