"""The JSON handed between distributed tasks: crawl parts carry compact user records, DLP parts their verdicts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from openai_casb.distributed.codec import (
    CrawlPart,
    dump_crawl_part,
    dump_outcome,
    load_crawl_part,
    load_outcome,
    merge_outcome,
)
from openai_casb.distributed.finalize import merge_parts
from openai_casb.inventory import collect
from openai_casb.inventory.model import AssetKind, EntryMatch, FileRef, FileScan, Inventory, Source
from openai_casb.scanning.pipeline import DlpOutcome

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_crawl_part_round_trips_user_records_and_persons_join_the_same() -> None:
    org = [
        collect.OrgUserRecord(
            id="user-1",
            email="a@example.com",
            name="A",
            role="owner",
            disabled=True,
            api_key_last_used_at=1700000000.0,
            added_at=1600000000.0,
            created=1500000000.0,
        )
    ]
    ws = [
        collect.WorkspaceUserRecord(
            id="ws-1", email="a@example.com", role="account-admin", inactive=True, created_at=1650000000.5
        ),
        collect.WorkspaceUserRecord(id="ws-2", email=None, name="no email"),
    ]
    part = CrawlPart(inventory=Inventory(now=NOW), org_users=org, workspace_users=ws)
    part.logins.add("user-1", "a@example.com", 1710000000.0)
    text = dump_crawl_part(part)
    assert set(json.loads(text)["org_users"][0]) == {
        "id",
        "email",
        "name",
        "role",
        "is_service_account",
        "disabled",
        "api_key_last_used_at",
        "added_at",
        "created",
    }
    loaded = load_crawl_part(text)
    assert loaded.org_users == org
    assert loaded.workspace_users == ws
    assert collect.persons(loaded.org_users, loaded.workspace_users, loaded.logins) == collect.persons(
        org, ws, part.logins
    )


def test_dlp_parts_merge_into_one_spooled_outcome() -> None:
    def scan(file_id: str, matched: bool) -> FileScan:
        file = FileRef(kind=AssetKind.CONVERSATION_FILE, file_id=file_id, name=f"{file_id}.txt", container_id="c-1")
        return FileScan(
            file=file,
            status="scanned",
            matched_profiles=("PII",) if matched else (),
            matches=(EntryMatch("PII", "SSN", 2, ("***-**-6789",), ("ee" * 32,)),) if matched else (),
        )

    batches = []
    for files in (["f-1", "f-2", "f-3"], ["f-4", "f-5"]):
        outcome = DlpOutcome()
        for n, file_id in enumerate(files):
            outcome.record(scan(file_id, matched=n % 2 == 0))
        batches.append(dump_outcome(outcome))
        outcome.close()
    merged = DlpOutcome()
    for text in batches:
        merge_outcome(merged, load_outcome(text))
    assert sorted(s.file.file_id for s in merged.matched) == ["f-1", "f-3", "f-4"]
    assert merged.scanned[Source.CONVERSATION_FILES] == 5
    merged.close()


def test_the_login_window_read_by_the_admin_part_survives_the_round_trip_and_the_merge() -> None:
    since = NOW - timedelta(days=501)
    admin = load_crawl_part(dump_crawl_part(CrawlPart(inventory=Inventory(now=NOW, logins_read_since=since))))
    compliance = CrawlPart(inventory=Inventory(now=NOW))
    assert admin.inventory.logins_read_since == since
    merged = merge_parts({"admin": admin, "compliance": compliance}, Inventory(now=NOW))
    assert merged.inventory.logins_read_since == since
