"""deploy/compose.yaml as a security review expects it (docs/deployment.md, "Security"): one DLP salt for
every container, hardened casb containers, no database or broker port on the host, no default password."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _services() -> dict[str, Any]:
    document = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services: dict[str, Any] = document["services"]
    return services


def test_every_casb_container_gets_the_same_required_dlp_salt_and_secret() -> None:
    # Without a shared salt each worker makes its own in its container and hashes the same value differently.
    for name in ("api", "worker", "scheduler"):
        env = _services()[name]["environment"]
        assert env["OPENAI_CASB_DLP_SALT"].startswith("${OPENAI_CASB_DLP_SALT:?"), name
        assert env["OPENAI_CASB_SECRET_KEY"].startswith("${OPENAI_CASB_SECRET_KEY:?"), name


def test_casb_containers_are_read_only_without_capabilities() -> None:
    for name in ("api", "worker", "scheduler"):
        service = _services()[name]
        assert service["read_only"] is True, name
        assert service["tmpfs"] == ["/tmp"], name  # the scheduler's state and DLP downloads
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
    assert _services()["scheduler"]["command"][-1].startswith("/tmp/")


def test_only_the_api_is_published_on_loopback_and_postgres_needs_a_password() -> None:
    services = _services()
    published = {name: service["ports"] for name, service in services.items() if "ports" in service}
    assert published == {"api": ["127.0.0.1:8000:8000"]}
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_the_image_runs_unprivileged_and_the_build_context_leaves_config_out() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "\nUSER casb\n" in dockerfile
    assert "apt-get purge" in dockerfile  # no compiler in the image
    patterns = [line for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*"  # everything is left out, then the few copied paths are let in
    assert "!src" in patterns
    assert not any(pattern.startswith("!deploy") for pattern in patterns)
