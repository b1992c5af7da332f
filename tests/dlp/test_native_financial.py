"""The C twins of the financial and identifier validators (_native_financial.c) answer exactly as
the Python ones: classify, the judges (card_form, aadhaar_form) and the card population check,
over the labelled corpus's values, every pattern match in it and in a dense number corpus, valid
values built from the data tables (every IBAN country, every test card) and seeded mutations."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterator

import pytest
from quality.generator import generate_corpus

from openai_casb.dlp import validators as v
from openai_casb.dlp.detectors import financial, identifiers
from openai_casb.dlp.detectors.base import Detector

native = pytest.importorskip("openai_casb.dlp._exactnative")

DETECTORS: dict[str, Detector] = {d.key: d for d in (*financial.DETECTORS, *identifiers.DETECTORS)}
FORMS = {None: 0, "reject": 1, "weak": 2, "sample": 3}
SEPARATORS = " -.+/:"
NOISE = string.ascii_letters + string.digits + string.punctuation + " \t\n\x00\x7f"


@pytest.fixture(scope="module", autouse=True)
def configured() -> None:
    try:
        from openai_casb.dlp.engine_native import configure_native  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        native.configure(v.native_tables())
    else:
        configure_native()


def parts() -> dict[str, tuple[bool, bool, bool]]:
    return {key: part for key, part in native.parts().items() if key in DETECTORS}


# --- values ---------------------------------------------------------------------------------------


def _iban(rng: random.Random, country: str, layout: str) -> str:
    """A printed or electronic IBAN with valid check digits; one in five breaks its layout's classes."""
    classes = {"n": string.digits, "a": string.ascii_uppercase, "c": string.digits + string.ascii_uppercase}
    any_class = rng.random() < 0.2
    bban = ""
    for width, kind in re.findall(r"(\d+)([nac])", layout):
        alphabet = classes["c" if any_class else kind]
        bban += "".join(rng.choice(alphabet) for _ in range(int(width)))
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    iban = f"{country}{98 - int(numeric) % 97:02d}{bban}"
    roll = rng.random()
    if roll < 0.4:
        return iban
    if roll < 0.8:
        return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    groups, position = [], 0  # irregular groups: a 3 or 5 inside, or a last group of 5 or 6
    while position < len(iban):
        size = rng.choice((4, 4, 4, 4, 3, 5, 6))
        groups.append(iban[position : position + size])
        position += size
    return " ".join(groups)


def _luhn_complete(prefix: str) -> str:
    return next(prefix + d for d in string.digits if v.luhn_ok(prefix + d))


def _card(rng: random.Random) -> str:
    """A number at a brand's range and length, Luhn-valid most of the time, grouped some of the time."""
    _, ranges, lengths = rng.choice(v._CARD_BRANDS)
    low, high, width = rng.choice(ranges)
    length = rng.choice(sorted(lengths))
    prefix = str(rng.randint(low, high)).zfill(width)
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - width - 1))
    number = _luhn_complete(body) if rng.random() < 0.8 else body + rng.choice(string.digits)
    groupings = sorted(v._CARD_GROUPINGS.get(length, ()))
    if groupings and rng.random() < 0.5:
        parts, position = [], 0
        for size in rng.choice(groupings):
            parts.append(number[position : position + size])
            position += size
        return rng.choice(" -").join(parts)
    return number


def _dense(rng: random.Random, size: int) -> str:
    """Numbers of every identifier's shape, separated every way, in one text."""
    pieces = []
    for _ in range(size):
        groups = [rng.randint(1, 8) for _ in range(rng.randint(1, 5))]
        separator = rng.choice(" -.+" if rng.random() < 0.8 else SEPARATORS)
        first = rng.choice(("", "", "", "X", "Y", "Z", "AB", "DE", "GB"))
        token = first + separator.join("".join(rng.choice(string.digits) for _ in range(g)) for g in groups)
        if rng.random() < 0.3:
            token += rng.choice(string.ascii_uppercase)
        pieces.append(token)
        pieces.append(rng.choice((" ", "\n", ", ", " / ", ":", "/", "=")))
    return "".join(pieces)


def _mutations(rng: random.Random, value: str, count: int) -> Iterator[str]:
    for _ in range(count):
        chars = list(value)
        for _ in range(rng.randint(1, 2)):
            roll = rng.randrange(7)
            i = rng.randrange(len(chars) + 1)
            if roll == 0 and chars:  # digit flip
                j = rng.randrange(len(chars))
                chars[j] = rng.choice(string.digits) if chars[j].isdigit() else chars[j]
            elif roll == 1:  # separator change, insertion or removal
                seps = [j for j, ch in enumerate(chars) if not ch.isalnum()]
                if seps and rng.random() < 0.5:
                    j = rng.choice(seps)
                    if rng.random() < 0.5:
                        chars[j] = rng.choice(SEPARATORS)
                    else:
                        del chars[j]
                else:
                    chars.insert(i, rng.choice(SEPARATORS))
            elif roll == 2:  # truncation
                cut = rng.randrange(len(chars) + 1)
                chars = chars[:cut] if rng.random() < 0.5 else chars[cut:]
            elif roll == 3:  # case flip
                chars = [ch.swapcase() if rng.random() < 0.5 else ch for ch in chars]
            elif roll == 4:  # inserted character
                chars.insert(i, rng.choice(NOISE))
            elif roll == 5 and chars:  # duplicated character
                j = rng.randrange(len(chars))
                chars.insert(j, chars[j])
            elif chars:  # letter or digit swapped for another class
                j = rng.randrange(len(chars))
                chars[j] = rng.choice(string.ascii_uppercase + string.digits)
        yield "".join(chars)


def _texts() -> list[str]:
    text, _ = generate_corpus(seed=11, per_entry=40, negatives_per_kind=20, spacing=200)
    return [text, _dense(random.Random(5), 6000)]


TEXTS = _texts()
LABELLED = sorted({TEXTS[0][label.start : label.end] for label in generate_corpus(seed=11, per_entry=40,
                   negatives_per_kind=20, spacing=200)[1]})


def _matched(detector: Detector) -> list[tuple[str, int, int]]:
    """Every match of the detector's pattern with its place, and its trimmed forms as the engine tries them."""
    found = []
    for text in TEXTS:
        for match in re.finditer(detector.pattern, text):
            start, end = match.span()
            found.append((text, start, end))
            while detector.trim and end > start:
                end -= 1
                while end > start and text[end] not in detector.trim:
                    end -= 1
                if end > start:
                    found.append((text, start, end))
    return found


def _built(key: str, rng: random.Random) -> list[str]:
    """Valid values made from the validators' own data, so every accepting path is taken."""
    if key == "card":
        return [_card(rng) for _ in range(3000)] + sorted(v._TEST_CARDS)
    if key == "iban":
        return [_iban(rng, country, layout) for country, layout in sorted(v.IBAN_LAYOUTS.items()) for _ in range(20)]
    if key == "us_ssn":
        return sorted(v._SSN_SAMPLES)
    if key == "uk_nino":
        return [a + b + " 12 34 56 " + c for a in string.ascii_uppercase for b in string.ascii_uppercase for c in "AE"]
    if key in ("in_aadhaar", "au_tfn", "nl_bsn", "uk_nhs", "ca_sin", "aba", "us_itin", "pl_pesel", "br_cpf"):
        size = {"in_aadhaar": 12, "uk_nhs": 10, "pl_pesel": 11, "br_cpf": 11}.get(key, 9)
        return ["".join(rng.choice(string.digits) for _ in range(size)) for _ in range(4000)]
    if key == "es_dni":
        return [rng.choice("0123456789XYZ") + "".join(rng.choice(string.digits) for _ in range(7)) + letter
                for letter in v._DNI_LETTERS for _ in range(40)]
    if key == "se_personnummer":
        return ["".join(rng.choice(string.digits) for _ in range(rng.choice((10, 12)))) for _ in range(4000)]
    return []


def values(key: str) -> list[str]:
    rng = random.Random(f"native-financial-{key}")
    one_digit = [d * size for d in string.digits for size in range(8, 21)]
    seeds = LABELLED + [text[start:end] for text, start, end in _matched(DETECTORS[key])] + _built(key, rng) + one_digit
    mutated = [m for seed in seeds[::3] for m in _mutations(rng, seed, 3)]
    noise = ["".join(rng.choice(NOISE) for _ in range(rng.randint(0, 26))) for _ in range(500)]
    return list(dict.fromkeys([*seeds, *mutated, *noise, ""]))


# --- the twins --------------------------------------------------------------------------------------


def python_index(detector: Detector, value: str) -> int:
    entry = detector.classify(value)
    return -1 if entry is None else detector.entries.index(entry)


def test_every_detector_of_the_family_has_a_native_classify() -> None:
    assert set(parts()) == set(DETECTORS)
    assert all(part[0] for part in parts().values())
    assert parts()["card"] == (True, True, True)
    assert parts()["in_aadhaar"][1]


@pytest.mark.parametrize("key", sorted(DETECTORS))
def test_classify_answers_as_python(key: str) -> None:
    detector = DETECTORS[key]
    accepted = refused = 0
    checked = values(key)
    assert len(checked) > 2000
    for value in checked:
        expected = python_index(detector, value)
        assert native.classify(key, value) == expected, (key, value)
        accepted += expected >= 0
        refused += expected < 0
    assert accepted >= 20, accepted
    assert refused >= 20, refused


def test_card_entries_follow_the_brand_order() -> None:
    seen = {native.classify("card", value) for value in values("card")}
    assert seen == {-1, *range(len(v.CARD_ENTRIES))}


def test_card_population_check_answers_as_python() -> None:
    check = financial.POPULATION_CHECKS["card"]
    rng = random.Random(3)
    checked = values("card") + [_card(rng).replace(" ", "").replace("-", "") for _ in range(3000)]
    answers = [check(value) for value in checked]
    assert any(answers)
    assert not all(answers)
    for value, expected in zip(checked, answers, strict=True):
        assert native.refused("card", value) == expected, value


def _spans(key: str, rng: random.Random) -> Iterator[tuple[str, int, int]]:
    """Matches in place, and values put where the judges look: after `/`, between colons, at the edges."""
    yield from _matched(DETECTORS[key])
    for value in values(key)[::2]:
        before = rng.choice(("", "/", ":", "x/", "a:", " ", "=", "//"))
        after = rng.choice(("", "?", "#", ":", ":x", "/", ")", ",", ";", "'", '"', ">", "\n", "\t", "\r", " ", "x"))
        yield before + value + after, len(before), len(before) + len(value)


@pytest.mark.parametrize("key", ["card", "in_aadhaar"])
def test_judge_answers_as_python(key: str) -> None:
    judge = DETECTORS[key].judge
    assert judge is not None
    rng = random.Random(f"judge-{key}")
    seen = set()
    for text, start, end in _spans(key, rng):
        expected = FORMS[judge(text, start, end)]
        assert native.judge(key, text, start, end) == expected, (key, text, start, end)
        seen.add(expected)
    assert len(seen) >= 3, seen


def test_configure_refuses_bad_tables() -> None:
    tables = v.native_tables()
    for key, bad in (("financial.card_brands", "visa"), ("financial.iban_layouts", {"DE": "8x"}),
                     ("financial.verhoeff_d", ((0,) * 10,) * 9), ("financial.dni_letters", "TRW"),
                     ("financial.card_brands", ((99, ((4, 4, 1),), (16,)),)), ("financial.aba_prefixes", (100,))):
        with pytest.raises((TypeError, ValueError)):
            native.configure({**tables, key: bad})
    with pytest.raises(KeyError):
        native.configure({k: t for k, t in tables.items() if k != "financial.test_cards"})
    # a refused configure keeps the tables in use
    assert native.classify("card", "4111111111111111") == v.CARD_ENTRIES.index("Visa Card Number")
