"""Engine behaviour: backends agree, streaming equals whole-text matching, counting and secrecy."""

from __future__ import annotations

import random

import pytest
from quality.generator import filler, generate_corpus

from openai_casb.dlp.detectors.search import HYPERSCAN_AVAILABLE
from openai_casb.dlp.engine import DlpEngine, StreamMatcher
from openai_casb.dlp.settings import DlpSettings, ProfileSettings

FIN = "Financial Information"
IDS = "Social Security, Insurance, Tax and Identifier Numbers"
SEC = "Credentials and Secrets"
VISA = "4716 2810 3355 7292"


def engine(backend: str = "auto", **settings: object) -> DlpEngine:
    settings.setdefault("salt", "engine-test-salt")
    return DlpEngine.from_settings(DlpSettings(**settings), backend=backend)  # type: ignore[arg-type]


@pytest.mark.skipif(not HYPERSCAN_AVAILABLE, reason="hyperscan wheels are x86_64 Linux only")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hyperscan_and_re2_give_identical_results(seed: int) -> None:
    text, _ = generate_corpus(seed=seed, per_entry=15, negatives_per_kind=10, spacing=200)
    rng = random.Random(seed)
    # Dense, messy variants too: values glued to punctuation, digit runs, lines cut short.
    messy = "".join(rng.choice([text[i : i + 300], "\n", ",", "-", " 12 ", "x"]) for i in range(0, len(text), 300))
    for sample in (text, messy):
        hs, r2 = engine("hyperscan"), engine("re2")
        assert hs.detections(sample) == r2.detections(sample)
        assert hs.match(sample) == r2.match(sample)


@pytest.mark.parametrize("window", [3000, 20_000])
def test_streaming_matches_whole_text_without_loss_or_double_count(
    window: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(StreamMatcher, "WINDOW", window)
    text, labels = generate_corpus(seed=9, per_entry=8, negatives_per_kind=4, spacing=300)
    dlp = engine()
    whole = dlp.match(text)
    rng = random.Random(window)
    matcher = dlp.matcher()
    position = 0
    while position < len(text):
        size = rng.choice([1, 7, 500, 4096, 65_536])
        matcher.feed(text[position : position + size])
        position += size
    assert matcher.result() == whole
    assert sum(m.count for m in whole.entry_matches) == sum(1 for lab in labels if lab.entry)


def test_feeding_after_result_is_an_error() -> None:
    matcher = engine().matcher()
    matcher.feed("SSN 123-45-6788")
    matcher.result()
    with pytest.raises(RuntimeError, match="after result"):
        matcher.feed("more")


def test_match_count_is_exceeded_not_reached() -> None:
    text = f"card {VISA} and card 5412 7534 5612 3459"
    assert engine().match(text).matched_profiles == (FIN,)
    strict = engine(profiles={FIN: ProfileSettings(match_count=2)}).match(text)
    assert strict.matched_profiles == ()
    assert sum(m.count for m in strict.entry_matches) == 2


def test_results_hold_masked_samples_and_salted_hashes_only() -> None:
    values = [f"card 4111 1111 1111 {i:04d}" for i in range(1000)]
    text = " . ".join(values)  # one in ten passes Luhn
    result = engine().match(text)
    (visa,) = result.entry_matches
    assert visa.count > 20
    assert len(visa.masked_samples) == 3
    assert len(visa.value_hashes) == 20
    assert all(s.startswith("**** **** **** ") for s in visa.masked_samples)
    assert "4111 1111" not in repr(result)
    assert engine(salt="another-salt-value").match(text).entry_matches[0].value_hashes != visa.value_hashes


def test_repeated_value_has_one_hash_whatever_its_separators() -> None:
    (visa,) = (
        engine().match(f"card {VISA} / card {VISA.replace(' ', '-')} / card {VISA.replace(' ', '')}").entry_matches
    )
    assert visa.count == 3
    assert len(visa.value_hashes) == 1


def test_card_inside_iban_is_not_reported() -> None:
    # The BBAN's last 16 digits pass Luhn and look like a Visa number; the IBAN wins.
    iban = "GB33 BUKB 2020 1555 5555 55"
    result = engine().match(f"card payment to IBAN {iban}")
    assert [m.entry for m in result.entry_matches] == ["IBAN"]


def test_values_need_alphanumeric_boundaries() -> None:
    dlp = engine()
    assert dlp.match("SSN 123-45-6788").entry_matches
    assert not dlp.match("SSN x123-45-6788").entry_matches
    assert not dlp.match("SSN 123-45-67881").entry_matches
    assert not dlp.match("SSN 1123-45-6788").entry_matches


def test_weak_entries_need_a_keyword_at_default_confidence() -> None:
    nhs = "943 476 5919"
    far = filler(random.Random(1), 1200)
    assert engine().match(f"NHS number {nhs}").entry_matches
    assert not engine().match(f"number {nhs}").entry_matches
    assert not engine().match(f"NHS {far} {nhs}").entry_matches
    low = engine(profiles={IDS: ProfileSettings(confidence="low")})  # type: ignore[arg-type]
    assert low.match(f"number {nhs}").entry_matches


def test_disabled_profiles_and_entries_are_not_matched() -> None:
    text = f"card {VISA} SSN 123-45-6788 AKIAIOSFODNN7EXAMPLF"
    dlp = engine(
        profiles={FIN: ProfileSettings(enabled=False), SEC: ProfileSettings(entries={"AWS Access Key ID": False})}
    )
    assert dlp.enabled_profiles == (IDS, SEC)
    assert [m.entry for m in dlp.match(text).entry_matches] == ["US Social Security Number"]


def test_profile_set_digest_is_stable_and_tracks_settings() -> None:
    assert engine().profile_set_digest == engine().profile_set_digest
    assert engine("re2").profile_set_digest == engine().profile_set_digest
    assert engine(profiles={FIN: ProfileSettings(match_count=3)}).profile_set_digest != engine().profile_set_digest
    assert engine(salt="other-salt-1").profile_set_digest != engine().profile_set_digest


def test_non_ascii_text_keeps_offsets() -> None:
    text = f"Zahlung für Karte {VISA} — Größe ✓ SSN 123-45-6788 😀 AKIAIOSFODNN7EXAMPLF"
    dlp = engine()
    spans = {d.entry: text[d.start : d.end] for d in dlp.detections(text)}
    assert spans == {
        "Visa Card Number": VISA,
        "US Social Security Number": "123-45-6788",
        "AWS Access Key ID": "AKIAIOSFODNN7EXAMPLF",
    }


def test_empty_and_huge_lines() -> None:
    dlp = engine()
    assert dlp.match("").entry_matches == ()
    assert dlp.match("1" * 200_000).entry_matches == ()
    assert dlp.match(("1234 " * 50_000) + f" card {VISA}").entry_matches[0].count == 1


def test_redact_masks_each_detection_as_samples_are_masked() -> None:
    dlp = engine()
    text = f"entry AKIAEL35CRPBUJFUPCR4.txt and card {VISA}.bin, SSN 536-22-1947; plain words stay"
    redacted = dlp.redact(text)
    for value in ("AKIAEL35CRPBUJFUPCR4", VISA, "536-22-1947"):
        assert value not in redacted
    samples = {s for m in dlp.match(text).entry_matches for s in m.masked_samples}
    assert len(samples) == 3
    assert all(sample in redacted for sample in samples)
    assert redacted.startswith("entry AKIA")
    assert redacted.endswith("7292.bin, SSN ***-**-****; plain words stay")
    assert dlp.redact("entry ok.txt not scanned: encrypted") == "entry ok.txt not scanned: encrypted"
