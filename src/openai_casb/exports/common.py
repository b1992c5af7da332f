"""Small helpers shared by the formatters: JSON encoding of evidence, instance records."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from openai_casb.detections import AssetRef
from openai_casb.exports.model import ExportFinding, ExportInstance, ExportRemediation, iso


def json_default(value: object) -> object:
    """Evidence may hold datetimes, enums, sets and tuples; everything else becomes its str()."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def dumps(value: object, *, indent: int | None = 2) -> str:
    separators = None if indent else (",", ":")
    return json.dumps(value, default=json_default, indent=indent, ensure_ascii=False, separators=separators)


def plain_evidence(evidence: Mapping[str, Any]) -> Any:
    """Evidence as plain JSON values (datetimes as RFC 3339), keys in a stable order."""
    return json.loads(json.dumps(evidence, default=json_default, sort_keys=True))


def remediation_record(remediation: ExportRemediation) -> dict[str, Any]:
    return {
        "console_url": remediation.console_url,
        "steps": list(remediation.steps),
        "api_calls": list(remediation.api_calls),
        "notes": list(remediation.notes),
    }


def asset_record(asset: AssetRef) -> dict[str, Any]:
    """An asset as JSON exports and webhook bodies give it."""
    return {"kind": asset.kind.value, "id": asset.id, "name": asset.name, "email": asset.email, "link": asset.link}


def instance_record(finding: ExportFinding, instance: ExportInstance) -> dict[str, Any]:
    """Fields of `openai-casb findings --format json` (same names), plus remediation.

    `id`, `integration_id`, `resolved_at` and `asset.link` were added later (appended: the keys
    before them keep their order).
    """
    return {
        "finding_type_id": finding.finding_type.id,
        "finding_type": finding.finding_type.name,
        "severity": finding.severity.label,
        "status": instance.status,
        "asset": asset_record(instance.asset),
        "evidence": plain_evidence(instance.evidence),
        "first_detected": iso(instance.first_detected),
        "last_detected": iso(instance.last_detected),
        "remediation": remediation_record(finding.finding_type.remediation),
        "finding_status": finding.finding_status,
        "id": instance.instance_id,
        "integration_id": finding.integration.id,
        "resolved_at": iso(instance.resolved_at),
    }
