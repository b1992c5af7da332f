"""Huge digit runs cost work in proportion to their candidates, never more (no wall-clock asserts).

The engine is built over detectors whose validators count their calls: every regex hit that
survives the boundary checks costs one validation, so the count is the work done per run. It runs
the Python exact step, whose calls can be counted; the C step gets the same pieces and runs the
same loop (tests/dlp/test_native_exact.py holds it to the same candidates).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable

import pytest

from openai_casb.dlp.detectors import PREDEFINED_DETECTORS
from openai_casb.dlp.detectors.search import HYPERSCAN_AVAILABLE
from openai_casb.dlp.engine import DlpEngine
from openai_casb.dlp.profiles import resolve_predefined
from openai_casb.dlp.settings import DlpSettings, ProfileSettings

BACKENDS = (["hyperscan"] if HYPERSCAN_AVAILABLE else []) + ["re2"]
IDS = "Social Security, Insurance, Tax and Identifier Numbers"
RUN_CHARS = 250_000


def counting_engine(backend: str, calls: Counter[str], **settings: object) -> DlpEngine:
    def counted(key: str, classify: Callable[[str], str | None]) -> Callable[[str], str | None]:
        def wrapper(value: str) -> str | None:
            calls[key] += 1
            return classify(value)

        return wrapper

    detectors = tuple(dataclasses.replace(d, classify=counted(d.key, d.classify)) for d in PREDEFINED_DETECTORS)
    dlp = DlpSettings(salt="pathological-salt", **settings)
    return DlpEngine(
        resolve_predefined(dlp), detectors, (), "pathological-salt", backend, exact="python"  # type: ignore[arg-type]
    )


def validations(backend: str, text: str, **settings: object) -> int:
    calls: Counter[str] = Counter()
    counting_engine(backend, calls, **settings).match(text)
    return sum(calls.values())


def run_of(group: str, separator: str = " ") -> str:
    return (group + separator) * (RUN_CHARS // (len(group) + 1))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("group", ["1234", "4111", "12", "4111 1111"])
def test_a_long_run_of_short_groups_validates_nothing(backend: str, group: str) -> None:
    # No value can span two groups of a one-separator stretch this long, and no group is long
    # enough to be a value on its own: the run is cut and nothing is even looked at.
    assert validations(backend, run_of(group)) == 0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("group", ["123456789", "4111-1111-1111", "536-22-1234"])
def test_a_long_run_of_value_sized_groups_costs_a_bounded_number_of_validations_per_group(
    backend: str, group: str
) -> None:
    groups = RUN_CHARS // (len(group) + 1)
    digit_detectors = sum(1 for d in PREDEFINED_DETECTORS if d.segment == "digits")
    work = validations(backend, run_of(group))
    # A card candidate may be cut back at each of its separators: at most 4 tries.
    assert 0 < work <= 4 * digit_detectors * groups
    # Twice the run, twice the work, within the run's two ends: linear whatever its length.
    assert abs(validations(backend, run_of(group) * 2) - 2 * work) <= 4 * digit_detectors


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_contiguous_digit_run_longer_than_any_value_is_never_validated(backend: str) -> None:
    assert validations(backend, "7" * RUN_CHARS) == 0
    assert validations(backend, "12345678901234567890 " * 12_000) == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_values_inside_huge_runs_are_still_found(backend: str) -> None:
    calls: Counter[str] = Counter()
    low = {IDS: ProfileSettings(confidence="low")}
    dlp = counting_engine(backend, calls, profiles=low)
    # A separator change delimits a value inside a run of space-separated groups.
    text = run_of("1234") + "536-22-1234 " + run_of("1234") + "card 4716 2810 3355 7292"
    spans = {(text[d.start : d.end], d.entry) for d in dlp.detections(text)}
    assert spans == {("536-22-1234", "US Social Security Number"), ("4716 2810 3355 7292", "Visa Card Number")}
    # Each valid value sits at the end of a long run: a separator change then the value.
    text = "1234 " * 20_000 + "5123-4716 2810 3355 7292"
    assert [text[d.start : d.end] for d in dlp.detections(text)] == ["4716 2810 3355 7292"]
