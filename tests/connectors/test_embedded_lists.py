"""Embedded lists (`messages`, a message's `files`, `latest_config`, a config's `tools` and `files`) use
the Compliance spec's GenericList envelope, where `has_more: true` says the list goes on. A `latest_config`
cut short is read whole from the configs endpoint; for the others the API has no endpoint, so a source
holding such a list is read only in part: it is partial, never complete, and so are the files it lists."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fake_api import WORKSPACE, FakeApi, fake_settings, no_wait, org_fixture

from openai_casb.connectors.models import compliance as cm
from openai_casb.connectors.models.base import incomplete_lists
from openai_casb.crawl import CrawlResult, crawl
from openai_casb.inventory.model import Source

NOW = datetime(2024, 12, 1, tzinfo=UTC)


def crawled(api: FakeApi) -> CrawlResult:
    settings = fake_settings(page_size=1, conversations_page_size=3)
    return asyncio.run(crawl(settings, now=NOW, transport=api.transport(), sleep=no_wait))


def states(org: dict[str, Any]) -> dict[Source, tuple[str, str | None]]:
    result = crawled(FakeApi(org=org))
    return {source: (report.state, report.reason) for source, report in result.inventory.sources.items()}


def cut_messages(org: dict[str, Any]) -> None:
    org["conversations"][2]["messages"].update(has_more=True, last_id="m1")


def cut_message_files(org: dict[str, Any]) -> None:
    org["conversations"][4]["messages"]["data"][0]["files"]["has_more"] = True


def cut_gpt_tools(org: dict[str, Any]) -> None:
    org["gpts"][0]["latest_config"]["data"][0]["tools"]["has_more"] = True


def cut_config_files(org: dict[str, Any]) -> None:
    org["gpts"][0]["latest_config"]["data"][0]["files"]["has_more"] = True


def cut_project_tools(org: dict[str, Any]) -> None:
    config = org["chatgpt_projects"][0]["latest_config"][0]
    config["tools"] = {"object": "list", "has_more": True, "data": config["tools"]}


@pytest.mark.parametrize(
    ("cut", "container", "files", "first"),
    [
        (cut_messages, Source.CONVERSATIONS, Source.CONVERSATION_FILES, "conversation conv-2 messages"),
        (cut_message_files, Source.CONVERSATIONS, Source.CONVERSATION_FILES, "conversation conv-4 messages[0].files"),
        (cut_gpt_tools, Source.GPTS, Source.GPT_FILES, "GPT g-abc123 latest_config[0].tools"),
        (cut_config_files, Source.GPTS, Source.GPT_FILES, "GPT g-abc123 latest_config[0].files"),
        (cut_project_tools, Source.CHATGPT_PROJECTS, Source.PROJECT_FILES, "project g-p-123 latest_config[0].tools"),
    ],
    ids=["messages", "message-files", "gpt-tools", "gpt-files", "project-tools"],
)
def test_a_list_with_more_makes_its_source_and_files_partial(
    cut: Callable[[dict[str, Any]], None], container: Source, files: Source, first: str
) -> None:
    org = org_fixture()
    cut(org)
    got = states(org)
    assert got[container][0] == "partial"
    assert got[container][1] == (
        f"1 {first.split(' ')[0]}(s) embed a list with has_more true, whose rest the API does not serve"
        f" (first: {first})"
    )
    assert got[files] == got[container]
    others = {source for source, (state, _) in got.items() if state != "complete"} - {container, files}
    assert others == set()


NEWER = {
    "id": "pr_cnf_2",
    "name": "EU v2",
    "created_at": 1800000000.0,
    "files": {"object": "list", "has_more": False, "data": [{"id": "file-p2", "name": "eu2.docx"}]},
    "tools": {"object": "list", "has_more": False, "data": [{"type": "code_interpreter"}]},
}


@pytest.mark.parametrize("kind", ["gpt", "project"])
def test_a_latest_config_cut_short_is_read_whole_from_the_configs_endpoint(kind: str) -> None:
    org = org_fixture()
    owner = org["gpts"][0] if kind == "gpt" else org["chatgpt_projects"][0]
    listed = owner["latest_config"]
    older = listed["data"] if isinstance(listed, dict) else listed
    owner["latest_config"] = {"object": "list", "has_more": True, "last_id": older[0]["id"], "data": older}
    path = f"/v1/compliance/workspaces/{WORKSPACE}/{kind}s/{owner['id']}/configs"
    served: list[str] = []

    def configs(request: httpx.Request) -> httpx.Response | None:
        if request.url.path != path:
            return None
        served.append(str(request.url.params.get("after")))
        if "after" not in request.url.params:
            return httpx.Response(200, json={"object": "list", "data": [NEWER], "last_id": NEWER["id"],
                                             "has_more": True})
        return httpx.Response(200, json={"object": "list", "data": older, "last_id": older[-1]["id"],
                                         "has_more": False})

    result = crawled(FakeApi(org=org, fault=configs))
    assert served == ["None", "pr_cnf_2"]
    assert {r.state for r in result.inventory.sources.values()} == {"complete"}
    assets = result.inventory.gpts if kind == "gpt" else result.inventory.chatgpt_projects
    read = next(a for a in assets if a.id == owner["id"])
    assert (read.config_id, read.name) == ("pr_cnf_2", "EU v2")
    assert [f.file_id for f in read.files] == ["file-p2"]


@pytest.mark.parametrize(
    ("kind", "source"), [("gpt", Source.GPTS), ("project", Source.CHATGPT_PROJECTS)], ids=["gpt", "project"]
)
def test_an_unreadable_configs_endpoint_fails_the_source(kind: str, source: Source) -> None:
    org = org_fixture()
    owner = org["gpts"][0] if kind == "gpt" else org["chatgpt_projects"][0]
    listed = owner["latest_config"]
    owner["latest_config"] = {"object": "list", "has_more": True,
                              "data": listed["data"] if isinstance(listed, dict) else listed}
    api = FakeApi(org=org, fault=lambda r: httpx.Response(404) if r.url.path.endswith("/configs") else None)
    result = crawled(api)
    report = result.inventory.sources[source]
    assert report.state == "failed"
    assert report.reason is not None
    assert f"/{kind}s/{{{kind}_id}}/configs: HTTP 404" in report.reason
    others = {s for s, r in result.inventory.sources.items() if r.state != "complete"}
    assert others == {source, Source.GPT_FILES if kind == "gpt" else Source.PROJECT_FILES}


def test_complete_embedded_lists_leave_every_source_complete() -> None:
    """The fixture's lists say has_more false, or say nothing (bare arrays, envelopes without it)."""
    assert {state for state, _ in states(org_fixture()).values()} == {"complete"}


@pytest.mark.parametrize(
    ("has_more", "cut"),
    [(True, True), ("true", True), (False, False), (None, False), ("absent", False)],
)
def test_which_has_more_values_say_the_list_goes_on(has_more: object, cut: bool) -> None:
    files: dict[str, Any] = {"object": "list", "data": [{"id": "file-1"}]}
    if has_more != "absent":
        files["has_more"] = has_more
    event = cm.ConversationMessageEvent.model_validate({"event_id": "e", "message": {"id": "m", "files": files}})
    assert event.message is not None
    assert [f.id for f in event.message.files] == ["file-1"]
    assert incomplete_lists(event.message) == (["files"] if cut else [])


class CutLogFiles(FakeApi):
    """Log Platform files whose message `files` envelope says has_more true."""

    def log_file(self, name: str) -> bytes:
        text = super().log_file(name).decode()
        records = [json.loads(line) for line in text.splitlines()]
        for record in records:
            record["message"]["files"] = {"object": "list", "has_more": True, "data": record["message"]["files"]}
        return "".join(json.dumps(record) + "\n" for record in records).encode()


def test_a_log_event_with_more_files_makes_conversations_partial() -> None:
    settings = fake_settings()
    result = asyncio.run(
        crawl(settings, now=NOW, transport=CutLogFiles().transport(), sleep=no_wait, conversations_source="logs")
    )
    report = result.inventory.sources[Source.CONVERSATIONS]
    assert (report.state, report.reason) == (
        "partial",
        "7 log event(s) embed a list with has_more true, whose rest the API does not serve"
        " (first: log event evt-conv-0-m1 files)",
    )
    assert result.inventory.sources[Source.CONVERSATION_FILES].state == "partial"
