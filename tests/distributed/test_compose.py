"""deploy/compose.yaml is well-formed and runs the same commands the tests run natively."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from typer.main import get_command

from openai_casb.cli.app import app

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose.yaml"


def load() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(document, dict)
    return document


def test_every_service_of_the_deployment_is_there() -> None:
    services = load()["services"]
    assert set(services) == {"api", "worker", "scheduler", "redis", "postgres"}
    for name in ("redis", "postgres"):
        assert "healthcheck" in services[name]
    assert services["scheduler"]["deploy"]["replicas"] == 1


def test_casb_services_run_real_commands_with_the_shared_settings() -> None:
    services = load()["services"]
    commands = get_command(app).commands  # type: ignore[attr-defined]
    for name in ("api", "worker", "scheduler"):
        service = services[name]  # the YAML merge key gave each the common block
        assert service["command"][0] in commands, name
        env = service["environment"]
        assert env["OPENAI_CASB_BROKER_URL"] == "redis://redis:6379/0"
        assert env["OPENAI_CASB_DB"].startswith("postgresql+psycopg://")
        assert set(service["depends_on"]) == {"postgres", "redis"}
    assert (COMPOSE.parent / "Dockerfile").is_file()
    assert services["api"]["ports"] == ["127.0.0.1:8000:8000"]
