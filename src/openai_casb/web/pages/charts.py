"""Charts as data for inline SVG drawn by the templates (no scripts, no inline styles: CSP-safe)."""

from __future__ import annotations

from dataclasses import dataclass

from openai_casb.detections import Severity
from openai_casb.store import ScanRecord

SEVERITY_LABELS = [s.label.lower() for s in sorted(Severity, reverse=True)]


@dataclass(frozen=True, slots=True)
class Line:
    severity: str
    points: str  # SVG polyline points
    last: int


@dataclass(frozen=True, slots=True)
class TrendChart:
    width: int
    height: int
    lines: list[Line]
    gridlines: list[tuple[float, int]]  # (y, value)
    labels: list[tuple[float, str]]  # (x, scan label)
    empty: bool


def trend_chart(scans: list[ScanRecord], width: int = 720, height: int = 220) -> TrendChart:
    """Open instances by severity over the given scans (oldest first), as polylines."""
    finished = [s for s in scans if s.finished_at is not None and s.severity_counts is not None]
    left, right, top, bottom = 40, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([1, *(value for s in finished for value in s.severity_counts.values())])
    step = plot_w / max(1, len(finished) - 1)

    def x(index: int) -> float:
        return round(left + (index * step if len(finished) > 1 else plot_w / 2), 1)

    def y(value: int) -> float:
        return round(top + plot_h - value / peak * plot_h, 1)

    lines = [
        Line(label, " ".join(f"{x(i)},{y(s.severity_counts.get(label, 0))}" for i, s in enumerate(finished)),
             finished[-1].severity_counts.get(label, 0) if finished else 0)
        for label in SEVERITY_LABELS
    ]
    ticks = sorted({0, peak // 2, peak})
    every = max(1, len(finished) // 8)
    labels = [(x(i), f"#{s.id}") for i, s in enumerate(finished) if i % every == 0 or i == len(finished) - 1]
    return TrendChart(width, height, lines, [(y(v), v) for v in ticks], labels, not finished)
