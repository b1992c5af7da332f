"""Credentials and Secrets: cloud keys, API tokens, JWTs and PEM private keys.

Every pattern starts from a literal the issuer puts in the token (`AKIA`, `ghp_`, `T3BlbkFJ`,
`-----BEGIN`), which keeps both the scan fast and false positives rare. Entropy and placeholder
checks look at a value's variable part only: a fixed prefix (`https://hooks.slack.com/...`)
would lend a placeholder the entropy it lacks. Published examples (see `examples`) are judged
`sample` by their detector, so they show at confidence Low and never count by default.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from openai_casb.dlp import validators as v
from openai_casb.dlp.detectors.base import Detector, mask_pem, mask_secret, single_entry
from openai_casb.dlp.detectors.examples import EXAMPLE_MARK, EXAMPLES, is_example, is_placeholder
from openai_casb.dlp.settings import Confidence
from openai_casb.dlp.validators import Form

PROFILE = "Credentials and Secrets"

def _same(value: str) -> str:
    return value


BodyKind = Literal["slice", "after", "field"]
CheckKind = Literal["mixed_case", "base62_crc", "base64_key"]


@dataclass(frozen=True, slots=True)
class Body:
    """Where a value's variable part is, as data (the native twin, _native_secrets.c, reads the
    same rule): `slice` is value[start:]; `after` what follows the `count`-th `separator`, as
    value.split(separator, count)[-1] (count 0: the last one, value.rsplit(separator, 1)[-1]);
    `field` the text between the first `separator` and the next `end` ("" without `separator`).
    `remove` (OpenAI's `T3BlbkFJ` marker) is then deleted from it."""

    kind: BodyKind = "slice"
    start: int = 0
    separator: str = ""
    count: int = 0
    end: str = ""
    remove: str = ""

    def __call__(self, value: str) -> str:
        if self.kind == "slice":
            part = value[self.start:]
        elif self.kind == "after":
            part = (value.rsplit(self.separator, 1) if self.count == 0 else value.split(self.separator, self.count))[-1]
        else:
            part = value.split(self.separator, 1)[1].split(self.end, 1)[0] if self.separator in value else ""
        return part.replace(self.remove, "") if self.remove else part


@dataclass(frozen=True, slots=True)
class Check:
    """A detector's last test, as data: `mixed_case` (the value has both letter cases: random
    base64 has, hex digests, git hashes and lowercase Django keys have not), `base62_crc` (GitHub
    and npm tokens: CRC32 of the value after its first `size` characters, see
    validators.base62_crc_ok), `base64_key` (the variable part is strict base64 of `size` bytes)."""

    kind: CheckKind
    size: int = 0

    def __call__(self, value: str, secret: str) -> bool:
        if self.kind == "mixed_case":
            return any(c.isupper() for c in value) and any(c.islower() for c in value)
        if self.kind == "base62_crc":
            return v.base62_crc_ok(value, self.size)
        return v.base64_key_ok(secret, self.size)


@dataclass(frozen=True, slots=True)
class SecretRule:
    """What `_secret`'s classify and judge measure, for one detector key (see `native_tables`)."""

    key: str
    body: Body
    entropy: float = 0.0
    check: Check | None = None

    def example(self, value: str) -> bool:
        return is_example(self.key, value, self.body(value))

    def valid(self, value: str) -> bool:
        secret = self.body(value)
        if is_example(self.key, value, secret):
            return True
        return (not is_placeholder(secret) and v.shannon_entropy(secret) >= self.entropy
                and (self.check is None or self.check(value, secret)))

    def table(self) -> tuple[object, ...]:
        body, check = self.body, self.check
        return (self.entropy, body.kind, body.start, body.separator, body.count, body.end, body.remove,
                "" if check is None else check.kind, 0 if check is None else check.size,
                tuple(sorted(EXAMPLES.get(self.key, frozenset()))))


# The rule of every detector built by `_secret`, by key.
RULES: dict[str, SecretRule] = {}


def _secret(key: str, entry: str, pattern: str, prefix: int, *, entropy: float = 0.0,
            check: Check | None = None, body: Body | None = None,
            base: Confidence = Confidence.HIGH, keywords: tuple[str, ...] = (), segment: str = "token",
            value_group: int = 0, max_length: int = 256, scan: str | None = None,
            context: Callable[[str, int, int], Form | None] | None = None) -> tuple[Detector, ...]:
    """The detector of one kind of secret; published examples are judged `sample` (Low, keywords
    or not), so one pattern serves both verdicts.

    `prefix` is the public part kept by the mask; `body` gives the variable part that entropy
    and placeholder checks measure (default: what follows `prefix`). `context` judges the other
    values by the text around them (see `Detector.judge`)."""
    rule = SecretRule(key, body or Body("slice", start=prefix), entropy, check)
    RULES[key] = rule

    def judge(text: str, start: int, end: int) -> Form | None:
        if rule.example(text[start:end]):
            return "sample"
        return None if context is None else context(text, start, end)

    return (Detector(
        key=key, profile=PROFILE, entries=(entry,), pattern=pattern, segment=segment,
        classify=single_entry(entry, rule.valid), keywords=keywords, base=base, max_length=max_length,
        value_group=value_group, mask=mask_secret(prefix), normalize=_same, scan_pattern=scan, judge=judge,
    ),)


def native_tables() -> dict[str, object]:
    """What the native twins of `_secret`'s classify and judge read (_native_secrets.c): per
    key (entropy threshold, body kind, start, separator, count, end, remove, check kind, check
    size, published examples), the example mark, validators' base 62 alphabet and how far an
    AWS key id may be from its secret (AWS_ID_WINDOW, for the aws_secret judges); pem_private_key's
    entropy threshold, OpenSSH kind and magic, DER kinds, and jwt's published examples."""
    return {
        "secrets.rules": {key: rule.table() for key, rule in RULES.items()},
        "secrets.example_mark": EXAMPLE_MARK,
        "secrets.base62_alphabet": v._BASE62,
        "secrets.aws_id_window": AWS_ID_WINDOW,
        "secrets.pem": (_PEM_ENTROPY, _OPENSSH_KIND, _OPENSSH_MAGIC, _DER_KINDS),
        "secrets.jwt_examples": tuple(sorted(EXAMPLES.get(_JWT_EXAMPLES, frozenset()))),
    }


_MIXED_CASE = Check("mixed_case")
_BASE62_CRC = Check("base62_crc", 4)  # after `ghp_` / `npm_`
_AZURE_KEY = Check("base64_key", 64)
_OPENAI_MARK = "T3BlbkFJ"  # base64 of "OpenAI", in every key: not random, so not measured


_JWT_EXAMPLES = "jwt"


def _jwt_unsigned(value: str) -> bool:
    """`alg: none` or an empty signature: anyone can forge it, so it authenticates nothing."""
    header_part, _, rest = value.partition(".")
    if not rest.rpartition(".")[2]:
        return True
    try:
        header = json.loads(base64.urlsafe_b64decode(header_part + "=" * (-len(header_part) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and str(header.get("alg", "")).lower() == "none"


def _jwt_judge(text: str, start: int, end: int) -> Form | None:
    """Unsigned tokens and published samples are Low: they authenticate nothing."""
    value = text[start:end]
    return "sample" if _jwt_unsigned(value) or is_example(_JWT_EXAMPLES, value, value) else None


_PEM_LINE = re.compile(r"-----(BEGIN|END) ([A-Z ]+)-----")
_DER_KINDS = ("RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY")
_OPENSSH_KIND = "OPENSSH PRIVATE KEY"
_OPENSSH_MAGIC = "b3BlbnNzaC1rZXktdjE"  # base64 of "openssh-key-v1"
_PEM_ENTROPY = 4.0  # random base64 is near 6 bits a character


def _pem_body(value: str) -> tuple[bool, str]:
    """(has RFC 1421 headers such as Proc-Type/DEK-Info, base64 body without whitespace)."""
    lines = value.splitlines()[1:-1] if "\n" in value else value.split("-----")[2].split()
    headers = any(":" in line for line in lines)
    return headers, "".join("".join(line.split()) for line in lines if ":" not in line)


def _pem_ok(value: str) -> bool:
    """Labels agree and the body is a key, not `XXXX` or `...`: DER (a SEQUENCE, base64 `MI`)
    for PKCS#1/PKCS#8/SEC1 keys, the openssh-key-v1 magic for OpenSSH keys. Encrypted legacy
    PEM (Proc-Type/DEK-Info headers) and PGP blocks are ciphertext/packets: any real base64."""
    labels = _PEM_LINE.findall(value)
    if len(labels) < 2 or labels[0][1] != labels[-1][1] or labels[0][0] != "BEGIN" or labels[-1][0] != "END":
        return False
    kind = labels[0][1].strip()
    headers, body = _pem_body(value)
    if v.shannon_entropy(body) < _PEM_ENTROPY:
        return False
    if kind == _OPENSSH_KIND:
        return body.startswith(_OPENSSH_MAGIC)
    if kind in _DER_KINDS and not headers:
        usable = body.rstrip("=")
        try:
            der = base64.b64decode(usable[: len(usable) // 4 * 4], validate=True)
        except (ValueError, binascii.Error):
            return False
        return len(der) >= 32 and der[0] == 0x30
    return True


_AWS_ID = r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}"
# `AWS Secret Access Key [None]: ` as `aws configure` prompts (the current value's last 4 shown
# as `[****************ABCD]`).
_PROMPT = r"(?:[ \t]{0,3}\[[^\]\n]{0,20}\])?"
_LABEL_SEP = r"[\"']?[ \t]{0,3}(?::|=|=>|:=)[ \t]{0,3}[\"']?"
_KEY_LABEL = r"(?i:secret[_\-. ]?(?:access[_\-. ]?)?key)"

# A secret key's key id is at most this many characters away (before or after it) in the files
# that hold both: `.env`, STS JSON, Terraform, YAML, s3cmd and Hadoop configs put them on
# neighbouring lines, a few dozen characters apart.
AWS_ID_WINDOW = 300
_ID_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])" + _AWS_ID + r"(?![A-Za-z0-9])")
_ACCESS_LABEL = re.compile(r"(?i)secret[_\-. ]?access[_\-. ]?key")
_BASE64_LINE = re.compile(r"[ \t]*[A-Za-z0-9/+]{40,}={0,2}[ \t]*\r?")
# 40 base64 characters with both letter cases and a digit, `/` or `+` (as all but about 1 in
# 4000 issued keys): not a hex digest, a git hash, a camelCase identifier or part of a longer
# token (base64 runs, JWT segments, `ghp_...`). `=` may precede it (`S3_SECRET=...`), not follow.
_KEY_SHAPE = (
    r"(?<![A-Za-z0-9/+_.\-])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[A-Z])"
    r"(?=[A-Za-z0-9/+]{0,39}[0-9/+])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=_.\-])")
# The first such value within the window after a key id. Written `A(?<!...)` rather than with a
# leading look-behind so that Python's re skips to each `A` at C speed (it runs over the window
# segment around each key id: detectors/base.py SEGMENT_WINDOWS).
_AFTER_ID = (r"A(?<![A-Za-z0-9]A)(?:KIA|SIA|BIA|CCA)[A-Z2-7]{16}(?![A-Za-z0-9])[\s\S]{1,"
             + str(AWS_ID_WINDOW) + "}?" + _KEY_SHAPE)


def _credible_id(value: str) -> bool:
    """A key id as `aws_key_id` counts it (its rule): not a placeholder, not a published example."""
    rule = RULES["aws_key_id"]
    body = rule.body(value)
    return (not is_example(rule.key, value, body) and not is_placeholder(body)
            and v.shannon_entropy(body) >= rule.entropy)


def _id_near(text: str, start: int, end: int) -> bool:
    window = AWS_ID_WINDOW + 20
    for match in _ID_IN_TEXT.finditer(text, max(0, start - window), end + window):
        if match.end() >= start - AWS_ID_WINDOW and match.start() <= end + AWS_ID_WINDOW and _credible_id(match[0]):
            return True
    return False


def _keyed_context(text: str, start: int, end: int) -> Form | None:
    """High after a `secret_access_key`-style label (AWS's own name for it) or with a key id
    near; else Low, and High only if the word aws is near (the detector's keyword)."""
    line_start = text.rfind("\n", 0, start) + 1
    if _ACCESS_LABEL.search(text, line_start, start) or _id_near(text, start, end):
        return None
    return "weak"


def _in_base64_block(text: str, start: int, end: int) -> bool:
    """The value is a line of its own next to a line of 40+ base64 characters: the end (or a
    short line) of a PEM or MIME block, not a secret key."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    if text[line_start:start].strip() or text[end:line_end].strip():
        return False
    if line_start > 0:
        previous = text.rfind("\n", 0, line_start - 1) + 1
        if _BASE64_LINE.fullmatch(text, previous, line_start - 1):
            return True
    if line_end < len(text):
        following = text.find("\n", line_end + 1)
        if _BASE64_LINE.fullmatch(text, line_end + 1, len(text) if following < 0 else following):
            return True
    return False


def _near_id_context(text: str, start: int, end: int) -> Form | None:
    """An unlabelled value counts only with a credible key id near, outside base64 blocks."""
    return None if _id_near(text, start, end) and not _in_base64_block(text, start, end) else "reject"


DETECTORS: tuple[Detector, ...] = (
    *_secret("aws_key_id", "AWS Access Key ID", _AWS_ID, 4, entropy=2.3),
    # A secret key is 40 base64 characters: only credible next to its key id or a label naming it.
    *_secret("aws_secret_labelled", "AWS Secret Access Key",
             r"(?i:aws)[A-Za-z0-9_ .\-]{0,20}(?i:secret)[A-Za-z0-9_ .\-]{0,20}" + _PROMPT + _LABEL_SEP
             + r"([A-Za-z0-9/+]{40})",
             0, entropy=3.5, check=_MIXED_CASE, segment="line", value_group=1,
             scan=r"(?i:aws)[A-Za-z0-9_ .\-]{0,20}(?i:secret)"),
    *_secret("aws_secret_paired", "AWS Secret Access Key",
             _AWS_ID + r"[\"']?[ \t,;|:=]{1,10}[\"']?([A-Za-z0-9/+]{40})",
             0, entropy=3.5, check=_MIXED_CASE, segment="line", value_group=1, scan=_AWS_ID + r"[\"']?[ \t,;|:=]"),
    # `secret_key = "..."`, `"SecretAccessKey": "..."` (STS JSON), `fs.s3a.secret.key=...`: High
    # with a `secret_access_key`-style label or a key id within AWS_ID_WINDOW (on another line,
    # before or after); else Low, and High when the word aws is within the keyword window.
    *_secret("aws_secret_keyed", "AWS Secret Access Key", _KEY_LABEL + _PROMPT + _LABEL_SEP + r"([A-Za-z0-9/+]{40})",
             0, entropy=3.5, check=_MIXED_CASE, keywords=("aws",), segment="line",
             value_group=1, scan=_KEY_LABEL, context=_keyed_context),
    # Any label or none (`S3_SECRET=`, Hadoop's `<value>`, a constructor's second argument) on a
    # line after the key id: the id is the anchor, and the search reads a window around each id.
    *_secret("aws_secret_near_id", "AWS Secret Access Key", _AFTER_ID, 0, entropy=3.5, check=_MIXED_CASE,
             segment="window", value_group=1, max_length=AWS_ID_WINDOW + 64, scan=_AWS_ID, context=_near_id_context),
    *_secret("gcp_api_key", "Google Cloud API Key", r"AIza[0-9A-Za-z_\-]{35}", 4, entropy=3.0),
    *_secret("azure_storage_key", "Azure Storage Account Key",
             r"(?i:account[_ .\-]?key|storage[_ .\-]?key|azure[_ .\-]?key|access[_ .\-]?key)" + _LABEL_SEP
             + r"([A-Za-z0-9+/]{86}==)", 0, check=_AZURE_KEY, segment="line", value_group=1,
             scan=r"(?i:account[_ .\-]?key|storage[_ .\-]?key|azure[_ .\-]?key|access[_ .\-]?key)"),
    *_secret("azure_connection_string", "Azure Storage Connection String",
             r"DefaultEndpointsProtocol=https?;AccountName=[a-z0-9]{3,24};AccountKey=[A-Za-z0-9+/]{86}=="
             r"(?:;EndpointSuffix=[A-Za-z0-9]{1,20}(?:\.[A-Za-z0-9]{1,20}){0,5})?",
             44, check=_AZURE_KEY,
             body=Body("field", separator="AccountKey=", end=";"), segment="line", max_length=300,
             scan=r"DefaultEndpointsProtocol=https?;AccountName="),
    *_secret("github_token", "GitHub Token", r"gh[pousr]_[A-Za-z0-9]{36}", 4, check=_BASE62_CRC),
    *_secret("github_fine_grained", "GitHub Token", r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}", 11, entropy=3.5),
    *_secret("openai_key", "OpenAI API Key",
             r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,200}T3BlbkFJ[A-Za-z0-9_\-]{20,200}",
             8, entropy=3.5, body=Body("after", separator="-", count=2, remove=_OPENAI_MARK), max_length=420,
             scan=r"sk-(?:proj|svcacct|admin)-"),
    *_secret("openai_legacy_key", "OpenAI API Key", r"sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}", 3,
             entropy=3.5, body=Body("slice", start=3, remove=_OPENAI_MARK)),
    *_secret("anthropic_key", "Anthropic API Key", r"sk-ant-(?:api03|admin01)-[A-Za-z0-9_\-]{93}AA", 13,
             entropy=3.5, scan=r"sk-ant-(?:api03|admin01)-"),
    *_secret("slack_token", "Slack Token", r"xox[baprs]-(?:[0-9]{1,13}-){1,3}[A-Za-z0-9]{24,34}", 5,
             entropy=3.0, body=Body("after", separator="-"), scan=r"xox[baprs]-[0-9]"),
    *_secret("slack_webhook", "Slack Webhook URL",
             r"https://hooks\.slack\.com/(?:services|workflows)/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24}",
             33, entropy=3.0, body=Body("after", separator="/"), scan=r"https://hooks\.slack\.com/(?:services|workflows)/T"),
    *_secret("stripe_key", "Stripe Secret Key", r"(?:sk|rk)_live_[A-Za-z0-9]{24,99}", 8, entropy=3.0,
             scan=r"(?:sk|rk)_live_[A-Za-z0-9]{24}"),
    # Test-mode keys work against Stripe's test environment only (no money, no customer data):
    # the same entry, at Low, so they show when asked for and defaults do not change.
    *_secret("stripe_test_key", "Stripe Secret Key", r"(?:sk|rk)_test_[A-Za-z0-9]{24,99}", 8, entropy=3.0,
             base=Confidence.LOW, scan=r"(?:sk|rk)_test_[A-Za-z0-9]{24}"),
    *_secret("npm_token", "npm Token", r"npm_[A-Za-z0-9]{36}", 4, check=_BASE62_CRC),
    *_secret("pypi_token", "PyPI Token", r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,300}", 5, entropy=3.5,
             body=Body("slice", start=20), max_length=320, scan=r"pypi-AgEIcHlwaS5vcmc"),
    Detector(
        key="jwt", profile=PROFILE, entries=("JSON Web Token",), pattern=r"eyJ[A-Za-z0-9_\-]{5,1000}\.",
        scan_pattern=r"eyJ[A-Za-z0-9_\-]{5}",
        segment="token", classify=single_entry("JSON Web Token", v.jwt_ok), base=Confidence.HIGH,
        extend=r"[A-Za-z0-9_\-]{2,8000}\.[A-Za-z0-9_\-]{0,2000}", max_length=11000, mask=mask_secret(3),
        normalize=_same, judge=_jwt_judge,
    ),
    Detector(
        key="pem_private_key", profile=PROFILE, entries=("PEM Private Key",),
        pattern=r"-----BEGIN[A-Z ]{0,30}PRIVATE KEY(?: BLOCK)?-----", scan_pattern=r"-----BEGIN[A-Z ]{0,30}PRIVATE KEY",
        extend=r"[A-Za-z0-9+/=:,\- \t\r\n]{64,8000}?-----END[A-Z ]{0,30}PRIVATE KEY(?: BLOCK)?-----",
        segment="line", classify=single_entry("PEM Private Key", _pem_ok), base=Confidence.HIGH,
        max_length=8200, mask=mask_pem, normalize=_same,
    ),
)
