"""JSON export: one array of instance records, the shape of `openai-casb findings --format json`."""

from __future__ import annotations

from openai_casb.exports.common import dumps, instance_record
from openai_casb.exports.model import ExportReport
from openai_casb.exports.safety import ensure_no_plain_secrets


def render_json(report: ExportReport) -> str:
    records = [instance_record(finding, instance) for finding, instance in report.instance_rows()]
    return ensure_no_plain_secrets(dumps(records) + "\n", "JSON export")
