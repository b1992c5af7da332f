"""Settings validation and custom profiles (regex, word lists, exact data match)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from openai_casb.dlp.edm import EdmError
from openai_casb.dlp.engine import DlpEngine
from openai_casb.dlp.profiles import PREDEFINED_ENTRIES, PREDEFINED_PROFILE_NAMES
from openai_casb.dlp.settings import DlpSettings


def custom(*entries: dict[str, object], **profile: object) -> DlpSettings:
    return DlpSettings.model_validate(
        {"salt": "profiles-salt", "custom_profiles": [{"name": "Project X", "entries": list(entries), **profile}]}
    )


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (r"ACME-\d+", "unbounded"),
        (r"ACME-\d*", "unbounded"),
        (r"ACME-\d{3,}", "unbounded"),
        (r"x{2000}", "more than 1024"),
        (r"(?=ACME)\w{3}", "look-around"),
        (r"(a)\1", "back-reference"),
        (r"a{0,3}", "empty string"),
        (r"[", "invalid regex"),
        (r"x{1,100}(?:y{1,100}){1,10}", "more than 1024"),
        (r"[a-z\]]{1,3}|(?:b{1,9}|c+)", "unbounded"),
        (r"\C{1,4}", "single byte"),  # google-re2 gives wrong spans for a byte inside a character
    ],
)
def test_custom_regexes_must_be_bounded_and_portable(pattern: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        custom({"kind": "regex", "name": "code", "pattern": pattern})


def test_an_invalid_regex_error_does_not_quote_the_pattern(tmp_path: Path) -> None:
    # RE2 quotes the pattern from the error on; a pattern may be built around real values.
    from typer.testing import CliRunner

    from openai_casb.cli.app import app
    from openai_casb.dlp.regex_bounds import compile_re2

    with pytest.raises(ValueError, match=r"^invalid regex: missing \) \(pattern not quoted\)$"):
        compile_re2("(4716 2810 3355 7292|ACME-[0-9]{4}")
    with pytest.raises(ValueError, match=r"invalid escape sequence: \\q$"):
        compile_re2(r"ACME\q{1,3}")
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndlp:\n  custom_profiles:\n    - name: Cards\n      entries:\n"
                      "        - {kind: regex, name: card, pattern: '(4716 2810 3355 7292|ACME-[0-9]{4}'}\n")
    (tmp_path / "a.txt").write_text("x")
    result = CliRunner().invoke(app, ["dlp", "scan", str(tmp_path / "a.txt"), "--policy", str(policy)])
    assert result.exit_code == 2
    assert "invalid regex: missing )" in result.output
    assert "4716" not in result.output


@pytest.mark.filterwarnings("error")  # Python's parser warned on POSIX classes: RE2's must not
@pytest.mark.parametrize(
    "pattern",
    [r"\pL{1,10}", r"ID-[0-9]{4}\z", r"[[:alpha:]]{1,5}", r"\p{Greek}{2,8}", r"(?<code>K-[0-9]{3})", r"\Q1+1\E[0-9]{2}",
     r"x{1,24}(?:y{1,100}){1,10}"],
)
def test_valid_bounded_re2_patterns_are_accepted(pattern: str) -> None:
    custom({"kind": "regex", "name": "code", "pattern": pattern})


@pytest.mark.parametrize("backend", ["re2", "hyperscan"])
def test_unicode_class_patterns_find_non_ascii_text(backend: str) -> None:
    from openai_casb.dlp.detectors.search import HYPERSCAN_AVAILABLE

    if backend == "hyperscan" and not HYPERSCAN_AVAILABLE:
        pytest.skip("hyperscan is not installed on this platform")
    dlp = DlpEngine.from_settings(custom({"kind": "regex", "name": "Greek", "pattern": r"\p{Greek}{4,8}"}), backend)  # type: ignore[arg-type]
    assert dlp.match("the word Ωμέγα here").entry_matches[0].count == 1


def test_unknown_keys_profiles_and_entries_are_errors() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        DlpSettings.model_validate({"profile": {}})
    with pytest.raises(ValidationError, match="unknown predefined profile"):
        DlpSettings.model_validate({"profiles": {"Finance": {}}})
    with pytest.raises(ValidationError, match="has no entries"):
        DlpSettings.model_validate({"profiles": {"Financial Information": {"entries": {"Visa": False}}}})
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        DlpSettings.model_validate({"profiles": {"Financial Information": {"match_count": -1}}})
    with pytest.raises(ValidationError, match="differ from predefined"):
        DlpSettings.model_validate(
            {
                "custom_profiles": [
                    {"name": "Financial Information", "entries": [{"kind": "words", "name": "w", "words": ["x"]}]}
                ]
            }
        )


def test_predefined_profiles_are_named_as_documented() -> None:
    assert PREDEFINED_PROFILE_NAMES == (
        "Financial Information",
        "Social Security, Insurance, Tax and Identifier Numbers",
        "Credentials and Secrets",
    )
    assert "Visa Card Number" in PREDEFINED_ENTRIES["Financial Information"]
    assert "OpenAI API Key" in PREDEFINED_ENTRIES["Credentials and Secrets"]


def test_custom_regex_profile_matches_with_boundaries() -> None:
    dlp = DlpEngine.from_settings(custom({"kind": "regex", "name": "Project code", "pattern": r"ACME-[0-9]{4}"}))
    result = dlp.match("see ACME-1234 and ACME-5678, not xACME-9999")
    assert result.matched_profiles == ("Project X",)
    assert result.entry_matches[0].count == 2


def test_word_lists_are_case_insensitive_by_default_and_whole_words() -> None:
    dlp = DlpEngine.from_settings(custom({"kind": "words", "name": "Codenames", "words": ["Blue Falcon", "Nightjar"]}))
    result = dlp.match("blue falcon ships; NIGHTJAR too; nightjars do not count")
    assert result.entry_matches[0].count == 2
    sensitive = DlpEngine.from_settings(
        custom({"kind": "words", "name": "Codenames", "words": ["Nightjar"], "case_sensitive": True})
    )
    assert sensitive.match("NIGHTJAR nightjar").entry_matches == ()


def test_non_ascii_words_and_match_count() -> None:
    dlp = DlpEngine.from_settings(custom({"kind": "words", "name": "Projekte", "words": ["Größenwahn"]}, match_count=1))
    result = dlp.match("größenwahn und Größenwahn")
    assert result.entry_matches[0].count == 2
    assert result.matched_profiles == ("Project X",)


def test_exact_data_match_keeps_only_hashes(tmp_path: Path) -> None:
    csv_file = tmp_path / "customers.csv"
    csv_file.write_text("name,account\nJane Q Public,ACC-778812\nshort,ab\n", encoding="utf-8")
    dlp = DlpEngine.from_settings(
        custom({"kind": "edm", "name": "Customers", "csv_path": str(csv_file), "columns": ["name", "account"]})
    )
    assert "Jane" not in repr(dlp.__dict__) if hasattr(dlp, "__dict__") else True
    result = dlp.match("Customer jane q public has account ACC-778812; Jane Public does not match.")
    (entry,) = result.entry_matches
    assert entry.count == 2
    assert all("Jane" not in s and "778812" not in s for s in entry.masked_samples)


def test_exact_data_match_errors_are_clear(tmp_path: Path) -> None:
    missing = custom({"kind": "edm", "name": "Customers", "csv_path": str(tmp_path / "nope.csv")})
    with pytest.raises(EdmError, match="cannot read EDM file"):
        DlpEngine.from_settings(missing)
    (tmp_path / "c.csv").write_text("name\nJane Q Public\n", encoding="utf-8")
    wrong_column = custom({"kind": "edm", "name": "C", "csv_path": str(tmp_path / "c.csv"), "columns": ["email"]})
    with pytest.raises(EdmError, match="no column"):
        DlpEngine.from_settings(wrong_column)
    (tmp_path / "bin.csv").write_bytes(b"name\n\xff\xfe\x00garbage\n")
    with pytest.raises(EdmError, match="not a UTF-8 CSV"):
        DlpEngine.from_settings(custom({"kind": "edm", "name": "C", "csv_path": str(tmp_path / "bin.csv")}))


@pytest.mark.parametrize("backend", ["re2", "hyperscan"])
def test_valid_re2_that_hyperscan_refuses_runs_on_re2(backend: str) -> None:
    """`(?U)` is RE2 syntax Hyperscan does not take: the engine builds and the entry still matches."""
    from openai_casb.dlp.detectors.search import HYPERSCAN_AVAILABLE, hyperscan_compiles

    if backend == "hyperscan" and not HYPERSCAN_AVAILABLE:
        pytest.skip("hyperscan is not installed on this platform")
    if HYPERSCAN_AVAILABLE:
        assert not hyperscan_compiles(r"(?U)FALCON-[0-9]{4}")
    dlp = DlpEngine.from_settings(custom({"kind": "regex", "name": "lazy", "pattern": r"(?U)FALCON-[0-9]{4}"}), backend)  # type: ignore[arg-type]
    assert dlp.match("code FALCON-1234 here").entry_matches[0].count == 1
