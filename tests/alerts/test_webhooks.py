"""Webhook delivery against a real loopback receiver: signatures, retries, idempotency, refusals."""

from __future__ import annotations

import base64
import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError
from webhook_receiver import running_receiver

from openai_casb.alerts.config import WebhookDestination, WebhookList
from openai_casb.alerts.delivery_log import InMemoryDeliveryLog
from openai_casb.alerts.dispatcher import WebhookDispatcher, display_url
from openai_casb.alerts.netguard import DestinationRefused, check_destination
from openai_casb.alerts.signing import SIGNATURE_HEADER, signature_header, verify_signature
from openai_casb.detections import Severity

sys.path.insert(0, str(Path(__file__).parent.parent / "exports"))
from export_fixtures import sample_events

NOW = 1_772_366_400


def destination(url: str, **overrides: Any) -> WebhookDestination:
    fields: dict[str, Any] = {"name": "siem", "url": url, "allow_private": True, "backoff_seconds": 1.0}
    fields.update(overrides)
    return WebhookDestination.model_validate(fields)


def dispatcher(*destinations: WebhookDestination, log: InMemoryDeliveryLog | None = None,
               sleeps: list[float] | None = None) -> WebhookDispatcher:  # fmt: skip
    recorded = sleeps if sleeps is not None else []
    return WebhookDispatcher(list(destinations), log or InMemoryDeliveryLog(), sleep=recorded.append, clock=lambda: NOW)


def test_generic_payload_is_signed_and_verifies() -> None:
    with running_receiver() as receiver:
        results = dispatcher(destination(receiver.url, secret="s3cret")).dispatch(sample_events())
    assert [r.status for r in results] == ["delivered"] * 5
    assert len(receiver.requests) == 5
    for request in receiver.requests:
        header = request.headers[SIGNATURE_HEADER]
        assert header.startswith(f"t={NOW},v1=")
        assert verify_signature("s3cret", header, request.body, now=NOW)
        assert not verify_signature("wrong", header, request.body, now=NOW)
        assert not verify_signature("s3cret", header, request.body + b" ", now=NOW)
        payload = json.loads(request.body)
        assert payload["version"] == 1
        assert request.headers["X-OpenAI-CASB-Event-Id"] == payload["id"]
    # oldest first
    assert [json.loads(r.body)["id"] for r in receiver.requests] == ["ev-1", "ev-2", "ev-3", "ev-4", "ev-5"]


def test_signature_outside_the_replay_window_is_rejected() -> None:
    header = signature_header("k", NOW, b"{}")
    assert verify_signature("k", header, b"{}", now=NOW + 300)
    assert not verify_signature("k", header, b"{}", now=NOW + 301)
    assert not verify_signature("k", "v1=abc", b"{}", now=NOW)


def test_retries_after_server_errors_with_exponential_backoff() -> None:
    sleeps: list[float] = []
    with running_receiver(statuses=[500, 503, 200]) as receiver:
        (result,) = dispatcher(destination(receiver.url), sleeps=sleeps).dispatch(sample_events()[:1])
    assert (result.status, result.attempts, result.http_status) == ("delivered", 3, 200)
    assert sleeps == [1.0, 2.0]
    assert len({r.body for r in receiver.requests}) == 1  # the same body each time


def test_gives_up_after_max_attempts_and_retries_next_dispatch() -> None:
    log = InMemoryDeliveryLog()
    with running_receiver(statuses=[500, 500]) as receiver:
        target = destination(receiver.url, max_attempts=2)
        (first,) = dispatcher(target, log=log).dispatch(sample_events()[:1])
        (second,) = dispatcher(target, log=log).dispatch(sample_events()[:1])
    assert (first.status, first.attempts, first.error) == ("failed", 2, "HTTP 500")
    assert second.status == "delivered"
    assert len(receiver.requests) == 3


def test_client_errors_are_not_retried() -> None:
    with running_receiver(statuses=[400]) as receiver:
        (result,) = dispatcher(destination(receiver.url)).dispatch(sample_events()[:1])
    assert (result.status, result.attempts) == ("failed", 1)
    assert len(receiver.requests) == 1


def test_connection_errors_are_retried_then_fail() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    target = destination(f"http://127.0.0.1:{port}/x", max_attempts=3)
    (result,) = dispatcher(target, sleeps=sleeps).dispatch(sample_events()[:1])
    assert (result.status, result.attempts, result.error) == ("failed", 3, "ConnectError")
    assert sleeps == [1.0, 2.0]


def test_nothing_is_sent_twice_across_dispatches() -> None:
    log = InMemoryDeliveryLog()
    with running_receiver() as receiver:
        target = destination(receiver.url)
        dispatcher(target, log=log).dispatch(sample_events())
        again = dispatcher(target, log=log).dispatch(sample_events() + sample_events())
    assert again == []
    assert len(receiver.requests) == 5


def test_each_destination_has_its_own_idempotency_record() -> None:
    log = InMemoryDeliveryLog()
    with running_receiver() as first, running_receiver() as second:
        dispatcher(destination(first.url, name="a"), log=log).dispatch(sample_events())
        dispatcher(destination(first.url, name="a"), destination(second.url, name="b"), log=log).dispatch(
            sample_events()
        )
    assert (len(first.requests), len(second.requests)) == (5, 5)


def test_filters_by_severity_event_type_and_finding_type() -> None:
    with running_receiver() as receiver:
        target = destination(receiver.url, filters={"min_severity": "high", "event_types": ["detected"]})
        results = dispatcher(target).dispatch(sample_events())
        only_key = destination(receiver.url, name="keys",
                               filters={"finding_types": ["49c75a36-1e64-437b-98a1-e54ec35d0a64"]})  # fmt: skip
        key_results = dispatcher(only_key).dispatch(sample_events())
    assert [r.event_id for r in results] == ["ev-4", "ev-5"]
    assert [r.event_id for r in key_results] == ["ev-1", "ev-2"]


def test_loopback_destination_refused_unless_allowed() -> None:
    log = InMemoryDeliveryLog()
    with running_receiver() as receiver:
        results = dispatcher(destination(receiver.url, allow_private=False), log=log).dispatch(sample_events())
    assert {r.status for r in results} == {"refused"}
    assert "allow_private" in (results[0].error or "")
    assert receiver.requests == []
    assert not log.was_delivered("siem", "ev-1")


def test_a_repeated_refusal_replaces_the_events_refusal_record() -> None:
    """Refused at every dispatch, the log keeps one record per event (the latest refusal), not one
    per dispatch; an event whose latest record is a failure gets a refusal record of its own."""
    log = InMemoryDeliveryLog()
    with running_receiver(statuses=[500]) as receiver:
        hidden = destination(receiver.url, allow_private=False)
        for _ in range(3):
            results = dispatcher(hidden, log=log).dispatch(sample_events())
            assert [r.status for r in results] == ["refused"] * 5
            assert [(e.event_id, e.status) for e in log.entries] == [(f"ev-{n}", "refused") for n in range(1, 6)]
        allowed = dispatcher(destination(receiver.url, max_attempts=1), log=log).dispatch(sample_events())
        assert [r.status for r in allowed] == ["failed"] + ["delivered"] * 4
        for _ in range(2):
            again = dispatcher(hidden, log=log).dispatch(sample_events())
            assert [(r.event_id, r.status) for r in again] == [("ev-1", "refused")]
    assert len(receiver.requests) == 5
    assert [(e.event_id, e.status) for e in log.entries[5:]] == [
        ("ev-1", "failed"), *((f"ev-{n}", "delivered") for n in range(2, 6)), ("ev-1", "refused")
    ]


@pytest.mark.parametrize(
    "addresses",
    [["10.1.2.3"], ["93.184.216.34", "192.168.1.5"], ["169.254.169.254"], ["::1"], ["fe80::1"], ["::ffff:127.0.0.1"],
     ["100.64.0.1"], ["0.0.0.0"]],
)
def test_internal_addresses_are_refused(addresses: list[str]) -> None:
    with pytest.raises(DestinationRefused, match="internal address"):
        check_destination("hooks.example", 443, allow_private=False, resolver=lambda host, port: addresses)


def test_public_addresses_are_allowed_and_unresolvable_hosts_refused() -> None:
    assert check_destination("hooks.example", 443, False, resolver=lambda h, p: ["93.184.216.34"]) == ["93.184.216.34"]

    def fail(host: str, port: int) -> list[str]:
        raise socket.gaierror("Name or service not known")

    with pytest.raises(DestinationRefused, match="cannot resolve"):
        check_destination("nowhere.invalid", 443, False, resolver=fail)


def test_slack_format_bearer_and_basic_auth() -> None:
    with running_receiver() as receiver:
        slack = destination(receiver.url, name="slack", format="slack", auth={"type": "bearer", "token": "tok-1"})
        basic = destination(receiver.url, name="basic", auth={"type": "basic", "username": "u", "password": "p"})
        dispatcher(slack, basic).dispatch(sample_events()[3:4])
    slack_request, basic_request = receiver.requests
    assert slack_request.headers["Authorization"] == "Bearer tok-1"
    assert basic_request.headers["Authorization"] == "Basic " + base64.b64encode(b"u:p").decode()
    payload = json.loads(slack_request.body)
    assert set(payload) == {"text", "blocks"}
    assert payload["blocks"][0]["type"] == "header"
    rendered = json.dumps(payload)
    assert "<script>" not in rendered  # Slack control characters escaped
    assert "&lt;script&gt;" in rendered


def test_payload_with_a_plain_key_is_never_sent() -> None:
    from dataclasses import replace

    leaked = replace(sample_events()[0], evidence={"value": "sk-admin-" + "Zz09" * 10})
    with running_receiver() as receiver:
        (result,) = dispatcher(destination(receiver.url)).dispatch([leaked])
    assert result.status == "failed"
    assert "Zz09" not in (result.error or "")
    assert receiver.requests == []


def test_secrets_never_show_in_config_reprs_or_display_url() -> None:
    target = destination("https://hooks.slack.com/services/T000/B000/XXXXSECRET", secret="s3cret",
                         auth={"type": "bearer", "token": "tok-1"})  # fmt: skip
    text = repr(target) + str(target.model_dump())
    assert "s3cret" not in text
    assert "tok-1" not in text
    assert "XXXXSECRET" not in display_url(target)


def test_config_errors_are_clear() -> None:
    with pytest.raises(ValidationError, match="duplicate webhook names: a"):
        TypeAdapter(WebhookList).validate_python([{"name": "a", "url": "https://x.example"},
                                                  {"name": "a", "url": "https://y.example"}])  # fmt: skip
    with pytest.raises(ValidationError, match="credentials in `auth`"):
        destination("https://user:pw@x.example/")
    with pytest.raises(ValidationError, match="unknown severity 'urgent'"):
        destination("https://x.example/", filters={"min_severity": "urgent"})
    with pytest.raises(ValidationError):
        destination("ftp://x.example/")
    assert destination("https://x.example/", filters={"min_severity": "medium"}).filters.min_severity is Severity.MEDIUM
