"""CSV export: one row per instance, with stable columns (pinned by a test, documented in docs/exports.md)."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator

from openai_casb.exports.common import dumps, plain_evidence
from openai_casb.exports.model import ExportFinding, ExportInstance, ExportReport, iso
from openai_casb.exports.stream import iter_lines

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


def iter_csv(report: ExportReport) -> Iterator[str]:
    """The CSV export in chunks: the header, then one row each (see `exports.stream`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=LINE_TERMINATOR)

    def encode(row: list[str] | tuple[str, ...]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        return buffer.getvalue()

    rows = (_row(finding, instance) for finding, instance in report.iter_instance_rows())
    return iter_lines(itertools.chain([CSV_COLUMNS], rows), encode, "CSV export")


def render_csv(report: ExportReport) -> str:
    return "".join(iter_csv(report))
