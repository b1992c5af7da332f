"""The crawl against the in-process fake API: sources, streaming, incremental, logs, secrets."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fake_api import ADMIN_KEY, COMPLIANCE_KEY, FakeApi, fake_settings, no_wait

from openai_casb.config import Settings
from openai_casb.crawl import CrawlResult, crawl
from openai_casb.inventory.model import AssetKind, FileRef, Source, SourceReport

NOW = datetime(2024, 12, 1, tzinfo=UTC)


def settings(**extra: Any) -> Settings:
    return fake_settings(**{"page_size": 1, "conversations_page_size": 3, **extra})


def run_crawl(api: FakeApi, s: Settings, **kwargs: Any) -> tuple[CrawlResult, list[FileRef]]:
    files: list[FileRef] = []

    async def on_file(ref: FileRef) -> None:
        files.append(ref)

    result = asyncio.run(crawl(s, now=NOW, on_file=on_file, transport=api.transport(), sleep=no_wait, **kwargs))
    return result, files


class Progress:
    def __init__(self) -> None:
        self.updates: list[tuple[Source, int, int]] = []
        self.done: list[SourceReport] = []

    def update(self, source: Source, pages: int, objects: int) -> None:
        self.updates.append((source, pages, objects))

    def finished(self, report: SourceReport) -> None:
        self.done.append(report)


def test_full_crawl_reads_every_source() -> None:
    api = FakeApi()
    progress = Progress()
    result, files = run_crawl(api, settings(), progress=progress)
    inv = result.inventory
    assert all(r.state == "complete" for r in inv.sources.values()), inv.sources
    assert set(inv.sources) == set(Source)
    assert {k.id for k in inv.admin_api_keys} == {"key_adm"}
    assert inv.admin_api_keys[0].owner_type == "service_account"
    assert {(k.id, k.project_id, k.project_archived) for k in inv.project_api_keys} == {
        ("key_abc", "proj_abc", False),
        ("key_svc", "proj_abc", False),
    }
    assert [i.id for i in inv.invites] == ["invite-def"]
    gpt = next(g for g in inv.gpts if g.id == "g-abc123")
    assert gpt.visibility == "anyone-with-link"
    assert {t.type for t in gpt.tools} == {"code_interpreter", "custom_action"}
    assert [f.file_id for f in gpt.files] == ["file-1"]
    assert next(g for g in inv.gpts if g.id == "g-third").third_party
    assert inv.chatgpt_projects[0].files[0].kind is AssetKind.PROJECT_FILE
    assert sorted(f.file_id for f in files) == sorted(f"file-c{i}" for i in range(7))
    assert all(f.kind is AssetKind.CONVERSATION_FILE for f in files)
    assert inv.sources[Source.CONVERSATIONS].objects == 7
    assert inv.sources[Source.ADMIN_USERS].pages == 2  # page_size 1
    assert result.conversations_high_water_mark == 1716993600.0 + 60
    assert result.conversations_read_from == "conversations"
    alice = next(p for p in inv.persons if p.email == "alice@example.com")
    assert alice.org_user_id == "user_abc"
    assert alice.workspace_user_ids == ("user-AAAA",)
    assert alice.last_login_at == datetime.fromtimestamp(1720804090, UTC)
    assert alice.last_conversation_at == datetime.fromtimestamp(1716993600.0 + 50, UTC)
    assert {r.source for r in progress.done} == set(Source) - {
        Source.GPT_FILES,
        Source.PROJECT_FILES,
        Source.CONVERSATION_FILES,
    }
    assert (Source.ADMIN_USERS, 2, 2) in progress.updates


def test_without_workspace_compliance_sources_are_skipped() -> None:
    api = FakeApi()
    result, files = run_crawl(api, settings(workspace_id=None))
    inv = result.inventory
    for source in (Source.WORKSPACE_USERS, Source.GPTS, Source.CHATGPT_PROJECTS, Source.CONVERSATIONS):
        assert inv.sources[source].state == "skipped"
        assert inv.sources[source].reason == "no workspace configured"
    assert inv.sources[Source.ADMIN_API_KEYS].complete
    assert files == []
    assert not any("/compliance/" in r.url.path for r in api.requests)


def test_incremental_crawl_reads_only_changes_and_keeps_activity() -> None:
    api = FakeApi()
    first, _ = run_crawl(api, settings())
    mark = first.conversations_high_water_mark
    assert mark is not None
    # One conversation changes after the first scan.
    api.org["conversations"][2]["last_active_at"] = mark + 100
    api.requests.clear()
    second, files = run_crawl(
        api, settings(), conversations_since=mark, conversation_activity_baseline=first.conversation_activity
    )
    conv_requests = [r for r in api.requests if r.url.path.endswith("/conversations")]
    assert conv_requests[0].url.params["since_timestamp"] == str(int(mark))
    # the changed one plus the one at exactly the old mark ("at or later")
    assert second.inventory.sources[Source.CONVERSATIONS].objects == 2
    assert {f.file_id for f in files} == {"file-c2", "file-c6"}
    assert second.conversations_high_water_mark == mark + 100
    bob = next(p for p in second.inventory.persons if p.email == "bob@example.com")
    alice = next(p for p in second.inventory.persons if p.email == "alice@example.com")
    assert bob.last_conversation_at == datetime.fromtimestamp(mark + 100, UTC)
    # Alice's conversations were not re-read: her activity comes from the baseline.
    assert alice.last_conversation_at == datetime.fromtimestamp(1716993600.0 + 50, UTC)


def test_conversations_repeated_across_pages_are_handed_off_once() -> None:
    api = FakeApi()
    conversations = api.org["conversations"]
    conversations.insert(4, dict(conversations[1], last_active_at=conversations[1]["last_active_at"] + 1000))
    conversations[4]["id"] = conversations[1]["id"]
    api.org["conversations"] = conversations

    # the fake pages by id index; give the duplicate a distinct cursor position
    def fault(request: httpx.Request) -> httpx.Response | None:
        return None

    api.fault = fault
    result, files = run_crawl(api, settings(conversations_page_size=10))
    assert sorted(f.file_id for f in files) == sorted(f"file-c{i}" for i in range(7))
    assert result.inventory.sources[Source.CONVERSATIONS].objects == 7
    alice = next(p for p in result.inventory.persons if p.email == "alice@example.com")
    assert alice.last_conversation_at == datetime.fromtimestamp(conversations[4]["last_active_at"], UTC)


@pytest.mark.parametrize("mode", ["logs", "auto"])
def test_logs_platform_gives_the_same_inventory(mode: str) -> None:
    direct, direct_files = run_crawl(FakeApi(), settings())
    api = FakeApi(conversations_gone=(mode == "auto"))
    via_logs, log_files = run_crawl(api, settings(), conversations_source=mode)
    assert via_logs.conversations_read_from == "logs"
    assert via_logs.inventory.sources[Source.CONVERSATIONS].complete
    assert via_logs.inventory.persons == direct.inventory.persons
    assert sorted(log_files, key=lambda f: f.file_id) == sorted(direct_files, key=lambda f: f.file_id)
    # Log files are fetched from the signed URL without the key.
    signed = [r for r in api.requests if r.url.host == "files.example"]
    assert signed
    assert all("authorization" not in r.headers for r in signed)


def test_forced_conversations_source_fails_when_route_is_gone() -> None:
    result, _ = run_crawl(FakeApi(conversations_gone=True), settings(), conversations_source="conversations")
    report = result.inventory.sources[Source.CONVERSATIONS]
    assert report.state == "failed"
    assert "HTTP 404" in (report.reason or "")
    assert result.inventory.sources[Source.CONVERSATION_FILES].state == "failed"


def test_audit_log_not_enabled_marks_source_failed_with_reason() -> None:
    result, _ = run_crawl(FakeApi(audit_disabled=True), settings())
    report = result.inventory.sources[Source.ADMIN_AUDIT_LOGS]
    assert report.state == "failed"
    assert "audit logging not enabled" in (report.reason or "")
    assert result.inventory.sources[Source.ADMIN_USERS].complete


def test_project_scope_narrows_and_unknown_project_fails() -> None:
    result, _ = run_crawl(FakeApi(), settings(project_id="proj_abc"))
    assert {k.project_id for k in result.inventory.project_api_keys} == {"proj_abc"}
    assert result.inventory.sources[Source.ADMIN_PROJECTS].objects == 1
    # Other projects were not read: nothing of theirs may be resolved, so both sources are partial.
    for source in (Source.ADMIN_PROJECTS, Source.ADMIN_PROJECT_API_KEYS):
        report = result.inventory.sources[source]
        assert report.state == "partial"
        assert "narrowed to project proj_abc" in (report.reason or "")
    missing, _ = run_crawl(FakeApi(), settings(project_id="proj_nope"))
    assert missing.inventory.sources[Source.ADMIN_PROJECTS].state == "failed"
    assert "proj_nope not found" in (missing.inventory.sources[Source.ADMIN_PROJECTS].reason or "")
    assert missing.inventory.sources[Source.ADMIN_PROJECT_API_KEYS].state == "failed"


def test_bad_compliance_key_fails_compliance_sources_only() -> None:
    result, _ = run_crawl(FakeApi(), settings(compliance_key="sk-comp-wrongwrongwrong"))
    inv = result.inventory
    assert inv.sources[Source.GPTS].state == "failed"
    assert "HTTP 403" in (inv.sources[Source.GPTS].reason or "")
    assert inv.sources[Source.ADMIN_INVITES].complete


def test_no_secret_in_logs_or_errors_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    calls = 0

    def flaky(request: httpx.Request) -> httpx.Response | None:
        nonlocal calls
        calls += 1
        if calls % 3 == 0:
            return httpx.Response(500, json={"error": {"message": f"bad key {ADMIN_KEY} {COMPLIANCE_KEY}"}})
        if calls % 7 == 0:
            return httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {ADMIN_KEY}"}})
        return None

    api = FakeApi(fault=flaky)
    result, _ = run_crawl(api, settings(max_retries=2))
    texts = [record.getMessage() for record in caplog.records]
    texts += [r.reason or "" for r in result.inventory.sources.values()]
    texts.append(repr(settings()))
    assert any("retrying" in t for t in texts)
    for text in texts:
        assert ADMIN_KEY not in text
        assert COMPLIANCE_KEY not in text
        assert "PLANTED" not in text
