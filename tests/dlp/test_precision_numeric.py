"""Precision on realistic numbers that are no sensitive value (a reviewer's corpus of code, logs,
CSV exports, Terraform and scientific CSV: 6,278 false detections before), and recall on real-
shaped values planted in the same contexts."""

from __future__ import annotations

import pytest

from openai_casb.dlp import validators as v
from openai_casb.dlp.detectors.search import HYPERSCAN_AVAILABLE
from openai_casb.dlp.engine import KEYWORD_WINDOW, DlpEngine
from openai_casb.dlp.settings import Confidence, DlpSettings

FIN = "Financial Information"
IDS = "Social Security, Insurance, Tax and Identifier Numbers"
DEFAULT = DlpEngine.from_settings(DlpSettings(salt="precision-salt"))
LOW = DlpEngine.from_settings(
    DlpSettings(salt="precision-salt", profiles={p: {"confidence": "low"} for p in (FIN, IDS)})  # type: ignore[misc]
)

# One snippet per false-positive class, as found in the reviewer's files.
NEGATIVES = {
    "decimal fraction read as Visa": "sample,x\nS1,0.4702573977223816\n",
    "decimal fraction read as 13-digit Visa": "t,209.4403566316727\n",
    "decimal fraction read as Aadhaar": "v = 605.961510684348\n",
    "decimal integer part": "total 4716281033557292.5 units\n",
    "CSS matrix next to a .card class": ".card-4{color:#086;transform:matrix(0.4665510226125108,0.8,0,1,0,0)}\n",
    "AWS account id in an ARN": 'role = "arn:aws:iam::627174843553:role/svc-4"\n',
    "AWS account id in a documented ARN": "arn:aws:iam::123456789012:root\n",
    "UPC-A barcode": "upc\n928065940461\n",
    "FedEx tracking number": "tracking\n793509797140\n",
    "UK phone number": "phone\n+447573987565\n",
    "German phone number (13-digit Visa shape)": "phone\n+4916905145259\n",
    "EAN-13 barcode": "ean\n4009365698262\n",
    "order id in a URL path": '"GET /api/v1/orders/4247134585648043?session=a9aa22 HTTP/1.1" 200\n',
    "order id ending a URL path": "see https://shop.example/orders/4247134585648043\n",
    "order id near 'In Transit'": "order 250074572 status: In Transit\n",
    "order id near 'bank transfer'": "order 250074572 paid by bank transfer\n",
    "np.sin near a number": "y = np.sin(x) * 231392077\n",
    "uid near a 12-digit id": '{"uid": 1000, "ts": 928065940461}\n',
    "patient_ref column": "patient_ref,phone\nP1,2553360134\n",
    "Stripe test card in a fixture": '{"number": "4242424242424242", "note": "test Visa card"}\n',
    "published test cards in docs": "Use test card 4242 4242 4242 4242, Mastercard 5555 5555 5555 4444, "
    "Amex 378282246310005 or Discover 6011111111111117.\n",
}


def counted(engine: DlpEngine, text: str) -> list[tuple[str, str]]:
    return [(text[d.start : d.end], d.entry) for d in engine.detections(text)]


@pytest.mark.parametrize("text", NEGATIVES.values(), ids=NEGATIVES.keys())
def test_realistic_numbers_are_not_counted(text: str) -> None:
    assert counted(DEFAULT, text) == []


def _aadhaar() -> str:
    return next(n for n in (f"23456789012{d}" for d in range(10)) if v.in_aadhaar_ok(n))


# Real-shaped values in the same contexts: (text, value, entry).
POSITIVES = [
    ("sample,x\nS1,4716281033557292\n", "4716281033557292", "Visa Card Number"),
    ("card 4716281033557292.\n", "4716281033557292", "Visa Card Number"),
    ("GET /pay?card=4716281033557292 HTTP/1.1\n", "4716281033557292", "Visa Card Number"),
    ("GET /cards/4716281033557292 (customer card)\n", "4716281033557292", "Visa Card Number"),
    ("card_number,exp\n4009365698262,12/29\n", "4009365698262", "Visa Card Number"),
    ("Visa 4009365698262\n", "4009365698262", "Visa Card Number"),
    ("card: 5412 7534 5612 3459\n", "5412 7534 5612 3459", "Mastercard Card Number"),
    (f"Aadhaar: {_aadhaar()}\n", _aadhaar(), "India Aadhaar"),
    (f"aadhaar_number,{_aadhaar()}\n", _aadhaar(), "India Aadhaar"),
    ("id 2345 6789 0124\n".replace("2345 6789 0124", " ".join([_aadhaar()[i : i + 4] for i in (0, 4, 8)])),
     " ".join([_aadhaar()[i : i + 4] for i in (0, 4, 8)]), "India Aadhaar"),
    ("ABA routing number 250074572\n", "250074572", "ABA Routing Number"),
    ("routing_number: 250074572\n", "250074572", "ABA Routing Number"),
    ("SIN: 231392077\n", "231392077", "Canada SIN"),
    ("nhs_number,phone\n2553360134,07700900123\n", "2553360134", "UK NHS Number"),
    ("SSN 536.22.1947 on file\n", "536.22.1947", "US Social Security Number"),
    ("CPF: 529.982.247-25\n", "529.982.247-25", "Brazil CPF"),
]


@pytest.mark.parametrize(("text", "value", "entry"), POSITIVES, ids=[p[1] + " " + p[2] for p in POSITIVES])
def test_real_values_in_the_same_contexts_are_found(text: str, value: str, entry: str) -> None:
    assert counted(DEFAULT, text) == [(value, entry)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("ean\n4009365698262\n", "4009365698262"),
        ("upc\n928065940461\n", "928065940461"),
        ('"GET /api/v1/orders/4247134585648043?x=1"', "4247134585648043"),
        ('{"number": "4242424242424242", "note": "test Visa card"}', "4242424242424242"),
    ],
)
def test_weak_forms_and_test_cards_stay_visible_at_low_confidence(text: str, value: str) -> None:
    (detection,) = LOW.detections(text)
    assert text[detection.start : detection.end] == value
    assert detection.confidence is Confidence.LOW


def test_test_cards_are_low_whatever_the_keywords() -> None:
    for number in ("4242424242424242", "5555 5555 5555 4444", "378282246310005", "6011111111111117"):
        assert [d.confidence for d in LOW.detections(f"credit card number {number}")] == [Confidence.LOW]


def test_every_listed_test_card_is_a_valid_card() -> None:
    # A number that no longer validated would be dead weight in the list.
    assert all(v.card_entry(n) for n in v._TEST_CARDS)


def test_keywords_are_whole_words_and_near() -> None:
    ean = "4009365698262"
    assert counted(DEFAULT, f"card {ean}") == [(ean, "Visa Card Number")]
    assert counted(DEFAULT, f"credit-card: {ean}") == [(ean, "Visa Card Number")]
    assert counted(DEFAULT, f".card-4 {ean}") == []
    assert counted(DEFAULT, f"my_card {ean}") == []
    assert counted(DEFAULT, "card" + " " * (KEYWORD_WINDOW + 1) + ean) == []
    assert counted(DEFAULT, "Canada sin: 231392077") == []  # acronyms count in capitals only


def test_custom_regex_does_not_match_inside_a_decimal() -> None:
    dlp = DlpEngine.from_settings(
        DlpSettings.model_validate(
            {
                "salt": "precision-salt",
                "custom_profiles": [
                    {"name": "Codes", "confidence": "low",
                     "entries": [{"kind": "regex", "name": "code", "pattern": "[0-9]{8}"}]}
                ],
            }
        )
    )
    assert [d.entry for d in dlp.detections("x = 0.12345678")] == []
    assert [d.entry for d in dlp.detections("y = 12345678.5")] == []
    assert [d.entry for d in dlp.detections("code 12345678.")] == ["code"]


@pytest.mark.skipif(not HYPERSCAN_AVAILABLE, reason="hyperscan wheels are x86_64 Linux only")
def test_backends_agree_on_the_realistic_snippets() -> None:
    text = "".join(NEGATIVES.values()) + "".join(p[0] for p in POSITIVES)
    hs = DlpEngine.from_settings(DlpSettings(salt="precision-salt"), backend="hyperscan")
    r2 = DlpEngine.from_settings(DlpSettings(salt="precision-salt"), backend="re2")
    assert hs.detections(text) == r2.detections(text)
