"""JSON export: one array of instance records, the shape of `openai-casb findings --format json`."""

from __future__ import annotations

from collections.abc import Iterator

from openai_casb.exports.common import instance_record
from openai_casb.exports.model import ExportReport
from openai_casb.exports.stream import iter_json_array


def iter_json(report: ExportReport) -> Iterator[str]:
    """The JSON export in chunks, one record each (see `exports.stream`)."""
    records = (instance_record(finding, instance) for finding, instance in report.iter_instance_rows())
    return iter_json_array(records, "JSON export")


def render_json(report: ExportReport) -> str:
    return "".join(iter_json(report))
