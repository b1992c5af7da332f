"""Checksums and format rules that turn a regex hit into a validated detection.

Each function takes the matched text (separators included) and answers True only for values the
issuer could have produced. Pure functions: no I/O, no state.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import string
import zlib
from collections import Counter
from typing import Literal

# What a detector's judge says of one validated value in its place (see detectors.base.Detector).
Form = Literal["reject", "weak", "sample"]

_DIGITS = frozenset(string.digits)


def digits_only(value: str) -> str:
    return "".join(ch for ch in value if ch in _DIGITS)


def luhn_ok(number: str) -> bool:
    if not number or not number.isdigit():
        return False
    total = 0
    for index, ch in enumerate(reversed(number)):
        digit = ord(ch) - 48
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def consistent_separators(value: str, separators: str = " -") -> bool:
    """At most one kind of separator, so `4111 1111-1111 1111` is not a card."""
    return len({ch for ch in value if ch in separators}) <= 1


# --- payment cards ------------------------------------------------------------------------------

# (brand entry, IIN ranges as (low, high, prefix length), allowed lengths)
_CARD_BRANDS: tuple[tuple[str, tuple[tuple[int, int, int], ...], frozenset[int]], ...] = (
    ("Amex Card Number", ((34, 34, 2), (37, 37, 2)), frozenset({15})),
    ("Diners Card Number", ((300, 305, 3), (36, 36, 2), (38, 39, 2), (3095, 3095, 4)), frozenset({14, 16, 17, 18, 19})),
    ("JCB Card Number", ((3528, 3589, 4),), frozenset({16, 17, 18, 19})),
    ("Discover Card Number", ((6011, 6011, 4), (644, 649, 3), (65, 65, 2), (622126, 622925, 6)),
     frozenset({16, 17, 18, 19})),
    ("UnionPay Card Number", ((62, 62, 2), (81, 81, 2)), frozenset({16, 17, 18, 19})),
    ("Mastercard Card Number", ((51, 55, 2), (2221, 2720, 4)), frozenset({16})),
    ("Visa Card Number", ((4, 4, 1),), frozenset({13, 16, 19})),
)
CARD_ENTRIES: tuple[str, ...] = tuple(sorted(b[0] for b in _CARD_BRANDS))

# Groupings a human writes a card in, by total length; "no separators" is always fine.
_CARD_GROUPINGS: dict[int, set[tuple[int, ...]]] = {
    13: {(4, 4, 5), (4, 3, 3, 3)},
    14: {(4, 6, 4)},
    15: {(4, 6, 5)},
    16: {(4, 4, 4, 4)},
    17: {(4, 4, 4, 5)},
    18: {(4, 4, 4, 6)},
    19: {(4, 4, 4, 4, 3), (6, 13)},
}


def card_brand(number: str) -> str | None:
    """Brand entry name of a digits-only card number, or None when no brand issues it."""
    for brand, ranges, lengths in _CARD_BRANDS:
        if len(number) not in lengths:
            continue
        for low, high, width in ranges:
            if low <= int(number[:width]) <= high:
                return brand
    return None


def card_entry(value: str) -> str | None:
    """Validated card (grouping, brand IIN and length, Luhn) -> its brand entry."""
    if not consistent_separators(value):
        return None
    groups = tuple(len(g) for g in value.replace("-", " ").split(" "))
    number = "".join(value.replace("-", " ").split(" "))
    if not number.isdigit() or len(number) < 13 or len(number) > 19:
        return None
    if len(groups) > 1 and groups not in _CARD_GROUPINGS.get(len(number), set()):
        return None
    if len(set(number)) == 1 or not luhn_ok(number):
        return None
    return card_brand(number)


def card_refused_by_luhn(value: str) -> bool:
    """A bare number (digits only) of a brand's range and length, not all one digit, that fails
    Luhn: a candidate that reached the Luhn step and failed it (the engine's population rule
    counts these against the bare numbers that pass)."""
    return (
        value.isascii() and value.isdigit() and 13 <= len(value) <= 19 and len(set(value)) > 1
        and card_brand(value) is not None and not luhn_ok(value)
    )


# Published test numbers (Stripe's, Adyen's, Braintree's and the brands' own documentation): in
# fixtures and docs everywhere, never a customer's card. Low whatever the keywords, as sample SSNs
# are refused.
_TEST_CARDS = frozenset({
    "4242424242424242", "4000056655665556", "4012888888881881", "4222222222222",
    "4000002500003155", "4000000000003220", "4000000000009995", "4000000000000002", "4000000000000077",
    "4000000760000002", "4917610000000000", "4988438843884305",
    "4000002760003184", "4111111111111111",
    "5555555555554444", "2223003122003222", "5200828282828210", "5105105105105100", "5425233430109903",
    "2222400070000005", "5454545454545454", "5431111111111111",
    "378282246310005", "371449635398431", "378734493671000", "370000000000002", "340000000000009",
    "6011111111111117", "6011000990139424", "6011981111111113", "6011000000000004",
    "3056930009020004", "36227206271667", "30569309025904", "38520000023237",
    "3566002020360505", "3530111333300000", "3566111111111113",
    "6200000000000005", "6200000000000047", "6250941006528599",
})

# Characters that may end a URL path segment.
_PATH_END = frozenset("/?#\"' \t\r\n)>,;")


def card_form(text: str, start: int, end: int) -> Form | None:
    """Test numbers are samples; 13-digit Visas (EAN-13 barcodes share its first digit) and bare
    numbers forming a URL path segment (`/api/v1/orders/4247134585648043?...`, where REST ids
    sit) are weak: Low, unless a card keyword is near."""
    value = text[start:end]
    number = digits_only(value)
    if number in _TEST_CARDS:
        return "sample"
    if len(number) == 13:
        return "weak"
    if number == value and start > 0 and text[start - 1] == "/" and (end == len(text) or text[end] in _PATH_END):
        return "weak"
    return None


# --- banking ------------------------------------------------------------------------------------

# IBAN length and BBAN layout per country (ISO 13616 registry): n digits, a letters, c alphanumeric.
IBAN_LAYOUTS: dict[str, str] = {
    "AD": "4n4n12c", "AE": "3n16n", "AL": "8n16c", "AT": "5n11n", "AZ": "4a20c", "BA": "3n3n8n2n",
    "BE": "3n7n2n", "BG": "4a4n2n8c", "BH": "4a14c", "BR": "8n5n10n1a1c", "CH": "5n12c", "CR": "4n14n",
    "CY": "3n5n16c", "CZ": "4n6n10n", "DE": "8n10n", "DK": "4n9n1n", "DO": "4c20n", "EE": "2n2n11n1n",
    "EG": "4n4n17n", "ES": "4n4n1n1n10n", "FI": "3n11n", "FO": "4n9n1n", "FR": "5n5n11c2n", "GB": "4a6n8n",
    "GE": "2a16n", "GI": "4a15c", "GL": "4n9n1n", "GR": "3n4n16c", "GT": "4c20c", "HR": "7n10n",
    "HU": "3n4n1n15n1n", "IE": "4a6n8n", "IL": "3n3n13n", "IS": "4n2n6n10n", "IT": "1a5n5n12c",
    "JO": "4a4n18c", "KW": "4a22c", "KZ": "3n13c", "LB": "4n20c", "LI": "5n12c", "LT": "5n11n",
    "LU": "3n13c", "LV": "4a13c", "MC": "5n5n11c2n", "MD": "2c18c", "ME": "3n13n2n", "MK": "3n10c2n",
    "MR": "5n5n11n2n", "MT": "4a5n18c", "MU": "4a2n2n12n3n3a", "NL": "4a10n", "NO": "4n6n1n",
    "PK": "4a16c", "PL": "8n16n", "PS": "4a21c", "PT": "4n4n11n2n", "QA": "4a21c", "RO": "4a16c",
    "RS": "3n13n2n", "SA": "2n18c", "SE": "3n16n1n", "SI": "5n8n2n", "SK": "4n6n10n", "SM": "1a5n5n12c",
    "TN": "2n3n13n2n", "TR": "5n1n16c", "UA": "6n19c", "VG": "4a16n", "XK": "4n10n2n",
}


def _layout_ok(bban: str, layout: str) -> bool:
    position = 0
    number = ""
    for ch in layout:
        if ch.isdigit():
            number += ch
            continue
        width = int(number)
        number = ""
        part = bban[position : position + width]
        if len(part) != width:
            return False
        if ch == "n" and not part.isdigit():
            return False
        if ch == "a" and not (part.isalpha() and part.isupper()):
            return False
        if ch == "c" and not part.isalnum():
            return False
        position += width
    return position == len(bban)


def iban_ok(value: str) -> bool:
    """Country known, length and BBAN layout as registered, check digits by ISO 7064 mod 97-10."""
    iban = value.replace(" ", "")
    if not iban.isascii() or iban != iban.upper() or len(iban) < 15:
        return False
    layout = IBAN_LAYOUTS.get(iban[:2])
    if layout is None or not iban[2:4].isdigit() or not _layout_ok(iban[4:], layout):
        return False
    if " " in value:  # printed form: groups of four, the last one shorter
        groups = value.split(" ")
        if any(len(g) != 4 for g in groups[:-1]) or not 1 <= len(groups[-1]) <= 4:
            return False
    rearranged = iban[4:] + iban[:4]
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1


# The first two digits of a routing number: a Federal Reserve district (thrift, electronic) or 80.
_ABA_PREFIXES = frozenset(range(0, 13)) | frozenset(range(21, 33)) | frozenset(range(61, 73)) | {80}


def aba_ok(value: str) -> bool:
    number = digits_only(value)
    if len(number) != 9 or int(number[:2]) not in _ABA_PREFIXES:
        return False
    if len(set(number)) == 1:
        return False
    weights = (3, 7, 1) * 3
    return sum(int(d) * w for d, w in zip(number, weights, strict=True)) % 10 == 0


# --- national identifiers ------------------------------------------------------------------------

_SSN_SAMPLES = frozenset({"123456789", "078051120", "219099999", "457555462", "111111111", "987654320"})


def us_ssn_ok(value: str) -> bool:
    """Presidio's rules: one separator kind, area not 000/666/9xx, group not 00, serial not 0000, no samples."""
    if not consistent_separators(value, " -."):
        return False
    number = digits_only(value)
    if len(number) != 9 or number in _SSN_SAMPLES or len(set(number)) == 1:
        return False
    area, group, serial = number[:3], number[3:5], number[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


# The group (4th and 5th digits) of an ITIN.
_ITIN_GROUPS = frozenset(range(50, 66)) | frozenset(range(70, 89)) | frozenset(range(90, 100))


def us_itin_ok(value: str) -> bool:
    if not consistent_separators(value, " -"):
        return False
    number = digits_only(value)
    group = int(number[3:5]) if len(number) == 9 else -1
    return len(number) == 9 and number[0] == "9" and group in _ITIN_GROUPS


_NINO_BAD_FIRST = frozenset("DFIQUV")
_NINO_BAD_SECOND = frozenset("DFIQUVO")
_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def uk_nino_ok(value: str) -> bool:
    nino = value.replace(" ", "").upper()
    if len(nino) != 9 or not (nino[:2].isalpha() and nino[2:8].isdigit() and nino[8] in "ABCD"):
        return False
    return nino[0] not in _NINO_BAD_FIRST and nino[1] not in _NINO_BAD_SECOND and nino[:2] not in _NINO_BAD_PREFIXES


def uk_nhs_ok(value: str) -> bool:
    if not consistent_separators(value):
        return False
    number = digits_only(value)
    if len(number) != 10 or len(set(number)) == 1:
        return False
    remainder = sum(int(d) * (10 - i) for i, d in enumerate(number[:9])) % 11
    check = 11 - remainder
    check = 0 if check == 11 else check
    return check != 10 and check == int(number[9])


def ca_sin_ok(value: str) -> bool:
    if not consistent_separators(value):
        return False
    number = digits_only(value)
    return len(number) == 9 and number[0] not in "08" and len(set(number)) > 1 and luhn_ok(number)


def au_tfn_ok(value: str) -> bool:
    if not consistent_separators(value):
        return False
    number = digits_only(value)
    if len(number) != 9 or len(set(number)) == 1:
        return False
    weights = (1, 4, 3, 7, 5, 8, 6, 9, 10)
    return sum(int(d) * w for d, w in zip(number, weights, strict=True)) % 11 == 0


_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5), (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7), (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3), (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4), (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7), (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def verhoeff_ok(number: str) -> bool:
    check = 0
    for index, ch in enumerate(reversed(number)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[index % 8][int(ch)]]
    return check == 0


def in_aadhaar_ok(value: str) -> bool:
    if not consistent_separators(value):
        return False
    number = digits_only(value)
    return len(number) == 12 and number[0] not in "01" and len(set(number)) > 1 and verhoeff_ok(number)


def aadhaar_form(text: str, start: int, end: int) -> Form | None:
    """Any 12 digits from 2 pass Verhoeff one time in ten (AWS account ids, UPC-A barcodes, FedEx
    tracking numbers): the bare form is weak (Low unless a keyword is near), an AWS account id
    between an ARN's colons (`arn:aws:iam::627174843553:role/x`) is rejected; the printed form
    (`2345 6789 0124`) keeps the detector's confidence."""
    if not text[start:end].isdigit():
        return None
    if start > 0 and text[start - 1] == ":" and text[end : end + 1] == ":":
        return "reject"
    return "weak"


def br_cpf_ok(value: str) -> bool:
    number = digits_only(value)
    if len(number) != 11 or len(set(number)) == 1:
        return False
    if any(ch in value for ch in ".-") and not (value[3:4] == "." and value[7:8] == "." and value[11:12] == "-"):
        return False
    for size in (9, 10):
        total = sum(int(d) * (size + 1 - i) for i, d in enumerate(number[:size]))
        if (total * 10 % 11) % 10 != int(number[size]):
            return False
    return True


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def es_dni_ok(value: str) -> bool:
    text = value.replace("-", "").replace(" ", "").upper()
    if len(text) != 9 or not text[-1].isalpha():
        return False
    body = text[:-1]
    if body[0] in "XYZ":  # NIE: the leading letter stands for a digit
        body = str("XYZ".index(body[0])) + body[1:]
    return body.isdigit() and _DNI_LETTERS[int(body) % 23] == text[-1]


def nl_bsn_ok(value: str) -> bool:
    number = digits_only(value)
    if len(number) != 9 or len(set(number)) == 1:
        return False
    total = sum(int(d) * w for d, w in zip(number[:8], range(9, 1, -1), strict=True)) - int(number[8])
    return total % 11 == 0


def pl_pesel_ok(value: str) -> bool:
    number = digits_only(value)
    if len(number) != 11 or len(set(number)) == 1:
        return False
    month = int(number[2:4]) % 20
    day = int(number[4:6])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return False
    weights = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
    return (10 - sum(int(d) * w for d, w in zip(number[:10], weights, strict=True)) % 10) % 10 == int(number[10])


def se_personnummer_ok(value: str) -> bool:
    text = value.replace("-", "").replace("+", "")
    if not text.isdigit() or len(text) not in (10, 12):
        return False
    short = text[-10:]
    month, day = int(short[2:4]), int(short[4:6]) % 60  # samordningsnummer add 60 to the day
    return 1 <= month <= 12 and 1 <= day <= 31 and luhn_ok(short)


# --- secrets ------------------------------------------------------------------------------------

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def base62_crc_ok(token: str, prefix_length: int) -> bool:
    """GitHub/npm tokens: the last 6 characters are the CRC32 of the random part before them
    (after the prefix), in base 62 padded with zeros."""
    body, check = token[prefix_length:-6], token[-6:]
    crc = zlib.crc32(body.encode())
    encoded = ""
    while crc:
        crc, digit = divmod(crc, 62)
        encoded = _BASE62[digit] + encoded
    return encoded.rjust(6, "0") == check and len(token) > prefix_length + 6


def shannon_entropy(value: str) -> float:
    if not value:
        return 0.0
    size = len(value)
    return -sum(c / size * math.log2(c / size) for c in Counter(value).values())


def jwt_ok(value: str) -> bool:
    """Three base64url parts whose header decodes to a JSON object naming an `alg`."""
    parts = value.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        return False
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
        base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and isinstance(header.get("alg"), str)


def base64_key_ok(value: str, decoded_length: int) -> bool:
    try:
        return len(base64.b64decode(value, validate=True)) == decoded_length
    except (ValueError, binascii.Error):
        return False


# --- data for the native twins (_native_financial.c) ------------------------------------------------


def native_tables() -> dict[str, object]:
    """The data the C twins of the financial and identifier validators read (see
    engine_native.configure_native): taken from the constants above, never copied."""
    return {
        "financial.card_entries": CARD_ENTRIES,
        "financial.card_brands": tuple(
            (CARD_ENTRIES.index(brand), ranges, tuple(sorted(lengths))) for brand, ranges, lengths in _CARD_BRANDS
        ),
        "financial.card_groupings": {length: tuple(sorted(groups)) for length, groups in _CARD_GROUPINGS.items()},
        "financial.test_cards": tuple(sorted(_TEST_CARDS)),
        "financial.path_end": "".join(sorted(_PATH_END)),
        "financial.iban_layouts": dict(IBAN_LAYOUTS),
        "financial.aba_prefixes": tuple(sorted(_ABA_PREFIXES)),
        "financial.ssn_samples": tuple(sorted(_SSN_SAMPLES)),
        "financial.itin_groups": tuple(sorted(_ITIN_GROUPS)),
        "financial.nino_bad_first": "".join(sorted(_NINO_BAD_FIRST)),
        "financial.nino_bad_second": "".join(sorted(_NINO_BAD_SECOND)),
        "financial.nino_bad_prefixes": tuple(sorted(_NINO_BAD_PREFIXES)),
        "financial.verhoeff_d": _VERHOEFF_D,
        "financial.verhoeff_p": _VERHOEFF_P,
        "financial.dni_letters": _DNI_LETTERS,
    }
