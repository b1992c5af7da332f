"""Exports are checked whole before their first byte leaves (exports/spool.py): a plain key found
late leaves no half-written file and no half-sent response."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_export_cli import db  # noqa: F401 - the two-scan SQLite store fixture
from typer.testing import CliRunner

from openai_casb.cli.app import app
from openai_casb.exports.formats import render
from openai_casb.exports.safety import PlainSecretError
from openai_casb.exports.spool import read_chunks, spool

runner = CliRunner()


def _late_leak(_report: object, _format: str) -> Iterator[str]:
    yield '[{"first": "record"},\n'
    raise PlainSecretError("export holds a plain key (1 found)")


def test_spool_gives_back_exactly_the_chunks_and_drops_them_on_error() -> None:
    chunks = ["é" * 10, "x" * 100_000, "", "end\n"]
    assert b"".join(read_chunks(spool(chunks))) == "".join(chunks).encode()
    with pytest.raises(PlainSecretError):
        spool(_late_leak(None, "json"))


def test_cli_export_to_a_file_equals_render_and_a_late_leak_writes_nothing(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    out = tmp_path / "findings.json"
    result = runner.invoke(app, ["export", "--format", "json", "--db", db, "--output", str(out)])
    assert result.exit_code == 0, result.output
    printed = runner.invoke(app, ["export", "--format", "json", "--db", db])
    assert printed.exit_code == 0
    assert out.read_bytes() == printed.stdout_bytes
    assert printed.stdout.startswith("[")

    monkeypatch.setattr("openai_casb.cli.export_cmd.iter_render", _late_leak)
    leaked = tmp_path / "leaked.json"
    result = runner.invoke(app, ["export", "--format", "json", "--db", db, "--output", str(leaked)])
    assert result.exit_code != 0
    assert "plain key" in result.output
    assert not leaked.exists()
    to_stdout = runner.invoke(app, ["export", "--format", "json", "--db", db])
    assert '"first"' not in to_stdout.stdout


def test_render_is_still_the_reference(db: str) -> None:  # noqa: F811
    # The spooled CLI output is render()'s text: the streamers join to it (test_streaming.py).
    from openai_casb.exports.source import ExportFilters, build_report
    from openai_casb.store import Store

    with Store.open(db) as store:
        expected = render(build_report(store, ExportFilters(integration_id=None, statuses=("active",),
                                                            severity_min=None, finding_type_id=None)), "csv")
    printed = runner.invoke(app, ["export", "--format", "csv", "--db", db])
    assert printed.stdout_bytes == expected.encode()  # CSV lines end in CRLF (`.stdout` folds them)
