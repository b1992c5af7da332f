"""Validators and detectors on published sample values and near misses."""

from __future__ import annotations

import pytest
from quality import values

from openai_casb.dlp import validators as v
from openai_casb.dlp.engine import DlpEngine
from openai_casb.dlp.settings import DlpSettings

ENGINE = DlpEngine.from_settings(
    DlpSettings(
        salt="detector-test-salt",
        profiles={
            name: {"confidence": "low"}
            for name in ("Financial Information", "Social Security, Insurance, Tax and Identifier Numbers")
        },
    )
)


def entries(text: str) -> list[str]:
    return [d.entry for d in ENGINE.detections(text)]


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4716281033557292", "Visa Card Number"),
        ("5555 5555 5555 4444", "Mastercard Card Number"),
        ("2223-0031-2200-3222", "Mastercard Card Number"),
        ("3782 822463 10005", "Amex Card Number"),
        ("6011 1111 1111 1117", "Discover Card Number"),
        ("3056 930902 5904", "Diners Card Number"),
        ("3530111333300000", "JCB Card Number"),
        ("6200000000000005", "UnionPay Card Number"),
    ],
)
def test_cards_by_brand(number: str, brand: str) -> None:
    assert v.card_entry(number) == brand
    assert entries(f"card {number}") == [brand]


@pytest.mark.parametrize(
    "number", ["4111 1111-1111 1111", "4111111111111112", "1111111111111117", "4111 11111 111 1111"]
)
def test_cards_rejected(number: str) -> None:
    assert v.card_entry(number) is None


@pytest.mark.parametrize(
    "iban", ["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "FR1420041010050500013M02606"]
)
def test_iban_valid(iban: str) -> None:
    assert v.iban_ok(iban)
    assert entries(f"IBAN {iban}") == ["IBAN"]


@pytest.mark.parametrize(
    "iban", ["DE89 3704 0044 0532 0130 01", "GB82 1234 1234 5698 7654 32", "XX82WEST12345698765432"]
)
def test_iban_invalid(iban: str) -> None:
    assert not v.iban_ok(iban)


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("routing 011000015", "ABA Routing Number"),
        ("SSN 536-22-1234", "US Social Security Number"),
        ("ITIN 912-70-1234", "US ITIN"),
        ("NINO AB 12 34 56 C", "UK National Insurance Number"),
        ("NHS 943 476 5919", "UK NHS Number"),
        ("SIN 130 692 544", "Canada SIN"),
        ("TFN 123 456 782", "Australia TFN"),
        ("Aadhaar 2341 2341 2346", "India Aadhaar"),
        ("CPF 529.982.247-25", "Brazil CPF"),
        ("DNI 12345678Z", "Spain DNI/NIE"),
        ("BSN 111222333", "Netherlands BSN"),
        ("PESEL 44051401359", "Poland PESEL"),
        ("personnummer 811228-9874", "Sweden Personnummer"),
    ],
)
def test_identifiers(text: str, entry: str) -> None:
    assert entries(text) == [entry]


@pytest.mark.parametrize(
    "text",
    [
        "SSN 666-22-1234",
        "SSN 000-22-1234",
        "SSN 536-00-1234",
        "SSN 536-22-0000",
        "SSN 123-45-6789",
        "SSN 078-05-1120",
        "SSN 536-22.1234",
        "SIN 046 454 286",
        "NINO QQ 12 34 56 C",
        "NHS 943 476 5918",
        "DNI 12345678A",
        "PESEL 44051401358",
    ],
)
def test_identifier_near_misses(text: str) -> None:
    assert entries(text) == []


def test_secrets_validated_by_checksum() -> None:
    import random

    rng = random.Random(3)
    github = values.SECRET_VALUES["GitHub Token"](rng)
    npm = values.SECRET_VALUES["npm Token"](rng)
    assert entries(github) == ["GitHub Token"]
    assert entries(npm) == ["npm Token"]
    assert entries(github[:-1] + ("A" if github[-1] != "A" else "B")) == []


def test_openai_and_anthropic_keys() -> None:
    import random

    # Random bodies: entropy is measured on the part after the prefix, which a repeated
    # 8-character pattern does not reach (placeholders must not either).
    rng = random.Random(4)
    key = "sk-proj-" + values._chars(rng, values._URLSAFE, 72) + "T3BlbkFJ" + values._chars(rng, values._URLSAFE, 72)
    assert entries(f"OPENAI_API_KEY={key}") == ["OpenAI API Key"]
    assert entries("sk-" + "a1B2c3D4e5" * 5) == []
    assert entries(values.SECRET_VALUES["Anthropic API Key"](rng)) == ["Anthropic API Key"]
    assert entries("sk-ant-api03-" + "Ab3-Cd5_Ef" * 9 + "xyz" + "AA") == []


def test_aws_secret_needs_its_label_or_key_id() -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLKEY"  # AWS's documented key without its EXAMPLE mark
    assert entries(f"aws_secret_access_key = {secret}") == ["AWS Secret Access Key"]
    assert entries(f"AKIAIOSFODNN7EXAMPLF,{secret}") == ["AWS Access Key ID", "AWS Secret Access Key"]
    assert entries(f"checksum {secret}") == []


def test_jwt_needs_a_json_header_with_alg() -> None:
    import random

    token = values.jwt(random.Random(1))
    assert entries(f"Authorization: Bearer {token}") == ["JSON Web Token"]
    assert entries("eyJhbGciOiJub25lIn0x.eyJzdWIiOiIxIn0.abc") == []


def test_pem_private_keys_but_not_public_keys_or_certificates() -> None:
    import random

    rng = random.Random(2)
    assert entries(values.pem(rng)) == ["PEM Private Key"]
    assert entries(values.pem(rng, "OPENSSH PRIVATE KEY")) == ["PEM Private Key"]
    assert entries(values.pem(rng, "PUBLIC KEY")) == []
    assert entries(values.pem(rng, "CERTIFICATE")) == []
    mismatched = values.pem(rng).replace("END RSA", "END EC")
    assert entries(mismatched) == []


def test_masks_keep_the_kind_not_the_secret() -> None:
    key = "AKIAIOSFODNN7EXAMPLF"
    (match,) = ENGINE.match(key).entry_matches
    assert match.masked_samples == ("AKIA********…",)
    (ssn,) = ENGINE.match("SSN 536-22-1234").entry_matches
    assert ssn.masked_samples == ("***-**-****",)
