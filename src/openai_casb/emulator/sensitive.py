"""Valid-looking sensitive values to plant in generated files (all synthetic, all checksum-valid)."""

from __future__ import annotations

import base64
import random
import string

PLANTED_KINDS: tuple[str, ...] = ("credit_card", "us_ssn", "iban", "aws_access_key", "openai_api_key", "private_key")


def luhn_check_digit(partial: str) -> str:
    total = 0
    for position, char in enumerate(reversed(partial)):
        digit = int(char)
        if position % 2 == 0:  # these get doubled once the check digit is appended
            digit = digit * 2 - 9 if digit * 2 > 9 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    digits = [c for c in number if c.isdigit()]
    return len(digits) > 1 and luhn_check_digit("".join(digits[:-1])) == digits[-1]


def credit_card(rng: random.Random) -> str:
    partial = "4" + "".join(rng.choice(string.digits) for _ in range(14))
    number = partial + luhn_check_digit(partial)
    return "-".join(number[i : i + 4] for i in range(0, 16, 4))


_SSN_AREAS = [a for a in range(1, 900) if a != 666]  # 000, 666 and 9xx are never issued


def us_ssn(rng: random.Random) -> str:
    area = rng.choice(_SSN_AREAS)
    group = rng.randint(1, 99)
    serial = rng.randint(1, 9999)
    return f"{area:03d}-{group:02d}-{serial:04d}"


def iban_check_digits(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    return f"{98 - int(numeric) % 97:02d}"


def iban_valid(iban: str) -> bool:
    compact = iban.replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def iban(rng: random.Random) -> str:
    bban = "".join(rng.choice(string.digits) for _ in range(18))  # German layout: 8-digit bank code + 10-digit account
    return f"DE{iban_check_digits('DE', bban)}{bban}"


def aws_access_key(rng: random.Random) -> str:
    return "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16))


def openai_api_key(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits
    left = "".join(rng.choice(alphabet) for _ in range(20))
    right = "".join(rng.choice(alphabet) for _ in range(20))
    return f"sk-proj-{left}T3BlbkFJ{right}"


def private_key(rng: random.Random) -> str:
    body = base64.b64encode(b"\x30\x81\x90" + rng.randbytes(144)).decode()  # DER SEQUENCE, as DLP checks
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END RSA PRIVATE KEY-----"


_MAKERS = {
    "credit_card": credit_card,
    "us_ssn": us_ssn,
    "iban": iban,
    "aws_access_key": aws_access_key,
    "openai_api_key": openai_api_key,
    "private_key": private_key,
}


def make(kind: str, rng: random.Random) -> str:
    return _MAKERS[kind](rng)
