"""Precision and recall per entry on the seeded, labelled corpus (default settings)."""

from __future__ import annotations

from collections import Counter

import pytest
from quality.generator import POSITIVES, Label, generate_corpus

from openai_casb.dlp.engine import Detection, DlpEngine
from openai_casb.dlp.settings import DlpSettings


def score(labels: list[Label], detections: tuple[Detection, ...]) -> dict[str, tuple[float, float]]:
    """Entry -> (precision, recall); a detection is right when it has a label's exact span and entry."""
    expected = {(lab.start, lab.end, lab.entry) for lab in labels if lab.entry}
    found = {(d.start, d.end, d.entry) for d in detections}
    true_positive = Counter(entry for _, _, entry in expected & found)
    planted = Counter(entry for _, _, entry in expected)
    reported = Counter(entry for _, _, entry in found)
    return {
        entry: (
            true_positive[entry] / reported[entry] if reported[entry] else 1.0,
            true_positive[entry] / planted[entry],
        )
        for entry in sorted(set(planted) | set(reported), key=str)
    }


@pytest.mark.parametrize("seed", [11, 12])
def test_every_entry_has_99_percent_precision_and_recall(seed: int) -> None:
    text, labels = generate_corpus(seed=seed, per_entry=100, negatives_per_kind=60)
    engine = DlpEngine.from_settings(DlpSettings(salt="quality-salt"))
    scores = score(labels, engine.detections(text))
    print("\nentry                                   precision  recall")
    for entry, (precision, recall) in scores.items():
        print(f"{entry:40s} {precision:9.3f} {recall:7.3f}")
    assert {p.entry for p in POSITIVES} <= set(scores)
    poor = {entry: s for entry, s in scores.items() if s[0] < 0.99 or s[1] < 0.99}
    assert not poor, poor


def test_hard_negatives_are_never_detected() -> None:
    text, labels = generate_corpus(seed=5, per_entry=1, negatives_per_kind=80)
    engine = DlpEngine.from_settings(DlpSettings(salt="quality-salt"))
    negatives = [lab for lab in labels if lab.entry is None]
    hits = [
        (lab.kind, d.entry)
        for d in engine.detections(text)
        for lab in negatives
        if d.start < lab.end and lab.start < d.end
    ]
    assert hits == []
