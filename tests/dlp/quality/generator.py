"""A seeded, labelled DLP corpus: valid values and hard negatives planted into neutral text.

    text, labels = generate_corpus(seed=7, per_entry=120)
    text, labels = plant_into(carrier_text, seed=7, count=40)

Each `Label` gives the span of a planted value, the entry that must detect it (None for a hard
negative that nothing may detect) and a kind. Plants are separated by more than the engine's
keyword window, so a keyword next to one value never lends confidence to another. Reusable by
the extraction tests: render the text into DOCX/XLSX/PDF and compare the detections.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from . import values as val

Make = Callable[[random.Random], str]


@dataclass(frozen=True, slots=True)
class Label:
    start: int
    end: int
    entry: str | None  # None: a hard negative, must not be detected
    kind: str


@dataclass(frozen=True, slots=True)
class Plant:
    entry: str | None
    kind: str
    make: Make
    contexts: tuple[str, ...]  # "{v}" marks the value; one is chosen at random


def _p(entry: str, make: Make, *contexts: str) -> Plant:
    return Plant(entry, entry, make, contexts or ("{v}",))


_CARD_CONTEXTS = ("Card number: {v}", "paid with visa card {v} yesterday", "ref {v}", "{v}")

POSITIVES: tuple[Plant, ...] = (
    *(_p(entry, val.card(entry), *_CARD_CONTEXTS) for entry in val._CARD_PREFIXES),
    _p("IBAN", lambda r: val.iban(r), "IBAN: {v}", "transfer to {v} today", "{v}"),
    _p("ABA Routing Number", val.aba, "ABA routing number {v}", "Routing: {v}"),
    _p("US Social Security Number", val.ssn, "SSN: {v}", "social security number {v}", "{v}"),
    _p("US ITIN", val.itin, "ITIN {v}", "taxpayer id {v}", "{v}"),
    _p("UK National Insurance Number", val.nino, "National Insurance number: {v}", "NINO {v}", "{v}"),
    _p("UK NHS Number", val.nhs, "NHS number {v}", "patient NHS no. {v}"),
    _p("Canada SIN", val.sin, "SIN: {v}", "social insurance number {v}"),
    _p("Australia TFN", val.tfn, "TFN {v}", "tax file number: {v}"),
    _p("India Aadhaar", val.aadhaar, "Aadhaar: {v}", "UID {v}", "{v}"),
    _p("Brazil CPF", val.cpf, "CPF: {v}", "CPF do contribuinte {v}"),
    _p("Spain DNI/NIE", val.dni, "DNI {v}", "documento nacional de identidad {v}", "{v}"),
    _p("Netherlands BSN", val.bsn, "BSN: {v}", "burgerservicenummer {v}"),
    _p("Poland PESEL", val.pesel, "PESEL {v}", "numer PESEL: {v}"),
    _p("Sweden Personnummer", val.personnummer, "personnummer {v}", "Personnummer: {v}"),
    *(_p(entry, make, "{v}", 'token = "{v}"', "export KEY={v}") for entry, make in val.SECRET_VALUES.items()),
    Plant(
        "AWS Secret Access Key",
        "AWS Secret Access Key",
        val.aws_secret,
        ("aws_secret_access_key = {v}", 'AWS_SECRET_ACCESS_KEY: "{v}"'),
    ),
    Plant(
        "Azure Storage Account Key", "Azure Storage Account Key", val.azure_key, ("storage_key: {v}", "AccountKey={v}")
    ),
    Plant(
        "Azure Storage Connection String",
        "Azure Storage Connection String",
        lambda r: (
            f"DefaultEndpointsProtocol=https;AccountName=acct{r.randint(100, 999)};AccountKey="
            f"{val.azure_key(r)};EndpointSuffix=core.windows.net"
        ),
        ("{v}", 'conn = "{v}"'),
    ),
)

NEGATIVES: tuple[Plant, ...] = (
    Plant(None, "luhn-failing card", val.bad_card, ("Card number: {v}",)),
    Plant(None, "invalid SSN area", val.bad_ssn, ("SSN: {v}",)),
    Plant(None, "bad IBAN check digits", lambda r: val.iban(r, corrupt=True), ("IBAN: {v}",)),
    Plant(None, "public key", lambda r: val.pem(r, "PUBLIC KEY"), ("{v}",)),
    Plant(None, "certificate", lambda r: val.pem(r, "CERTIFICATE"), ("{v}",)),
    Plant(None, "lookalike GitHub token", lambda r: "ghp_" + val._chars(r, val._ALNUM, 36), ("token {v}",)),
    Plant(None, "lookalike npm token", lambda r: "npm_" + val._chars(r, val._ALNUM, 36), ("token {v}",)),
    Plant(None, "sk- without T3BlbkFJ", lambda r: "sk-" + val._chars(r, val._ALNUM, 48), ("key {v}",)),
    Plant(None, "lowercase AKIA lookalike", lambda r: "AKIA" + val._chars(r, "abcdefghijklmnop", 16), ("{v}",)),
    Plant(
        None,
        "version number",
        lambda r: f"{r.randint(1, 20)}.{r.randint(0, 30)}.{r.randint(0, 99)}",
        ("version {v}", "release v{v}"),
    ),
    Plant(
        None,
        "phone number",
        lambda r: f"+1 ({r.randint(200, 999)}) {r.randint(200, 999)}-{r.randint(0, 9999):04d}",
        ("phone {v}", "call {v}"),
    ),
    Plant(None, "UK phone number", lambda r: f"020 {r.randint(7000, 8999)} {r.randint(0, 9999):04d}", ("tel {v}",)),
    Plant(None, "UUID", lambda r: str(uuid.UUID(int=r.getrandbits(128))), ("request {v}",)),
    Plant(None, "bare 9-digit reference", lambda r: val._digits(r, 9), ("ref {v}", "order {v}")),
    Plant(None, "bare 10-digit reference", lambda r: val._digits(r, 10), ("invoice {v}",)),
    Plant(
        None,
        "JWT-like without alg",
        lambda r: (
            "eyJ"
            + val._chars(r, val._URLSAFE, 30)
            + "."
            + val._chars(r, val._URLSAFE, 30)
            + "."
            + val._chars(r, val._URLSAFE, 20)
        ),
        ("{v}",),
    ),
)

# Neutral filler: none of these is a keyword of any entry.
_WORDS = [
    "the",
    "team",
    "reviewed",
    "project",
    "plan",
    "meeting",
    "notes",
    "quarter",
    "design",
    "update",
    "draft",
    "schedule",
    "budget",
    "office",
    "report",
    "summary",
    "decision",
    "follow",
    "next",
    "week",
    "customer",
    "feedback",
    "product",
    "release",
    "roadmap",
    "launch",
    "marketing",
    "analysis",
    "result",
    "goal",
    "metric",
    "growth",
    "strategy",
    "partner",
    "vendor",
    "contract",
    "review",
    "approve",
    "document",
    "version",
    "change",
    "request",
    "support",
    "ticket",
    "issue",
    "resolve",
    "deploy",
    "server",
    "cluster",
    "backup",
]


def filler(rng: random.Random, length: int) -> str:
    parts: list[str] = []
    size = 0
    while size < length:
        roll = rng.random()
        if roll < 0.05:
            word = f"{rng.randint(1, 28)}/{rng.randint(1, 12)}/20{rng.randint(10, 30)}"
        elif roll < 0.10:
            word = str(rng.randint(1, 99_999))
        else:
            word = rng.choice(_WORDS)
        if rng.random() < 0.08:
            word += "." if rng.random() < 0.7 else ".\n"
        parts.append(word)
        size += len(word) + 1
    return " ".join(parts)


def _render(rng: random.Random, plant: Plant) -> tuple[str, int, int]:
    value = plant.make(rng)
    context = rng.choice(plant.contexts)
    before = context.split("{v}")[0]
    text = context.replace("{v}", value)
    return text, len(before), len(before) + len(value)


def _items(rng: random.Random, per_entry: int, negatives_per_kind: int) -> list[Plant]:
    items = [p for p in POSITIVES for _ in range(per_entry)] + [n for n in NEGATIVES for _ in range(negatives_per_kind)]
    rng.shuffle(items)
    return items


def generate_corpus(
    seed: int = 0, per_entry: int = 100, negatives_per_kind: int = 50, spacing: int = 1100
) -> tuple[str, list[Label]]:
    """Neutral text with `per_entry` valid values of every entry and hard negatives, all labelled."""
    rng = random.Random(seed)
    pieces: list[str] = []
    labels: list[Label] = []
    position = 0
    for plant in _items(rng, per_entry, negatives_per_kind):
        gap = filler(rng, spacing) + "\n"
        text, start, end = _render(rng, plant)
        pieces += [gap, text, ". "]
        position += len(gap)
        labels.append(Label(position + start, position + end, plant.entry, plant.kind))
        position += len(text) + 2
    pieces.append(filler(rng, spacing))
    return "".join(pieces), labels


def plant_into(
    carrier: str, seed: int = 0, count: int = 50, spacing: int = 1100, negatives: bool = True
) -> tuple[str, list[Label]]:
    """Plant up to `count` labelled items into `carrier` at whitespace, `spacing` characters apart."""
    rng = random.Random(seed)
    pool = list(POSITIVES) + (list(NEGATIVES) if negatives else [])
    spots: list[int] = []
    cursor = spacing // 2
    while cursor < len(carrier) and len(spots) < count:
        space = carrier.find(" ", cursor)
        if space < 0:
            break
        spots.append(space)
        cursor = space + spacing
    pieces: list[str] = []
    labels: list[Label] = []
    last = 0
    offset = 0
    for spot in spots:
        plant = rng.choice(pool)
        text, start, end = _render(rng, plant)
        pieces.append(carrier[last:spot])
        offset += spot - last
        inserted = f" {text} "
        labels.append(Label(offset + 1 + start, offset + 1 + end, plant.entry, plant.kind))
        pieces.append(inserted)
        offset += len(inserted)
        last = spot
    pieces.append(carrier[last:])
    return "".join(pieces), labels
