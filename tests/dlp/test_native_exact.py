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

    detectors = (dataclasses.replace(jwt, key="jwt_in_python", judge=judge),)  # no C twin: the Python judge runs
    native = NativeExact(detectors, [_exact_pattern(jwt)], [None], {(jwt.profile, e) for e in jwt.entries},
                         {jwt.profile: 0}, KEYWORD_WINDOW)
    found: list[_Candidate] = []
    native.match(0, text, [(0, len(text))], found, {})
    assert entered == [True]
    assert [(text[c[0]:c[1]].startswith("eyJ"), c[3]) for c in found] == [(True, "JSON Web Token")]
    native.match(0, text, [(0, len(text))], found, {})  # free again once the first call returned
    assert len(found) == 2


# --- review: adversarial differential tests, the real PCRE2 give-up, hostile calls ----------------
# Each detector is run alone over arbitrary span lists (empty spans, spans at the text's edges, one
# span or several, out of order), not only the batches the segment search makes: the C step and
# _match_detector must agree on any batch.

from quality.generator import NEGATIVES, POSITIVES  # noqa: E402

from openai_casb.dlp.detectors.pieces import Batch  # noqa: E402
from openai_casb.dlp.detectors.search import encode  # noqa: E402

LOW_EVERYWHERE = {"profiles": {name: {"confidence": "Low"} for name in (
    "Financial Information", "Social Security, Insurance, Tax and Identifier Numbers", "Credentials and Secrets")}}
PYTHON_LOW = engine("python", **LOW_EVERYWHERE)
NATIVE_LOW = engine("native", **LOW_EVERYWHERE) if NATIVE_EXACT_AVAILABLE else None
PLANTS = [*POSITIVES, *NEGATIVES]
GLUE = ["", "", " ", "-", ".", "+", "\n", "\r\n", ":", "=", "/", "_", "\t", ". ", "0.", ".5", "1", "99", "x", "A", "==",
        '"', "'", "\x0b", "\x1c"]
KEYWORDS = sorted({k for d in PREDEFINED_DETECTORS for k in d.keywords if k.isascii()})


def each_detector(dlp: DlpEngine, text: str, spans: list[tuple[int, int]], native: bool) -> list[object]:
    results: list[object] = []
    for index in range(len(dlp._detectors)):
        found: list[_Candidate] = []
        census: _Census = {}
        if native:
            assert dlp._native is not None
            dlp._native.match(index, text, spans, found, census)
        else:
            dlp._match_detector(text, encode(text), index, Batch(text, spans), found, census)
        results.append((dlp._detectors[index].key, found, census))
    return results


@st.composite
def planted_value(draw: st.DrawFn) -> str:
    """A valid value or hard negative, sometimes cut or with a character put inside."""
    value = draw(st.sampled_from(PLANTS)).make(random.Random(draw(st.integers(0, 2**32))))
    if draw(st.booleans()) and value:
        cut = draw(st.integers(0, len(value)))
        value = value[:cut] + draw(st.sampled_from(GLUE)) + value[cut + draw(st.integers(0, 1)):]
    return value


adversarial_text = st.lists(st.one_of(
    planted_value(), planted_value(),
    st.sampled_from(GLUE),
    st.sampled_from(KEYWORDS),
    st.text(alphabet="0123456789 -.+\n", min_size=1, max_size=24),
    st.text(alphabet="0123456789ABCXYZabcxyz/+=_-.", min_size=1, max_size=48),
), max_size=14).map("".join)


@st.composite
def text_and_spans(draw: st.DrawFn) -> tuple[str, list[tuple[int, int]]]:
    text = draw(adversarial_text)
    n = len(text)
    bound = st.integers(0, n)
    span = bound.flatmap(lambda a: st.tuples(st.just(a), st.integers(a, n)))
    spans = draw(st.one_of(
        st.just([(0, n)]),
        st.lists(span, min_size=1, max_size=6),
        st.lists(span, min_size=1, max_size=6).map(sorted),
        st.just([(0, 0), (0, n), (n, n)]),
    ))
    return text, spans


@needs_native
@settings(max_examples=600, deadline=None)
@given(text_and_spans())
def test_each_detector_gives_the_same_candidates_on_any_batch_of_adversarial_text(
    case: tuple[str, list[tuple[int, int]]],
) -> None:
    text, spans = case
    assert each_detector(NATIVE_LOW, text, spans, native=True) == each_detector(PYTHON_LOW, text, spans, native=False)


@needs_native
@settings(max_examples=400, deadline=None)
@given(adversarial_text)
def test_the_engine_gives_the_same_candidates_and_census_on_adversarial_text(text: str) -> None:
    assert NATIVE_LOW is not None
    assert candidates(NATIVE_LOW, text) == candidates(PYTHON_LOW, text)


@needs_native
def test_every_batch_of_every_tiny_text_is_matched_as_in_python() -> None:
    # Texts of length 0 to 2, every span and pair of spans: edges, empty spans, joints.
    alphabet = "0 9A-.\n+"
    texts = ["", *alphabet, *(a + b for a in alphabet for b in alphabet)]
    for text in texts:
        n = len(text)
        every = [(a, b) for a in range(n + 1) for b in range(a, n + 1)]
        for spans in [[s] for s in every] + [[s, t] for s in every for t in every]:
            assert each_detector(NATIVE_LOW, text, spans, True) == each_detector(PYTHON_LOW, text, spans, False)


@needs_native
def test_values_at_the_texts_edges_and_at_batch_joints_are_matched_as_in_python() -> None:
    rng = random.Random(5)
    for plant in PLANTS:
        value = plant.make(rng)
        for text in (value, value + "\n", "\n" + value, "x" + value, value[:-1], value + value, f"{value} {value}"):
            n = len(text)
            for spans in ([(0, n)], [(0, n - 1)], [(1, n)], [(0, n // 2), (n // 2, n)], [(n // 3, n), (0, n // 3)],
                          [(n, n)], [(0, n)] * 3):
                assert each_detector(NATIVE_LOW, text, spans, True) == each_detector(PYTHON_LOW, text, spans, False)


def _heavy_jwt_engine(exact: str) -> DlpEngine:
    """The built-in detectors, the JWT one with a pattern PCRE2's JIT gives up on over a long token
    (each repeat of a group with alternatives keeps a backtracking frame) and Python's re does not."""
    from openai_casb.dlp.profiles import resolve_predefined

    detectors = tuple(
        dataclasses.replace(d, scan_pattern=d.fast_pattern, pattern=r"eyJ(?:[A-Za-z0-9_]|-){5,}\.")
        if d.key == "jwt" else d for d in PREDEFINED_DETECTORS
    )
    settings_ = DlpSettings(salt=SALT)
    return DlpEngine(resolve_predefined(settings_), detectors, (), SALT, exact=exact)  # type: ignore[arg-type]


@needs_native
def test_when_pcre2_really_gives_up_the_engine_gives_the_python_result(monkeypatch: pytest.MonkeyPatch) -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlX2J5X2tleQ"
    text = f"token eyJ{'A' * 200_000}. then {jwt} and card 4539 1488 0343 6467 and ssn 536-22-1234\n"
    gave_up: list[str] = []
    original = NativeExact.match

    def spy(self: NativeExact, index: int, text: str, spans: list[tuple[int, int]], found: list[_Candidate],
            census: _Census) -> None:
        try:
            original(self, index, text, spans, found, census)
        except RuntimeError as error:
            gave_up.append(str(error))
            raise

    monkeypatch.setattr(NativeExact, "match", spy)
    native, python = _heavy_jwt_engine("native"), _heavy_jwt_engine("python")
    assert candidates(native, text) == candidates(python, text)
    assert gave_up
    assert all("JIT stack limit" in message for message in gave_up)
    found = native.detections(text)
    assert found == python.detections(text)
    assert {d.entry for d in found} >= {"JSON Web Token", "Visa Card Number", "US Social Security Number"}


@needs_native
def test_a_spans_list_changed_while_it_is_read_is_refused_not_read_past_its_end() -> None:
    # Reading a bound may run Python code (__index__); it used to read freed list slots (a crash).
    assert NATIVE is not None
    assert NATIVE._native is not None
    spans: list[tuple[object, int]] = []

    class Shrinking:
        def __index__(self) -> int:
            spans.clear()
            return 0

    spans.extend([(Shrinking(), 0), *[(0, 1)] * 1000])
    with pytest.raises(RuntimeError, match="spans list changed"):
        NATIVE._native.match(0, "1" * 10, spans, [], {})  # type: ignore[arg-type]


@needs_native
def test_a_value_group_the_pattern_lacks_and_a_failed_construction_are_refused() -> None:
    from openai_casb.dlp.engine_native import configure_native

    module = configure_native()

    def spec(pattern: bytes, group: int) -> tuple[object, ...]:
        return ("card", ("Visa",), (True,), pattern, group, None, 10, b"", True, None, 0, 0, lambda _v: "Visa", None,
                None, False)

    # The ovector holds the pattern's groups only: group 5 of `[0-9]+` used to be read past its end.
    with pytest.raises(ValueError, match="value group"):
        module.Exact([spec(b"[0-9]+", 5)], 200)
    half = module.Exact.__new__(module.Exact)
    with pytest.raises(ValueError, match="PCRE2 refused"):
        half.__init__([spec(b"(", 0)], 200)
    with pytest.raises(ValueError, match="not constructed"):
        half.match(0, 0, "4111 1111 1111 1111", [(0, 19)], [], {})
    with pytest.raises(ValueError, match="built once"):
        half.__init__([spec(b"[0-9]+", 0)], 200)


@needs_native
def test_a_raising_python_validator_propagates_and_nothing_leaks() -> None:
    import gc
    import sys

    from openai_casb.dlp.engine import KEYWORD_WINDOW, _exact_pattern

    jwt = next(d for d in PREDEFINED_DETECTORS if d.key == "jwt")
    text = "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlX2J5X2tleQ here " * 3

    def judge(_text: str, _start: int, _end: int) -> None:
        raise KeyError("judge")

    def classify(_value: str) -> str:
        return "no such entry"

    def refused(_value: str) -> bool:
        raise ZeroDivisionError

    card = next(d for d in PREDEFINED_DETECTORS if d.key == "card")
    cases = [
        # Keys without a C twin: the Python functions are the ones called.
        (dataclasses.replace(jwt, key="jwt_in_python", judge=judge), None, KeyError),
        (dataclasses.replace(jwt, key="jwt_in_python", classify=classify), None, ValueError),
        (dataclasses.replace(card, key="card_in_python"), refused, ZeroDivisionError),
    ]
    card_text = "4539 1488 0343 6468 ref\n" * 3  # fails Luhn: the population check runs
    for detector, check, error in cases:
        native = NativeExact((detector,), [_exact_pattern(detector)], [check],
                             {(detector.profile, e) for e in detector.entries}, {detector.profile: 0}, KEYWORD_WINDOW)
        subject = card_text if check is not None else text
        found: list[_Candidate] = []
        census: _Census = {}
        watched = (subject, found, census, detector.entries[0], detector.judge or detector.classify)
        gc.collect()
        before = [sys.getrefcount(o) for o in watched]
        for _round in range(200):
            with pytest.raises(error):
                native.match(0, subject, [(0, len(subject))], found, census)
        gc.collect()  # tracebacks and frames may hold the text in cycles until collected
        assert [sys.getrefcount(o) for o in watched] == before
    # And the good path: 200 runs leave every object it touched as it was, but the list it fills.
    assert NATIVE is not None
    assert NATIVE._native is not None
    corpus = generate_corpus(seed=2, per_entry=2, negatives_per_kind=1, spacing=40)[0]
    entries = [e for d in PREDEFINED_DETECTORS for e in d.entries]
    candidates(NATIVE, corpus)
    gc.collect()
    before = [sys.getrefcount(o) for o in (corpus, *entries)]
    for _round in range(200):
        candidates(NATIVE, corpus)
    gc.collect()
    assert [sys.getrefcount(o) for o in (corpus, *entries)] == before


@needs_native
def test_a_pattern_pcre2_reads_otherwise_than_python_runs_in_python() -> None:
    # Python's \s holds \x1c-\x1f, PCRE2's does not: a built-in pattern with \s used to miss in C.
    from openai_casb.dlp.profiles import resolve_predefined

    ssn = next(d for d in PREDEFINED_DETECTORS if d.key == "us_ssn")
    spaced = dataclasses.replace(
        ssn, segment="line", scan_pattern=ssn.fast_pattern, classify=lambda _v: ssn.entries[0],
        pattern=r"[0-8][0-9]{2}\s[0-9]{2}\s[0-9]{4}",
    )
    detectors = tuple(spaced if d.key == "us_ssn" else d for d in PREDEFINED_DETECTORS)
    text = "ssn 536\x1c22\x1c1234 and 536 22 1234\n"
    native, python = (
        DlpEngine(resolve_predefined(DlpSettings(salt=SALT)), detectors, (), SALT, exact=exact)  # type: ignore[arg-type]
        for exact in ("native", "python")
    )
    assert native._native is not None
    assert not native._native.covers(detectors.index(spaced))
    assert candidates(native, text) == candidates(python, text)
    assert [text[c[0]:c[1]] for c in candidates(native, text)[0]] == ["536\x1c22\x1c1234", "536 22 1234"]


def test_which_patterns_pcre2_reads_as_python() -> None:
    from openai_casb.dlp.engine import _exact_pattern
    from openai_casb.dlp.engine_native import pcre2_reads_as_python

    assert all(pcre2_reads_as_python(_exact_pattern(d)) for d in PREDEFINED_DETECTORS)
    assert all(pcre2_reads_as_python(d.extend or "") for d in PREDEFINED_DETECTORS)
    for same in (r"[\s\S]{1,300}?", r"(?i:secret)", r"(?ims)a$", r"[A-Za-z0-9_\-]{2,8000}\.", r"\d\w\b"):
        assert pcre2_reads_as_python(same), same
    for other in (r"a\sb", r"\S+", r"x\Z", r"\v", r"\u00e9", r"\N{EN DASH}", r"a{,3}", r"(?x)a b", r"(?a:\w)",
                  r"(?-x:a)", r"(?u)a"):
        assert not pcre2_reads_as_python(other), other


@needs_native
def test_dollar_and_newlines_read_as_in_python() -> None:
    # `$` is the end or before a final \n only, whatever newline the PCRE2 library was built with.
    import re

    from openai_casb.dlp.engine_native import configure_native

    spec = ("not_a_twin", ("Entry",), (True,), rb"[0-9]+$", 0, None, 10, b"", False, None, 0, 0,
            lambda _v: "Entry", None, None, False)
    exact = configure_native().Exact([spec], 200)
    for text in ("123\r", "123\n", "123\r\n", "123", "12\n34\n", "12\r34"):
        found: list[_Candidate] = []
        exact.match(0, 0, text, [(0, len(text))], found, {})
        assert [c[:2] for c in found] == [m.span() for m in re.finditer(r"[0-9]+$", text)], text


@needs_native
def test_an_exact_step_held_in_a_cycle_by_its_own_judge_is_collected() -> None:
    # The C object holds the Python validators; one holding the engine back used to leak the cycle.
    import gc
    import weakref

    from openai_casb.dlp.engine import KEYWORD_WINDOW, _exact_pattern

    jwt = next(d for d in PREDEFINED_DETECTORS if d.key == "jwt")

    def build() -> weakref.ref[NativeExact]:
        holder: list[NativeExact] = []

        def judge(_text: str, _start: int, _end: int) -> None:
            assert holder
            return None

        detector = dataclasses.replace(jwt, key="jwt_in_python", judge=judge)
        native = NativeExact((detector,), [_exact_pattern(detector)], [None],
                             {(detector.profile, e) for e in detector.entries}, {detector.profile: 0}, KEYWORD_WINDOW)
        text = "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlX2J5X2tleQ here"
        holder.append(native)
        found: list[_Candidate] = []
        native.match(0, text, [(0, len(text))], found, {})
        assert [c[3] for c in found] == ["JSON Web Token"]
        return weakref.ref(native)

    held = build()
    gc.collect()
    assert held() is None


@needs_native
def test_a_replaced_validator_or_judge_runs_not_the_c_twin_of_its_key() -> None:
    # C twins stand in for the built-in detector of their key only: a detector whose classify or
    # judge was replaced (as tests and tools do with dataclasses.replace) keeps its own.
    from openai_casb.dlp.engine import KEYWORD_WINDOW, _exact_pattern

    card = next(d for d in PREDEFINED_DETECTORS if d.key == "card")
    seen: list[str] = []

    def classify(value: str) -> str | None:
        seen.append(value)
        return None  # refuses every card the C twin would accept

    replaced = dataclasses.replace(card, classify=classify)
    text = "card 4539 1488 0343 6467 here"
    for detector, expected in ((replaced, 0), (card, 1)):
        native = NativeExact((detector,), [_exact_pattern(detector)], [None],
                             {(card.profile, e) for e in card.entries}, {card.profile: 0}, KEYWORD_WINDOW)
        found: list[_Candidate] = []
        native.match(0, text, [(0, len(text))], found, {})
        assert len(found) == expected
    assert seen[0] == "4539 1488 0343 6467"  # then its trimmed forms, all refused
