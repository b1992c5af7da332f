"""Queries, commands, secrets, caches and opening databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from store_helpers import GPT_STORE, INACTIVE_USER, UNUSED_KEY, day, gpt, key, scan, user

from openai_casb.detections import AssetRef, Detection, Severity
from openai_casb.inventory.model import AssetKind
from openai_casb.store import (
    Integration,
    NotFoundError,
    SecretInDataError,
    Store,
    StoreError,
)
from openai_casb.store.schema import Base

FULL_KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4"


STORE_TABLES = frozenset(
    table.name for table in Base.metadata.sorted_tables if table.c and table.name in {
        "integrations", "scans", "user_activity", "finding_types", "findings", "assets", "instances", "events",
        "dlp_cache",
    }
)


def _store_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Only the store's own tables: other layers add theirs to the same database through their migrations."""
    table = getattr(obj, "table", None)
    table_name = name if type_ == "table" else getattr(table, "name", None)
    return table_name in STORE_TABLES


def test_schema_from_migrations_matches_the_models(store: Store) -> None:
    assert len(STORE_TABLES) == 9
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": _store_object})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_opening_twice_is_idempotent(db_url: str, store: Store) -> None:
    with Store.open(db_url) as again:
        assert "instances" in inspect(again.engine).get_table_names()


def test_sqlite_runs_in_wal_with_foreign_keys(sqlite_url: str) -> None:
    with Store.open(sqlite_url) as store, store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


def test_bare_path_and_env_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store.open(str(tmp_path / "nested" / "file.db")) as store:
        assert store.url.endswith("nested/file.db")
    monkeypatch.setenv("OPENAI_CASB_DB", f"sqlite:///{tmp_path / 'env.db'}")
    with Store.open(None) as store:
        assert store.url.endswith("env.db")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@h/db", "unsupported database"),
        ("postgresql+psycopg://nobody:secretpw@127.0.0.1:1/none", "cannot open database"),
        ("postgresql://host:notaport/db", "cannot parse"),
        ("://nothing", "cannot parse"),
    ],
)
def test_bad_urls_give_clear_errors(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message) as caught:
        Store.open(url)
    assert "secretpw" not in str(caught.value)


def test_list_filters_search_and_order(store: Store, integration: Integration) -> None:
    scan(store, integration.id, [key("k1"), key("k2"), gpt("g1"), user("u1", "Alice@Example.com")], day(0))
    views = store.list_instances()
    # group order first (GPTs, keys, users), then severity, then name, then id
    assert [v.asset_id for v in views] == ["g1", "k1", "k2", "u1"]
    assert views[0].asset_link == "https://chatgpt.com/g/g1"
    assert views[3].asset_email == "Alice@Example.com"
    assert [v.asset_id for v in store.list_instances(search="alice@")] == ["u1"]
    assert [v.asset_id for v in store.list_instances(search="100%")] == []  # wildcards are literal
    assert [v.asset_id for v in store.list_instances(finding_type=GPT_STORE)] == ["g1"]
    assert [v.asset_id for v in store.list_instances(severity_min=Severity.HIGH)] == ["g1"]
    assert [v.asset_id for v in store.list_instances(limit=2, offset=1)] == ["k1", "k2"]
    assert store.count_instances(status=["active", "hidden"]) == 4
    assert store.count_instances(status="resolved") == 0
    with pytest.raises(ValueError, match="not a valid"):
        store.list_instances(status="bogus")


def test_get_instance_with_history_and_missing(store: Store, integration: Integration) -> None:
    scan(store, integration.id, [key("k1")], day(0))
    view = store.list_instances()[0]
    store.hide(view.id, "temporary", by="alice")
    detail = store.get_instance(view.id)
    assert detail.instance.finding_type == "OpenAI: Unused admin API key"
    assert [(e.event_type, e.details.get("by")) for e in detail.events] == [("detected", None), ("hidden", "alice")]
    with pytest.raises(NotFoundError, match="no finding instance with id 999"):
        store.get_instance(999)
    with pytest.raises(NotFoundError):
        store.hide(999, "x", by="alice")
    with pytest.raises(StoreError, match="needs a reason"):
        store.hide(view.id, "  ", by="alice")


def test_unhide_of_visible_instance_is_refused(store: Store, integration: Integration) -> None:
    scan(store, integration.id, [key("k1")], day(0))
    with pytest.raises(StoreError, match="is not hidden"):
        store.unhide(store.list_instances()[0].id)


def test_hiding_a_resolved_instance_is_refused(store: Store, integration: Integration) -> None:
    scan(store, integration.id, [key("k1")], day(0))
    scan(store, integration.id, [], day(1))
    with pytest.raises(StoreError, match="resolved"):
        store.hide(store.list_instances()[0].id, "why", by="alice")


def test_resolve_finding_type_by_id_or_exact_name(store: Store, integration: Integration) -> None:
    assert store.resolve_finding_type(INACTIVE_USER).name == "OpenAI: Inactive user"
    assert store.resolve_finding_type("OpenAI: Inactive user").id == INACTIVE_USER
    with pytest.raises(NotFoundError, match="unknown finding type"):
        store.resolve_finding_type("inactive user")
    with pytest.raises(NotFoundError):
        store.ignore_type(integration.id, "nope")


def test_plain_keys_are_never_written(store: Store, integration: Integration) -> None:
    # Detections redact keys found in names and evidence (users name GPTs and conversations);
    # what is stored holds the redacted form, and the scan goes on.
    leaky = Detection(UNUSED_KEY, AssetRef(AssetKind.ADMIN_API_KEY, "k1", name=f"bot {FULL_KEY}",
                                           metadata={"x": [FULL_KEY]}), {"value": FULL_KEY})
    scan(store, integration.id, [leaky], day(0))
    detail = store.get_instance(store.list_instances()[0].id).instance
    stored = repr((detail.asset_name, detail.asset_metadata, detail.evidence))
    assert FULL_KEY not in stored
    assert detail.asset_name == "bot sk-proj...3n4"
    assert detail.asset_metadata == {"x": ["sk-proj...3n4"]}
    assert detail.evidence == {"value": "sk-proj...3n4"}
    # What bypasses detections is refused, never written.
    with pytest.raises(SecretInDataError) as caught:
        store.dlp_cache_put("h", {"samples": [FULL_KEY]})
    assert FULL_KEY not in str(caught.value)
    with pytest.raises(SecretInDataError):
        store.hide(1, f"key {FULL_KEY}", by="alice")


def test_words_that_contain_sk_dash_are_not_keys(store: Store, integration: Integration) -> None:
    named = Detection(GPT_STORE, AssetRef(AssetKind.GPT, "g-1", name="Risk-assessment-helper-bot-2026"),
                      {"container": "desk-booking-schedule-for-the-team"})
    scan(store, integration.id, [named], day(0))
    detail = store.get_instance(store.list_instances()[0].id).instance
    assert detail.asset_name == "Risk-assessment-helper-bot-2026"
    assert detail.evidence == {"container": "desk-booking-schedule-for-the-team"}


def test_high_water_mark_and_user_activity(store: Store, integration: Integration) -> None:
    assert store.last_high_water_mark(integration.id) is None
    first = store.begin_scan(integration.id, started_at=day(0))
    store.finish_scan(first, detections=[], evaluated_type_ids=[], complete_type_ids=[], high_water_mark=1700000000.5,
                      user_activity={"a@x.com": day(0), "b@x.com": day(1)}, finished_at=day(0))
    second = store.begin_scan(integration.id, started_at=day(2))
    store.fail_scan(second, "boom", finished_at=day(2))
    third = store.begin_scan(integration.id, started_at=day(3))
    store.finish_scan(third, detections=[], evaluated_type_ids=[], complete_type_ids=[],
                      user_activity={"a@x.com": day(3), "b@x.com": day(0)}, finished_at=day(3))
    assert store.last_high_water_mark(integration.id) == 1700000000.5
    assert store.user_activity(integration.id) == {"a@x.com": day(3), "b@x.com": day(1)}  # never goes back
    with pytest.raises(StoreError, match="not running"):
        store.fail_scan(third, "late")


def test_dlp_cache_roundtrip(store: Store) -> None:
    assert store.dlp_cache_get("sha256:abc") is None
    store.dlp_cache_put("sha256:abc", {"status": "scanned", "matches": [{"masked": "****-1234"}]})
    store.dlp_cache_put("sha256:abc", {"status": "not_scanned"})
    assert store.dlp_cache_get("sha256:abc") == {"status": "not_scanned"}


def test_events_since_scan(store: Store, integration: Integration) -> None:
    first = scan(store, integration.id, [key("k1")], day(0))
    second = scan(store, integration.id, [key("k2")], day(1))
    store.hide(store.list_instances(search="k2")[0].id, "ok", by="alice")
    after_first = store.events(since_scan_id=first.scan_id)
    assert [(e.scan_id, e.event_type) for e in after_first] == [
        (second.scan_id, "detected"), (second.scan_id, "resolved"), (None, "hidden")
    ]
    assert [e.event_type for e in store.events(since_scan_id=second.scan_id)] == ["hidden"]
    assert len(store.events(after_event_id=after_first[0].id)) == 2
    assert store.events(integration_id=integration.id, limit=1)[0].scan_id == first.scan_id


def test_naive_datetimes_are_refused(store: Store, integration: Integration) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        store.begin_scan(integration.id, started_at=day(0).replace(tzinfo=None))


def test_events_since_a_scan_without_events_never_repeat_a_hide(store: Store, integration: Integration) -> None:
    first = scan(store, integration.id, [key("k1")], day(0))
    store.hide(store.list_instances(search="k1")[0].id, "accepted", by="alice")
    unchanged = scan(store, integration.id, [key("k1")], day(1))  # writes no event
    assert [e.event_type for e in store.events(since_scan_id=first.scan_id)] == ["hidden"]
    assert store.events(since_scan_id=unchanged.scan_id) == []  # shipped once, with --since first
    assert store.events(since_scan_id=unchanged.scan_id + 50) == []
    store.unhide(store.list_instances(search="k1")[0].id, by="alice")
    assert [e.event_type for e in store.events(since_scan_id=unchanged.scan_id)] == ["unhidden"]
