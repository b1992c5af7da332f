"""Markdown export, for tickets: a summary table, then each finding with its instances and remediation."""

from __future__ import annotations

from urllib.parse import quote

from openai_casb.exports.common import dumps, plain_evidence
from openai_casb.exports.model import ExportFinding, ExportReport, iso, status_label
from openai_casb.exports.safety import ensure_no_plain_secrets
from openai_casb.exports.summary import Summary, summarize


def _cell(text: str | None) -> str:
    """Table cells: pipes and newlines would break the row; backslash-escape Markdown specials."""
    if not text:
        return ""
    escaped = text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    for special in ("*", "_", "`", "[", "]", "<", ">"):
        escaped = escaped.replace(special, "\\" + special)
    return escaped


def _link_target(url: str) -> str:
    """A link destination that stays one: `(`, `)`, brackets, `<`, `>`, a pipe (which would end the
    table cell), backslashes, backticks, whitespace and controls are percent-encoded."""
    return quote(url, safe=":/?#=&%~+,;@!$'*")


def _finding_section(finding: ExportFinding) -> list[str]:
    finding_type = finding.finding_type
    lines = [
        f"### {_cell(finding_type.name)}",
        "",
        f"**Severity:** {finding.severity.label} · **Group:** {_cell(finding_type.group)} · "
        f"**Integration:** {_cell(finding.integration.display_name)} · **Instances:** {len(finding.instances)}"
        + (" · **Ignored**" if finding.ignored else ""),
        "",
        _cell(finding_type.description),
        "",
        "| Asset | Kind | Owner | Status | First detected | Last detected | Evidence |",
        "|---|---|---|---|---|---|---|",
    ]
    for instance in finding.sorted_instances():
        asset = instance.asset
        name = _cell(asset.name or asset.id)
        shown = f"[{name}]({_link_target(asset.link)})" if asset.link and asset.link.startswith("https://") else name
        evidence = _cell(dumps(plain_evidence(instance.evidence), indent=None))
        lines.append(
            f"| {shown} | {asset.kind.value} | {_cell(asset.email)} | {status_label(instance)} "
            f"| {iso(instance.first_detected)} | {iso(instance.last_detected)} | {evidence} |"
        )
    lines += ["", "**Remediation**", ""]
    lines += [f"{number}. {_cell(step)}" for number, step in enumerate(finding_type.remediation.steps, start=1)]
    lines += ["", f"Console: <{finding_type.remediation.console_url}>", ""]
    return lines


def _ignored_part(report: ExportReport, summary: Summary) -> list[str]:
    """Ignored finding types apart, as `openai-casb findings` lists them: counts, then each finding."""
    lines = [
        "## Ignored finding types",
        "",
        "Still evaluated, not counted among open instances (`openai-casb unignore TYPE` brings one back).",
        "",
        "| Finding type | Integration | Severity | Instances |",
        "|---|---|---|---|",
    ]
    lines += [f"| {_cell(i.finding_type)} | {_cell(i.integration)} | {i.severity.label} | {i.instances} |"
              for i in summary.ignored]  # fmt: skip
    lines.append("")
    for finding in report.ignored_findings():
        lines += _finding_section(finding)
    return lines


def render_markdown(report: ExportReport) -> str:
    summary = summarize(report)
    lines = [
        "# openai-casb findings report",
        "",
        f"Generated {iso(report.generated_at)} by openai-casb {report.product_version} "
        f"(catalog {report.catalog_version}).",
        "",
    ]
    if report.filters:
        lines += ["Filters: " + ", ".join(f"{k}={_cell(v)}" for k, v in sorted(report.filters.items())), ""]
    lines += ["## Summary", "", "| Severity | Instances |", "|---|---|"]
    lines += [f"| {count.severity.label} | {count.count} |" for count in summary.by_severity]
    lines += ["", "| Group | Findings | Instances |", "|---|---|---|"]
    lines += [f"| {_cell(g.group)} | {g.findings} | {g.instances} |" for g in summary.by_group]
    if not summary.by_group:
        lines.append("| (none) | 0 | 0 |")
    if summary.ignored:
        lines += [
            "",
            f"Not counted above: {summary.ignored_instances} instance(s) of {len(summary.ignored)} "
            "ignored finding type(s), listed under Ignored finding types.",
        ]
    lines += ["", "## Findings", ""]
    findings = report.open_findings()
    if not findings:
        lines += ["Only findings of ignored types match (below)." if summary.ignored else "No findings match.", ""]
    for finding in findings:
        lines += _finding_section(finding)
    if summary.ignored:
        lines += _ignored_part(report, summary)
    return ensure_no_plain_secrets("\n".join(lines).rstrip("\n") + "\n", "Markdown export")
