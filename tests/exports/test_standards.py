"""What the formats' consumers require beyond our own schemas: GitHub code scanning's SARIF
ingestion, SIEM de-duplication of OCSF events, and JSON records that tell instances apart."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from export_fixtures import GPT_INSTANCE, KEY_INSTANCE, sample_report

from openai_casb.exports.csv_export import render_csv
from openai_casb.exports.json_export import render_json
from openai_casb.exports.markdown import render_markdown
from openai_casb.exports.model import ExportReport
from openai_casb.exports.ocsf import build_ocsf
from openai_casb.exports.sarif import build_sarif


def _with_instance(report: ExportReport, instance_id: str, **changes: Any) -> ExportReport:
    """`report` with one instance changed."""
    findings = tuple(
        replace(finding, instances=tuple(replace(i, **changes) if i.instance_id == instance_id else i
                                         for i in finding.instances))
        for finding in report.findings
    )  # fmt: skip
    return replace(report, findings=findings)


def test_every_sarif_result_has_a_physical_artifact_location() -> None:
    """GitHub code scanning rejects a whole upload when a result's locations are logical only
    ("locationFromSarifResult: expected artifact location"): each result names a stable
    artifact URI for its asset, and keeps its logical location."""
    hostile = _with_instance(
        sample_report(), KEY_INSTANCE.instance_id, asset=replace(KEY_INSTANCE.asset, id="key/ab c#?%")
    )
    run = build_sarif(hostile)["runs"][0]
    assert run["results"]
    for result in run["results"]:
        (location,) = result["locations"]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        logical = location["logicalLocations"][0]["fullyQualifiedName"]
        assert uri.startswith("openai-casb/")
        assert unquote(uri) == f"openai-casb/{logical}"
        assert not any(char in uri for char in " #?")
        assert location["physicalLocation"]["region"]["startLine"] == 1
    assert any(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("/key%2Fab%20c%23%3F%25")
               for r in run["results"])  # fmt: skip


def _event(report: ExportReport, uid: str) -> dict[str, Any]:
    return next(e for e in build_ocsf(report) if e["finding_info"]["uid"] == uid)


def test_ocsf_event_uid_changes_with_the_instance_state() -> None:
    """SIEMs de-duplicate on `metadata.uid`: the event of a resolve or a hide (which leave
    `last_detected` as it was) must not reuse the uid of the earlier event, or it is dropped."""
    report = sample_report()
    active = _event(report, GPT_INSTANCE.instance_id)
    gpt = GPT_INSTANCE.instance_id
    resolved = _event(_with_instance(report, gpt, status="resolved", resolved_at=GPT_INSTANCE.last_detected,
                                     is_new=False), gpt)  # fmt: skip
    hidden = _event(
        _with_instance(report, GPT_INSTANCE.instance_id, status="hidden", is_new=False), GPT_INSTANCE.instance_id
    )
    assert (active["status_id"], resolved["status_id"], hidden["status_id"]) == (1, 4, 3)
    uids = {active["metadata"]["uid"], resolved["metadata"]["uid"], hidden["metadata"]["uid"]}
    assert len(uids) == 3
    # ... while the same state exported twice keeps its uid, and the finding keeps its uid throughout.
    assert _event(sample_report(), GPT_INSTANCE.instance_id)["metadata"]["uid"] == active["metadata"]["uid"]
    assert {e["finding_info"]["uid"] for e in (active, resolved, hidden)} == {GPT_INSTANCE.instance_id}


def test_json_records_name_their_instance_and_integration() -> None:
    """Like `findings --format json`: `id` and `integration_id` tell instances (and the same asset
    in two integrations) apart, `resolved_at` and `asset.link` are there too."""
    records = json.loads(render_json(sample_report()))
    assert sorted(r["id"] for r in records) == sorted(
        i.instance_id for f in sample_report().findings for i in f.instances
    )
    assert {r["integration_id"] for r in records} == {"int-acme"}
    by_id = {r["id"]: r for r in records}
    assert by_id[GPT_INSTANCE.instance_id]["asset"]["link"] == GPT_INSTANCE.asset.link
    assert by_id[GPT_INSTANCE.instance_id]["resolved_at"] is None
    assert any(r["resolved_at"] == "2026-03-01T12:00:00Z" for r in records)


def test_markdown_asset_links_cannot_inject_markup() -> None:
    """A link target with `)`, spaces, brackets or a pipe must neither close the link early (and
    add a link of its own) nor end the table cell."""
    hostile = "https://chatgpt.com/g/a) [click me](https://evil.example/phish|x"
    report = _with_instance(sample_report(), GPT_INSTANCE.instance_id,
                            asset=replace(GPT_INSTANCE.asset, name="x", link=hostile))  # fmt: skip
    (row,) = [line for line in render_markdown(report).splitlines() if line.startswith("| [x](")]
    assert row.count("](") == 1
    target = row[len("| [x](") : row.index(")", len("| [x]("))]
    assert unquote(target) == hostile
    assert row.count(" | ") == 6  # seven cells, as the header has


def test_csv_guards_every_formula_start_asvs_lists() -> None:
    """OWASP ASVS 5.0 (1.2.10) adds NUL to =, +, -, @ and tab; CR and LF too. Each such cell starts
    with a quote, and a CR or LF inside a cell is quoted: it never splits an instance's row (nor
    starts a new row with an unguarded formula: `x<CR>=1+1` stays one cell)."""
    starts = ["=", "+", "-", "@", "\t", "\r", "\n", "\0"]
    names = [f"{s}1+1" for s in starts] + ["x\r=1+1", "x\n=1+1", "x\r\n=1+1"]
    findings = sample_report().findings
    gpt = next(f for f in findings if GPT_INSTANCE in f.instances)
    instances = tuple(
        replace(GPT_INSTANCE, instance_id=f"i{n}", asset=replace(GPT_INSTANCE.asset, id=f"g{n}", name=name))
        for n, name in enumerate(names)
    )
    report = replace(sample_report(), findings=(replace(gpt, instances=instances),))
    text = render_csv(report)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == len(names)
    assert sorted(row["asset_name"] for row in rows) == sorted([f"'{name}" for name in names[:8]] + names[8:])
