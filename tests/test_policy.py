from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from openai_casb.detections import AssetRef, Detection
from openai_casb.dlp.settings import DlpSettings
from openai_casb.inventory.model import AssetKind
from openai_casb.policy import POLICY_ENV_VAR, MuteRule, Policy, PolicyError, load_policy, parse_policy

INACTIVE = "20ab9ddb-fd48-46a8-9fdf-9bb9b9061f21"
STALE_INVITE = "18fd5b21-8489-485e-9c93-0bd4a696e724"
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def detection(type_id: str = INACTIVE, asset_id: str = "user-abc", email: str | None = "Bot@Example.com") -> Detection:
    return Detection(type_id, AssetRef(AssetKind.USER, asset_id, email=email), evidence={})


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    policy = Policy()
    assert policy.version == 1
    assert policy.thresholds.key_rotation_days == 90
    assert policy.thresholds.unused_key_days == 30
    assert policy.thresholds.stale_invite_days == 7
    assert policy.thresholds.inactive_user_days == 90
    assert policy.mutelist == ()
    assert policy.dlp == DlpSettings()


def test_no_file_and_no_env_gives_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(POLICY_ENV_VAR, raising=False)
    assert load_policy(None) == Policy()


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    assert load_policy(write(tmp_path, "")) == Policy()


def test_overrides_from_file_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "version: 1\nthresholds:\n  key_rotation_days: 60\ndlp:\n  profiles: {}\n")
    policy = load_policy(path)
    assert policy.thresholds.key_rotation_days == 60
    assert policy.thresholds.unused_key_days == 30
    assert policy.dlp == DlpSettings()
    monkeypatch.setenv(POLICY_ENV_VAR, str(path))
    assert load_policy(None).thresholds.key_rotation_days == 60


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("thresholds:\n  key_rotation_days: 0\n", r"thresholds\.key_rotation_days: Input should be greater than 0"),
        ("thresholds:\n  key_rotation_days: -5\n", r"\(got -5\)"),
        ("thresholds:\n  unused_key_days: '30'\n", r"thresholds\.unused_key_days: Input should be a valid integer"),
        ("thresholds:\n  stale_invite_days: 7.5\n", r"thresholds\.stale_invite_days"),
        ("thresholds:\n  inactive_user_days: 99999999\n", r"less than or equal to 36500"),
        ("thresholds:\n  key_rotation_dayz: 10\n", r"thresholds\.key_rotation_dayz: Extra inputs are not permitted"),
        ("version: 2\n", r"version: Input should be 1"),
        ("version: true\n", r"version: Value error, version must be the integer 1 \(got True\)"),
        ("version: 1.0\n", r"version: Value error, version must be the integer 1 \(got 1\.0\)"),
        ("colour: blue\n", r"colour: Extra inputs are not permitted"),
        ("mutelist:\n  - asset_id: 'x'\n", r"mutelist\[0\]\.reason: Field required"),
        ("mutelist:\n  - reason: because\n", r"mutelist\[0\]: Value error, a mute rule needs at least one"),
        ("mutelist:\n  - {finding_type: 'OpenAI: Nope', reason: r}\n", r"unknown finding type 'OpenAI: Nope'"),
        ("mutelist:\n  - {asset_id: x, reason: r, expires: someday}\n", r"mutelist\[0\]\.expires"),
        ("mutelist:\n  - {asset_id: x, reason: '  '}\n", r"reason must not be blank"),
        ("dlp:\n  profilez: {}\n", r"dlp\.profilez: Extra inputs are not permitted"),
        ("- a\n- b\n", r"expected a mapping of keys at the top level, got list"),
        ("thresholds: [\n", r"not valid YAML"),
        ("dlp:\n  limits: {bogus: 1}\n", r"dlp\.limits\.bogus: Extra inputs are not permitted"),
        ("dlp: {limits: {max_file_bytes: -1}}", r"dlp\.limits\.max_file_bytes: .* greater than 0 \(got -1\)"),
        ("dlp:\n  limits: {max_nesting: -3, memory_mb: 8}\n", r"max_nesting.*\n.*dlp\.limits\.memory_mb"),
        ("dlp:\n  limits: [1]\n", r"dlp\.limits: Input should be a valid dictionary"),
    ],
)
def test_errors_name_file_key_and_value(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError, match=message) as caught:
        load_policy(path)
    assert str(path) in str(caught.value)


SECRETS = (
    "SLACKSECRETPATH",
    "hooks.slack.com",
    "topsecret-hmac",
    "tok-SECRET",
    "u:pw",
    "pw@example",
    "hunter2-basic",
    "KEYPATHSECRET",
    "ITEMPATHSECRET",
    "typo-secret",
    "saltsalt",
    "short1",
)
DUPLICATE_WEBHOOKS = """
webhooks:
  - name: a
    url: https://hooks.slack.com/services/T000/B000/SLACKSECRETPATH
    secret: topsecret-hmac
    auth: {type: bearer, token: tok-SECRET}
  - name: a
    url: https://hooks.slack.com/services/T000/B000/SLACKSECRETPATH
    secret: topsecret-hmac
"""
CREDENTIALS_IN_URL = """
webhooks:
  - name: a
    url: "https://u:pw@example.com/x"
"""
MANY_BAD_WEBHOOKS = """
thresholds: {key_rotation_days: -5}
webhooks:
  - name: b
    url: ftp://example.com/SLACKSECRETPATH
    secret: [topsecret-hmac]
    auth: {type: basic, username: bob, password: {p: hunter2-basic}}
    timeout_seconds: 999
  - name: c
    url: https://hooks.slack.com/services/T000/B000/SLACKSECRETPATH
    auth: {type: bearer, token: [tok-SECRET]}
    https://hooks.slack.com/services/T000/B000/KEYPATHSECRET: 1
  - "https://hooks.slack.com/services/T000/B000/ITEMPATHSECRET"
webhook: [{secret: typo-secret}]
salt: saltsalt
dlp: {salt: short1}
"""


@pytest.mark.parametrize(
    ("text", "messages"),
    [
        (DUPLICATE_WEBHOOKS, ["webhooks: Value error, duplicate webhook names: a"]),
        (CREDENTIALS_IN_URL, ["webhooks[0].url: Value error, put credentials in `auth`, not in the url"]),
        (
            MANY_BAD_WEBHOOKS,
            [
                "thresholds.key_rotation_days: Input should be greater than 0 (got -5)",
                "webhooks[0].url: URL scheme should be 'http' or 'https'",
                "webhooks[0].secret: Input should be a valid string",
                "webhooks[0].auth.basic.password: Input should be a valid string",
                "webhooks[0].timeout_seconds: Input should be less than or equal to 120",
                "webhooks[1].auth.bearer.token: Input should be a valid string",
                "webhooks[1].<key>: Extra inputs are not permitted",
                "webhooks[2]: Input should be a valid dictionary",
                "webhook: Extra inputs are not permitted",
                "salt: Extra inputs are not permitted",
                "dlp.salt: String should have at least 8 characters",
            ],
        ),
        # PyYAML quotes the offending line: the error gives its position only.
        ('webhooks:\n  - name: a\n    secret: "topsecret-hmac\n', ["not valid YAML", "line 3, column 13"]),
        ("webhooks:\n  - name: a\n    auth: {token: tok-SECRET: x}\n", ["not valid YAML", "line 3"]),
    ],
    ids=["duplicate-names", "credentials-in-url", "many", "yaml-unterminated", "yaml-mapping"],
)
def test_errors_never_echo_webhook_or_other_secret_values(tmp_path: Path, text: str, messages: list[str]) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(write(tmp_path, text))
    error = str(caught.value)
    for message in messages:
        assert message in error
    for secret in SECRETS:
        assert secret not in error


def test_missing_and_unreadable_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(PolicyError, match="does not exist"):
        load_policy(tmp_path / "absent.yaml")
    with pytest.raises(PolicyError, match="is a directory"):
        load_policy(tmp_path)
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PolicyError, match=r"binary\.yaml is not UTF-8 \(byte 0\)"):
        load_policy(tmp_path / "binary.yaml")
    monkeypatch.setenv(POLICY_ENV_VAR, str(tmp_path / "from-env.yaml"))
    with pytest.raises(PolicyError, match=r"from-env\.yaml does not exist"):
        load_policy(None)


def test_mute_by_name_is_stored_as_id() -> None:
    policy = parse_policy("mutelist:\n  - {finding_type: 'OpenAI: Inactive user', reason: bots}\n")
    assert policy.mutelist[0].finding_type == INACTIVE


def test_mute_matching_by_type_id_glob_and_email() -> None:
    rule = MuteRule(finding_type=INACTIVE, asset_id="user-*", asset_email="bot@*.com", reason="service bots")
    policy = Policy(mutelist=(rule,))
    assert policy.mute_rule_for(detection(), NOW) is rule
    assert policy.mute_rule_for(detection(type_id=STALE_INVITE), NOW) is None
    assert policy.mute_rule_for(detection(asset_id="svc-abc"), NOW) is None
    assert policy.mute_rule_for(detection(email="alice@example.com"), NOW) is None
    assert policy.mute_rule_for(detection(email=None), NOW) is None


def test_first_matching_rule_wins() -> None:
    first = MuteRule(asset_id="user-abc", reason="one")
    second = MuteRule(finding_type=INACTIVE, reason="two")
    assert Policy(mutelist=(first, second)).mute_rule_for(detection(), NOW) is first


def test_expiry_by_date_lasts_through_that_day_utc() -> None:
    policy = parse_policy("mutelist:\n  - {asset_id: user-abc, reason: r, expires: 2026-06-01}\n")
    rule = policy.mutelist[0]
    assert rule.expires == date(2026, 6, 1)
    assert policy.mute_rule_for(detection(), datetime(2026, 6, 1, 23, 59, 59, tzinfo=UTC)) is rule
    assert policy.mute_rule_for(detection(), datetime(2026, 6, 2, tzinfo=UTC)) is None


def test_expiry_by_datetime_naive_is_utc_and_exclusive() -> None:
    policy = parse_policy("mutelist:\n  - {asset_id: user-abc, reason: r, expires: '2026-06-01T12:00:00'}\n")
    assert policy.mute_rule_for(detection(), datetime(2026, 6, 1, 11, 59, 59, tzinfo=UTC)) is not None
    assert policy.mute_rule_for(detection(), NOW) is None


def test_expired_rule_lets_a_later_rule_apply() -> None:
    expired = MuteRule(asset_id="user-abc", reason="old", expires=date(2026, 1, 1))
    current = MuteRule(asset_id="user-*", reason="new")
    assert Policy(mutelist=(expired, current)).mute_rule_for(detection(), NOW) is current


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # PyYAML reads these as timestamps and lets datetime's ValueError escape: a traceback before.
        ("mutelist:\n  - asset_id: x\n    reason: ok\n    expires: 2026-02-30\n", "does not exist (line 4, column 14)"),
        ("mutelist:\n  - {asset_id: x, reason: ok, expires: 2026-13-45}\n", "date or time that does not exist"),
        ("mutelist:\n  - {asset_id: x, reason: ok, expires: 2026-01-01 25:00:00}\n", "date or time that does not"),
        ("thresholds: {key_rotation_days: !!timestamp soon}\n", "date or time that does not exist (line 1"),
        ("thresholds: {key_rotation_days: !!int ninety}\n", "a value its type cannot hold (line 1, column 33)"),
        ("thresholds: {key_rotation_days: !!bool maybe}\n", "a value its type cannot hold"),
        (f"thresholds: {{key_rotation_days: {'9' * 5000}}}\n", "a value its type cannot hold"),
        ("thresholds: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    ],
)
def test_values_yaml_cannot_convert_are_one_policy_error(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert str(caught.value).startswith(f"policy file {path}: not valid YAML: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_value_yaml_cannot_convert_is_never_quoted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # int() and float() quote what they refuse; a secret given a wrong tag must not reach the message.
    path = write(tmp_path, "webhooks:\n  - {name: a, url: 'https://h.example', secret: !!float topsecret-hmac}\n")
    monkeypatch.setenv(POLICY_ENV_VAR, str(path))
    with pytest.raises(PolicyError, match=r"a value its type cannot hold \(line 2, column 49\)") as caught:
        load_policy(None)
    assert "topsecret" not in str(caught.value)


def test_valid_limits_and_dates_still_load(tmp_path: Path) -> None:
    text = "dlp: {limits: {max_nesting: 2}}\nmutelist: [{asset_id: x, reason: ok, expires: 2028-02-29}]\n"
    policy = load_policy(write(tmp_path, text))
    assert policy.dlp.limits == {"max_nesting": 2}
    assert policy.mutelist[0].expires == date(2028, 2, 29)


def test_quoted_date_lasts_through_that_day_too() -> None:
    # Quoted, YAML gives a string; read as a datetime it would end at midnight, a day early.
    policy = parse_policy("mutelist:\n  - {asset_id: user-abc, reason: r, expires: '2026-06-01'}\n")
    rule = policy.mutelist[0]
    assert rule.expires == date(2026, 6, 1)
    assert policy.mute_rule_for(detection(), datetime(2026, 6, 1, 23, 59, 59, tzinfo=UTC)) is rule
    assert policy.mute_rule_for(detection(), datetime(2026, 6, 2, tzinfo=UTC)) is None


def test_expiry_with_a_zone_is_that_instant() -> None:
    policy = parse_policy(
        "mutelist:\n  - {asset_id: user-abc, reason: r, expires: 2026-06-01T14:00:00+02:00}\n"
        "  - {asset_id: user-abc, reason: quoted, expires: '2026-06-01T13:00:00Z'}\n"
    )
    first, second = policy.mutelist
    assert policy.mute_rule_for(detection(), datetime(2026, 6, 1, 11, 59, 59, tzinfo=UTC)) is first
    assert policy.mute_rule_for(detection(), NOW) is second  # 12:00 UTC: the first one has ended
    assert policy.mute_rule_for(detection(), datetime(2026, 6, 1, 13, tzinfo=UTC)) is None


@pytest.mark.parametrize("value", ["20260930", "1700000000", "true", "2026.5", "'next week'"])
def test_expiry_that_is_not_a_date_is_refused(value: str) -> None:
    # A number was read as seconds since 1970 (`20260930` is August 1970): a rule expired at birth.
    with pytest.raises(PolicyError) as caught:
        parse_policy(f"mutelist:\n  - {{asset_id: x, reason: r, expires: {value}}}\n")
    assert "mutelist[0].expires: Value error, expires must be a date (2026-09-30) or a datetime" in str(caught.value)
    assert str(caught.value).count("\n") == 1  # one line for the key, not one per member of a union


def test_oversized_policy_file_is_refused_before_parsing(tmp_path: Path) -> None:
    from openai_casb.policy import MAX_POLICY_FILE_BYTES

    path = tmp_path / "policy.yaml"
    line = "# " + "x" * 1021 + "\n"
    path.write_text(line * (MAX_POLICY_FILE_BYTES // len(line) + 1), encoding="utf-8")
    with pytest.raises(PolicyError, match=rf"policy file {path} is larger than {MAX_POLICY_FILE_BYTES} bytes"):
        load_policy(path)
    # A device that never ends is refused the same way, not read into memory until it runs out.
    with pytest.raises(PolicyError, match="is larger than"):
        load_policy(Path("/dev/zero"))


def test_yaml_alias_bomb_is_refused_quickly() -> None:
    # Billion laughs: nine levels of nine aliases, 387 million strings if expanded. PyYAML shares
    # aliased nodes and validation stops at the first wrong type, so nothing is expanded.
    lines = ['lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"lol{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    for root in ("mutelist: *a8", "webhooks: *a8", "dlp: {custom_profiles: [{name: p, entries: [{kind: words, "
                 "name: w, words: *a8}]}]}"):
        with pytest.raises(PolicyError) as caught:
            parse_policy("\n".join(lines) + "\n" + root + "\n")
        assert "lol0: Extra inputs are not permitted" in str(caught.value)
        assert len(str(caught.value).splitlines()) < 40


def test_policy_with_secrets_readable_by_others_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    secret = "whsec-SECRETsigningKEY"
    path = write(tmp_path, f"webhooks:\n  - {{name: siem, url: 'https://siem.example/hook', secret: {secret}}}\n")
    path.chmod(0o640)
    with caplog.at_level("WARNING", logger="openai_casb.policy"):
        load_policy(path)
    assert [r.getMessage() for r in caplog.records] == [
        f"warning: policy file {path} holds webhooks but its mode is 0o640 (not only its owner can read it); "
        f"run `chmod 600 {path}`"
    ]
    caplog.clear()
    path.chmod(0o600)
    with caplog.at_level("WARNING", logger="openai_casb.policy"):
        load_policy(path)
    assert not caplog.records
    # Thresholds and a mutelist are no secret: such a file may be shared.
    shared = write(tmp_path, "thresholds: {key_rotation_days: 60}\n")
    shared.chmod(0o644)
    with caplog.at_level("WARNING", logger="openai_casb.policy"):
        load_policy(shared)
    assert not caplog.records
    salted = write(tmp_path, "dlp: {salt: 'SECRETsalt-0123'}\n")
    salted.chmod(0o604)
    with caplog.at_level("WARNING", logger="openai_casb.policy"):
        load_policy(salted)
    assert "holds dlp.salt" in caplog.text
    assert "SECRET" not in caplog.text


@pytest.mark.parametrize(
    ("text", "where"),
    [
        # A second `mutelist:` used to replace the first silently: its rules stopped hiding anything.
        (
            "mutelist:\n  - {asset_id: key_legacy1, reason: accepted}\nthresholds: {key_rotation_days: 30}\n"
            "mutelist:\n  - {asset_id: key_other, reason: other}\n",
            "(first at line 1) (line 4, column 1)",
        ),
        ("mutelist: [{asset_id: a, asset_id: b, reason: r}]\n", "(first at line 1) (line 1, column 26)"),
        ("thresholds:\n  key_rotation_days: 30\n  key_rotation_days: 90\n", "(first at line 2) (line 3, column 3)"),
        ("webhooks: [{name: a, url: 'https://h.example/SECRETone', url: 'https://h.example/SECRETtwo'}]\n", "line 1"),
    ],
)
def test_a_key_given_twice_is_an_error(text: str, where: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    message = str(caught.value)
    assert message.startswith("policy file <policy>: not valid YAML: a key given twice in one mapping")
    assert where in message
    assert "SECRET" not in message


def test_keys_from_a_merge_may_be_overridden() -> None:
    text = "mutelist:\n  - <<: {asset_id: 'key_*', reason: default}\n    reason: specific\n"
    assert parse_policy(text).mutelist[0] == MuteRule(asset_id="key_*", reason="specific")


@pytest.mark.parametrize(
    ("entry", "where"),
    [
        ("{kind: words, name: w, words: [Heron, 4111111111111111]}", "words.words[1]: Input should be a valid string"),
        ("{kind: regex, name: w, pattern: 'HERON-4111111111111111-.*'}", "regex.pattern: Value error, unbounded"),
        ("{kind: regex, name: w, pattern: HERON, keywords: [a, 4111111111111111]}", "regex.keywords[1]: Input should"),
    ],
)
def test_errors_never_quote_what_dlp_looks_for(entry: str, where: str) -> None:
    # A custom entry's words, keywords and pattern are the sensitive data itself (a card number here).
    with pytest.raises(PolicyError) as caught:
        parse_policy(f"dlp: {{custom_profiles: [{{name: p, entries: [{entry}]}}]}}\n")
    assert f"dlp.custom_profiles[0].entries[0].{where}" in str(caught.value)
    assert "4111111111111111" not in str(caught.value)


@pytest.mark.parametrize(
    ("expires", "active_now"),
    [
        ("9999-12-31", True),  # "forever": the end of that day is past datetime.max
        ("9999-12-31T23:59:59-01:00", True),  # later than any UTC datetime
        ("0001-01-01T00:30:00+01:00", False),  # earlier than any UTC datetime
    ],
)
def test_expiry_at_the_ends_of_the_calendar_never_overflows(expires: str, active_now: bool) -> None:
    policy = parse_policy(f"mutelist:\n  - {{asset_id: user-abc, reason: r, expires: {expires}}}\n")
    rule = policy.mutelist[0]
    assert (policy.mute_rule_for(detection(), NOW) is rule) is active_now
    expires_at = rule.expires_at
    assert expires_at is not None
    assert expires_at.astimezone(UTC) in (datetime.max.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC))
