"""Financial Information: payment cards by brand, IBAN, ABA routing numbers."""

from __future__ import annotations

from collections.abc import Callable

from openai_casb.dlp import validators as v
from openai_casb.dlp.detectors.base import Detector, single_entry
from openai_casb.dlp.settings import Confidence

PROFILE = "Financial Information"

# Whole words (see engine._keyword_regex); phrases also match with `_` or `-` (card_number).
# Not "credit"/"debit" alone (ledger columns), "expiration" (tokens, certificates) or "pan" (UI).
CARD_KEYWORDS = (
    "card", "card number", "cardnumber", "card no", "credit card", "debit card", "visa", "mastercard",
    "master card", "amex", "american express", "discover", "diners", "jcb", "unionpay", "union pay", "cvv", "cvc",
    "expiry", "cardholder", "card holder", "PAN",
)

DETECTORS: tuple[Detector, ...] = (
    Detector(
        key="card",
        profile=PROFILE,
        entries=v.CARD_ENTRIES,
        # 13-19 digits from a brand's first digit, optionally grouped by spaces or dashes.
        pattern=r"[2-68][0-9]{3}(?:[ \-]?[0-9]){9,15}",
        scan_pattern=r"[2-68][0-9]{3}(?:[ \-]?[0-9]){9}",  # one report per start, not one per length
        segment="digits",
        classify=v.card_entry,
        keywords=CARD_KEYWORDS,
        base=Confidence.MEDIUM,
        max_length=24,
        trim=" -",
        judge=v.card_form,
    ),
    Detector(
        key="iban",
        profile=PROFILE,
        entries=("IBAN",),
        pattern=r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?",
        segment="alnum",
        scan_pattern=r"[A-Z]{2}[0-9]{2}",
        classify=single_entry("IBAN", v.iban_ok),
        keywords=("iban", "bank", "account", "bic", "swift", "transfer", "payment"),
        base=Confidence.HIGH,
        max_length=42,
        trim=" ",
    ),
    Detector(
        key="aba",
        profile=PROFILE,
        entries=("ABA Routing Number",),
        pattern=r"[0-3678][0-9]{8}",
        segment="digits",
        classify=single_entry("ABA Routing Number", v.aba_ok),
        # Not "transit", "bank", "wire" alone: `status: In Transit`, `bank transfer` by order ids.
        keywords=("routing", "routing number", "aba", "RTN", "ACH", "routing transit", "wire transfer routing"),
        base=Confidence.LOW,
        max_length=9,
    ),
)

# Detectors whose bare values the engine also judges as a population (see engine.Population): key
# -> whether a bare value the classifier refused has the detector's shape and failed only its
# checksum. A random number passes Luhn one time in ten, a real card always.
POPULATION_CHECKS: dict[str, Callable[[str], bool]] = {"card": v.card_refused_by_luhn}
