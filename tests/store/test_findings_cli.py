"""The findings CLI through typer's CliRunner, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from store_helpers import CATALOG, INACTIVE_USER, UNUSED_KEY, day, gpt, key, scan, user
from typer.testing import CliRunner

from openai_casb.cli.app import app
from openai_casb.store import Store

runner = CliRunner()


@pytest.fixture
def populated(db_url: str, store: Store) -> str:
    store.sync_finding_types(CATALOG)
    acme = store.ensure_integration("org-acme", "ws-acme", "Acme")
    scan(store, acme.id, [key("k1"), gpt("g1"), user("u1", "alice@example.com")], day(0))
    scan(store, acme.id, [gpt("g1"), user("u1", "alice@example.com")], day(1))
    return db_url


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def listed(db: str, *args: str) -> list[dict[str, object]]:
    code, out, err = invoke("findings", "--db", db, "--format", "json", *args)
    assert code == 0, err
    documents = json.loads(out)
    assert isinstance(documents, list)
    return documents


def test_findings_json_has_the_public_fields(populated: str) -> None:
    documents = listed(populated)
    assert [d["finding_type"] for d in documents] == [
        "OpenAI: GPT publicly accessible via GPT Store", "OpenAI: Inactive user"]
    inactive = documents[1]
    assert inactive["finding_type_id"] == INACTIVE_USER
    assert (inactive["severity"], inactive["status"]) == ("Medium", "active")
    assert inactive["asset"] == {"kind": "user", "id": "u1", "name": "alice", "email": "alice@example.com",
                                 "link": None}
    assert inactive["evidence"] == {"last_activity": None}
    assert (inactive["first_detected"], inactive["last_detected"]) == ("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z")


def test_findings_filters(populated: str) -> None:
    resolved = listed(populated, "--status", "resolved")
    assert [(d["asset"]["id"], d["resolved_at"]) for d in resolved] == [("k1", "2026-01-02T00:00:00Z")]
    assert len(listed(populated, "--status", "all")) == 3
    assert [d["asset"]["id"] for d in listed(populated, "--severity", "high")] == ["g1"]
    assert [d["asset"]["id"] for d in listed(populated, "--type", "OpenAI: Inactive user")] == ["u1"]
    assert [d["asset"]["id"] for d in listed(populated, "--type", UNUSED_KEY, "--status", "all")] == ["k1"]


def test_findings_table_groups_and_ignored_apart(populated: str) -> None:
    code, _, err = invoke("ignore", "OpenAI: Inactive user", "--db", populated)
    assert code == 0, err
    code, out, _ = invoke("findings", "--db", populated)
    assert code == 0
    assert out.index("GPTs visible beyond the organization") < out.index("Ignored finding types")
    assert "Inactive" in out.split("Ignored finding types")[1]
    assert "Inactive" not in out.split("Ignored finding types")[0]
    assert listed(populated, "--type", INACTIVE_USER)[0]["finding_status"] == "ignored"
    assert invoke("unignore", INACTIVE_USER, "--db", populated)[0] == 0
    assert listed(populated, "--type", INACTIVE_USER)[0]["finding_status"] == "active"


def test_show_hide_unhide(populated: str) -> None:
    instance_id = str(listed(populated, "--type", INACTIVE_USER)[0]["id"])
    code, _, err = invoke("hide", instance_id, "--reason", "on leave", "--by", "alice", "--db", populated)
    assert code == 0, err
    assert [d["asset"]["id"] for d in listed(populated, "--status", "hidden")] == ["u1"]
    code, out, _ = invoke("findings", "show", instance_id, "--db", populated, "--format", "json")
    assert code == 0
    shown = json.loads(out)
    assert shown["hidden"] == {"by": "alice", "reason": "on leave", "until": None}
    assert [e["type"] for e in shown["events"]] == ["detected", "hidden"]
    code, out, _ = invoke("findings", "show", instance_id, "--db", populated)
    assert code == 0
    assert "on leave" in out
    assert invoke("unhide", instance_id, "--db", populated)[0] == 0
    assert listed(populated, "--status", "hidden") == []


def test_severity_override_and_back(populated: str) -> None:
    code, out, _ = invoke("severity", INACTIVE_USER, "critical", "--db", populated)
    assert code == 0
    assert "Critical" in out
    # group order comes before severity: the GPT's group still lists first
    assert [(d["asset"]["id"], d["severity"]) for d in listed(populated)] == [("g1", "High"), ("u1", "Critical")]
    assert listed(populated, "--severity", "critical")[0]["severity"] == "Critical"
    assert invoke("severity", "OpenAI: Inactive user", "default", "--db", populated)[0] == 0
    assert listed(populated, "--severity", "critical") == []


def test_scans_json(populated: str) -> None:
    code, out, _ = invoke("scans", "--db", populated, "--format", "json")
    assert code == 0
    scans = json.loads(out)
    assert [(s["status"], s["new"], s["resolved"]) for s in scans] == [("complete", 0, 1), ("complete", 3, 0)]
    code, out, _ = invoke("scans", "--db", populated)
    assert (code, "Acme" in out) == (0, True)


# Exit 2: the command line is wrong (bad argument or option, a name or id that does not exist);
# exit 1: a well-formed request the data's state refuses (README, Exit codes).
@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["findings", "show", "999"], 2, "no finding instance with id 999"),
        (["findings", "--severity", "extreme"], 2, "unknown severity"),
        (["findings", "--type", "nope"], 2, "unknown finding type"),
        (["findings", "--type", "bogus", "--status", "all"], 2, "unknown finding type"),
        (["findings", "--integration", "nobody"], 2, "no integration 'nobody'"),
        (["scans", "--integration", "nobody"], 2, "no integration 'nobody'"),
        (["ignore", "nope"], 2, "unknown finding type"),
        (["unignore", "nope"], 2, "unknown finding type"),
        (["ignore", UNUSED_KEY, "--integration", "nobody"], 2, "no integration 'nobody'"),
        (["severity", UNUSED_KEY, "bogus"], 2, "unknown severity"),
        (["severity", UNUSED_KEY, "extreme"], 2, "unknown severity"),
        (["severity", "nope", "high"], 2, "unknown finding type"),
        (["hide", "abc", "--reason", "x"], 2, "Usage: openai-casb hide"),
        (["hide", "999", "--reason", "x"], 2, "no finding instance with id 999"),
        (["hide", "1", "--reason", " "], 2, "needs a reason"),
        (["hide", "1", "--reason", "x", "--by", " "], 2, "--by"),
        (["unhide", "999"], 2, "no finding instance with id 999"),
        (["unhide", "1"], 1, "not hidden"),
    ],
)
def test_bad_input_gives_clear_errors(populated: str, args: list[str], code: int, message: str) -> None:
    exit_code, out, err = invoke(*args, "--db", populated)
    assert exit_code == code, err
    assert message in err
    assert "Traceback" not in out + err


def test_hiding_a_hidden_instance_is_refused_with_exit_1(populated: str) -> None:
    instance_id = str(listed(populated, "--type", INACTIVE_USER)[0]["id"])
    assert invoke("hide", instance_id, "--reason", "on leave", "--db", populated)[0] == 0
    code, _, err = invoke("hide", instance_id, "--reason", "again", "--db", populated)
    assert code == 1
    assert "already hidden" in err


def test_several_integrations_need_a_choice(populated: str, store: Store) -> None:
    store.ensure_integration("org-other", None, "Other")
    for command in (["ignore", UNUSED_KEY], ["unignore", UNUSED_KEY], ["severity", UNUSED_KEY, "high"]):
        code, _, err = invoke(*command, "--db", populated)
        assert code == 2, command
        assert "choose one with --integration" in err
    assert invoke("ignore", UNUSED_KEY, "--db", populated, "--integration", "Acme")[0] == 0
    assert invoke("ignore", UNUSED_KEY, "--db", populated, "--integration", "org-other")[0] == 0


def test_unreachable_database_is_a_clear_error() -> None:
    code, out, err = invoke("findings", "--db", "postgresql+psycopg://u:hunter2@127.0.0.1:1/db")
    assert code == 2
    assert "cannot open database" in err
    assert "hunter2" not in out + err


def test_empty_database(sqlite_url: str) -> None:
    code, out, _ = invoke("findings", "--db", sqlite_url)
    assert (code, "No findings match." in out) == (0, True)
    code, _, err = invoke("ignore", UNUSED_KEY, "--db", sqlite_url)
    assert code == 1  # nothing wrong with the command: the database has nothing to act on yet
    assert "no integration in this database yet" in err
