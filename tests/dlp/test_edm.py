"""Exact data match: values end where a sentence does, values holding dots match as written, hashes only."""

from __future__ import annotations

from pathlib import Path

import pytest

from openai_casb.dlp.edm import EdmError, EdmSet, load_edm, normalize, value_hash

SALT = "edm-test-salt"
VALUES = ["Alice Wonderland", "ACCT-998877", "J.R. Smith", "jane.doe@example.com", "ACCT-99.88", "Acme Holdings Inc."]


@pytest.fixture
def edm(tmp_path: Path) -> EdmSet:
    path = tmp_path / "customers.csv"
    path.write_text("value\n" + "\n".join(VALUES) + "\n", encoding="utf-8")
    return load_edm("Customers", path, (), False, SALT)


def found(edm: EdmSet, text: str) -> list[str]:
    return [text[start:end] for start, end, _digest in edm.find(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Our customer is Alice Wonderland.", ["Alice Wonderland"]),
        ("Is it Alice Wonderland? Yes!", ["Alice Wonderland"]),
        ("Pay account ACCT-998877!", ["ACCT-998877"]),
        ("Pay account ACCT-998877.", ["ACCT-998877"]),
        ("Pay account ACCT-998877...", ["ACCT-998877"]),
        ("Signed by J.R. Smith.", ["J.R. Smith"]),
        ("Signed by J.R. Smith today", ["J.R. Smith"]),
        ("Write to jane.doe@example.com.", ["jane.doe@example.com"]),
        ("Balance of ACCT-99.88.", ["ACCT-99.88"]),
        # A cell ending with a dot matches with or without it in the text.
        ("We bought Acme Holdings Inc. last year", ["Acme Holdings Inc"]),
        ("We bought Acme Holdings Inc", ["Acme Holdings Inc"]),
    ],
)
def test_values_match_before_sentence_punctuation(edm: EdmSet, text: str, expected: list[str]) -> None:
    assert found(edm, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Signed by JR Smith.",  # the dots inside a value are part of it
        "Signed by J.R Smith",
        "Write to jane.doe@example.org.",
        "Balance of ACCT-9988.",
        "Balance of ACCT-99.88.1",
        "Alice. Wonderland",  # a dot inside a run is not a sentence end of the value
        "ACCT-998877x.",
    ],
)
def test_values_holding_dots_still_match_exactly(edm: EdmSet, text: str) -> None:
    assert found(edm, text) == []


def test_only_salted_hashes_are_kept(edm: EdmSet) -> None:
    assert edm.hashes == frozenset(value_hash(SALT, normalize(value, False)) for value in VALUES)
    assert value_hash(SALT, "alice wonderland") in edm.hashes
    assert value_hash("other-salt", "alice wonderland") not in edm.hashes
    kept = repr(edm) + repr(edm.hashes) + repr(edm.token_counts)
    for value in VALUES:
        assert value not in kept
        assert value.casefold() not in kept
    for _start, _end, digest in edm.find("Our customer is Alice Wonderland."):
        assert digest == value_hash(SALT, "alice wonderland")


def test_missing_column_error_never_quotes_a_first_row_of_values(tmp_path: Path) -> None:
    path = tmp_path / "nohdr.csv"
    path.write_text("536-22-9876,Alice Wonderland,ACCT-99.88\n123-45-6789,Bob Builder,ACCT-11.22\n", encoding="utf-8")
    with pytest.raises(EdmError) as error:
        load_edm("Customers", path, ("account",), False, SALT)
    message = str(error.value)
    assert "['account']" in message
    assert "3 cell(s)" in message
    assert "must be a header" in message
    for cell in ("536-22-9876", "Alice Wonderland", "ACCT-99.88", "Alice"):
        assert cell not in message
