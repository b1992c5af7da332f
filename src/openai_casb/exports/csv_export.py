"""CSV export: one row per instance, with stable columns (pinned by a test, documented in docs/exports.md)."""

from __future__ import annotations

import csv
import io

from openai_casb.exports.common import dumps, plain_evidence
from openai_casb.exports.model import ExportFinding, ExportInstance, ExportReport, iso
from openai_casb.exports.safety import ensure_no_plain_secrets

CSV_COLUMNS: tuple[str, ...] = (
    "integration_id",
    "integration_name",
    "finding_type_id",
    "finding_type",
    "group",
    "severity",
    "status",
    "new",
    "instance_id",
    "asset_kind",
    "asset_id",
    "asset_name",
    "asset_email",
    "asset_link",
    "first_detected",
    "last_detected",
    "resolved_at",
    "evidence",
    "remediation_url",
    "finding_status",  # appended: earlier columns keep their places
)

# A cell starting with one of these is a formula to spreadsheet programs (CSV injection):
# asset names come from users of the workspace, so they are neutralised with a leading quote.
# OWASP's list (=, +, -, @, tab, CR), ASVS 5.0's NUL, and LF.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")

# RFC 4180 line ends. Python's writer quotes a field only for the characters of its line
# terminator: with "\n" alone a bare CR in a name went out unquoted and split the row (a new row
# whose first cell escaped the formula guard).
LINE_TERMINATOR = "\r\n"


def _cell(value: str | None) -> str:
    text = value or ""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _row(finding: ExportFinding, instance: ExportInstance) -> list[str]:
    asset = instance.asset
    values = [
        finding.integration.id,
        finding.integration.display_name,
        finding.finding_type.id,
        finding.finding_type.name,
        finding.finding_type.group,
        finding.severity.name.lower(),
        instance.status,
        "true" if instance.is_new else "false",
        instance.instance_id,
        asset.kind.value,
        asset.id,
        asset.name,
        asset.email,
        asset.link,
        iso(instance.first_detected),
        iso(instance.last_detected),
        iso(instance.resolved_at),
        dumps(plain_evidence(instance.evidence), indent=None),
        finding.finding_type.remediation.console_url,
        finding.finding_status,
    ]
    return [_cell(value) for value in values]


def render_csv(report: ExportReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=LINE_TERMINATOR)
    writer.writerow(CSV_COLUMNS)
    for finding, instance in report.instance_rows():
        writer.writerow(_row(finding, instance))
    return ensure_no_plain_secrets(buffer.getvalue(), "CSV export")
