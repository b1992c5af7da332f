"""`openai-casb demo`, the README's first command: a whole scan of a generated org into a fresh database."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from openai_casb.cli.app import app
from openai_casb.store import InstanceStatus, Store

SMALL_ORG = (
    "users=40,invites=8,projects=3,keys_per_project=2,admin_keys=3,gpts=10,chatgpt_projects=3,conversations=40,files=20"
)


def test_demo_scans_a_generated_org_into_a_fresh_database(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    db.write_text("not a database: the demo replaces it")
    run = CliRunner().invoke(app, ["demo", "--db-file", str(db), "--org", SMALL_ORG, "--seed", "3"])
    assert run.exit_code == 0, run.output
    assert "Scan #1" in run.output
    assert "complete" in run.output
    assert "refused 0 non-GET" in run.output
    assert "findings --db" in run.output
    with Store.open(str(db)) as store:
        instances = store.list_instances(status=InstanceStatus.ACTIVE, limit=10_000)
        assert {i.finding_type for i in instances} >= {"OpenAI: Admin API key not rotated", "OpenAI: Inactive user"}
        assert [s.status for s in store.list_scans()] == ["complete"]


def test_demo_fail_on_gives_a_pipeline_exit_code(tmp_path: Path) -> None:
    args = ["demo", "--db-file", str(tmp_path / "d.db"), "--org", SMALL_ORG, "--fail-on", "high"]
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 3, run.output
