"""Valid values per detection entry and hard negatives, built with the issuers' rules (seeded)."""

from __future__ import annotations

import base64
import json
import random
import string
import zlib
from collections.abc import Callable

from openai_casb.dlp import validators as v

Rng = random.Random
_B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_ALNUM = string.ascii_letters + string.digits
_URLSAFE = _ALNUM + "-_"


def _digits(rng: Rng, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def _chars(rng: Rng, alphabet: str, count: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(count))


def luhn_complete(prefix: str) -> str:
    for digit in string.digits:
        if v.luhn_ok(prefix + digit):
            return prefix + digit
    raise AssertionError("unreachable")


def _group(number: str, sizes: tuple[int, ...], separator: str) -> str:
    parts, position = [], 0
    for size in sizes:
        parts.append(number[position : position + size])
        position += size
    return separator.join(parts)


_CARD_PREFIXES: dict[str, tuple[tuple[str, ...], int, tuple[int, ...]]] = {
    "Visa Card Number": (("4",), 16, (4, 4, 4, 4)),
    "Mastercard Card Number": (("51", "52", "53", "54", "55", "2221", "2720", "2500"), 16, (4, 4, 4, 4)),
    "Amex Card Number": (("34", "37"), 15, (4, 6, 5)),
    "Discover Card Number": (("6011", "644", "65"), 16, (4, 4, 4, 4)),
    "Diners Card Number": (("36", "300", "305", "38"), 14, (4, 6, 4)),
    "JCB Card Number": (("3528", "3540", "3589"), 16, (4, 4, 4, 4)),
    "UnionPay Card Number": (("6200", "6210", "6280"), 16, (4, 4, 4, 4)),
}


def card(entry: str) -> Callable[[Rng], str]:
    prefixes, length, groups = _CARD_PREFIXES[entry]

    def make(rng: Rng) -> str:
        prefix = rng.choice(prefixes)
        number = luhn_complete(prefix + _digits(rng, length - len(prefix) - 1))
        return _group(number, groups, rng.choice((" ", "-", ""))) if rng.random() < 0.7 else number

    return make


def bad_card(rng: Rng) -> str:
    number = card("Visa Card Number")(rng).replace(" ", "").replace("-", "")
    last = str((int(number[-1]) + rng.randint(1, 9)) % 10)
    return _group(number[:-1] + last, (4, 4, 4, 4), " ")


def _iban_check(country: str, bban: str) -> str:
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{98 - int(numeric) % 97:02d}"


def iban(rng: Rng, corrupt: bool = False) -> str:
    country = rng.choice(("DE", "GB", "FR", "NL", "ES", "IT", "BE", "CH", "PL", "SE"))
    layout = v.IBAN_LAYOUTS[country]
    bban, number = "", ""
    for ch in layout:
        if ch.isdigit():
            number += ch
            continue
        alphabet = {"n": string.digits, "a": string.ascii_uppercase, "c": string.ascii_uppercase + string.digits}[ch]
        bban += _chars(rng, alphabet, int(number))
        number = ""
    check = _iban_check(country, bban)
    if corrupt:
        check = f"{(int(check) + rng.randint(1, 50)) % 100:02d}"
    compact = country + check + bban
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4)) if rng.random() < 0.5 else compact


def aba(rng: Rng) -> str:
    while True:
        head = f"{rng.choice([*range(1, 13), *range(21, 33), *range(61, 73)]):02d}" + _digits(rng, 6)
        total = sum(int(d) * w for d, w in zip(head, (3, 7, 1, 3, 7, 1, 3, 7), strict=True))
        number = head + str((10 - total % 10) % 10)
        if v.aba_ok(number):
            return number


def ssn(rng: Rng) -> str:
    while True:
        area = rng.choice([a for a in range(1, 900) if a != 666])
        value = f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
        if v.us_ssn_ok(value):
            return value


def bad_ssn(rng: Rng) -> str:
    area = rng.choice(("000", "666"))
    return f"{area}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def itin(rng: Rng) -> str:
    group = rng.choice([*range(50, 66), *range(70, 89), *range(90, 93), *range(94, 100)])
    return f"9{rng.randint(0, 99):02d}-{group}-{rng.randint(0, 9999):04d}"


def nino(rng: Rng) -> str:
    while True:
        value = (
            rng.choice("ABCEGHJKLMNOPRSTWXYZ")
            + rng.choice("ABCEGHJKLMNPRSTWXYZ")
            + _digits(rng, 6)
            + rng.choice("ABCD")
        )
        if v.uk_nino_ok(value):
            return f"{value[:2]} {value[2:4]} {value[4:6]} {value[6:8]} {value[8]}" if rng.random() < 0.5 else value


def _until(rng: Rng, make: Callable[[Rng], str], check: Callable[[str], bool]) -> str:
    while True:
        value = make(rng)
        if check(value):
            return value


def nhs(rng: Rng) -> str:
    number = _until(rng, lambda r: _digits(r, 10), v.uk_nhs_ok)
    return _group(number, (3, 3, 4), " ")


def sin(rng: Rng) -> str:
    number = _until(rng, lambda r: luhn_complete(str(r.randint(1, 7)) + _digits(r, 7)), v.ca_sin_ok)
    return _group(number, (3, 3, 3), rng.choice((" ", "-")))


def tfn(rng: Rng) -> str:
    number = _until(rng, lambda r: _digits(r, 9), v.au_tfn_ok)
    return _group(number, (3, 3, 3), " ")


def aadhaar(rng: Rng) -> str:
    def make(r: Rng) -> str:
        head = str(r.randint(2, 9)) + _digits(r, 10)
        return next(head + d for d in string.digits if v.verhoeff_ok(head + d))

    return _group(_until(rng, make, v.in_aadhaar_ok), (4, 4, 4), " ")


def cpf(rng: Rng) -> str:
    number = _until(rng, lambda r: _digits(r, 11), v.br_cpf_ok)
    return f"{number[:3]}.{number[3:6]}.{number[6:9]}-{number[9:]}"


def dni(rng: Rng) -> str:
    number = _digits(rng, 8)
    return number + "TRWAGMYFPDXBNJZSQVHLCKE"[int(number) % 23]


def bsn(rng: Rng) -> str:
    return _until(rng, lambda r: _digits(r, 9), v.nl_bsn_ok)


def pesel(rng: Rng) -> str:
    def make(r: Rng) -> str:
        head = f"{r.randint(40, 99):02d}{r.randint(1, 12):02d}{r.randint(1, 28):02d}" + _digits(r, 4)
        weights = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
        return head + str((10 - sum(int(d) * w for d, w in zip(head, weights, strict=True)) % 10) % 10)

    return _until(rng, make, v.pl_pesel_ok)


def personnummer(rng: Rng) -> str:
    def make(r: Rng) -> str:
        head = f"{r.randint(40, 99):02d}{r.randint(1, 12):02d}{r.randint(1, 28):02d}" + _digits(r, 3)
        return luhn_complete(head)

    number = _until(rng, make, v.se_personnummer_ok)
    return f"{number[:6]}-{number[6:]}"


def _crc_token(rng: Rng, prefix: str, body: int) -> str:
    random_part = _chars(rng, _ALNUM, body)
    crc = zlib.crc32(random_part.encode())
    encoded = ""
    while crc:
        crc, digit = divmod(crc, 62)
        encoded = _B62[digit] + encoded
    return prefix + random_part + encoded.rjust(6, "0")


def aws_id(rng: Rng) -> str:
    return rng.choice(("AKIA", "ASIA")) + _chars(rng, string.ascii_uppercase + "234567", 16)


def aws_secret(rng: Rng) -> str:
    return _chars(rng, _ALNUM + "/+", 40)


def azure_key(rng: Rng) -> str:
    return base64.b64encode(rng.randbytes(64)).decode()


def jwt(rng: Rng) -> str:
    def part(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    header = part({"alg": rng.choice(("HS256", "RS256")), "typ": "JWT"})
    payload = part({"sub": _chars(rng, _ALNUM, 10), "iat": rng.randint(1_600_000_000, 1_800_000_000)})
    return f"{header}.{payload}.{_chars(rng, _URLSAFE, 43)}"


def pem(rng: Rng, kind: str = "RSA PRIVATE KEY") -> str:
    # A real key's body is DER (a SEQUENCE: 0x30) or OpenSSH's magic, which the detector checks.
    head = b"openssh-key-v1\x00" if kind.startswith("OPENSSH") else b"\x30\x82"
    body = base64.b64encode(head + rng.randbytes(rng.randint(300, 900))).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {kind}-----\n{lines}\n-----END {kind}-----"


SECRET_VALUES: dict[str, Callable[[Rng], str]] = {
    "AWS Access Key ID": aws_id,
    "Google Cloud API Key": lambda r: "AIza" + _chars(r, _URLSAFE, 35),
    "GitHub Token": lambda r: _crc_token(r, r.choice(("ghp_", "gho_", "ghs_")), 30),
    "OpenAI API Key": lambda r: (
        (
            f"sk-{r.choice(('proj', 'svcacct', 'admin'))}-"
            + _chars(r, _URLSAFE, 74)
            + "T3BlbkFJ"
            + _chars(r, _URLSAFE, 74)
        )
        if r.random() < 0.7
        else "sk-" + _chars(r, _ALNUM, 20) + "T3BlbkFJ" + _chars(r, _ALNUM, 20)
    ),
    "Anthropic API Key": lambda r: "sk-ant-api03-" + _chars(r, _URLSAFE, 93) + "AA",
    "Slack Token": lambda r: f"xoxb-{_digits(r, 12)}-{_digits(r, 13)}-" + _chars(r, _ALNUM, 24),
    "Slack Webhook URL": lambda r: (
        "https://hooks.slack.com/services/T"
        + _chars(r, string.ascii_uppercase, 8)
        + "/B"
        + _chars(r, string.ascii_uppercase, 8)
        + "/"
        + _chars(r, _ALNUM, 24)
    ),
    "Stripe Secret Key": lambda r: r.choice(("sk_live_", "rk_live_")) + _chars(r, _ALNUM, 24),
    "npm Token": lambda r: _crc_token(r, "npm_", 30),
    "PyPI Token": lambda r: "pypi-AgEIcHlwaS5vcmc" + _chars(r, _URLSAFE, 70),
    "JSON Web Token": jwt,
    "PEM Private Key": pem,
}
