"""Credentials and Secrets: cloud keys, API tokens, JWTs and PEM private keys.

Every pattern starts from a literal the issuer puts in the token (`AKIA`, `ghp_`, `T3BlbkFJ`,
`-----BEGIN`), which keeps both the scan fast and false positives rare.
"""

from __future__ import annotations

from openai_casb.dlp import validators as v
from openai_casb.dlp.detectors.base import Detector, mask_pem, mask_secret, single_entry
from openai_casb.dlp.settings import Confidence

PROFILE = "Credentials and Secrets"


def _same(value: str) -> str:
    return value


def _secret(key: str, entry: str, pattern: str, check: object, prefix: int, *, segment: str = "token",
            value_group: int = 0, max_length: int = 256, keywords: tuple[str, ...] = (),
            scan: str | None = None) -> Detector:
    assert callable(check)
    return Detector(
        key=key, profile=PROFILE, entries=(entry,), pattern=pattern, segment=segment,
        classify=single_entry(entry, check), keywords=keywords, base=Confidence.HIGH,
        max_length=max_length, value_group=value_group, mask=mask_secret(prefix), normalize=_same,
        scan_pattern=scan,
    )


def _entropy_at_least(limit: float) -> object:
    def check(value: str) -> bool:
        return v.shannon_entropy(value) >= limit

    return check


def _github_ok(value: str) -> bool:
    return v.base62_crc_ok(value, 4)


def _npm_ok(value: str) -> bool:
    return v.base62_crc_ok(value, 4)


def _azure_key_ok(value: str) -> bool:
    return v.base64_key_ok(value, 64)


def _azure_connection_ok(value: str) -> bool:
    key = value.split("AccountKey=", 1)[1].split(";", 1)[0] if "AccountKey=" in value else ""
    return _azure_key_ok(key)


def _pem_ok(value: str) -> bool:
    begin = value.split("-----")[1]
    end = value.rsplit("-----", 2)[-2]
    return begin.replace("BEGIN", "END", 1) == end


_AWS_ID = r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}"
_LABEL_SEP = r"[\"']?[ \t]{0,3}(?::|=|=>|:=)[ \t]{0,3}[\"']?"

DETECTORS: tuple[Detector, ...] = (
    _secret("aws_key_id", "AWS Access Key ID", _AWS_ID, _entropy_at_least(2.8), 4),
    # A secret key is 40 base64 characters: only credible next to its key id or a label naming it.
    _secret("aws_secret_labelled", "AWS Secret Access Key",
            r"(?i:aws)[A-Za-z0-9_ .\-]{0,20}(?i:secret)[A-Za-z0-9_ .\-]{0,20}" + _LABEL_SEP + r"([A-Za-z0-9/+]{40})",
            _entropy_at_least(3.5), 0, segment="line", value_group=1,
            scan=r"(?i:aws)[A-Za-z0-9_ .\-]{0,20}(?i:secret)"),
    _secret("aws_secret_paired", "AWS Secret Access Key",
            _AWS_ID + r"[\"']?[ \t,;|:=]{1,10}[\"']?([A-Za-z0-9/+]{40})",
            _entropy_at_least(3.5), 0, segment="line", value_group=1, scan=_AWS_ID + r"[\"']?[ \t,;|:=]"),
    _secret("gcp_api_key", "Google Cloud API Key", r"AIza[0-9A-Za-z_\-]{35}", _entropy_at_least(3.0), 4),
    _secret("azure_storage_key", "Azure Storage Account Key",
            r"(?i:account[_ .\-]?key|storage[_ .\-]?key|azure[_ .\-]?key|access[_ .\-]?key)" + _LABEL_SEP
            + r"([A-Za-z0-9+/]{86}==)", _azure_key_ok, 0, segment="line", value_group=1,
            scan=r"(?i:account[_ .\-]?key|storage[_ .\-]?key|azure[_ .\-]?key|access[_ .\-]?key)"),
    _secret("azure_connection_string", "Azure Storage Connection String",
            r"DefaultEndpointsProtocol=https?;AccountName=[a-z0-9]{3,24};AccountKey=[A-Za-z0-9+/]{86}=="
            r"(?:;EndpointSuffix=[A-Za-z0-9]{1,20}(?:\.[A-Za-z0-9]{1,20}){0,5})?",
            _azure_connection_ok, 44, segment="line", max_length=300,
            scan=r"DefaultEndpointsProtocol=https?;AccountName="),
    _secret("github_token", "GitHub Token", r"gh[pousr]_[A-Za-z0-9]{36}", _github_ok, 4),
    _secret("github_fine_grained", "GitHub Token", r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}",
            _entropy_at_least(3.5), 11),
    _secret("openai_key", "OpenAI API Key",
            r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,200}T3BlbkFJ[A-Za-z0-9_\-]{20,200}",
            _entropy_at_least(3.5), 8, max_length=420, scan=r"sk-(?:proj|svcacct|admin)-"),
    _secret("openai_legacy_key", "OpenAI API Key", r"sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}",
            _entropy_at_least(3.5), 3),
    _secret("anthropic_key", "Anthropic API Key", r"sk-ant-(?:api03|admin01)-[A-Za-z0-9_\-]{93}AA",
            _entropy_at_least(3.5), 13, scan=r"sk-ant-(?:api03|admin01)-"),
    _secret("slack_token", "Slack Token", r"xox[baprs]-(?:[0-9]{1,13}-){1,3}[A-Za-z0-9]{24,34}",
            _entropy_at_least(3.0), 5, scan=r"xox[baprs]-[0-9]"),
    _secret("slack_webhook", "Slack Webhook URL",
            r"https://hooks\.slack\.com/(?:services|workflows)/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24}",
            _entropy_at_least(3.0), 33, scan=r"https://hooks\.slack\.com/(?:services|workflows)/T"),
    _secret("stripe_key", "Stripe Secret Key", r"(?:sk|rk)_live_[A-Za-z0-9]{24,99}", _entropy_at_least(3.0), 8,
            scan=r"(?:sk|rk)_live_[A-Za-z0-9]{24}"),
    _secret("npm_token", "npm Token", r"npm_[A-Za-z0-9]{36}", _npm_ok, 4),
    _secret("pypi_token", "PyPI Token", r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,300}", _entropy_at_least(3.5), 5,
            max_length=320, scan=r"pypi-AgEIcHlwaS5vcmc"),
    Detector(
        key="jwt", profile=PROFILE, entries=("JSON Web Token",), pattern=r"eyJ[A-Za-z0-9_\-]{5,1000}\.",
        scan_pattern=r"eyJ[A-Za-z0-9_\-]{5}",
        segment="token", classify=single_entry("JSON Web Token", v.jwt_ok), base=Confidence.HIGH,
        extend=r"[A-Za-z0-9_\-]{2,8000}\.[A-Za-z0-9_\-]{0,2000}", max_length=11000, mask=mask_secret(3),
        normalize=_same,
    ),
    Detector(
        key="pem_private_key", profile=PROFILE, entries=("PEM Private Key",),
        pattern=r"-----BEGIN[A-Z ]{0,30}PRIVATE KEY(?: BLOCK)?-----", scan_pattern=r"-----BEGIN[A-Z ]{0,30}PRIVATE KEY",
        extend=r"[A-Za-z0-9+/=:,\- \t\r\n]{64,8000}?-----END[A-Z ]{0,30}PRIVATE KEY(?: BLOCK)?-----",
        segment="line", classify=single_entry("PEM Private Key", _pem_ok), base=Confidence.HIGH,
        max_length=8200, mask=mask_pem, normalize=_same,
    ),
)
