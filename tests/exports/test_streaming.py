"""Large exports: memory stays at one instance's text beyond the report's records (measured with
tracemalloc, never time), and the chunks are exactly the whole document."""

from __future__ import annotations

import json
import tracemalloc
from dataclasses import replace

import pytest
from export_fixtures import DLP_INSTANCE, GPT_INSTANCE, empty_report, sample_report

from openai_casb.exports.common import dumps
from openai_casb.exports.formats import RENDERERS, STREAMERS, iter_render, render
from openai_casb.exports.model import ExportReport
from openai_casb.exports.ocsf import build_ocsf
from openai_casb.exports.safety import PlainSecretError
from openai_casb.exports.sarif import build_sarif

INSTANCES = 3000


def _large_report(count: int = INSTANCES) -> ExportReport:
    report = sample_report()
    gpt = next(f for f in report.findings if GPT_INSTANCE in f.instances)
    instances = tuple(
        replace(GPT_INSTANCE, instance_id=str(n), asset=replace(GPT_INSTANCE.asset, id=f"g-{n}", name=f"gpt {n}"))
        for n in range(count)
    )
    return replace(report, findings=(replace(gpt, instances=instances),))


@pytest.mark.parametrize("report", [sample_report(), empty_report()], ids=["sample", "empty"])
@pytest.mark.parametrize("format_name", sorted(RENDERERS))
def test_chunks_join_to_the_whole_document(report: ExportReport, format_name: str) -> None:
    assert "".join(iter_render(report, format_name)) == render(report, format_name)
    if format_name == "sarif":
        assert render(report, format_name) == dumps(build_sarif(report)) + "\n"
    if format_name == "ocsf":
        assert render(report, format_name) == dumps(build_ocsf(report)) + "\n"
    if format_name in ("json", "ocsf", "sarif"):
        json.loads(render(report, format_name))


@pytest.mark.parametrize("format_name", sorted(STREAMERS))
def test_streaming_holds_one_instance_at_a_time(format_name: str) -> None:
    """Beyond the report's records, the stream holds one instance's text and the sort keys of the
    display order (about 130 bytes an instance): bounded by the instance count with a small
    constant, not by the size of the output (400 bytes to 2.5 kB an instance)."""
    report = _large_report()
    for _chunk in iter_render(_large_report(2), format_name):  # module-level caches, once
        pass
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        total = 0
        for chunk in iter_render(report, format_name):
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > 350 * INSTANCES
    assert peak < 200 * INSTANCES + 300_000


@pytest.mark.parametrize("format_name", sorted(STREAMERS))
def test_whole_render_holds_little_more_than_its_output(format_name: str) -> None:
    """`render` (a str) holds the chunks and their join: about twice the output, where the
    document-then-text build held about seven times (1.7 GB for OCSF at 100,000 instances)."""
    report = _large_report()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        size = len(render(report, format_name))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * size


def test_a_plain_key_stops_the_stream_at_its_instance() -> None:
    leaked = replace(DLP_INSTANCE, evidence={"sample": "sk-proj-" + "A1b2C3d4" * 5})
    report = _large_report(3)
    report = replace(report, findings=(replace(report.findings[0], instances=(*report.findings[0].instances, leaked)),))
    chunks = iter_render(report, "ocsf")
    with pytest.raises(PlainSecretError):
        for _chunk in chunks:
            pass


def test_unknown_format_is_refused_before_streaming() -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        iter_render(sample_report(), "xml")
