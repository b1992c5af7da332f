"""The C twins of the Credentials and Secrets validators and judges (_native_secrets.c) answer
exactly as the Python ones (secrets.SecretRule): classify and the example judge of every detector
built by `_secret`, over the labelled corpus's values, every pattern match in it and in a dense
secrets corpus, valid values, published examples, placeholders, variable parts at the entropy
threshold and seeded mutations of all of these; and those of pem_private_key (classify) and jwt
(classify and judge), whose JSON headers outside the subset read in C are left to Python."""

from __future__ import annotations

import base64
import functools
import random
import re
import string
import zlib
from collections.abc import Callable, Iterable, Iterator

import pytest
from quality import values as val
from quality.generator import generate_corpus

from openai_casb.dlp import validators as v
from openai_casb.dlp.detectors import examples, secrets
from openai_casb.dlp.detectors.base import Detector

native = pytest.importorskip("openai_casb.dlp._exactnative")

DETECTORS: dict[str, Detector] = {d.key: d for d in secrets.DETECTORS}
CONTEXT_JUDGES = {"aws_secret_keyed", "aws_secret_near_id"}  # they read the text around the value
FORMS = {None: 0, "reject": 1, "weak": 2, "sample": 3}
NOISE = string.ascii_letters + string.digits + string.punctuation + " \t\n\r\x00\x7f"
SEPARATORS = "-_/;=.:+ "
MARKERS = ("EXAMPLE", "T3BlbkFJ", "your", "here", "YOUR", "HeRe", "==", "=", "AccountKey=", ";", "\n", "-", "/")


def all_tables() -> dict[str, object]:
    """Every family's tables, as the lead's engine_native merges them (configure() wants all)."""
    from openai_casb.dlp.detectors import financial, identifiers

    tables: dict[str, object] = {}
    for module in (v, financial, identifiers, secrets):
        tables.update(getattr(module, "native_tables", dict)())
    return tables


@pytest.fixture(scope="module", autouse=True)
def configured() -> None:
    try:
        from openai_casb.dlp.engine_native import configure_native  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        native.configure(all_tables())
    else:
        configure_native()


# --- the twins ------------------------------------------------------------------------------------


def py_classify(key: str, value: str) -> int:
    detector = DETECTORS[key]
    entry = detector.classify(value)
    return -1 if entry is None else detector.entries.index(entry)


def py_judge(key: str, text: str, start: int, end: int) -> int:
    judge = DETECTORS[key].judge
    assert judge is not None
    return FORMS[judge(text, start, end)]


def assert_classify_agrees(key: str, values: Iterable[str]) -> int:
    wrong: list[tuple[str, int, int]] = []
    count = 0
    for value in values:
        if not value.isascii():
            continue
        count += 1
        expected, got = py_classify(key, value), native.classify(key, value)
        if expected != got:
            wrong.append((value, expected, got))
    assert not wrong[:10], f"{key}: {len(wrong)} values classified differently (value, python, native)"
    return count


def assert_judge_agrees(key: str, cases: Iterable[tuple[str, int, int]]) -> int:
    wrong: list[tuple[str, int, int]] = []
    count = 0
    for text, start, end in cases:
        count += 1
        expected, got = py_judge(key, text, start, end), native.judge(key, text, start, end)
        if expected != got:
            wrong.append((text[start:end], expected, got))
    assert not wrong[:10], f"{key}: {len(wrong)} values judged differently (value, python, native)"
    return count


# --- values ---------------------------------------------------------------------------------------


def _chars(rng: random.Random, alphabet: str, count: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(count))


def _crc_token(prefix: str, random_part: str) -> str:
    crc = zlib.crc32(random_part.encode())
    encoded = ""
    while crc:
        crc, digit = divmod(crc, 62)
        encoded = v._BASE62[digit] + encoded
    return prefix + random_part + encoded.rjust(6, "0")


ALNUM, URLSAFE = val._ALNUM, val._URLSAFE

MAKERS: dict[str, Callable[[random.Random], str]] = {
    "aws_key_id": val.aws_id,
    "aws_secret_labelled": val.aws_secret,
    "aws_secret_paired": val.aws_secret,
    "aws_secret_keyed": val.aws_secret,
    "aws_secret_near_id": val.aws_secret,
    "gcp_api_key": val.SECRET_VALUES["Google Cloud API Key"],
    "azure_storage_key": val.azure_key,
    "azure_connection_string": lambda r: (
        f"DefaultEndpointsProtocol=https;AccountName=acct{r.randint(100, 999)};AccountKey={val.azure_key(r)}"
        + r.choice(("", ";EndpointSuffix=core.windows.net"))
    ),
    "github_token": lambda r: _crc_token(r.choice(("ghp_", "gho_", "ghu_", "ghs_", "ghr_")), _chars(r, ALNUM, 30)),
    "github_fine_grained": lambda r: "github_pat_" + _chars(r, ALNUM, 22) + "_" + _chars(r, ALNUM, 59),
    "openai_key": lambda r: (
        f"sk-{r.choice(('proj', 'svcacct', 'admin'))}-"
        + _chars(r, URLSAFE, r.randint(20, 80))
        + "T3BlbkFJ"
        + _chars(r, URLSAFE, r.randint(20, 80))
    ),
    "openai_legacy_key": lambda r: "sk-" + _chars(r, ALNUM, 20) + "T3BlbkFJ" + _chars(r, ALNUM, 20),
    "anthropic_key": val.SECRET_VALUES["Anthropic API Key"],
    "slack_token": lambda r: (
        f"xox{r.choice('baprs')}-"
        + "".join(f"{r.randint(1, 10**12)}-" for _ in range(r.randint(1, 3)))
        + _chars(r, ALNUM, r.randint(24, 34))
    ),
    "slack_webhook": val.SECRET_VALUES["Slack Webhook URL"],
    "stripe_key": lambda r: r.choice(("sk_live_", "rk_live_")) + _chars(r, ALNUM, r.randint(24, 40)),
    "stripe_test_key": lambda r: r.choice(("sk_test_", "rk_test_")) + _chars(r, ALNUM, r.randint(24, 40)),
    "npm_token": lambda r: _crc_token("npm_", _chars(r, ALNUM, 30)),
    "pypi_token": val.SECRET_VALUES["PyPI Token"],
}


def _published(key: str) -> list[str]:
    """The key's published examples, as values and inside values, and EXAMPLE-marked values."""
    rng = random.Random(key)
    known = sorted(examples.EXAMPLES.get(key, frozenset()))
    made = MAKERS[key](rng)
    out = [*known, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"]
    out += [made[: len(made) // 2] + examples.EXAMPLE_MARK + made[len(made) // 2 + 7 :], made + "EXAMPLE"]
    out += [made[:-7] + "EXAMPL", made[:-7] + "example"]
    for example in known:  # the example where the variable part would be (Azure's AccountKey=)
        rule = secrets.RULES[key]
        body = rule.body(made)
        if body and body in made:
            out.append(made.replace(body, example, 1))
    return out


def _placeholders(key: str) -> list[str]:
    """Runs of 5 and 6 of a character, `your...here` with a gap of 40 and 41, a newline inside."""
    made = MAKERS[key](random.Random(key + "placeholder"))
    cut = len(made) // 2
    out: list[str] = []
    for run in ("X" * 5, "X" * 6, "0" * 6, "\n" * 6, "\n" * 7, "aaaaa-a", "ZZZZZZZZ"):
        out += [made[:cut] + run + made[cut + len(run) :], made[:cut] + run + made[cut:], made + run]
    for gap in (0, 1, 39, 40, 41):
        fill = (string.ascii_lowercase * 2)[:gap]  # no run of 6: only the gap's length decides
        for word in (
            "your" + fill + "here",
            "YoUr" + fill.upper() + "HERE",
            "your" + fill + "\nhere",
            "your" + "\n" + fill + "here",
            "yourhere",
            "youhere",
            "yourher",
            "yoyour" + fill + "hehere",
        ):
            out += [made[:8] + word + made[8 + len(word) :], made + word]
    return out


def _at_threshold(threshold: float, rng: random.Random) -> list[str]:
    """Variable parts whose entropy is the threshold exactly where one exists (dyadic counts) and
    the nearest found above and below it, each in several orders (the sum's order matters)."""
    alphabet = ALNUM
    exact = {3.0: [1] * 8, 3.5: [2] * 4 + [1] * 8, 2.0: [1] * 4, 4.0: [1] * 16}
    bodies: list[str] = []
    if threshold in exact:
        counts = exact[threshold]
        chars = rng.sample(alphabet, len(counts))
        body = "".join(c * n for c, n in zip(chars, counts, strict=True))
        assert v.shannon_entropy(body) == threshold
        bodies += [body, body * 2, body[:-1], body + body[0]]
    below: tuple[float, str] = (-1.0, "")
    above: tuple[float, str] = (99.0, "")
    for _ in range(4000):
        size = rng.randint(2, 24)
        counts = [rng.randint(1, 5) for _ in range(size)]
        chars = rng.sample(alphabet, size)
        body = "".join(c * n for c, n in zip(chars, counts, strict=True))
        entropy = v.shannon_entropy(body)
        if below[0] < entropy < threshold:
            below = (entropy, body)
        if threshold <= entropy < above[0]:
            above = (entropy, body)
    for _, body in (below, above):
        if body:
            for _ in range(4):
                letters = list(body)
                rng.shuffle(letters)
                bodies.append("".join(letters))
            bodies.append(body)
    return bodies


def _threshold_values(key: str) -> list[str]:
    """Valid values whose variable part (in the value's own shape) sits at the entropy edge."""
    rule = secrets.RULES[key]
    rng = random.Random(key + "edge")
    out: list[str] = []
    for threshold in {rule.entropy, 3.0, 3.5, 2.3}:
        for body in _at_threshold(threshold, rng):
            made = MAKERS[key](rng)
            secret = rule.body(made)
            at = made.rfind(secret) if secret else len(made)
            if key.startswith("aws_secret") or key == "azure_storage_key":
                out.append((body * 40)[: len(made)])
            out.append(made[:at] + body)
            out.append(made[:at] + body + made[at + len(secret) :])
    return out


TOKENS = ("-", "/", ";", "=", "==", "AccountKey=", "T3BlbkFJ", "T3Blbk", "BlbkFJ", "EXAMPLE", "your", "here", "\n")


def _structural(key: str) -> list[str]:
    """Values built around the body rules' separators, markers and fields: the variable part's
    bounds decide, as the bodies are a few distinct characters around the entropy thresholds."""
    rng = random.Random(key + "structure")
    out: list[str] = []
    for distinct in range(3, 18):
        body = "".join(rng.sample(ALNUM, distinct))
        for shape in ("{s}{b}", "{b}{s}", "{s}{s}{b}", "{b3}{s}{b}", "{s}{b}{s}{b3}", "{b}{s}{b3}{s}{b}"):
            for separator in TOKENS[:7]:
                out.append(shape.format(s=separator, b=body, b3=body[:3]))
    for _ in range(1500):
        made = MAKERS[key](rng)
        letters = rng.sample(ALNUM, rng.randint(4, 16))
        pieces = [made[: rng.randint(0, min(len(made), 50))]]
        pieces += [rng.choice(TOKENS) if rng.random() < 0.2 else rng.choice(letters) for _ in range(rng.randint(1, 40))]
        out.append("".join(pieces))
    return out


def mutate(rng: random.Random, value: str) -> str:
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(value) + 1)
        op = rng.randrange(10)
        if op == 0 and any(c.isdigit() for c in value):
            j = rng.choice([k for k, c in enumerate(value) if c.isdigit()])
            value = value[:j] + rng.choice(string.digits) + value[j + 1 :]
        elif op == 1 and i < len(value):
            value = value[:i] + rng.choice(NOISE) + value[i + 1 :]
        elif op == 2:
            value = value[:i] + value[i + 1 :]
        elif op == 3:
            value = value[:i] + rng.choice(NOISE) + value[i:]
        elif op == 4:
            value = value[:i] if rng.random() < 0.6 else value[i:]
        elif op == 5:
            value = value.swapcase() if rng.random() < 0.2 else value[:i] + value[i : i + 1].swapcase() + value[i + 1 :]
        elif op == 6 and any(c in SEPARATORS for c in value):
            j = rng.choice([k for k, c in enumerate(value) if c in SEPARATORS])
            value = value[:j] + rng.choice(SEPARATORS + "") + value[j + 1 :]
        elif op == 7 and i < len(value):
            value = value[:i] + value[i] * rng.randint(2, 7) + value[i + 1 :]
        elif op == 8:
            value = value[:i] + rng.choice(MARKERS) + value[i:]
        elif op == 9 and i < len(value):
            value = value[:i] + value[i + rng.randint(1, 8) :]
    return value


@functools.cache
def corpus() -> tuple[str, list[tuple[int, int]]]:
    text, labels = generate_corpus(seed=29, per_entry=20, negatives_per_kind=10)
    return text, [(label.start, label.end) for label in labels]


@functools.cache
def dense_corpus() -> str:
    """Secrets (valid, mutated, examples) one after another, with the labels and neighbours the
    AWS and Azure patterns want, so that every pattern matches many times."""
    rng = random.Random(31)
    lines: list[str] = []
    labels = ("aws_secret_access_key = ", 'AWS_SECRET: "', "secret_key=", "AccountKey=", "storage_key: ", "", "token ")
    for _ in range(60):
        for key, make in MAKERS.items():
            value = make(rng)
            if rng.random() < 0.4:
                value = mutate(rng, value)
            prefix = rng.choice(labels)
            if key.startswith("aws_secret") and rng.random() < 0.5:
                prefix = val.aws_id(rng) + rng.choice((" ", ",", "\n", ": ", "\nsomething=")) + prefix
            lines.append(prefix + value)
        lines += _published(rng.choice(list(MAKERS)))
    return "\n".join(lines)


def matched(key: str, text: str) -> Iterator[tuple[int, int]]:
    detector = DETECTORS[key]
    for match in re.finditer(detector.pattern, text):
        yield match.span(detector.value_group)


def _whole_matches(key: str, text: str) -> list[str]:
    """What the detector's pattern, with its extension, matches in text (whole matches)."""
    detector = DETECTORS[key]
    return [m[0] for m in re.finditer(detector.pattern + (detector.extend or ""), text)]


def _corpus_values(key: str, labelled: Callable[[str], bool]) -> list[str]:
    """The detector's whole matches in the corpus, then the corpus's labelled values that `labelled` keeps."""
    text, spans = corpus()
    return _whole_matches(key, text) + [text[a:b] for a, b in spans if labelled(text[a:b])]


def values_of(key: str) -> list[str]:
    rng = random.Random(f"values of {key}")
    text, spans = corpus()
    base = [MAKERS[key](rng) for _ in range(60)] + _published(key) + _placeholders(key) + _threshold_values(key)
    base += [text[a:b] for a, b in matched(key, text)] + [dense_corpus()[a:b] for a, b in matched(key, dense_corpus())]
    mutated = [mutate(rng, rng.choice(base)) for _ in range(3000)]
    planted = [text[a:b] for a, b in spans]
    return base + mutated + planted + _structural(key) + ["", "-", "/", "==", "AccountKey=", "sk-", "EXAMPLE"]


# --- tests ----------------------------------------------------------------------------------------


def test_every_secret_detector_has_its_twins() -> None:
    parts = {key: part for key, part in native.parts().items() if key in DETECTORS}
    assert {key for key, (classify, _, _) in parts.items() if classify} == set(DETECTORS)
    assert {key for key, (_, judge, _) in parts.items() if judge} == {d.key for d in DETECTORS.values() if d.judge}
    assert not any(refused for _, _, refused in parts.values())
    assert DETECTORS["jwt"].judge is not None
    assert DETECTORS["pem_private_key"].judge is None


def test_the_regexes_written_as_loops_in_c_are_these() -> None:
    # _native_secrets.c's is_placeholder, id_at, access_label and base64_line are these regexes
    # as loops: change both together.
    assert examples._PLACEHOLDER.pattern == r"(.)\1{5}|(?i:your.{0,40}here)"
    assert secrets._ID_IN_TEXT.pattern == r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Za-z0-9])"
    assert secrets._ACCESS_LABEL.pattern == r"(?i)secret[_\-. ]?access[_\-. ]?key"
    assert secrets._BASE64_LINE.pattern == r"[ \t]*[A-Za-z0-9/+]{40,}={0,2}[ \t]*\r?"


@pytest.mark.parametrize("key", sorted(secrets.RULES))
def test_classify_agrees(key: str) -> None:
    values = values_of(key)
    assert assert_classify_agrees(key, values) > 3000
    verdicts = {py_classify(key, value) for value in values}
    assert verdicts == {0, -1}  # the values reach both answers


@pytest.mark.parametrize("key", sorted(secrets.RULES))
def test_judge_agrees(key: str) -> None:
    rng = random.Random(f"judge {key}")
    text, _ = corpus()
    cases = [(text, a, b) for a, b in matched(key, text)]
    dense = dense_corpus()
    cases += [(dense, a, b) for a, b in matched(key, dense)]
    for value in values_of(key)[::3]:
        before, after = rng.choice(("", " ", "key=", "\n")), rng.choice(("", " ", ";", "\n"))
        cases.append((before + value + after, len(before), len(before) + len(value)))
    assert assert_judge_agrees(key, cases) > 1000
    forms = {form for form in (py_judge(key, *case) for case in cases)}
    assert forms == {0, 3} if key not in CONTEXT_JUDGES else 3 in forms


FILLER = " the team reviewed the plan, then: next week" * 20
SPACES = (" ", "\t", "\x0b", "\x0c", "\x1c", "\x1f", "\r", "")


def _aws_pieces(rng: random.Random) -> list[str]:
    """Lines and fragments around AWS secrets: key ids credible or not, labels, base64 lines."""
    key_id = val.aws_id(rng)
    b64 = ALNUM + "/+"
    return [
        key_id,
        rng.choice(("ABIA", "ACCA", "AKIB", "akia")) + key_id[4:],
        "AKIAIOSFODNN7EXAMPLE",
        "AKIA" + "X" * 16,
        "AKIA" + "AB" * 8,
        "AKIA" + "ABCD" * 4,
        "x" + key_id,
        key_id + rng.choice(("x", "_", "1", "=", "/")),
        key_id[:19],
        rng.choice(
            (
                "secret_access_key",
                "SECRET-ACCESS-KEY",
                "SecretAccessKey",
                "secret access.key",
                "secret__access_key",
                "secret_acess_key",
                "aws_secret_key",
                "secretaccesskey = ",
                "Secret.Access_KEY: ",
            )
        ),
        rng.choice(SPACES)
        + _chars(rng, b64, rng.randint(38, 64))
        + rng.choice(("", "=", "==", "==="))
        + rng.choice(SPACES),
        FILLER[: rng.randint(0, 60)],
        rng.choice(SPACES) * rng.randint(1, 3),
        val.aws_secret(rng),
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ]


def _aws_cases() -> list[tuple[str, int, int]]:
    rng = random.Random(43)
    cases: list[tuple[str, int, int]] = []
    secret_like = re.compile(r"[A-Za-z0-9/+]{40}")
    for _ in range(900):  # random arrangements, judged at every 40-character run and the planted secret
        pieces = [rng.choice(_aws_pieces(rng)) for _ in range(rng.randint(2, 10))]
        at = rng.randrange(len(pieces) + 1)
        value = val.aws_secret(rng)
        before = "".join(p + rng.choice(("\n", " ", " = ", "\r\n", "", ': "')) for p in pieces[:at])
        text = before + value + "".join(rng.choice(("\n", " ", '"', "", ";\n")) + p for p in pieces[at:])
        cases.append((text, len(before), len(before) + len(value)))
        cases += [(text, *m.span()) for m in secret_like.finditer(text)]
    for distance in range(270, 335):  # the window's edges, before and after, on one line or several
        key_id, value = val.aws_id(rng), val.aws_secret(rng)
        gap = FILLER[:distance] if distance % 2 else (FILLER[: distance - 1] + "\n")
        cases.append((key_id + gap + value, len(key_id) + len(gap), len(key_id) + len(gap) + 40))
        cases.append((value + gap + key_id, 0, 40))
        cases.append(("x" * distance + value + gap + key_id + "\n", distance, distance + 40))
        # An id glued to a letter beyond the searched span still counts (the span ends the text),
        # one glued to a letter before it does not (the look-behind reads the whole text).
        cases.append((value + gap + key_id + "Z", 0, 40))
        cases.append(("Z" + key_id + gap + value, 1 + len(key_id) + len(gap), 1 + len(key_id) + len(gap) + 40))
        cases.append(("Z" + key_id + gap[:-20] + value, len(key_id) + len(gap) - 19, len(key_id) + len(gap) + 21))
    for label in ("secret_access_ke", "secret_access_", "secret_acces", "secret_access_key", "secret_access_key "):
        for first in "yYkK_s":  # a label is read up to the value only
            value = first + val.aws_secret(rng)[1:]
            cases.append((label + value, len(label), len(label) + 40))
    for previous in ("", "\n", "  ", "\t"):  # a line of its own between base64 lines
        for line in (
            "",
            "A" * 39,
            _chars(rng, ALNUM, 44) + "===",
            _chars(rng, ALNUM, 44) + "=\r\r",
            _chars(rng, ALNUM, 40),
            _chars(rng, ALNUM, 64) + "==",
            " \t" + _chars(rng, ALNUM, 50) + "= \r",
        ):
            for space in SPACES:
                value = val.aws_secret(rng)
                text = val.aws_id(rng) + "\n" + line + previous + "\n" + space + value + space + "\n" + line
                start = text.index(value)
                cases.append((text, start, start + 40))
    return cases


@pytest.mark.parametrize("key", sorted(CONTEXT_JUDGES))
def test_context_judges_agree(key: str) -> None:
    cases = _aws_cases()
    assert assert_judge_agrees(key, cases) > 3000
    forms = {py_judge(key, *case) for case in cases}
    assert forms == ({0, 2, 3} if key == "aws_secret_keyed" else {0, 1, 3})


def test_the_body_rules_are_the_lambdas_they_replace() -> None:
    old: dict[str, Callable[[str], str]] = {
        "slack_token": lambda value: value.rsplit("-", 1)[-1],
        "slack_webhook": lambda value: value.rsplit("/", 1)[-1],
        "openai_key": lambda value: value.split("-", 2)[-1].replace("T3BlbkFJ", ""),
        "openai_legacy_key": lambda value: value[3:].replace("T3BlbkFJ", ""),
        "pypi_token": lambda value: value[20:],
        "azure_connection_string": lambda value: (
            value.split("AccountKey=", 1)[1].split(";", 1)[0] if "AccountKey=" in value else ""
        ),
    }
    for key, body in old.items():
        for value in _structural(key)[:2000]:
            assert secrets.RULES[key].body(value) == body(value), (key, value)


def test_entropy_at_the_threshold_edge() -> None:
    # Values whose variable part's entropy equals each threshold: accepted by both, as are
    # the nearest above; the nearest below are refused by both.
    for key, rule in secrets.RULES.items():
        if rule.entropy <= 0 or rule.body.remove or rule.check is not None:
            continue
        rng = random.Random(key)
        for body in _at_threshold(rule.entropy, rng):
            made = MAKERS[key](rng)
            secret = rule.body(made)
            value = made[: made.rfind(secret)] + body
            assert rule.body(value) == body, key
            expected = 0 if v.shannon_entropy(body) >= rule.entropy and not examples.is_placeholder(body) else -1
            assert py_classify(key, value) == expected == native.classify(key, value), (key, value)


def test_base64_key_length_and_padding() -> None:
    rng = random.Random(5)
    key = "azure_storage_key"
    cases = []
    for size in (61, 62, 63, 64, 65, 66):
        encoded = base64.b64encode(rng.randbytes(size)).decode()
        stripped = encoded.rstrip("=")
        cases += [
            encoded,
            stripped,
            stripped + "=",
            stripped + "==",
            stripped + "===",
            "=" + encoded,
            encoded + "A",
            encoded[:-3] + "=" + encoded[-2:],
            encoded.replace("+", "-"),
            encoded + "\n",
        ]
    assert assert_classify_agrees(key, cases) == len(cases)
    assert {py_classify(key, value) for value in cases} == {0, -1}


def test_a_bad_table_is_refused_and_the_old_one_kept() -> None:
    good = all_tables()
    rules = dict(good["secrets.rules"])  # type: ignore[call-overload]
    row = rules["slack_token"]
    bad_rows = [
        ("not a tuple", TypeError),
        (row[:9], TypeError),
        (("3.0", *row[1:]), TypeError),
        ((row[0], "middle", *row[2:]), ValueError),
        ((*row[:2], -1, *row[3:]), ValueError),
        ((*row[:3], "", *row[4:]), ValueError),  # `after` without a separator
        ((*row[:3], "x" * 65, *row[4:]), ValueError),
        ((*row[:7], "luhn", *row[8:]), ValueError),
        ((*row[:9], ("a",) * 9), ValueError),
        ((*row[:9], (1,)), TypeError),
        ((*row[:9], ["a"]), TypeError),
    ]
    bad_tables: list[tuple[dict[str, object], type[Exception]]] = [
        ({**good, "secrets.aws_id_window": -1}, ValueError),
        ({**good, "secrets.aws_id_window": "300"}, TypeError),
        ({**good, "secrets.rules": [rules]}, TypeError),
        ({**good, "secrets.rules": {k: r for k, r in rules.items() if k != "npm_token"}}, ValueError),
        ({**good, "secrets.base62_alphabet": "0123"}, ValueError),
        ({**good, "secrets.example_mark": 7}, TypeError),
        ({k: t for k, t in good.items() if k != "secrets.example_mark"}, ValueError),
    ]
    bad_tables += [({**good, "secrets.rules": {**rules, "slack_token": bad}}, error) for bad, error in bad_rows]
    example = sorted(examples.EXAMPLES["slack_token"])[0]
    for table, error in bad_tables:
        with pytest.raises(error):
            native.configure(table)
        assert native.classify("slack_token", example) == 0
        assert native.judge("slack_token", example, 0, len(example)) == 3
        assert native.classify("npm_token", MAKERS["npm_token"](random.Random(1))) == 0
    native.configure(good)


# --- pem_private_key and jwt --------------------------------------------------------------------
#
# Their C twins answer as secrets._pem_ok, validators.jwt_ok and secrets._jwt_judge; for a JWT
# whose JSON header is outside the subset read in C they return ASK_PYTHON (-3), which the core
# answers by calling Python (checked last, through the engine).

ASK_PYTHON = -3
PEM_KINDS = (
    "RSA PRIVATE KEY",
    "EC PRIVATE KEY",
    "DSA PRIVATE KEY",
    "PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "OPENSSH PRIVATE KEY",
    "PGP PRIVATE KEY BLOCK",
    "PUBLIC KEY",
    "CERTIFICATE",
    " RSA PRIVATE KEY ",
    "RSA  PRIVATE KEY",
)
LINE_BREAKS = ("\n", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\n\n", "\r\r\n", " \n", "\t\n")
PEM_MARKERS = (
    "-----",
    "-----BEGIN ",
    "-----END ",
    "BEGIN",
    "END",
    ":",
    "Proc-Type: 4,ENCRYPTED",
    "=",
    "==",
    "MI",
    "b3BlbnNzaC1rZXktdjE",
    "\n",
    "\r",
    "\x0b",
    " ",
    "-----END RSA PRIVATE KEY-----",
    "A" * 64,
)


def test_the_pem_regex_written_as_a_loop_in_c_is_this() -> None:
    # _native_secrets.c's pem_line_at is this regex as a loop (findall: non-overlapping, leftmost).
    assert secrets._PEM_LINE.pattern == r"-----(BEGIN|END) ([A-Z ]+)-----"
    assert secrets.native_tables()["secrets.pem"] == (
        4.0,
        "OPENSSH PRIVATE KEY",
        "b3BlbnNzaC1rZXktdjE",
        ("RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY"),
    )


def _pem_of(kind: str, der: bytes, breaks: str = "\n", width: int = 64, headers: str = "") -> str:
    body = base64.b64encode(der).decode()
    lines = breaks.join(body[i : i + width] for i in range(0, len(body), width))
    return f"-----BEGIN {kind}-----{breaks}{headers}{lines}{breaks}-----END {kind}-----"


def _pem_values() -> list[str]:
    rng = random.Random("pem")
    out: list[str] = []
    for kind in PEM_KINDS:
        for _ in range(6):
            out.append(val.pem(rng, kind.strip()))
            out.append(val.pem(rng, kind))
        head = b"openssh-key-v1\x00" if kind.startswith("OPENSSH") else b"\x30\x82"
        for size in (0, 10, 28, 29, 30, 31, 32, 33, 40, 47, 48, 49, 300):  # DER of 32 bytes and around
            der = head + rng.randbytes(size)
            for breaks in LINE_BREAKS[: rng.randint(3, len(LINE_BREAKS))]:
                out.append(_pem_of(kind, der, breaks, rng.choice((64, 76, 16, 1000))))
            out.append(_pem_of(kind, der, " ", 64))  # one line: the body is the third "-----" piece
            out.append(_pem_of(kind, der, "\t", 30))
            out.append(_pem_of(kind, b"\x31" + der[1:], "\n"))  # not a SEQUENCE
            out.append(_pem_of(kind, der, "\n", 64, "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00FF\n\n"))
            out.append(_pem_of(kind, der, " ", 64, "Proc-Type:4,ENCRYPTED "))
        body = base64.b64encode(head + rng.randbytes(200)).decode()
        for bad in ("=", "==", "===", "A=", "AB=", "ABC=", "!", "-", "_", ".", "A"):
            for at in (0, 1, 2, 3, 4, 10, len(body) // 2, len(body) - 1, len(body)):
                broken = body[:at] + bad + body[at:]
                out.append(f"-----BEGIN {kind}-----\n{broken}\n-----END {kind}-----")
                out.append(f"-----BEGIN {kind}-----\n{broken.rstrip('=')}\n-----END {kind}-----")
        for filler in ("X" * 300, "." * 300, "MIIE" + "A" * 300, "ABCDEFGHIJKLMNOP" * 20, "ABCDEFGHIJKLMNO" * 20):
            out.append(f"-----BEGIN {kind}-----\n{filler}\n-----END {kind}-----")
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        for odd in LINE_BREAKS:  # splitlines: an odd line break beside "\n" ones, around the labels and headers
            out.append(f"-----BEGIN {kind}-----{odd}" + "\n".join(lines) + f"\n-----END {kind}-----")
            out.append(f"-----BEGIN {kind}-----\n" + "\n".join(lines) + f"{odd}-----END {kind}-----")
            out.append(
                f"-----BEGIN {kind}-----\nProc-Type: 4,ENCRYPTED{odd}" + "\n".join(lines) + f"\n-----END {kind}-----"
            )
            out.append(f"-----BEGIN {kind}-----\n" + odd.join(lines) + f"\n-----END {kind}-----{odd}")
        for size in range(27, 38):  # padding inside the usable prefix: DER of 3k+1 and 3k+2 bytes
            der = base64.b64encode(head + rng.randbytes(size)).decode()
            for tail in ("A", "AB", "ABC", "ABCD", "=A", "A=B"):
                out.append(f"-----BEGIN {kind}-----\n{der}{tail}\n-----END {kind}-----")
        out.append(f"-----BEGIN {kind}-----\n{body}\n-----END {kind[:-1]}-----")  # labels disagree
        out.append(f"-----END {kind}-----\n{body}\n-----BEGIN {kind}-----")
        out.append(f"-----BEGIN {kind}-----\n{body}\n-----BEGIN {kind}-----")
        out.append(f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\n-----END {kind}-----")
        out.append(f"------BEGIN {kind}-----\n{body}\n-----END {kind}------")
        out.append(f"-----BEGIN {kind}----------END {kind}-----\n{body}\n-----END {kind}-----")
        out.append(f"-----BEGIN {kind}-----{body}-----END {kind}-----")
        out.append(f"x-----BEGIN {kind}-----\n\n{body}\n\n-----END {kind}-----\n")
        out.append(f"-----BEGIN {kind.lower()}-----\n{body}\n-----END {kind.lower()}-----")
    return out


@functools.cache
def pem_cases() -> list[str]:
    rng = random.Random("pem cases")
    base = _pem_values() + _corpus_values("pem_private_key", lambda value: "-----" in value)
    base += _whole_matches("pem_private_key", "\n\n".join(base[::7]))
    mutated: list[str] = []
    for _ in range(4000):
        value = rng.choice(base)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(value) + 1)
            value = value[:i] + rng.choice(PEM_MARKERS) + value[i:] if rng.random() < 0.5 else mutate(rng, value)
        mutated.append(value)
    return base + mutated + ["", "-----", "-----BEGIN A----------END A-----", "-----BEGIN A-----\n-----END A-----"]


def test_pem_classify_agrees() -> None:
    values = pem_cases()
    assert assert_classify_agrees("pem_private_key", values) > 5000
    verdicts = [py_classify("pem_private_key", value) for value in values]
    assert verdicts.count(0) > 500
    assert verdicts.count(-1) > 2000
    assert ASK_PYTHON not in {native.classify("pem_private_key", value) for value in values if value.isascii()}


def _b64url(data: bytes, strip: bool = True) -> str:
    encoded = base64.urlsafe_b64encode(data).decode()
    return encoded.rstrip("=") if strip else encoded


SIMPLE_HEADERS: tuple[str, ...] = (
    '{"alg":"HS256","typ":"JWT"}',
    '{"alg": "RS256", "typ": "JWT"}',
    '{"typ":"JWT","alg":"ES256"}',
    '{"alg":"none"}',
    '{"alg":"None"}',
    '{"alg":"NONE"}',
    '{"alg":"nOnE"}',
    '{"alg":"non"}',
    '{"alg":"nonee"}',
    '{"alg":null}',
    '{"alg":true}',
    '{"alg":false}',
    '{"alg":0}',
    '{"alg":-1.5e3}',
    '{"alg":""}',
    "{}",
    "{ }",
    '{"typ":"JWT"}',
    '{"ALG":"none"}',
    '{"alg ":"none"}',
    '{"alg":"HS256","alg":"none"}',
    '{"alg":"none","alg":"HS256"}',
    '{"alg":"none","alg":null}',
    '{"alg":"HS256","alg":1}',
    '{"alg":1,"alg":"x"}',
    '{"alg":"HS256","x":"none"}',
    ' \t\r\n{ \n"alg" \t: \r"none" ,\n "kid" : 12 } \n',
    '{"alg":"é"}',
    '{"kid":"ü","alg":"HS256"}',
    '{"alg":"HS256","n":0.5,"m":-0,"e":1E+2,"f":2e-2,"t":true,"f2":false,"z":null}',
    '{"alg":"\x7f"}',
    '{"a\x7f":"none","alg":"RS256"}',
    '{"alg":"HS256","exp":123456789012345678901234567890}',
)
# Headers the C side reads too: invalid JSON, or not an object, or invalid UTF-8.
INVALID_HEADERS: tuple[str | bytes, ...] = (
    "",
    " ",
    "{",
    "}",
    '{"alg":"none"',
    '{"alg":"none",}',
    '{"alg" "none"}',
    '{"alg":}',
    '{alg:"none"}',
    "{'alg':'none'}",
    '{"alg":"none"}x',
    '{"alg":"none"}}',
    '{"alg":"none"},',
    '{"alg":"no\nne"}',
    '{"a\tlg":"x"}',
    '{"alg":"none\x00"}',
    '{"alg":01}',
    '{"alg":1.}',
    '{"alg":.5}',
    '{"alg":-}',
    '{"alg":1e}',
    '{"alg":1e+}',
    '{"alg":+1}',
    '{"alg":nul}',
    '{"alg":nulll}',
    '{"alg":True}',
    '{"alg":"HS256",,}',
    "{,}",
    '{"alg":"x" "y"}',
    '{\x0b"alg":"none"}',
    '{\x0c"alg":"none"}',
    '{"alg":"none"}\x0b',
    '"alg"',
    "12",
    "null",
    '["alg","none"]',
    '{"alg":"none"}\x00',
    '{"alg\u00e9":"none"}\u00e9',
    '{"alg":"none"' + "\u00e9" + "}",
    '{"alg": 1 2}',
    b'{"alg":"\xff"}',
    b'{"alg":"\xc0\x80"}',
    b'{"alg":"\xed\xa0"}',
    b'{"alg":"\xf4\x90\x80\x80"}',
    b'{"\xe0\x80\x80":1}',
    b'{"alg":"\xf0\x8f\xbf\xbf"}',
    b'{"alg":"\xc2"}',
    b'{"a":"\x80"}',
    b'{"alg":"\xf5\x80\x80\x80"}',
)
# UTF-8 of every length, well-formed or not (surrogates pass: json.loads decodes with surrogatepass).
UTF8_HEADERS: tuple[bytes, ...] = tuple(
    b'{"alg":"' + chars + b'"}'
    for chars in (
        b"\xe0\x80\x80",
        b"\xe0\x9f\xbf",
        b"\xe0\xa0\x80",
        b"\xed\xa0\x80",
        b"\xed\xbf\xbf",
        b"\xed\x9f\xbf",
        b"\xef\xbf\xbf",
        b"\xf0\x90\x80\x80",
        b"\xf0\x8f\xbf\xbf",
        b"\xf4\x8f\xbf\xbf",
        b"\xf4\x90\x80\x80",
        b"\xf0\x90\x80",
        b"\xe1\x80",
        b"\x80",
        b"\xbf",
        b"\xc1\xbf",
        b"\xc2\x80",
        b"\xdf\xbf",
        b"\xc2\xc0",
        b"\xe1\x80\xc0",
        b"\xf1\x80\x80\xc0",
        b"\xf8\x80\x80\x80\x80",
        b"\xfe",
        b"\xff",
        b"n\xc3\xb6ne",
    )
)
# Headers only Python reads (escapes, nesting, constants, other encodings): the C side asks it.
ASKED_HEADERS: tuple[str | bytes, ...] = (
    '{"\\u0061lg":"none"}',
    '{"alg":"\\u006eone"}',
    '{"alg":"HS\\"256"}',
    '{"alg":"\\ud800"}',
    '{"alg":"none\\"}',
    '{"alg":{"x":1}}',
    '{"alg":["none"]}',
    '{"x":{},"alg":"none"}',
    '{"x":[1,2],"alg":"HS256"}',
    '{"alg":NaN}',
    '{"alg":Infinity}',
    '{"alg":-Infinity}',
    '{"alg":-Inf}',
    '{"alg":"HS256","n":' + "1" * 80 + "}",
    "[" * 70,
    '{"x":[' + "[" * 40 + "]" * 40 + "]}",
    b'\xef\xbb\xbf{"alg":"none"}',
    '{"alg":"none"}'.encode("utf-16"),
    '{"alg":"none"}'.encode("utf-16-le"),
    '{"alg":"none"}'.encode("utf-32"),
    b'{\x00"alg":"none"}',
    '{"alg":"HS256"}'.encode("utf-16-be"),
)


def _jwt_values() -> list[str]:
    rng = random.Random("jwt")
    payload = _b64url(b'{"sub":"1234567890","iat":1516239022}')
    signature = _chars(rng, URLSAFE, 43)
    headers: list[bytes] = [
        h.encode() if isinstance(h, str) else h for h in SIMPLE_HEADERS + INVALID_HEADERS + UTF8_HEADERS + ASKED_HEADERS
    ]
    headers += [bytes([0x7B, 0x22]) + rng.randbytes(rng.randint(0, 40)) for _ in range(300)]  # `eyJ` and garbage
    headers += [b'{"alg":"' + rng.randbytes(rng.randint(1, 6)) + b'"}' for _ in range(300)]  # any bytes in a string
    out: list[str] = [val.jwt(rng) for _ in range(100)] + sorted(examples.EXAMPLES["jwt"])
    for header in headers:
        for encoded in (_b64url(header), _b64url(header, strip=False)):
            out.append(f"{encoded}.{payload}.{signature}")
        out.append(f"{_b64url(header)}.{payload}.")
        out.append(f"{_b64url(header)}.{payload}")
        out.append(f"{_b64url(header)}.{payload}.{signature}.")
        out.append(f"{_b64url(header)}..{signature}")
    for _ in range(300):  # bad base64: a character outside the alphabet, a quad of one, padding inside
        made = val.jwt(rng)
        i = rng.randrange(len(made))
        out.append(
            made[:i] + rng.choice(("!", "=", "==", "===", "+", "/", " ", "A", "AB", "$", "\n", "-", "_")) + made[i:]
        )
    for size in range(0, 9):  # headers of every length modulo 4 (a quad of 1 is refused)
        header = '{"alg":"none"}' + " " * size
        encoded = _b64url(header.encode())
        for extra in ("", "A", "AA", "AAA", "=", "A=", "A==", "=A", "*", "A*"):
            out.append(f"{encoded}{extra}.{payload}.{signature}")
            out.append(f"{encoded}.{payload}{extra}.{signature}")
    out += ["", ".", "..", "...", "a.b.c", "eyJ.eyJ.x", ".eyJhbGciOiJub25lIn0.x", "eyJhbGciOiJub25lIn0..x"]
    return out


@functools.cache
def jwt_cases() -> list[str]:
    rng = random.Random("jwt cases")
    base = _jwt_values() + _corpus_values("jwt", lambda value: value.startswith("eyJ"))
    mutated = [mutate(rng, rng.choice(base)) for _ in range(4000)]
    return base + mutated


def assert_jwt_agrees(cases: Iterable[tuple[str, int, int]]) -> tuple[int, int]:
    """Classify and judge agree with Python wherever C answers; returns (answered, asked)."""
    wrong: list[tuple[str, str, int, int]] = []
    answered = asked = 0
    for text, start, end in cases:
        value = text[start:end]
        if not text.isascii():
            continue
        for what, expected, got in (
            ("classify", py_classify("jwt", value), native.classify("jwt", value)),
            ("judge", py_judge("jwt", text, start, end), native.judge("jwt", text, start, end)),
        ):
            if got == ASK_PYTHON:
                asked += 1
            else:
                answered += 1
                if got != expected:
                    wrong.append((what, value, expected, got))
    assert not wrong[:10], f"jwt: {len(wrong)} answers differ (what, value, python, native)"
    return answered, asked


def test_jwt_classify_and_judge_agree() -> None:
    rng = random.Random("jwt judge")
    cases: list[tuple[str, int, int]] = []
    for value in jwt_cases():
        before, after = rng.choice(("", " ", "token=", "\n")), rng.choice(("", " ", ";", "\n", "."))
        cases.append((before + value + after, len(before), len(before) + len(value)))
    answered, asked = assert_jwt_agrees(cases)
    assert answered > 15000
    assert asked < answered / 20
    verdicts = {py_classify("jwt", value) for value in jwt_cases()}
    forms = {py_judge("jwt", value, 0, len(value)) for value in jwt_cases()}
    assert verdicts == {0, -1}
    assert forms == {0, 3}


def test_jwt_headers_in_the_c_subset_are_answered_and_others_asked() -> None:
    payload, signature = _b64url(b'{"sub":"x"}'), "sig"
    for header in SIMPLE_HEADERS + INVALID_HEADERS + UTF8_HEADERS:
        raw = header.encode() if isinstance(header, str) else header
        value = f"{_b64url(raw)}.{payload}.{signature}"
        if not value.isascii():
            continue
        assert native.classify("jwt", value) == py_classify("jwt", value), header
        assert native.judge("jwt", value, 0, len(value)) == py_judge("jwt", value, 0, len(value)), header
    for header in ASKED_HEADERS:
        raw = header.encode() if isinstance(header, str) else header
        value = f"{_b64url(raw)}.{payload}.{signature}"
        assert native.classify("jwt", value) == ASK_PYTHON, header
        assert native.judge("jwt", value, 0, len(value)) == ASK_PYTHON, header
    # alg none in any case, or null, is unsigned (sample); the last of duplicate keys counts
    for header, form in (
        ('{"alg":"NoNe"}', 3),
        ('{"alg":null}', 3),
        ('{"alg":"none","alg":"HS256"}', 0),
        ('{"alg":"HS256","alg":"none"}', 3),
        ('{"alg":"HS256"}', 0),
    ):
        value = f"{_b64url(header.encode())}.{payload}.{signature}"
        assert native.judge("jwt", value, 0, len(value)) == form == py_judge("jwt", value, 0, len(value))
    empty_signature = f"{_b64url(b'{}')}.{payload}."
    assert native.judge("jwt", empty_signature, 0, len(empty_signature)) == 3


def test_the_loose_base64_of_jwt_parts_is_pythons() -> None:
    # urlsafe_b64decode skips characters outside the alphabet and stops at the padding that ends a
    # quad: headers and payloads of any characters, padded as the Python code pads them.
    rng = random.Random("b64")
    alphabet = URLSAFE + "+/=!. *\n"
    header, unsigned = _b64url(b'{"alg":"HS256"}'), _b64url(b'{"alg":"none"}')
    values = []
    for _ in range(3000):
        part = _chars(rng, alphabet, rng.randint(1, 12))
        values.append(f"{header}.{part}.sig")
        values.append(f"{unsigned[: rng.randint(1, 20)]}{part}.e30.sig")
    answered, asked = assert_jwt_agrees((value, 0, len(value)) for value in values)
    assert answered + asked == 2 * len(values)
    assert asked < len(values) / 100
    assert {py_classify("jwt", value) for value in values} == {0, -1}


def test_the_core_asks_python_when_the_twin_is_unsure() -> None:
    from openai_casb.dlp.engine import DlpEngine, _Census
    from openai_casb.dlp.engine_native import NATIVE_EXACT_AVAILABLE
    from openai_casb.dlp.settings import DlpSettings

    assert NATIVE_EXACT_AVAILABLE  # _exactnative imports (above)
    settings = DlpSettings(salt="native-secrets-salt")
    engines = [DlpEngine.from_settings(settings, exact=exact) for exact in ("python", "native")]  # type: ignore[arg-type]
    payload = _b64url(b'{"sub":"1234567890","name":"someone"}')
    lines = []
    for header in ASKED_HEADERS + SIMPLE_HEADERS[:8]:
        raw = header.encode() if isinstance(header, str) else header
        lines.append(f"token {_b64url(raw)}.{payload}.{_chars(random.Random(header), URLSAFE, 43)}")
    text = "\n".join(lines) + "\n" + "\n\n".join(_pem_values()[::40])
    results = []
    for dlp in engines:
        census: _Census = {}
        results.append(sorted(dlp._candidates(text, census)))
    assert results[0] == results[1]
    assert sum(1 for line in lines if native.classify("jwt", line[6:]) == ASK_PYTHON) >= 10


def test_a_bad_pem_or_jwt_table_is_refused_and_the_old_one_kept() -> None:
    good = all_tables()
    pem = good["secrets.pem"]
    assert isinstance(pem, tuple)
    bad_tables: list[tuple[dict[str, object], type[Exception]]] = [
        ({**good, "secrets.pem": list(pem)}, TypeError),
        ({**good, "secrets.pem": pem[:3]}, TypeError),
        ({**good, "secrets.pem": ("4.0", *pem[1:])}, TypeError),
        ({**good, "secrets.pem": (*pem[:1], 7, *pem[2:])}, TypeError),
        ({**good, "secrets.pem": (*pem[:2], "x" * 65, pem[3])}, ValueError),
        ({**good, "secrets.pem": (*pem[:3], list(pem[3]))}, TypeError),
        ({**good, "secrets.pem": (*pem[:3], ("A",) * 9)}, ValueError),
        ({**good, "secrets.pem": (*pem[:3], (1,))}, TypeError),
        ({**good, "secrets.jwt_examples": ["eyJ"]}, TypeError),
        ({**good, "secrets.jwt_examples": (b"eyJ",)}, TypeError),
        ({**good, "secrets.jwt_examples": ("e" * 513,)}, ValueError),
        ({k: t for k, t in good.items() if k != "secrets.pem"}, ValueError),
        ({k: t for k, t in good.items() if k != "secrets.jwt_examples"}, ValueError),
    ]
    key = val.pem(random.Random(3))
    example = sorted(examples.EXAMPLES["jwt"])[0]
    for table, error in bad_tables:
        with pytest.raises(error):
            native.configure(table)
        assert native.classify("pem_private_key", key) == 0
        assert native.judge("jwt", example, 0, len(example)) == 3
    native.configure(good)
