"""`openai-casb serve` writes the product's own log lines (who created or revoked a token) to
stderr next to uvicorn's; the token value never appears in them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from tests.serve_process import request_when_serving

from conftest import free_port

CLI = [sys.executable, "-m", "openai_casb.cli"]


def test_serve_logs_token_creation_and_revocation_without_the_value(tmp_path: Path) -> None:
    db = str(tmp_path / "web.db")
    env = {**os.environ, "OPENAI_CASB_SECRET_KEY": "k" * 48}
    created = subprocess.run([*CLI, "tokens", "create", "--role", "admin", "--db", db],
                             env=env, capture_output=True, text=True, timeout=120, check=True)
    admin = next(w for w in created.stdout.split() if w.startswith("casb_"))
    port = free_port()
    server = subprocess.Popen([*CLI, "serve", "--db", db, "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        headers = {"Authorization": f"Bearer {admin}"}
        made = request_when_serving(server, "POST", f"{base}/tokens", json={"name": "siem", "role": "viewer"},
                                    headers=headers)
        assert made.status_code == 201, made.text
        value, token_id = made.json()["token"], made.json()["id"]
        assert httpx.delete(f"{base}/tokens/{token_id}", headers=headers).status_code == 200
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=30)
    assert f"API token {token_id} (viewer, 'siem') created by" in err
    assert f"API token {token_id} (viewer, 'siem') revoked by" in err
    assert value not in err
    assert admin not in err
