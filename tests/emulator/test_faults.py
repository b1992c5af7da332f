"""Seeded fault injection: each kind alone, and determinism for a seed and request sequence."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from openai_casb.emulator import Org
from openai_casb.emulator.gate import ConnectionDropped

from .conftest import Api


def test_burst429_answers_bursts_of_two_to_four(org: Org, make_api: Callable[..., Api]) -> None:
    api = make_api(org, fault_rate=0.15, fault_kinds=("burst429",), fault_seed=3)
    responses = [api.admin("/users") for _ in range(200)]
    statuses = "".join("x" if r.status_code == 429 else "." for r in responses)
    runs = [len(run) for run in statuses.split(".") if run]
    assert runs, statuses
    assert all(run >= 2 for run in runs), statuses
    assert all(r.headers["retry-after"] == "1" for r in responses if r.status_code == 429)
    # Every injected 429 is counted with the quota 429s.
    assert api.http.get("/_emulator/stats").json()["rate_limited"] == statuses.count("x")


@pytest.mark.parametrize("kind", ["error500", "error502", "error503"])
def test_server_errors(org: Org, make_api: Callable[..., Api], kind: str) -> None:
    api = make_api(org, fault_rate=1.0, fault_kinds=(kind,))
    response = api.compliance("/users")
    assert response.status_code == int(kind.removeprefix("error"))
    assert response.json()["error"]["type"] == "server_error"


def test_truncated_body_is_broken_json(org: Org, make_api: Callable[..., Api]) -> None:
    api = make_api(org, fault_rate=1.0, fault_kinds=("truncated",))
    response = api.admin("/users")
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_short_page_keeps_has_more(org: Org, make_api: Callable[..., Api]) -> None:
    api = make_api(org, fault_rate=1.0, fault_kinds=("short_page",))
    body = api.admin("/users", limit=10).json()
    assert len(body["data"]) == 5
    assert body["has_more"] is True
    # Walking with short pages still reaches every object exactly once.
    seen, after = [], None
    while True:
        page = api.compliance("/users", limit=8, **({"after": after} if after else {})).json()
        seen += [u["id"] for u in page["data"]]
        if not page["has_more"]:
            break
        after = page["last_id"]
    assert seen == [u["id"] for u in org.compliance_users]


def test_repeat_serves_a_conversation_again(org: Org, make_api: Callable[..., Api]) -> None:
    api = make_api(org, fault_rate=1.0, fault_kinds=("repeat",))
    first = api.compliance("/conversations", limit=10).json()
    second = api.compliance("/conversations", limit=10, after=first["last_id"]).json()
    assert second["data"][0]["id"] == first["data"][-1]["id"]
    assert [c["id"] for c in second["data"][1:]] == [c["id"] for c in org.conversations][10:20]
    assert api.admin("/users").status_code == 200  # `repeat` applies to conversations only


def test_reset_in_process_raises(org: Org, make_api: Callable[..., Api]) -> None:
    api = make_api(org, fault_rate=1.0, fault_kinds=("reset",))
    with pytest.raises(ConnectionDropped):
        api.admin("/users")


def test_same_seed_same_faults(org: Org, make_api: Callable[..., Api]) -> None:
    kinds = ("error500", "error503", "truncated", "short_page", "burst429")

    def run(seed: int) -> list[tuple[int, int]]:
        api = make_api(org, fault_rate=0.4, fault_seed=seed, fault_kinds=kinds)
        return [(r.status_code, len(r.content)) for r in (api.admin("/users", limit=6) for _ in range(40))]

    assert run(11) == run(11)
    assert run(11) != run(12)
    faulty = [status for status, _ in run(11) if status != 200]
    assert faulty  # 40 draws at 0.4 without a fault would mean injection is off


def test_no_faults_at_rate_zero(api: Api) -> None:
    assert all(api.admin("/users").status_code == 200 for _ in range(30))
    assert api.http.get("/_emulator/stats").json()["faults"] == {}


def test_latency_sleeps_with_jitter(org: Org, make_api: Callable[..., Api], monkeypatch: pytest.MonkeyPatch) -> None:
    from openai_casb.emulator import gate

    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(gate.asyncio, "sleep", record)
    api = make_api(org, latency_ms=200)
    for _ in range(20):
        assert api.admin("/users").status_code == 200
    assert len(slept) == 20
    assert all(0.1 <= s <= 0.3 for s in slept)
    assert len(set(slept)) > 1  # jitter
