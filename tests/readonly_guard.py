"""A pytest plugin: across the whole suite, no emulator may receive a non-GET request from the product.

Every refusal the emulator counts is recorded with the test that was running; the session fails
if any came from outside the emulator's own tests, which send non-GET requests on purpose to check
the refusal. Loaded for every run through `addopts` in pyproject.toml.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from typing import Any

import pytest

from openai_casb.emulator.stats import Stats

ALLOWED_PREFIXES = ("tests/emulator/",)  # they test the refusal itself
_current = threading.local()
_running_test = {"id": "(outside any test)"}
_refusals: list[str] = []
_original_refused = Stats.refused


def _recording_refused(self: Stats) -> None:
    _refusals.append(_running_test["id"])
    _original_refused(self)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    _running_test["id"] = item.nodeid
    try:
        return (yield)
    finally:
        _running_test["id"] = "(between tests)"


def pytest_configure(config: pytest.Config) -> None:
    Stats.refused = _recording_refused  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    Stats.refused = _original_refused  # type: ignore[method-assign]


def offenders() -> list[str]:
    return sorted({test for test in _refusals if not test.startswith(ALLOWED_PREFIXES)})


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    allowed = len(_refusals) - sum(1 for t in _refusals if not t.startswith(ALLOWED_PREFIXES))
    terminalreporter.write_line(
        f"read-only: the emulator refused {len(_refusals)} non-GET request(s), {allowed} sent on purpose by "
        f"its own refusal tests"
    )
    if offenders():
        terminalreporter.write_line("read-only VIOLATED by: " + ", ".join(offenders()), red=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if offenders() and session.exitstatus == 0:
        session.exitstatus = 1
