"""What counts as a key: every key form the product knows is masked by the redaction, refused by the
store's guard and by the exports' last check; names and email addresses that merely start with `sk-`
are none of these (docs/dlp.md: people's emails are left as they are to route a finding)."""

from __future__ import annotations

import pytest

from openai_casb.detections import AssetKind, AssetRef
from openai_casb.exports.safety import PlainSecretError, ensure_no_plain_secrets, find_plain_secrets
from openai_casb.redaction import redact_keys_in, redact_keys_in_text
from openai_casb.store.guard import looks_like_secret, refuse_secrets
from openai_casb.store.records import SecretInDataError

_B62 = "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa"
KEYS = {
    "project": "sk-proj-" + _B62[:24] + "T3BlbkFJ" + _B62[4:28],
    "project without marker": "sk-proj-" + "A1b2C3d4" * 5,
    "service account": "sk-svcacct-" + _B62[:30] + "T3BlbkFJ" + _B62[:30],
    "admin": "sk-admin-" + "q8X_-" + _B62[:40],
    "admin, full length": "sk-admin-" + _B62 * 3,
    "admin test-style": "sk-admin-test-0000000000000000",
    "user (None)": "sk-None-" + _B62[:25],
    "compliance": "sk-comp-PLANTEDsecretComplianceKey987654321abc",
    "legacy with marker": "sk-" + _B62[:20] + "T3BlbkFJ" + _B62[10:30],
    "legacy 48": "sk-" + (_B62 + _B62)[:48],
    "legacy 48 letters only": "sk-" + "QwErTyUiOpAsDfGhJkLzXcVbNm" + "mNbVcXzLkJhGfDsApOiUyT",
    "anthropic": "sk-ant-api03-" + ("Ab1" * 31) + "AA",
    "anthropic admin": "sk-ant-admin01-" + ("Xy9" * 31) + "AA",
    "hex body": "sk-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c",
    "dashed unknown": "sk-or-v1-" + "0a1b2c3d4e5f6a7b" * 4,
}
NOT_KEYS = [
    "sk-learning-team-members@example.com",
    "sk-learning-companion-for-kids",
    "sk-booking-schedule-for-the-team",
    "sk-assessment-helper-bot-2026",
    "sk-TheLearningCompanionForKids",
    "Risk-assessment-helper-bot",
    "sk-compliance-test-000000000000",
    "alice.sk-learning-team-members+gpt@sub.example.co.uk",
]


@pytest.mark.parametrize("name", sorted(KEYS))
def test_every_known_key_form_is_masked_and_refused_in_every_context(name: str) -> None:
    key = KEYS[name]
    for text in (key, f"deploy notes {key}", f"{key}.", f"token={key}&x=1", f"_{key}", f'"{key}"'):
        redacted = redact_keys_in_text(text)
        assert key not in redacted, (name, redacted)
        assert key[12:30] not in redacted, (name, redacted)
        assert looks_like_secret(text), (name, text)
        assert find_plain_secrets(text), (name, text)
        with pytest.raises(PlainSecretError):
            ensure_no_plain_secrets(text)
    with pytest.raises(SecretInDataError):
        refuse_secrets("the evidence", {"sample": [key]})


@pytest.mark.parametrize("name", ["project", "service account", "admin, full length", "legacy with marker",
                                  "legacy 48", "anthropic"])
def test_a_key_written_like_an_email_or_url_user_is_still_masked(name: str) -> None:
    """An email's local part has at most 64 characters: longer, or with a structure no address has
    (the OpenAI marker, a legacy or Anthropic key), it is a key."""
    key = KEYS[name]
    for text in (f"{key}@example.com", f"https://user:{key}@api.example.com/v1"):
        assert key not in redact_keys_in_text(text)
        assert looks_like_secret(text)
        assert find_plain_secrets(text)


@pytest.mark.parametrize("text", NOT_KEYS)
def test_names_and_emails_starting_with_sk_are_kept_everywhere(text: str) -> None:
    assert redact_keys_in_text(text) == text
    assert redact_keys_in({"owner": text, "names": [text]}) == {"owner": text, "names": [text]}
    assert not looks_like_secret(text)
    refuse_secrets("the evidence", {"owner": text})  # accepted
    assert find_plain_secrets(text) == []
    assert ensure_no_plain_secrets(f'{{"email": "{text}"}}') == f'{{"email": "{text}"}}'
    asset = AssetRef(AssetKind.GPT, "g-1", name=text, email=text)
    assert (asset.name, asset.email) == (text, text)


def test_an_email_beside_a_key_is_kept_and_the_key_masked() -> None:
    key = KEYS["admin"]
    text = f"sk-learning-team-members@example.com leaked {key} in a GPT"
    assert redact_keys_in_text(text) == f"sk-learning-team-members@example.com leaked sk-admin...{key[-3:]} in a GPT"
