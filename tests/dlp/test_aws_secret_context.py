"""AWS secret access keys in the shapes people keep them: the key id and the secret on different
lines, under labels without the word aws (`.env`, STS JSON, Terraform `backend "s3"`, s3cmd,
Hadoop XML, `aws configure` prompts). Values are random and real-shaped, never a real key; AWS's
published examples stay Low and 40-character strings without a key id nearby stay unreported."""

from __future__ import annotations

import base64
import random
import string
from collections.abc import Callable

import pytest

from openai_casb.dlp.engine import DlpEngine, StreamMatcher
from openai_casb.dlp.settings import Confidence, DlpSettings

SEC = "Credentials and Secrets"
ID = "AWS Access Key ID"
SECRET = "AWS Secret Access Key"
DEFAULT = DlpEngine.from_settings(DlpSettings(salt="aws-context-salt"))
LOW = DlpEngine.from_settings(DlpSettings(salt="aws-context-salt", profiles={SEC: {"confidence": "low"}}))
RNG = random.Random(2718)
B64 = string.ascii_letters + string.digits + "/+"


def key_id(prefix: str = "AKIA") -> str:
    return prefix + "".join(RNG.choice(string.ascii_uppercase + "234567") for _ in range(16))


def secret() -> str:
    """40 base64 characters as AWS issues them: both cases and a digit, `/` or `+` (which all
    but about 1 in 4000 random ones have)."""
    while True:
        value = "".join(RNG.choice(B64) for _ in range(40))
        kinds = (str.isupper, str.islower, lambda c: c in "0123456789/+")
        if all(any(kind(c) for c in value) for kind in kinds):
            return value


def session_token() -> str:
    return "IQoJb3JpZ2luX2VjE" + base64.b64encode(RNG.randbytes(600)).decode()


def found(text: str) -> list[tuple[str, Confidence, str]]:
    return sorted((d.entry, d.confidence, text[d.start : d.end]) for d in LOW.detections(text) if d.profile == SEC)


def counted(text: str) -> dict[str, int]:
    return {m.entry: m.count for m in DEFAULT.match(text).entry_matches if m.profile == SEC}


def sts_json(i: str, s: str) -> str:
    return (
        "{\n"
        '    "Credentials": {\n'
        f'        "AccessKeyId": "{i}",\n'
        f'        "SecretAccessKey": "{s}",\n'
        f'        "SessionToken": "{session_token()}",\n'
        '        "Expiration": "2025-03-14T09:26:53+00:00"\n'
        "    }\n"
        "}\n"
    )


def export_credentials(i: str, s: str) -> str:
    return (
        f'{{"Version": 1, "AccessKeyId": "{i}", "SecretAccessKey": "{s}", '
        f'"SessionToken": "{session_token()}", "Expiration": "2025-03-14T09:26:53+00:00"}}'
    )


SHAPES: dict[str, Callable[[str, str], str]] = {
    # The console's accessKeys.csv and the user wizard's credentials.csv: one line per key.
    "console csv": lambda i, s: f"Access key ID,Secret access key\r\n{i},{s}\r\n",
    "user csv": lambda i, s: (
        "User name,Password,Access key ID,Secret access key,Console login link\n"
        f"deploy-bot,,{i},{s},https://417358216003.signin.aws.amazon.com/console\n"
    ),
    "credentials file": lambda i, s: (
        f"[default]\naws_access_key_id = {i}\naws_secret_access_key = {s}\nregion = eu-west-1\n"
    ),
    "dotenv": lambda i, s: f"APP_ENV=production\nACCESS_KEY_ID={i}\nSECRET_ACCESS_KEY={s}\nBUCKET=invoices\n",
    "dotenv secret first": lambda i, s: f"SECRET_ACCESS_KEY={s}\nACCESS_KEY_ID={i}\n",
    "dotenv unlabelled": lambda i, s: f"S3_KEY={i}\nS3_SECRET={s}\nS3_BUCKET=invoices\n",
    "sts json": sts_json,
    "sts json asia": lambda i, s: sts_json("ASIA" + i[4:], s),
    "export-credentials": export_credentials,
    "js config": lambda i, s: f"const s3 = new S3Client({{\n  credentials: {{\n    accessKeyId: '{i}',\n"
    f"    secretAccessKey: '{s}',\n  }},\n}});\n",
    "terraform backend": lambda i, s: f'terraform {{\n  backend "s3" {{\n    bucket     = "tf-state"\n'
    f'    access_key = "{i}"\n    secret_key = "{s}"\n  }}\n}}\n',
    "yaml": lambda i, s: f"storage:\n  bucket: media\n  access_key: {i}\n  secret_key: {s}\n",
    "s3cmd": lambda i, s: f"[default]\naccess_key = {i}\nhost_base = s3.amazonaws.com\nsecret_key = {s}\n",
    "hadoop xml": lambda i, s: (
        "<configuration>\n  <property>\n    <name>fs.s3a.access.key</name>\n"
        f"    <value>{i}</value>\n  </property>\n  <property>\n    <name>fs.s3a.secret.key</name>\n"
        f"    <value>{s}</value>\n  </property>\n</configuration>\n"
    ),
    "aws configure prompt": lambda i, s: (
        f"$ aws configure\nAWS Access Key ID [None]: {i}\nAWS Secret Access Key [None]: {s}\n"
        "Default region name [None]: us-east-1\nDefault output format [None]: json\n"
    ),
    "java multi-line": lambda i, s: (
        f'AwsBasicCredentials creds = AwsBasicCredentials.create(\n    "{i}",\n    "{s}");\n'
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_secret_with_its_key_id_nearby_is_counted_at_high(shape: str) -> None:
    for _ in range(10):
        i, s = key_id(), secret()
        text = SHAPES[shape](i, s)
        if "ASIA" in text and i not in text:
            i = "ASIA" + i[4:]
        assert found(text) == sorted([(ID, Confidence.HIGH, i), (SECRET, Confidence.HIGH, s)]), text
        assert counted(text) == {ID: 1, SECRET: 1}, text


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_published_example_pair_stays_low_in_every_shape(shape: str) -> None:
    text = SHAPES[shape]("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    low = {(ID, Confidence.LOW), (SECRET, Confidence.LOW)}
    assert {(entry, confidence) for entry, confidence, _ in found(text)} <= low
    assert counted(text) == {}


def test_secret_access_key_label_alone_is_high() -> None:
    for label in ("SECRET_ACCESS_KEY=", '"SecretAccessKey": "', "secretAccessKey: '", "secret-access-key = "):
        s = secret()
        assert found(f"{label}{s}") == [(SECRET, Confidence.HIGH, s)], label


def test_bare_secret_key_label_without_key_id_or_aws_stays_low() -> None:
    s = secret()
    assert found(f'backend "vault" {{\n  secret_key = "{s}"\n}}') == [(SECRET, Confidence.LOW, s)]
    # A key id beyond the window (300 characters) lends it nothing.
    far = f"access_key = {key_id()}\n" + "# padding line of the config file\n" * 10 + f"secret_key = {s}\n"
    assert (SECRET, Confidence.LOW, s) in found(far)


def test_unlabelled_secret_needs_a_key_id_within_the_window() -> None:
    s = secret()
    assert found(f"S3_SECRET={s}\n") == []
    assert found(f"token: {s}\n") == []
    far = f"S3_KEY={key_id()}\n" + "# padding line of the config file\n" * 10 + f"S3_SECRET={s}\n"
    assert [e for e, _, _ in found(far)] == [ID]


def test_example_key_id_lends_no_confidence_to_a_value_near_it() -> None:
    s = secret()
    assert found(f"S3_KEY=AKIAIOSFODNN7EXAMPLE\nS3_SECRET={s}\n") == [(ID, Confidence.LOW, "AKIAIOSFODNN7EXAMPLE")]
    assert found(f"access_key: AKIAIOSFODNN7EXAMPLE\nsecret_key: {s}\n") == [
        (ID, Confidence.LOW, "AKIAIOSFODNN7EXAMPLE"), (SECRET, Confidence.LOW, s)]
    assert found(f"S3_KEY=AKIAXXXXXXXXXXXXXXXX\nS3_SECRET={s}\n") == []


def test_git_hashes_near_a_key_id_are_no_secret() -> None:
    for _ in range(30):
        i = key_id()
        sha = "".join(RNG.choice("0123456789abcdef") for _ in range(40))
        for text in (
            f"ACCESS_KEY_ID={i}\ncommit {sha}\nAuthor: ops <ops@example.org>\n",
            f"ACCESS_KEY_ID={i}\nSECRET_ACCESS_KEY={sha.upper()}\n",
            f'{{"AccessKeyId": "{i}", "Revision": "{sha}"}}',
        ):
            assert [e for e, _, _ in found(text)] == [ID], text


def test_base64_blobs_near_a_key_id_are_no_secret() -> None:
    for size in range(300, 360):
        body = base64.b64encode(RNG.randbytes(size)).decode()
        pem = "\n".join(body[k : k + 64] for k in range(0, len(body), 64))
        mime = "\n".join(body[k : k + 76] for k in range(0, len(body), 76))
        for blob in (f"-----BEGIN CERTIFICATE-----\n{pem}\n-----END CERTIFICATE-----", mime):
            text = f"ACCESS_KEY_ID={key_id()}\n{blob}\n"
            assert [e for e, _, _ in found(text)] == [ID], text
            assert found(blob) == []


def test_identifiers_and_other_tokens_near_a_key_id_are_no_secret() -> None:
    i = key_id()
    for other in (
        "AbstractSingletonProxyFactoryBeanFactory",  # 40 letters, no digit: an identifier
        "ghp_" + "".join(RNG.choice(string.ascii_letters + string.digits) for _ in range(36)),
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhMWIyYzNkNGU1ZjZnN2g4aTlqMGsxbDI.x",
    ):
        text = f"S3_KEY={i}\nNEXT={other}\n"
        assert [e for e, _, _ in found(text) if e == SECRET] == [], other


def test_first_candidate_failing_does_not_hide_the_secret_after_it() -> None:
    i, s = key_id(), secret()
    sha = "".join(RNG.choice("0123456789abcdef") for _ in range(40))
    text = f"S3_KEY={i}\nS3_REV={sha}\nS3_NAME=AbstractSingletonProxyFactoryBeanFactory\nS3_SECRET={s}\n"
    assert found(text) == sorted([(ID, Confidence.HIGH, i), (SECRET, Confidence.HIGH, s)])


def test_streaming_matcher_counts_secrets_near_their_key_id_as_match_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(StreamMatcher, "WINDOW", 4096)  # several windows, cut near the plants
    parts = []
    for n in range(2000):
        parts.append(f"line {n} of the notes, nothing to see here\n")
        if n % 200 == 7:
            parts.append(SHAPES["dotenv unlabelled"](key_id(), secret()))
    text = "".join(parts)
    whole = DEFAULT.match(text)
    matcher = DEFAULT.matcher()
    for k in range(0, len(text), 333):
        matcher.feed(text[k : k + 333])
    assert matcher.result() == whole
    assert {m.entry: m.count for m in whole.entry_matches} == {ID: 10, SECRET: 10}
