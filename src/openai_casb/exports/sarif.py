"""SARIF 2.1.0 export: one rule per finding type (help = remediation), one result per instance."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from openai_casb.detections import Severity
from openai_casb.exports.common import plain_evidence
from openai_casb.exports.model import (
    IGNORED_JUSTIFICATION,
    ExportFinding,
    ExportFindingType,
    ExportInstance,
    ExportReport,
    iso,
)
from openai_casb.exports.stream import iter_json_document

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"

_LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning reads `security-severity` (0-10) to rank results.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
# A result's relation to the previous scan, from the instance's lifecycle.
_BASELINE = {"active": "unchanged", "hidden": "unchanged", "resolved": "absent"}


def sarif_level(severity: Severity) -> str:
    return _LEVELS[severity]


def rule_severity(findings: list[ExportFinding]) -> Severity:
    """The effective severity a rule (one per finding type) declares, from that type's findings.

    Overrides apply per integration, so one type may carry several: the highest among the
    findings not ignored wins (an ignored integration's override does not rank the alert),
    else the highest of all.
    """
    counted = [finding for finding in findings if not finding.ignored] or findings
    return max(finding.severity for finding in counted)


def _rule(finding_type: ExportFindingType, severity: Severity) -> dict[str, Any]:
    remediation = finding_type.remediation
    steps_markdown = "\n".join(f"{number}. {step}" for number, step in enumerate(remediation.steps, start=1))
    return {
        "id": finding_type.id,
        "name": finding_type.name,
        "shortDescription": {"text": finding_type.name},
        "fullDescription": {"text": f"{finding_type.description} {finding_type.risk}".strip()},
        "help": {
            "text": remediation.as_text(),
            "markdown": f"{steps_markdown}\n\n[Open the console]({remediation.console_url})",
        },
        "helpUri": remediation.console_url,
        "defaultConfiguration": {"level": sarif_level(severity)},
        "properties": {
            "tags": ["security", finding_type.group],
            "security-severity": _SECURITY_SEVERITY[severity],
            "references": list(finding_type.references),
        },
    }


ARTIFACT_PREFIX = "openai-casb"


def artifact_uri(kind: str, asset_id: str) -> str:
    """A stable, relative artifact URI for an asset: `openai-casb/<asset kind>/<asset id>`.

    Findings are about workspace assets, not files, but GitHub code scanning rejects a whole upload
    when a result has no physical artifact location; the asset id is percent-encoded whole.
    """
    return f"{ARTIFACT_PREFIX}/{quote(kind, safe='')}/{quote(asset_id, safe='')}"


def _kind_and_level(finding: ExportFinding, instance: ExportInstance) -> dict[str, str]:
    """A resolved instance is a check that now passes: SARIF 2.1.0 (§3.27.9, §3.27.10) gives it
    `kind` `pass`, whose `level` SHALL be `none`. Others keep the default kind (`fail`) and their
    severity's level; suppressions (hidden, ignored) are separate and unchanged."""
    if instance.status == "resolved":
        return {"kind": "pass", "level": "none"}
    return {"level": sarif_level(finding.severity)}


def _result(finding: ExportFinding, instance: ExportInstance, rule_index: int) -> dict[str, Any]:
    asset = instance.asset
    label = asset.name or asset.email or asset.id
    result: dict[str, Any] = {
        "ruleId": finding.finding_type.id,
        "ruleIndex": rule_index,
        **_kind_and_level(finding, instance),
        "message": {"text": f"{finding.finding_type.name}: {label} ({asset.kind.value} {asset.id})"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(asset.kind.value, asset.id)},
                    "region": {"startLine": 1},
                },
                "logicalLocations": [
                    {"name": label, "fullyQualifiedName": f"{asset.kind.value}/{asset.id}", "kind": "resource"}
                ],
            }
        ],
        "partialFingerprints": {"instanceId/v1": instance.instance_id},
        "baselineState": "new" if instance.is_new and instance.status == "active" else _BASELINE[instance.status],
        "properties": {
            "integration": finding.integration.id,
            "status": instance.status,
            "findingStatus": finding.finding_status,
            "severity": finding.severity.name.lower(),
            "assetLink": asset.link,
            "firstDetected": iso(instance.first_detected),
            "lastDetected": iso(instance.last_detected),
            "resolvedAt": iso(instance.resolved_at),
            "evidence": plain_evidence(instance.evidence),
        },
    }
    suppressions: list[dict[str, Any]] = []
    if instance.status == "hidden":
        suppression: dict[str, Any] = {"kind": "external", "status": "accepted"}
        if instance.hidden_reason:
            suppression["justification"] = instance.hidden_reason
        suppressions.append(suppression)
    if finding.ignored:
        suppressions.append({"kind": "external", "status": "accepted", "justification": IGNORED_JUSTIFICATION})
    if suppressions:
        result["suppressions"] = suppressions
    return result


def build_sarif(report: ExportReport) -> dict[str, Any]:
    document = _document(report)
    rule_index = _rule_indexes(document)
    document["runs"][0]["results"] = [
        _result(finding, instance, rule_index[finding.finding_type.id]) for finding, instance in report.instance_rows()
    ]
    return document


def _rule_indexes(document: dict[str, Any]) -> dict[str, int]:
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    return {rule["id"]: index for index, rule in enumerate(rules)}


def _document(report: ExportReport) -> dict[str, Any]:
    """The SARIF log without its results (`runs[0].results` empty)."""
    finding_types: dict[str, ExportFindingType] = {}
    by_type: dict[str, list[ExportFinding]] = {}
    for finding in report.ordered_findings():
        finding_types.setdefault(finding.finding_type.id, finding.finding_type)
        by_type.setdefault(finding.finding_type.id, []).append(finding)
    rules = [_rule(finding_type, rule_severity(by_type[type_id])) for type_id, finding_type in finding_types.items()]
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "openai-casb",
                        "version": report.product_version,
                        "properties": {"catalogVersion": report.catalog_version},
                        "rules": rules,
                    }
                },
                "invocations": [{"executionSuccessful": True, "endTimeUtc": iso(report.generated_at)}],
                "results": [],
            }
        ],
    }


def iter_sarif(report: ExportReport) -> Iterator[str]:
    """The SARIF log in chunks: the run without results, then one result each (see `exports.stream`)."""
    document = _document(report)
    rule_index = _rule_indexes(document)
    results = (
        _result(finding, instance, rule_index[finding.finding_type.id])
        for finding, instance in report.iter_instance_rows()
    )
    return iter_json_document(document, ("runs", 0, "results"), results, "SARIF export")


def render_sarif(report: ExportReport) -> str:
    return "".join(iter_sarif(report))
