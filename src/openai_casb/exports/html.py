"""One self-contained HTML report (inline CSS, inline SVG chart, no scripts, no external assets).

Rendered with Jinja2 with autoescaping on: every value from the workspace (GPT names, file names,
evidence) is escaped. The chart is built here as SVG with every text escaped too.
"""

from __future__ import annotations

from html import escape

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from openai_casb.detections import Severity
from openai_casb.exports.common import dumps, plain_evidence
from openai_casb.exports.model import ExportReport, iso, status_label
from openai_casb.exports.safety import ensure_no_plain_secrets
from openai_casb.exports.summary import SeverityCount, summarize

SEVERITY_COLORS = {
    Severity.CRITICAL: "#7f1d1d",
    Severity.HIGH: "#dc2626",
    Severity.MEDIUM: "#f59e0b",
    Severity.LOW: "#2563eb",
    Severity.INFO: "#6b7280",
}

_environment = Environment(
    loader=PackageLoader("openai_casb.exports", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_environment.filters["iso"] = iso
_environment.filters["evidence_json"] = lambda evidence: dumps(plain_evidence(evidence))
_environment.globals["status_label"] = status_label
_environment.globals["severity_color"] = lambda severity: SEVERITY_COLORS[severity]


def severity_bar_chart(counts: tuple[SeverityCount, ...], width: int = 420) -> Markup:
    """Horizontal bars, one per severity level, scaled to the largest count."""
    row_height, label_width, gap = 26, 80, 6
    largest = max((c.count for c in counts), default=0) or 1
    bar_space = width - label_width - 50
    height = len(counts) * (row_height + gap)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Instances by severity">'
    ]
    for index, item in enumerate(counts):
        top = index * (row_height + gap)
        bar = round(bar_space * item.count / largest)
        label = escape(item.severity.label)
        parts.append(f'<text x="0" y="{top + 18}" font-size="13">{label}</text>')
        parts.append(
            f'<rect x="{label_width}" y="{top}" width="{bar}" height="{row_height}" '
            f'fill="{SEVERITY_COLORS[item.severity]}"><title>{label}: {item.count}</title></rect>'
        )
        parts.append(f'<text x="{label_width + bar + 6}" y="{top + 18}" font-size="13">{item.count}</text>')
    parts.append("</svg>")
    # Only numbers and escaped labels went in above.
    return Markup("".join(parts))  # noqa: S704


def render_html(report: ExportReport) -> str:
    summary = summarize(report)
    html = _environment.get_template("report.html").render(
        report=report,
        summary=summary,
        chart=severity_bar_chart(summary.by_severity),
        findings=report.open_findings(),
        ignored_findings=report.ignored_findings(),
        generated=iso(report.generated_at),
    )
    return ensure_no_plain_secrets(html, "HTML report")
