"""The population rule: a file of ids in a card issuer range (about one in ten passes Luhn) gives
no counted card, a real card list keeps every card, and chunked matching decides as `match`."""

from __future__ import annotations

import random
import string
from collections import Counter

import pytest

from openai_casb.dlp import validators as v
from openai_casb.dlp.engine import DlpEngine, MatchResult, StreamMatcher, population_at_chance
from openai_casb.dlp.settings import Confidence, DlpSettings

FIN = "Financial Information"
DEFAULT = DlpEngine.from_settings(DlpSettings(salt="population-salt"))
LOW = DlpEngine.from_settings(DlpSettings(salt="population-salt", profiles={FIN: {"confidence": "low"}}))  # type: ignore[misc]
# Issuer ranges of Visa, Mastercard (both), Discover, JCB and UnionPay, all at 16 digits.
PREFIXES = ("4", "4", "4", "51", "52", "53", "54", "55", "2221", "2720", "6011", "65", "3528", "3589", "62")


def sku(rng: random.Random) -> str:
    prefix = rng.choice(PREFIXES)
    return prefix + "".join(rng.choice(string.digits) for _ in range(16 - len(prefix)))


def card(rng: random.Random) -> str:
    """A real-shaped card: brand prefix, random digits, Luhn check digit (16 digits, Amex 15)."""
    prefix = rng.choice((*PREFIXES, "34", "37"))
    length = 15 if prefix in ("34", "37") else 16
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    number = next(body + d for d in string.digits if v.luhn_ok(body + d))
    assert v.card_entry(number) is not None
    return number


def typo(rng: random.Random, number: str) -> str:
    """One digit changed after the brand prefix: Luhn always catches it."""
    position = rng.randrange(6, len(number))
    digit = rng.choice([d for d in string.digits if d != number[position]])
    return number[:position] + digit + number[position + 1 :]


def sku_csv(seed: int, count: int = 1000) -> str:
    rng = random.Random(seed)
    rows = [f"{sku(rng)},Widget {i},{rng.randint(1, 99)},{rng.randint(100, 9999) / 100}" for i in range(count)]
    return "sku,name,qty,price\n" + "\n".join(rows) + "\n"


def cards_in(engine: DlpEngine, text: str) -> int:
    return sum(m.count for m in engine.match(text).entry_matches if m.entry.endswith("Card Number"))


def card_detections(engine: DlpEngine, text: str) -> list[tuple[str, Confidence]]:
    return [(text[d.start : d.end], d.confidence) for d in engine.detections(text) if d.entry.endswith("Card Number")]


def test_a_thousand_skus_in_card_ranges_give_no_counted_card() -> None:
    text = sku_csv(seed=1)
    shown = card_detections(LOW, text)
    # Without the rule ~100 of them pass Luhn and would count: they are still shown, at Low.
    assert 60 < len(shown) < 140
    assert {confidence for _, confidence in shown} == {Confidence.LOW}
    assert cards_in(DEFAULT, text) == 0
    assert FIN not in DEFAULT.match(text).matched_profiles
    assert card_detections(DEFAULT, text) == []
    # Under a profile at confidence Low the demoted ones still count, as every Low detection does.
    assert cards_in(LOW, text) == len(shown)


@pytest.mark.parametrize("header", ["card_number,name,exp", "id,name,exp"])
def test_a_card_list_with_typos_counts_every_card(header: str) -> None:
    rng = random.Random(2)
    cards = [card(rng) for _ in range(200)]
    rows = [f"{number},Customer {i},{rng.randint(1, 12):02d}/{rng.randint(26, 31)}" for i, number in enumerate(cards)]
    for index in (10, 50, 90, 130, 170):
        rows.insert(index, f"{typo(rng, cards[index])},Customer typo,01/29")
    text = header + "\n" + "\n".join(rows) + "\n"
    assert cards_in(DEFAULT, text) == 200
    assert sorted(value for value, _ in card_detections(DEFAULT, text)) == sorted(cards)


def test_real_cards_among_skus_count_when_they_outnumber_chance() -> None:
    rng = random.Random(3)
    skus = [sku(rng) for _ in range(1000)]
    cards = [card(rng) for _ in range(200)]
    values = skus + cards
    rng.shuffle(values)
    text = "ref,qty\n" + "".join(f"{value},{rng.randint(1, 9)}\n" for value in values)
    found = {value for value, _ in card_detections(DEFAULT, text)}
    assert set(cards) <= found  # with the ~100 SKUs passing Luhn by chance: the file is no id list


def test_among_skus_grouped_cards_and_cards_by_a_keyword_keep_their_confidence() -> None:
    rng = random.Random(4)
    keyword_cards = [card(rng) for _ in range(3)]
    grouped = [" ".join(number[i : i + 4] for i in range(0, 16, 4)) for number in (card(rng) for _ in range(10))]
    grouped = [g for g in grouped if len(g) == 19][:2]  # 16-digit ones, grouped 4-4-4-4
    bare = [c for c in (card(rng) for _ in range(10)) if len(c) == 16][:3]
    rows = [f"{sku(rng)},," for _ in range(1000)]
    for position, number in zip((100, 400, 800), keyword_cards, strict=True):
        rows[position] = f"{sku(rng)},paid by card {number},"
    for position, number in zip((200, 600), grouped, strict=True):
        rows[position] = f"{sku(rng)},,{number}"
    for position, number in zip((300, 500, 700), bare, strict=True):
        rows[position] = f"{number},,"
    text = "sku,note,ref\n" + "\n".join(rows) + "\n"
    counted = card_detections(DEFAULT, text)
    assert sorted(counted) == sorted(
        [(n, Confidence.HIGH) for n in keyword_cards] + [(g, Confidence.MEDIUM) for g in grouped]
    )
    assert cards_in(DEFAULT, text) == 5
    # Three bare cards among a thousand ids cannot be told from the ~100 chance passes: Low, shown.
    assert {(n, Confidence.LOW) for n in bare} <= set(card_detections(LOW, text))


def test_each_digit_count_is_its_own_population() -> None:
    """A thousand 13-digit barcodes (EAN-13 from 400-440 is Germany's range) beside a 16-digit
    card list: the barcodes are at chance, the cards not, and the cards keep counting."""
    rng = random.Random(5)
    barcodes = [f"40{rng.randrange(10**11):011d}" for _ in range(1000)]
    cards = [c for c in (card(rng) for _ in range(80)) if len(c) == 16][:50]
    text = "".join(f"{b},{cards[i // 20] if i % 20 == 0 else ''}\n" for i, b in enumerate(barcodes))
    assert sorted(value for value, _ in card_detections(DEFAULT, text)) == sorted(cards)


def _fed(engine: DlpEngine, text: str, chunk: int) -> MatchResult:
    matcher = engine.matcher()
    for offset in range(0, len(text), chunk):
        matcher.feed(text[offset : offset + chunk])
    return matcher.result()


def _mixed(seed: int) -> str:
    rng = random.Random(seed)
    lines = [f"{sku(rng)},{rng.randint(1, 9)}" for _ in range(1500)]
    # Real cards only in the last third: the decision needs the windows read before them.
    for index in range(1000, 1500, 4):
        lines[index] = f"{card(rng)},1"
    for index in range(5, 1500, 250):
        lines[index] = f"card {card(rng)}"
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("engine", [DEFAULT, LOW], ids=["medium", "low"])
@pytest.mark.parametrize("make", [lambda: sku_csv(seed=6), lambda: _mixed(7), lambda: _mixed(8)[:20_000]],
                         ids=["skus", "mixed", "mixed-head"])
def test_chunked_matching_decides_as_match(
    engine: DlpEngine, make: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert callable(make)
    text: str = make()
    monkeypatch.setattr(StreamMatcher, "WINDOW", 2048)  # many windows: the census spans them all
    whole = engine.match(text)
    assert _fed(engine, text, 997) == whole
    assert _fed(engine, text, 1 << 20) == whole
    counts = Counter((d.profile, d.entry) for d in engine.detections(text))
    assert counts == Counter({(m.profile, m.entry): m.count for m in whole.entry_matches})


def test_chance_bound() -> None:
    assert population_at_chance(100, 900)  # a thousand ids
    assert population_at_chance(0, 20)
    assert not population_at_chance(150, 900)  # ids and at least 50 real cards
    assert not population_at_chance(0, 19)  # too few failures to judge
    assert not population_at_chance(200, 5)  # a card list with typos


def test_samples_and_hashes_keep_text_order_across_bare_and_grouped_cards() -> None:
    """Bare cards are tallied apart until the file is read; when they stay counted, the samples
    and hashes are still the first ones in the text, as one list would keep them."""
    rng = random.Random(9)
    visas = [c for c in (card(rng) for _ in range(200)) if c[0] == "4" and len(c) == 16][:8]
    shown = [n if i % 2 else " ".join(n[j : j + 4] for j in range(0, 16, 4)) for i, n in enumerate(visas)]
    text = "".join(f"row {i}: {value}\n" for i, value in enumerate(shown))
    (visa,) = [m for m in DEFAULT.match(text).entry_matches if m.entry == "Visa Card Number"]
    masks = [DEFAULT.redact(value) for value in shown]
    assert visa.count == 8
    assert list(visa.masked_samples) == masks[:3]
    assert len(visa.value_hashes) == 8
    assert _fed(DEFAULT, text, 7) == DEFAULT.match(text)
