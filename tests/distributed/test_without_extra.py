"""Without the `distributed` extra the package and its CLI work as before; distributed commands say what is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BLOCKED = """
import sys

class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("celery", "redis", "kombu"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, Blocked())
sys.argv = ["openai-casb", *sys.argv[1:]]
from openai_casb.cli.app import main
main()
"""


def run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "OPENAI_CASB_DB": str(tmp_path / "casb.db")}
    return subprocess.run([sys.executable, "-c", BLOCKED, *args], capture_output=True, text=True, env=env,
                          timeout=60)


def test_cli_runs_without_celery(tmp_path: Path) -> None:
    result = run("--help", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "worker" in result.stdout
    assert "scan" in result.stdout
    listing = run("schedule", tmp_path=tmp_path)  # the schedule table needs no Celery
    assert listing.returncode == 0, listing.stderr


def test_distributed_commands_explain_the_missing_extra(tmp_path: Path) -> None:
    for command in (["worker"], ["scheduler"], ["trigger", "--integration", "1"]):
        result = run(*command, tmp_path=tmp_path)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert "pip install 'openai-casb[distributed]'" in result.stderr
        assert "Traceback" not in result.stderr
