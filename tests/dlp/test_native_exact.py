"""The exact step in C (module _exactnative) gives exactly the candidates of the Python step."""

from __future__ import annotations

import dataclasses
import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quality.generator import generate_corpus

from openai_casb.dlp.detectors import PREDEFINED_DETECTORS
from openai_casb.dlp.engine import DlpEngine, _Candidate, _Census
from openai_casb.dlp.engine_native import NATIVE_EXACT_AVAILABLE, NativeExact
from openai_casb.dlp.keywords import keyword_pattern
from openai_casb.dlp.settings import DlpSettings

needs_native = pytest.mark.skipif(not NATIVE_EXACT_AVAILABLE, reason="the native exact step is not built")
SALT = "native-exact-salt"


def engine(exact: str, **settings: object) -> DlpEngine:
    return DlpEngine.from_settings(DlpSettings(salt=SALT, **settings), exact=exact)  # type: ignore[arg-type]


def candidates(dlp: DlpEngine, text: str) -> tuple[list[_Candidate], _Census]:
    census: _Census = {}
    found = dlp._candidates(text, census)
    return sorted(found), census


def test_the_native_exact_step_is_built_wherever_the_pcre2_headers_are() -> None:
    # CI installs libpcre2-dev: a build that silently fell back would leave the C step untested.
    if not os.path.exists("/usr/include/pcre2.h"):
        pytest.skip("no PCRE2 headers on this machine")
    assert NATIVE_EXACT_AVAILABLE
    assert engine("auto").exact == "native"


@needs_native
def test_every_predefined_detector_runs_in_c() -> None:
    native = engine("native")._native
    assert native is not None
    assert all(native.covers(index) for index in range(len(PREDEFINED_DETECTORS)))


PYTHON = engine("python")
NATIVE = engine("native") if NATIVE_EXACT_AVAILABLE else None


@needs_native
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_candidates_census_and_results_on_the_labelled_corpus(seed: int) -> None:
    assert NATIVE is not None
    text, _ = generate_corpus(seed=seed, per_entry=25, negatives_per_kind=12, spacing=120)
    assert text.isascii()
    assert candidates(NATIVE, text) == candidates(PYTHON, text)
    assert NATIVE.detections(text) == PYTHON.detections(text)
    assert NATIVE.match(text) == PYTHON.match(text)


@needs_native
def test_same_results_with_every_confidence_and_a_threshold_of_low() -> None:
    # At confidence Low every judged and demoted value counts: the ranks must agree too.
    low = {"profiles": {name: {"confidence": "Low"} for name in (
        "Financial Information", "Social Security, Insurance, Tax and Identifier Numbers", "Credentials and Secrets")}}
    python, native = engine("python", **low), engine("native", **low)
    text, _ = generate_corpus(seed=9, per_entry=20, negatives_per_kind=20, spacing=80)
    assert candidates(native, text) == candidates(python, text)
    assert native.match(text) == python.match(text)


PIECES = [
    "0", "7", "4716", "4111 1111 1111 1111", "4111-1111-1111-1111", "5123-4111 1111 1111 1111", "2810 3355",
    "-", ".", " ", "  ", "\n", "\t", "\x1c", "x", "AB", "+", "GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432",
    "AKIAZ7Q4M2XK5P3R6T2W", "Vq3nP8xZk2LmR7tYw9Bc4Hd6Jf1Ns5Gu0Ea/Xo+K", "aws_secret_access_key = ", "secret_key=",
    "ghp_", "sk-proj-", "T3BlbkFJ", "eyJhbGciOiJIUzI1NiJ9.", "eyJzdWIiOiIxIn0.", "abc",
    "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA" * 5,
    "536-22-1234", "078-05-1120", "943 21 0123",
    "card number: ", "ssn ", "routing ", "IBAN", "123456789", "0.4702573977223816", "9434765919", "AB123456C",
    "12345678Z", "046 454 286", "xoxb-", "1234567890123-", "https://hooks.slack.com/services/T0ABCDEFG/B0ABCDEFG/",
    "ABCDEFGHIJKLMNOPQRSTUVWX", "AIza", "SyA-1234567890abcdefghijklmnopqrstuv",
]


@needs_native
@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=0, max_size=60))
def test_same_candidates_on_any_text(pieces: list[str]) -> None:
    assert NATIVE is not None
    text = "".join(pieces)
    assert candidates(NATIVE, text) == candidates(PYTHON, text)


@needs_native
def test_same_candidates_on_random_ascii_noise() -> None:
    assert NATIVE is not None
    rng = random.Random(11)
    alphabet = "0123456789" * 4 + " -.+\n\t=:/_" + "ABCDEFGHKLMNPRSTXYZabcdefxyz"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 600)))
        assert candidates(NATIVE, text) == candidates(PYTHON, text), text


def test_text_that_is_not_ascii_takes_the_python_step(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object) -> None:
        raise AssertionError("the C step got non-ASCII text")

    monkeypatch.setattr(NativeExact, "match", refuse)
    dlp = engine("auto")
    found = dlp.match("café 4539 1488 0343 6467 card")
    assert [m.entry for m in found.entry_matches] == ["Visa Card Number"]


@needs_native
def test_when_pcre2_gives_up_the_python_step_runs_instead_and_nothing_is_counted_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text, _ = generate_corpus(seed=4, per_entry=5, negatives_per_kind=2, spacing=200)
    original = NativeExact.match

    def give_up(self: NativeExact, index: int, text: str, spans: list[tuple[int, int]], found: list[_Candidate],
                census: _Census) -> None:
        original(self, index, text, spans, found, census)
        raise RuntimeError("the native exact step gave up on a text: match limit exceeded")

    monkeypatch.setattr(NativeExact, "match", give_up)
    assert engine("native").match(text) == PYTHON.match(text)


@needs_native
def test_a_huge_pem_body_and_digit_runs_are_matched_as_in_python() -> None:
    assert NATIVE is not None
    body = "\n".join("MIIEowIBAAKCAQEA" + "QWxhZGRpbjpvcGVuIHNlc2FtZQ" * 2 for _ in range(300))
    text = f"x -----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY----- y " + "1234 " * 20_000
    assert candidates(NATIVE, text) == candidates(PYTHON, text)


def test_asking_for_the_native_step_where_it_is_not_built_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from openai_casb.dlp import engine_native

    monkeypatch.setattr(engine_native, "NATIVE_EXACT_AVAILABLE", False)
    with pytest.raises(RuntimeError, match="libpcre2-dev"):
        engine("native")
    assert engine("auto").exact == "python"


KEYWORD_PIECES = [" ", "_", "-", ".", "\n", "x", "1", "card", "Card", "CARD", "number", "card number", "card_number",
                  "SIN", "sin", "PAN", "ssn", "routing", "aws", "nhs no", "numero d'assurance sociale", "é"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(KEYWORD_PIECES), max_size=12), st.sampled_from(
    [d.keywords for d in PREDEFINED_DETECTORS if d.keywords]))
def test_the_c_steps_keyword_form_finds_the_same_words_as_re2s(pieces: list[str], keywords: tuple[str, ...]) -> None:
    # RE2 consumes the edges, PCRE2 (like Python's re) looks around them: whole words either way.
    import re

    import re2

    text = "".join(pieces)
    edged = re2.compile(keyword_pattern(keywords))
    around = re.compile(keyword_pattern(keywords, lookaround=True))
    assert (edged.search(text) is not None) == (around.search(text) is not None), text


@needs_native
def test_a_thread_entering_the_c_step_while_it_waits_on_a_python_judge_is_refused_not_mixed_in() -> None:
    # A Python validator or judge may let another thread run; the C step's scratch is then in
    # use, so a second entry is refused (the engine runs the Python step for it instead).
    from openai_casb.dlp.engine import KEYWORD_WINDOW, _exact_pattern

    jwt = next(d for d in PREDEFINED_DETECTORS if d.key == "jwt")
    text = "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlX2J5X2tleQ here"
    entered: list[bool] = []

    def judge(judged_text: str, _start: int, _end: int) -> None:
        with pytest.raises(RuntimeError, match="busy in another thread"):
            native.match(0, judged_text, [(0, len(judged_text))], [], {})
        entered.append(True)

    detectors = (dataclasses.replace(jwt, judge=judge),)
    native = NativeExact(detectors, [_exact_pattern(jwt)], [None], {(jwt.profile, e) for e in jwt.entries},
                         {jwt.profile: 0}, KEYWORD_WINDOW)
    found: list[_Candidate] = []
    native.match(0, text, [(0, len(text))], found, {})
    assert entered == [True]
    assert [(text[c[0]:c[1]].startswith("eyJ"), c[3]) for c in found] == [(True, "JSON Web Token")]
    native.match(0, text, [(0, len(text))], found, {})  # free again once the first call returned
    assert len(found) == 2
