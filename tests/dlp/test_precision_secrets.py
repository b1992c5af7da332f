"""Credentials and Secrets on reviewer 36's false alarms: published examples are Low (seen at
confidence Low, never counted by default), placeholders are no detection, and real-shaped
values (random here, never a real key) are still found."""

from __future__ import annotations

import base64
import json
import random
import string

import pytest

from openai_casb.dlp.engine import DlpEngine
from openai_casb.dlp.settings import Confidence, DlpSettings

SEC = "Credentials and Secrets"
DEFAULT = DlpEngine.from_settings(DlpSettings(salt="precision-secrets-salt"))
LOW = DlpEngine.from_settings(DlpSettings(salt="precision-secrets-salt", profiles={SEC: {"confidence": "low"}}))
RNG = random.Random(36)
ALNUM = string.ascii_letters + string.digits


def chars(alphabet: str, n: int) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


def found(text: str) -> list[tuple[str, Confidence]]:
    return [(d.entry, d.confidence) for d in LOW.detections(text) if d.profile == SEC]


def counted(text: str) -> list[str]:
    return [m.entry for m in DEFAULT.match(text).entry_matches if m.profile == SEC]


JWT_IO = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
AZURITE = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50u"
    "SRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
)


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "AWS Access Key ID"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS Secret Access Key"),
        ("export AWS_SECRET_ACCESS_KEY=je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", "AWS Secret Access Key"),
        ("Example temporary credentials: ASIAIOSFODNN7EXAMPLE", "AWS Access Key ID"),
        ("AKIAEXAMPLEEXAMPLE23", "AWS Access Key ID"),
        (f"Example token from jwt.io:\n\n{JWT_IO}\n", "JSON Web Token"),
        (AZURITE, "Azure Storage Connection String"),
        ("Bot token looks like xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy", "Slack Token"),
        ("curl https://api.stripe.com/v1/charges -u sk_test_4eC39HqLyjWDarjtT1zdp7dc:", "Stripe Secret Key"),
        ("Unsigned token (alg none): eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ0ZXN0In0.", "JSON Web Token"),
        # The word aws nearby raises a keyed secret to High, but not an example.
        ('provider "aws" {\n  secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"\n}', "AWS Secret Access Key"),
    ],
)
def test_published_examples_are_low_and_not_counted(text: str, entry: str) -> None:
    assert found(text) == [(entry, Confidence.LOW)]
    assert counted(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Webhook: https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "https://hooks.slack.com/services/TXXXXXXXX/BXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXXXX",
        # Random-looking workspace ids, a 5-letter secret: the prefix lends it no entropy.
        "https://hooks.slack.com/services/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",
        "STRIPE_SECRET_KEY=sk_live_YOURSECRETKEYGOESHEREXXXX",
        "STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
        "AKIAXXXXXXXXXXXXXXXX",
        "key=AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "OPENAI_API_KEY=sk-proj-XXXXXXXXXXXXXXXXXXXXT3BlbkFJXXXXXXXXXXXXXXXXXXXX",
        "-----BEGIN RSA PRIVATE KEY-----\n" + "X" * 68 + "\n-----END RSA PRIVATE KEY-----\n",
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7...\n"
        "-----END PRIVATE KEY-----\n",
        'provider "aws" {\n  secret_key = "<your-secret-access-key-goes-here-please>"\n}',
    ],
)
def test_placeholders_are_no_detection(text: str) -> None:
    assert found(text) == []


def aws_id() -> str:
    return "AKIA" + chars(string.ascii_uppercase + "234567", 16)


def aws_secret() -> str:
    return chars(ALNUM + "/+", 40)


def pem_body(head: bytes, size: int = 600) -> str:
    body = base64.b64encode(head + RNG.randbytes(size)).decode()
    return "\n".join(body[i : i + 64] for i in range(0, len(body), 64))


def signed_jwt(alg: str) -> str:
    def part(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': alg, 'typ': 'JWT'})}.{part({'sub': chars(ALNUM, 10)})}.{chars(ALNUM + '-_', 43)}"


@pytest.mark.parametrize(
    ("make", "entry"),
    [
        (lambda: f"aws_access_key_id = {aws_id()}", "AWS Access Key ID"),
        (lambda: f"aws_secret_access_key = {aws_secret()}", "AWS Secret Access Key"),
        (
            lambda: "DefaultEndpointsProtocol=https;AccountName=prodlogs;AccountKey="
            + base64.b64encode(RNG.randbytes(64)).decode(),
            "Azure Storage Connection String",
        ),
        (lambda: f"xoxb-{RNG.randint(10**10, 10**11)}-{RNG.randint(10**10, 10**11)}-{chars(ALNUM, 24)}", "Slack Token"),
        (
            lambda: f"https://hooks.slack.com/services/T{chars('ABC012', 8)}/B{chars('XYZ456', 8)}/{chars(ALNUM, 24)}",
            "Slack Webhook URL",
        ),
        (lambda: "sk_live_" + chars(ALNUM, 24), "Stripe Secret Key"),
        (lambda: "Authorization: Bearer " + signed_jwt("HS256"), "JSON Web Token"),
        (lambda: "-----BEGIN RSA PRIVATE KEY-----\n" + pem_body(b"\x30\x82") + "\n-----END RSA PRIVATE KEY-----",
         "PEM Private Key"),
        (lambda: "-----BEGIN PRIVATE KEY-----\n" + pem_body(b"\x30\x82") + "\n-----END PRIVATE KEY-----",
         "PEM Private Key"),
        (lambda: "-----BEGIN OPENSSH PRIVATE KEY-----\n" + pem_body(b"openssh-key-v1\x00")
         + "\n-----END OPENSSH PRIVATE KEY-----", "PEM Private Key"),
        (lambda: "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,"
         + chars("0123456789ABCDEF", 32) + "\n\n" + pem_body(b"") + "\n-----END RSA PRIVATE KEY-----",
         "PEM Private Key"),
    ],
)
def test_real_shaped_values_are_still_counted_at_high(make: object, entry: str) -> None:
    assert callable(make)
    for _ in range(20):
        text = make()
        assert found(text) == [(entry, Confidence.HIGH)], text
        assert counted(text) == [entry]


def test_stripe_test_keys_and_unsigned_jwts_are_low() -> None:
    test_key = "sk_test_" + chars(ALNUM, 24)
    assert found(f"STRIPE_KEY={test_key}") == [("Stripe Secret Key", Confidence.LOW)]
    assert counted(f"STRIPE_KEY={test_key}") == []
    unsigned = signed_jwt("none")
    assert found(unsigned) == [("JSON Web Token", Confidence.LOW)]
    assert found(unsigned.rsplit(".", 1)[0] + ".") == [("JSON Web Token", Confidence.LOW)]


def test_pem_body_must_be_a_key() -> None:
    not_der = "-----BEGIN RSA PRIVATE KEY-----\n" + pem_body(b"\x04\x00") + "\n-----END RSA PRIVATE KEY-----"
    assert found(not_der) == []
    openssh = "OPENSSH PRIVATE KEY"
    not_openssh = f"-----BEGIN {openssh}-----\n" + pem_body(b"\x30\x82") + f"\n-----END {openssh}-----"
    assert found(not_openssh) == []


def test_terraform_provider_block_is_found_high() -> None:
    secret = aws_secret()
    text = f'provider "aws" {{\n  region = "us-east-1"\n  access_key = "{aws_id()}"\n  secret_key = "{secret}"\n}}\n'
    assert sorted(found(text)) == [("AWS Access Key ID", Confidence.HIGH), ("AWS Secret Access Key", Confidence.HIGH)]
    assert counted(f'provider "aws" {{\n  secret_access_key = "{secret}"\n}}') == ["AWS Secret Access Key"]
    # Without aws in the keyword window a `secret_key` of 40 characters is Low only.
    assert found(f'backend "vault" {{\n  secret_key = "{secret}"\n}}') == [("AWS Secret Access Key", Confidence.LOW)]


def test_git_hashes_and_lowercase_keys_never_match_as_aws_secrets() -> None:
    for _ in range(50):
        sha = chars("0123456789abcdef", 40)
        for text in (
            f'provider "aws" {{\n  secret_key = "{sha}"\n}}',
            f'provider "aws" {{\n  secret_key = "{sha.upper()}"\n}}',
            f"aws_secret_access_key = {sha}",
            f"{aws_id()},{sha}",
        ):
            assert [e for e, _ in found(text) if e == "AWS Secret Access Key"] == []
    django = chars(string.ascii_lowercase + string.digits, 40)
    assert found(f'AWS_STORAGE_BUCKET_NAME = "media"\nSECRET_KEY = "{django}"') == []
