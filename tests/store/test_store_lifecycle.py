"""Every lifecycle transition across successive scans, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from store_helpers import GPT_STORE, UNUSED_KEY, day, gpt, key, scan, user

from openai_casb.detections import Severity
from openai_casb.store import MUTELIST, InstanceView, Integration, MuteRule, Store, StoreError


def states(store: Store) -> dict[str, InstanceView]:
    return {view.asset_id: view for view in store.list_instances(limit=1000)}


def event_types(store: Store, instance_id: int) -> list[str]:
    return [str(event.event_type) for event in store.get_instance(instance_id).events]


def test_new_then_still_active_then_resolved_then_reopened(store: Store, integration: Integration) -> None:
    first = scan(store, integration.id, [key("k1", age=31), key("k2")], day(0))
    assert (first.new, first.resolved, first.reopened, first.detected) == (2, 0, 0, 2)
    assert first.severity_counts == {"medium": 2}
    k1 = states(store)["k1"]
    assert k1.status == "active"
    assert k1.new_in_scan_id == first.scan_id
    assert k1.first_detected == k1.last_detected == day(0)

    second = scan(store, integration.id, [key("k1", age=32), key("k2")], day(1))
    assert (second.new, second.resolved, second.reopened) == (0, 0, 0)
    k1 = states(store)["k1"]
    assert (k1.status, k1.first_detected, k1.last_detected) == ("active", day(0), day(1))
    assert k1.evidence["age"] == 32  # the latest evidence
    assert k1.new_in_scan_id == first.scan_id

    third = scan(store, integration.id, [key("k2")], day(2))
    assert (third.new, third.resolved) == (0, 1)
    k1 = states(store)["k1"]
    assert (k1.status, k1.resolved_at, k1.last_detected) == ("resolved", day(2), day(1))

    fourth = scan(store, integration.id, [key("k1"), key("k2")], day(3))
    assert (fourth.new, fourth.reopened, fourth.resolved) == (0, 1, 0)
    k1 = states(store)["k1"]
    assert (k1.status, k1.resolved_at, k1.first_detected) == ("active", None, day(0))
    assert event_types(store, k1.id) == ["detected", "resolved", "reopened"]
    assert len(store.list_instances(limit=1000)) == 2  # never a duplicate instance


def test_incomplete_or_unevaluated_types_resolve_nothing(store: Store, integration: Integration) -> None:
    scan(store, integration.id, [key("k1"), gpt("g1")], day(0))
    partial = scan(store, integration.id, [], day(1), complete=[], status="partial")
    assert partial.resolved == 0
    assert partial.incomplete_sources  # the failed sources are named
    failed = scan(store, integration.id, [], day(2), complete=[GPT_STORE], evaluated=[GPT_STORE], status="partial")
    assert failed.resolved == 1  # only the GPT, whose source was complete
    current = states(store)
    assert current["k1"].status == "active"
    assert current["g1"].status == "resolved"


def test_failed_scan_resolves_nothing(store: Store, integration: Integration) -> None:
    scan(store, integration.id, [key("k1")], day(0))
    scan_id = store.begin_scan(integration.id, started_at=day(1))
    store.fail_scan(scan_id, "Admin API unreachable", finished_at=day(1))
    assert states(store)["k1"].status == "active"
    latest = store.list_scans()[0]
    assert (latest.status, latest.errors) == ("failed", ["Admin API unreachable"])


def test_hidden_stays_hidden_and_keeps_updating(store: Store, integration: Integration) -> None:
    scan(store, integration.id, [key("k1", age=1)], day(0))
    k1 = states(store)["k1"]
    store.hide(k1.id, "accepted risk", by="alice")
    scan(store, integration.id, [key("k1", age=2)], day(1))
    k1 = states(store)["k1"]
    assert (k1.status, k1.hidden_by, k1.hidden_reason) == ("hidden", "alice", "accepted risk")
    assert (k1.last_detected, k1.evidence["age"]) == (day(1), 2)
    # Gone, then back: resolved, then reopened straight into hidden (a person's hide persists).
    scan(store, integration.id, [], day(2))
    assert states(store)["k1"].status == "resolved"
    scan(store, integration.id, [key("k1")], day(3))
    assert states(store)["k1"].status == "hidden"
    store.unhide(k1.id, by="bob")
    k1 = states(store)["k1"]
    assert (k1.status, k1.hidden_by) == ("active", None)
    scan(store, integration.id, [key("k1")], day(4))
    assert states(store)["k1"].status == "active"
    assert event_types(store, k1.id) == ["detected", "hidden", "resolved", "reopened", "unhidden"]


def test_mutelist_hides_and_expiry_brings_back(store: Store, integration: Integration) -> None:
    store.clock = lambda: day(1)  # reads happen on the scans' days: an expired hide reads as active
    rule = MuteRule(reason="break-glass key", expires_at=day(5))
    rules = {(UNUSED_KEY, "admin_api_key", "k1"): rule}
    summary = scan(store, integration.id, [key("k1"), key("k2")], day(0), mute_rules=rules)
    assert summary.severity_counts == {"medium": 1}  # the hidden one is not counted as open
    k1 = states(store)["k1"]
    assert (k1.status, k1.hidden_by, k1.hidden_reason, k1.hidden_until) == ("hidden", MUTELIST, "break-glass key",
                                                                             day(5))
    scan(store, integration.id, [key("k1")], day(1), mute_rules=lambda k: rules.get(k))
    assert states(store)["k1"].status == "hidden"
    store.clock = lambda: day(6)
    scan(store, integration.id, [key("k1")], day(6), mute_rules=rules)  # the rule has expired
    k1 = states(store)["k1"]
    assert (k1.status, k1.hidden_by, k1.hidden_until) == ("active", None, None)
    assert event_types(store, k1.id) == ["detected", "hidden", "unhidden"]
    unhidden = store.get_instance(k1.id).events[-1]
    assert unhidden.details["reason"] == "mutelist rule expired"


def test_mutelist_rule_removed_unhides(store: Store, integration: Integration) -> None:
    rules = {(UNUSED_KEY, "admin_api_key", "k1"): MuteRule(reason="known")}
    scan(store, integration.id, [key("k1")], day(0), mute_rules=rules)
    assert states(store)["k1"].status == "hidden"
    scan(store, integration.id, [key("k1")], day(1), mute_rules={})
    assert states(store)["k1"].status == "active"


def test_a_persons_hide_wins_over_the_mutelist(store: Store, integration: Integration) -> None:
    scan(store, integration.id, [key("k1")], day(0))
    store.hide(states(store)["k1"].id, "owner asked", by="alice")
    scan(store, integration.id, [key("k1")], day(1), mute_rules={(UNUSED_KEY, "admin_api_key", "k1"): MuteRule("x")})
    assert states(store)["k1"].hidden_by == "alice"


def test_user_hide_with_expiry_comes_back(store: Store, integration: Integration) -> None:
    store.clock = lambda: day(3)  # reads happen on the scans' days: an expired hide reads as active
    scan(store, integration.id, [key("k1")], day(0))
    store.hide(states(store)["k1"].id, "for a week", by="alice", until=day(7))
    scan(store, integration.id, [key("k1")], day(3))
    assert states(store)["k1"].status == "hidden"
    store.clock = lambda: day(8)
    scan(store, integration.id, [key("k1")], day(8))
    assert states(store)["k1"].status == "active"


def test_an_expired_hide_reads_as_shown_before_the_next_scan_records_it(
    store: Store, integration: Integration
) -> None:
    scan(store, integration.id, [key("k1"), key("k2"), key("k3")], day(0))
    k1, k2, k3 = (states(store)[name].id for name in ("k1", "k2", "k3"))
    store.clock = lambda: day(1)
    for instance_id in (k1, k2, k3):
        store.hide(instance_id, "for a week", by="alice", until=day(7))
    assert store.count_instances(status="hidden") == 3
    store.clock = lambda: day(8)  # the hides are over; no scan has run since
    view = store.get_instance(k1).instance
    assert (view.status, view.hidden_by, view.hidden_reason, view.hidden_until) == ("active", None, None, None)
    assert store.count_instances(status="hidden") == 0
    assert store.count_instances(status="active") == 3
    assert {v.id for v in store.list_instances(status="active")} == {k1, k2, k3}
    assert store.list_instances(status="hidden") == []
    assert event_types(store, k1) == ["detected", "hidden"]  # nothing is written by reading
    # Unhiding a shown instance is refused, as for any shown one; hiding it again is a new hide.
    with pytest.raises(StoreError, match="is not hidden: its hide expired"):
        store.unhide(k1, by="bob")
    store.hide(k1, "still accepted", by="bob")
    assert event_types(store, k1) == ["detected", "hidden", "unhidden", "hidden"]
    ended = store.get_instance(k1).events[2]
    assert ended.details == {"by": "alice", "reason": "hide expired"}
    assert (store.get_instance(k1).instance.status, store.get_instance(k1).instance.hidden_by) == ("hidden", "bob")
    # The next scan records the end of the others' hides, as it always did: seen (k2) or not (k3).
    scan(store, integration.id, [key("k1"), key("k2")], day(9))
    for instance_id in (k2, k3):
        unhidden = [e for e in store.get_instance(instance_id).events if e.event_type == "unhidden"]
        assert [(e.details["reason"], e.scan_id is not None) for e in unhidden] == [("hide expired", True)]
    assert event_types(store, k1) == ["detected", "hidden", "unhidden", "hidden"]  # bob's hide stands


def test_ignored_type_keeps_being_evaluated(store: Store, integration: Integration) -> None:
    scan(store, integration.id, [key("k1"), gpt("g1")], day(0))
    store.ignore_type(integration.id, UNUSED_KEY)
    summary = scan(store, integration.id, [key("k1"), key("k2"), gpt("g1")], day(1))
    assert summary.new == 1
    assert summary.severity_counts == {"high": 1}  # ignored types are not counted as open
    ignored = store.list_instances(finding_status="ignored")
    assert sorted(view.asset_id for view in ignored) == ["k1", "k2"]
    assert [view.asset_id for view in store.list_instances(finding_status="active")] == ["g1"]
    scan(store, integration.id, [gpt("g1")], day(2))
    assert states(store)["k1"].status == "resolved"  # still evaluated, so still resolved
    store.unignore_type(integration.id, UNUSED_KEY)
    assert store.finding_settings(integration.id)[UNUSED_KEY][0] == "active"


def test_severity_override_changes_effective_severity(store: Store, integration: Integration) -> None:
    scan(store, integration.id, [key("k1"), gpt("g1")], day(0))
    store.override_severity(integration.id, UNUSED_KEY, Severity.CRITICAL)
    view = states(store)["k1"]
    assert (view.severity, view.default_severity) == (Severity.CRITICAL, Severity.MEDIUM)
    assert [v.asset_id for v in store.list_instances(severity_min=Severity.CRITICAL)] == ["k1"]
    summary = scan(store, integration.id, [key("k1"), gpt("g1")], day(1))
    assert summary.severity_counts == {"critical": 1, "high": 1}
    store.override_severity(integration.id, UNUSED_KEY, None)
    assert states(store)["k1"].severity == Severity.MEDIUM


def test_integrations_are_kept_apart(store: Store, integration: Integration) -> None:
    other = store.ensure_integration("org-other", None, "Other")
    assert store.ensure_integration("org-acme", "ws-acme", "Acme renamed").id == integration.id
    scan(store, integration.id, [key("k1")], day(0))
    scan(store, other.id, [key("k1")], day(0))
    scan(store, other.id, [], day(1))  # resolves only the other integration's instance
    assert [v.status for v in store.list_instances(integration_id=integration.id)] == ["active"]
    assert [v.status for v in store.list_instances(integration_id=other.id)] == ["resolved"]


def test_same_detection_twice_in_one_scan_is_one_instance(store: Store, integration: Integration) -> None:
    summary = scan(store, integration.id, [user("u1", "a@x.com"), user("u1", "a@x.com")], day(0))
    assert (summary.new, summary.detected) == (1, 1)


def test_invalid_finish_scan_arguments_are_refused(store: Store, integration: Integration) -> None:
    scan_id = store.begin_scan(integration.id, started_at=day(0))
    with pytest.raises(ValueError, match="unknown finding types"):
        store.finish_scan(scan_id, detections=[], evaluated_type_ids=["nope"], complete_type_ids=[])
    with pytest.raises(ValueError, match="must be evaluated too"):
        store.finish_scan(scan_id, detections=[], evaluated_type_ids=[], complete_type_ids=[UNUSED_KEY])
    with pytest.raises(ValueError, match="did not list as evaluated"):
        store.finish_scan(scan_id, detections=[key("k1")], evaluated_type_ids=[GPT_STORE], complete_type_ids=[])
    with pytest.raises(ValueError, match="status"):
        store.finish_scan(scan_id, detections=[], evaluated_type_ids=[], complete_type_ids=[], status="running")
    store.finish_scan(scan_id, detections=[], evaluated_type_ids=[], complete_type_ids=[], finished_at=day(0))
    assert store.list_scans()[0].status == "complete"


def test_open_counts_include_instances_an_incomplete_read_did_not_see(store: Store, integration: Integration) -> None:
    scan(store, integration.id, [key("k1"), key("k2"), key("k3")], day(0))
    # The keys' source was not read completely (or, for conversation files, not re-read by an
    # incremental scan): k2 and k3 are neither seen nor resolved, and still open.
    partial = scan(store, integration.id, [key("k1")], day(1), complete=(), status="partial")
    assert (partial.detected, partial.resolved) == (1, 0)
    assert partial.severity_counts == {"medium": 3}
    assert store.list_scans(integration.id)[0].severity_counts == {"medium": 3}


def test_hiding_a_hidden_instance_again_is_refused_like_unhiding_a_shown_one(
    store: Store, integration: Integration
) -> None:
    scan(store, integration.id, [key("k1"), key("k2")], day(0),
         mute_rules={(UNUSED_KEY, "admin_api_key", "k2"): MuteRule("known")})
    k1, k2 = states(store)["k1"], states(store)["k2"]
    store.hide(k1.id, "accepted risk", by="alice")
    with pytest.raises(StoreError, match="already hidden by alice; unhide it first"):
        store.hide(k1.id, "another reason", by="bob")
    assert event_types(store, k1.id) == ["detected", "hidden"]  # one transition, one event
    assert states(store)["k1"].hidden_reason == "accepted risk"
    # A person may still take over an instance the mutelist hides (their hide wins).
    store.hide(k2.id, "owner asked", by="alice")
    assert states(store)["k2"].hidden_by == "alice"
