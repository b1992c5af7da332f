"""A DLP value in a name (a chat upload called `AKIA... 4111 ....txt` in a conversation titled
`card 4111 ...`, a GPT, a ChatGPT project, an API key named with one) is masked like the file's
content is: never in plain form in the database, an export, the events or a webhook, while the rest
of the name stays readable. In a single-process scan and in a distributed one."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from openai_casb.cli.app import app
from openai_casb.cli.demo_cmd import settings_for_emulator
from openai_casb.emulator import EmulatorConfig, running_emulator
from openai_casb.emulator.snapshot import org_from_dict
from openai_casb.policy import parse_policy
from openai_casb.scanning import ScanRequest, run_scan
from openai_casb.store import Store
from tests.db_dump import database_text
from tests.scanning.oracle import T
from tests.scanning.test_lifecycle_across_scans import NOW, _ts, snapshot
from tests.scanning.test_webhooks_after_scan import Receiver

CARD = "4716 2810 3355 7292"
AWS = "AKIAZ7Q4M2XK5P3R6T2W"
NEEDLES = (CARD, CARD.replace(" ", ""), AWS)
FILE_NAME = f"{AWS} {CARD}.txt"
MASKED_CARD = "**** **** **** 7292"
EXPORT_FORMATS = ("json", "csv", "ocsf", "sarif", "html", "markdown")
PORTS = (19731, 19732)  # this test's emulator and webhook receiver (a private range)
CONTENT = base64.b64encode(f"card {CARD}\naws key {AWS}\n".encode()).decode()


def _file(kind: str, file_id: str, name: str) -> dict[str, Any]:
    return {"object": f"compliance.workspace.{kind}.file", "id": file_id, "name": name,
            "created_at": float(_ts(3))}


def planted_snapshot() -> dict[str, Any]:
    """The lifecycle snapshot (a store-public GPT, an old admin key, an invite) with values planted
    in names: the conversation title and its file, the GPT and its file, a ChatGPT project and its
    file, the admin key."""
    data = snapshot()
    data["admin"]["admin_api_keys"][0]["name"] = f"old card {CARD}"
    gpt = data["compliance"]["gpts"][0]
    config = gpt["latest_config"]["data"][0]
    config["name"] = f"helper card {CARD}"
    config["files"]["data"] = [_file("gpt", "file-gpt", f"gpt {CARD}.txt")]
    project = copy.deepcopy(gpt)
    project.update(object="compliance.workspace.project", id="g-p-planted")
    project["sharing"]["object"] = "compliance.workspace.project.sharing"
    project_config = project["latest_config"]["data"][0]
    project_config.update(object="compliance.workspace.project.configuration", id="pr_cnf_1",
                          name=f"project {AWS}")
    project_config["files"]["data"] = [_file("project", "file-project", f"project {CARD}.txt")]
    data["compliance"]["projects"] = [project]
    data["compliance"]["conversations"] = [{
        "object": "compliance.workspace.conversation", "id": "00000009-0000-4000-8000-000000000000",
        "workspace_id": data["workspace"]["id"], "user_id": "user-owner", "user_email": "owner@example.com",
        "created_at": float(_ts(3)), "last_active_at": float(_ts(1)), "title": f"card {CARD}",
        "messages": {"object": "list", "has_more": False, "data": [{
            "object": "compliance.workspace.conversation.message", "id": "m-1", "parent_id": None,
            "created_at": float(_ts(3)), "gpt_id": None, "project_id": None,
            "author": {"object": "compliance.workspace.conversation.message.author", "role": "user",
                       "tool_name": None},
            "content": {"object": "compliance.workspace.conversation.message.content", "type": "text",
                        "value": "see file", "annotations": []},
            "files": {"object": "list", "has_more": False,
                      "data": [_file("conversation.message", "file-conv", FILE_NAME)]},
        }]},
    }]
    data["files"] = {file_id: {"name": name, "content_base64": CONTENT} for file_id, name in
                     (("file-conv", FILE_NAME), ("file-gpt", f"gpt {CARD}.txt"),
                      ("file-project", f"project {CARD}.txt"))}
    return data


def leaks(outputs: dict[str, str]) -> list[str]:
    return [f"{needle!r} in {where}" for where, body in outputs.items() for needle in NEEDLES if needle in body]


def assert_names_masked_and_readable(store: Store) -> None:
    """Every finding of the planted assets is there, its name masked and the rest of it kept."""
    instances = {(i.finding_type_id, i.asset_id): store.get_instance(i.id).instance
                 for i in store.list_instances(limit=1000)}
    names = {key: i.asset_name for key, i in instances.items()}
    assert names[(T["dlp_conversation"], "file-conv")] == f"AKIA********… {MASKED_CARD}.txt"
    assert names[(T["dlp_gpt"], "file-gpt")] == f"gpt {MASKED_CARD}.txt"
    assert names[(T["dlp_project"], "file-project")] == f"project {MASKED_CARD}.txt"
    assert names[(T["gpt_store"], "g-public")] == f"helper card {MASKED_CARD}"
    assert names[(T["admin_key_not_rotated"], "key_old")] == f"old card {MASKED_CARD}"
    summary = instances[(T["dlp_conversation"], "file-conv")].evidence["summary"]
    assert summary.startswith(f"File 'AKIA********… {MASKED_CARD}.txt' in conversation 'card {MASKED_CARD}'")
    project_file = instances[(T["dlp_project"], "file-project")]
    assert project_file.evidence["container"]["name"] == "project AKIA********…"
    assert project_file.asset_metadata["container_name"] == "project AKIA********…"


@pytest.fixture
def receiver() -> Iterator[str]:
    from http.server import ThreadingHTTPServer
    from threading import Thread

    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", PORTS[1]), Receiver)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{PORTS[1]}/hook"
    server.shutdown()
    server.server_close()


def test_values_in_names_leave_the_scan_masked(tmp_path: Path, receiver: str) -> None:
    policy = parse_policy(
        f"version: 1\nwebhooks:\n  - name: soc\n    url: {receiver}\n    secret: whsec-0123456789abcdef\n"
        "    allow_private: true\n",
        "policy.yaml",
    )
    db = tmp_path / "names.db"
    config = EmulatorConfig(rate_limit_scale=100, port=PORTS[0])
    with running_emulator(org_from_dict(planted_snapshot()), config) as emulator, Store.open(str(db)) as store:
        result = asyncio.run(run_scan(store, ScanRequest(settings=settings_for_emulator(emulator), policy=policy),
                                      now=NOW))
        assert len(result.dlp.matched) == 3, "each planted file is a DLP match"
        assert_names_masked_and_readable(store)

    outputs = {"database": database_text(f"sqlite:///{db}"),
               "webhooks": "\n".join(body.decode() for _headers, body in Receiver.received)}
    assert "file-conv" in outputs["webhooks"], "the webhook got the new DLP finding"
    runner = CliRunner()
    for name, args in {
        "findings json": ["findings", "--db", str(db), "--format", "json", "--status", "all"],
        "findings table": ["findings", "--db", str(db), "--status", "all"],
        **{f"export {fmt}": ["export", "--db", str(db), "--format", fmt] for fmt in EXPORT_FORMATS},
        "events": ["events", "--db", str(db), "--format", "jsonl"],
    }.items():
        run = runner.invoke(app, args)
        assert run.exit_code == 0, f"{name}: {run.output[-1000:]}"
        outputs[name] = run.output
    assert leaks(outputs) == []
    assert f"in conversation 'card {MASKED_CARD}'" in outputs["findings json"]
    assert json.loads(outputs["findings json"]), "the export is the findings, not an empty list"


# --- distributed: the workers' DLP batches and the finalizer ------------------------------------


@dataclass
class Queue:
    """work.Dispatch that keeps what a broker would queue, for the test to run in order."""

    batches: list[str] = field(default_factory=list)

    def crawl_part(self, scan_id: int, group: str) -> None:
        pass

    def dlp_batch(self, scan_id: int, batch: str) -> None:
        self.batches.append(batch)

    def finalize(self, scan_id: int) -> None:
        pass


@pytest.mark.redis
@pytest.mark.postgres
def test_values_in_names_are_masked_in_a_distributed_scan(tmp_path: Path) -> None:
    pytest.importorskip("celery", reason="the distributed extra is not installed")
    from redis import Redis

    from openai_casb.distributed import work
    from openai_casb.distributed.finalize import run_finalize
    from openai_casb.distributed.settings import DistributedSettings
    from openai_casb.policy import Policy
    from tests.distributed.conftest import private_database, service_url
    from tests.distributed.test_distributed_scan import write_config

    redis_url = service_url("OPENAI_CASB_TEST_REDIS_URL")
    databases = private_database(service_url("OPENAI_CASB_TEST_POSTGRES_URL"), "casb_names")
    postgres_url = next(databases)
    try:
        with running_emulator(org_from_dict(planted_snapshot()), EmulatorConfig(rate_limit_scale=100,
                                                                                port=PORTS[0])) as emulator, \
                Redis.from_url(redis_url) as redis:
            settings = settings_for_emulator(emulator)
            config = DistributedSettings(
                broker_url=redis_url, redis_url=redis_url, db_url=postgres_url, lock_ttl_seconds=30.0,
                dlp_batch_files=2, integration_configs=(write_config(settings, tmp_path / "names.toml"),),
            )
            store = Store.open(postgres_url)
            queue = Queue()
            rt = work.Runtime(store=store, redis=redis, config=config, policy=Policy(), dispatch=queue)
            integration = store.ensure_integration(settings.org_id, settings.workspace_id, "names")
            scan_id = work.trigger_scan(rt, integration.id, now=NOW)
            for group in ("admin", "compliance"):
                work.run_crawl_part(rt, scan_id, group)
            assert len(queue.batches) == 2, "three files in batches of two"
            for batch in queue.batches:
                work.run_dlp_batch(rt, scan_id, batch)
            run_finalize(rt, scan_id, "finalizer-1")
            assert_names_masked_and_readable(store)
            store.engine.dispose()
        assert leaks({"database": database_text(postgres_url)}) == []
    finally:
        databases.close()
