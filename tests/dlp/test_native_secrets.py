"""The C twins of the Credentials and Secrets validators and judges (_native_secrets.c) answer
exactly as the Python ones (secrets.SecretRule): classify and the example judge of every detector
built by `_secret`, over the labelled corpus's values, every pattern match in it and in a dense
secrets corpus, valid values, published examples, placeholders, variable parts at the entropy
threshold and seeded mutations of all of these."""

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
    assert {key for key, (classify, _, _) in parts.items() if classify} == set(secrets.RULES)
    assert {key for key, (_, judge, _) in parts.items() if judge} == set(secrets.RULES)
    assert not any(refused for _, _, refused in parts.values())
    assert "jwt" not in parts  # JSON parsing stays in Python
    assert "pem_private_key" not in parts  # DER parsing too


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
