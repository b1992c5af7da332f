"""Counts for report summaries (HTML, Markdown): instances by severity, by group and by status.

Instances of ignored finding types are counted apart (`ignored`), never with the others: the
lifecycle keeps them out of open counts, as `openai-casb findings` and `--fail-on` do.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from openai_casb.detections import Severity
from openai_casb.exports.model import INSTANCE_STATUSES, ExportReport


@dataclass(frozen=True, slots=True)
class SeverityCount:
    severity: Severity
    count: int


@dataclass(frozen=True, slots=True)
class GroupCount:
    group: str
    findings: int
    instances: int


@dataclass(frozen=True, slots=True)
class IgnoredCount:
    finding_type: str
    integration: str
    severity: Severity
    instances: int


@dataclass(frozen=True, slots=True)
class Summary:
    by_severity: tuple[SeverityCount, ...]  # highest severity first, every level present
    by_group: tuple[GroupCount, ...]  # catalog group order
    by_status: tuple[tuple[str, int], ...]
    total_instances: int
    ignored: tuple[IgnoredCount, ...] = ()  # one per ignored finding, display order
    ignored_instances: int = 0


def summarize(report: ExportReport) -> Summary:
    severities: Counter[Severity] = Counter()
    statuses: Counter[str] = Counter()
    groups: dict[str, tuple[int, int, int]] = {}  # group -> (order, findings, instances)
    for finding in report.open_findings():
        order, findings, instances = groups.get(finding.finding_type.group, (finding.finding_type.group_order, 0, 0))
        groups[finding.finding_type.group] = (order, findings + 1, instances + len(finding.instances))
        severities[finding.severity] += len(finding.instances)
        statuses.update(instance.status for instance in finding.instances)
    ignored = tuple(
        IgnoredCount(f.finding_type.name, f.integration.display_name, f.severity, len(f.instances))
        for f in report.ignored_findings()
    )
    return Summary(
        by_severity=tuple(SeverityCount(s, severities[s]) for s in sorted(Severity, reverse=True)),
        by_group=tuple(
            GroupCount(group, findings, instances)
            for group, (_, findings, instances) in sorted(groups.items(), key=lambda item: item[1][0])
        ),
        by_status=tuple((status, statuses[status]) for status in INSTANCE_STATUSES),
        total_instances=sum(severities.values()),
        ignored=ignored,
        ignored_instances=sum(count.instances for count in ignored),
    )
