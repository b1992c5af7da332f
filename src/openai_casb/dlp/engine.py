"""The DLP matching engine: every entry of every enabled profile in one pass over the text.

Pipeline: a backend (Hyperscan, else RE2) finds the segments holding a hit; each detector of
the segment's class is matched exactly inside them (Python re for built-in patterns, RE2 for user
patterns; once per class over the segments joined), cut to non-alphanumeric boundaries and
validated; keywords nearby raise confidence; overlapping detections are resolved (longer, then
more confident, then predefined order wins); bare card numbers of a text whose bare candidates
pass Luhn at chance are demoted (the population rule, decided once the whole text is read); only
masked samples and salted hashes leave.
"""

from __future__ import annotations

import hashlib
import json
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import re2

from openai_casb.dlp.detectors import PREDEFINED_DETECTORS, Detector
from openai_casb.dlp.detectors.base import MIN_DIGITS, SEGMENT_WINDOWS
from openai_casb.dlp.detectors.custom import build_custom_detectors
from openai_casb.dlp.detectors.financial import POPULATION_CHECKS
from openai_casb.dlp.detectors.pieces import Batch, continues, cut_digit_run, in_decimal
from openai_casb.dlp.detectors.search import encode, make_search
from openai_casb.dlp.edm import EdmSet
from openai_casb.dlp.engine_native import Exact, NativeExact, exact_wanted
from openai_casb.dlp.keywords import keyword_pattern
from openai_casb.dlp.profiles import Profile, resolve_custom, resolve_predefined
from openai_casb.dlp.settings import Confidence, DlpSettings, installation_salt
from openai_casb.inventory.model import EntryMatch
from openai_casb.redaction import mask_value

# Characters before and after a detection searched for its keywords: about the 50-100 tokens of
# context Presidio and Cloudflare use; 1000 let a word two paragraphs away promote a number.
KEYWORD_WINDOW = 200
MAX_SAMPLES = 3
MAX_HASHES = 20
# Bump when detection or extraction changes so cached verdicts are recomputed (3: EDM sentence
# ends; 4: numeric precision: decimals, `+` phones, weak and sample forms, keyword boundaries and
# window; 5: the card population rule, AWS secret access keys near their key id; 6: extraction
# reads mixed content as each kind, Office parts through relationships, embedded files, comments,
# and marks partly read files: verdicts cached before would keep their misses; 7: PDF lines whose
# glyphs are letter-spaced or in comb fields are rebuilt from glyph positions).
ENGINE_VERSION = "7"

# The population rule. A lone 16-digit id in a card issuer range passes Luhn one time in ten, so
# a column of 1,000 SKUs yields ~100 "cards"; nothing in one value tells them from cards, but the
# population does: in a real card list every bare candidate passes (typos aside), in an id list
# one in ten. Per text and per digit count, bare candidates (digits only, brand range and length)
# reaching the Luhn step are counted; when at least POPULATION_MIN_FAILED fail and the passes are
# no more than chance gives for that many failures (mean plus 3 standard deviations), the text's
# bare card detections without a keyword on their line are demoted to Low.
CHANCE_PASS = 0.1  # Luhn: one check digit in ten
# With fewer failures chance gives fewer than 2.2 false cards, and a short real list with a few
# typos or other numbers must not lose its cards (20 failing, 2 passing is a list of ids).
POPULATION_MIN_FAILED = 20

Backend = Literal["auto", "hyperscan", "hyperscan-native", "hyperscan-python", "re2"]


@dataclass(frozen=True, slots=True)
class MatchResult:
    entry_matches: tuple[EntryMatch, ...]
    matched_profiles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Detection:
    """Where a counted detection is: positions only, never the value (for evaluation and tests)."""

    start: int
    end: int
    profile: str
    entry: str
    confidence: Confidence


# A candidate detection, kept as a plain tuple (one is built per validated hit):
# (start, end, order, entry, confidence rank, EDM digest or None, stratum); order is the
# detector's index, EDM sets come after the detectors; stratum is the digit count of a bare value
# the population rule may demote (0: none).
_Candidate = tuple[int, int, int, str, int, str | None, int]
# Bare candidates of a text that reached a population check: start -> (digit count, passed).
_Census = dict[int, tuple[int, bool]]
_BY_SPAN = operator.itemgetter(0, 1)
_HIGH = Confidence.HIGH.rank
_LOW = Confidence.LOW.rank


def _keyword_regex(keywords: tuple[str, ...]) -> re2._Regexp | None:
    """ASCII keywords are searched in the encoded text (bytes), which spares RE2 a UTF-8
    conversion per search; a non-ASCII letter is `?` there, a non-alphanumeric as in the text."""
    if not keywords:
        return None
    pattern = keyword_pattern(keywords)
    return re2.compile(pattern.encode() if pattern.isascii() else pattern)


def _exact_pattern(detector: Detector) -> str:
    """The pattern run inside segments: a built-in one is bounded by alphanumeric look-arounds
    when the match is the value: a value needs non-alphanumeric characters on both sides anyway,
    and without them every 9 digits of a 12-digit group would be a match to reject."""
    if detector.key.startswith("custom:") or detector.value_group or detector.extend:
        return detector.pattern
    return f"(?<![A-Za-z0-9])(?:{detector.pattern})(?![A-Za-z0-9])"


def _exact_regex(detector: Detector) -> re.Pattern[str] | re2._Regexp:
    """Built-in patterns run on Python's re (or its C twin, engine_native); custom (user)
    patterns always run on RE2, which cannot backtrack."""
    if detector.key.startswith("custom:"):
        return re2.compile(detector.pattern)
    return re.compile(_exact_pattern(detector))


def population_at_chance(passed: int, failed: int) -> bool:
    """Whether `passed` Luhn passes beside `failed` failures is what random numbers give: at least
    POPULATION_MIN_FAILED failures, and passes within 3 standard deviations above the chance mean
    (given F failures, chance passes are negative-binomial: mean F*p/(1-p), deviation
    sqrt(F*p)/(1-p)). 1,000 random ids (~100 passing) are at chance; 1,000 ids and 50 cards not."""
    if failed < POPULATION_MIN_FAILED:
        return False
    p = CHANCE_PASS
    return passed <= failed * p / (1 - p) + 3 * math.sqrt(failed * p) / (1 - p)


class _Population:
    """Bare candidates of one text by digit count: [passed, failed] their checksum."""

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        self._counts: dict[int, list[int]] = {}

    def add(self, census: _Census, accept_from: int, accept_to: int) -> None:
        for start, (stratum, passed) in census.items():
            if accept_from <= start < accept_to:
                counts = self._counts.setdefault(stratum, [0, 0])
                counts[0 if passed else 1] += 1

    def at_chance(self, stratum: int) -> bool:
        passed, failed = self._counts.get(stratum, (0, 0))
        return population_at_chance(passed, failed)


# Tally key: (profile, entry, stratum); stratum 0 for detections the population rule leaves alone.
_Key = tuple[str, str, int]


class _Tally:
    """Counts, masked samples and hashes per (profile, entry); never the values.

    Detections the population rule may drop are kept apart by stratum until the whole text is
    read (a StreamMatcher decides only at `result`); samples and hashes carry their sequence
    number so that the merged lists are the first ones in text order, as if kept in one list."""

    def __init__(self, profiles: tuple[Profile, ...]) -> None:
        self._profiles = profiles
        self.population = _Population()
        self._sequence = 0
        self.counts: dict[_Key, int] = {}  # key -> detections (the engine's hot loop adds to full keys)
        # key -> (values, their sequence numbers)
        self._samples: dict[_Key, tuple[list[str], list[int]]] = {}
        self._hashes: dict[_Key, tuple[list[str], list[int]]] = {}
        # Keys whose samples and hashes are all kept: most detections of a busy file only count,
        # in `counts` directly (sequence numbers order kept values only).
        self.full: set[_Key] = set()

    def wants(self, key: _Key) -> tuple[bool, bool]:
        """Whether a new detection's (masked sample, hash) could still be kept: past the limits
        neither is computed, which spares a mask and a SHA-256 per detection on busy files."""
        samples, hashes = self._samples.get(key), self._hashes.get(key)
        return (
            samples is None or len(samples[0]) < MAX_SAMPLES,
            hashes is None or len(hashes[0]) < MAX_HASHES,
        )

    def add(self, key: _Key, masked: str | None, digest: str | None) -> None:
        self._sequence += 1
        count = self.counts.get(key)
        if count is None:
            self._samples[key] = ([], [])
            self._hashes[key] = ([], [])
            count = 0
        self.counts[key] = count + 1
        values, sequences = self._samples[key]
        if masked is not None and len(values) < MAX_SAMPLES and masked not in values:
            values.append(masked)
            sequences.append(self._sequence)
        values, sequences = self._hashes[key]
        if digest is not None and len(values) < MAX_HASHES and digest not in values:
            values.append(digest)
            sequences.append(self._sequence)
        if len(self._samples[key][0]) >= MAX_SAMPLES and len(values) >= MAX_HASHES:
            self.full.add(key)

    def result(self) -> MatchResult:
        strata: dict[tuple[str, str], list[int]] = {}
        for profile_name, entry, stratum in self.counts:
            if stratum == 0 or not self.population.at_chance(stratum):
                strata.setdefault((profile_name, entry), []).append(stratum)
        matches: list[EntryMatch] = []
        matched: list[str] = []
        for profile in self._profiles:
            total = 0
            for entry in profile.entries:
                keys = [(profile.name, entry, stratum) for stratum in strata.get((profile.name, entry), ())]
                count = sum(self.counts[key] for key in keys)
                if count:
                    total += count
                    samples = _first_distinct([self._samples[key] for key in keys], MAX_SAMPLES)
                    hashes = _first_distinct([self._hashes[key] for key in keys], MAX_HASHES)
                    matches.append(EntryMatch(profile.name, entry, count, samples, hashes))
            if total > profile.match_count:
                matched.append(profile.name)
        return MatchResult(tuple(matches), tuple(matched))


def _first_distinct(parts: list[tuple[list[str], list[int]]], limit: int) -> tuple[str, ...]:
    """The first `limit` distinct values in sequence order. Exact for the union of parts that each
    hold the first `limit` distinct values of their detections: a value among the union's first
    `limit` has fewer than `limit` distinct values before it in its own part."""
    if len(parts) == 1:
        return tuple(parts[0][0])
    kept: list[str] = []
    ordered = sorted((seq, value) for values, sequences in parts for value, seq in zip(values, sequences, strict=True))
    for _, value in ordered:
        if value not in kept:
            kept.append(value)
            if len(kept) == limit:
                break
    return tuple(kept)


class DlpEngine:
    """Built once per scan from settings; `match` and `matcher` are safe to call repeatedly."""

    def __init__(
        self,
        profiles: tuple[Profile, ...],
        detectors: tuple[Detector, ...],
        edm_sets: tuple[tuple[str, EdmSet], ...],
        salt: str,
        backend: Backend = "auto",
        extra_digest: str = "",
        exact: Exact = "auto",
    ) -> None:
        self._profiles = profiles
        self._salt = salt
        enabled = {(p.name, e) for p in profiles for e in p.entries}
        self._detectors = tuple(d for d in detectors if any((d.profile, e) in enabled for e in d.entries))
        self._enabled_entries = enabled
        self._edm_sets = tuple((p, s) for p, s in edm_sets if (p, s.name) in enabled)
        self._threshold = {p.name: p.confidence.rank for p in profiles}
        # Built-in patterns are simple and bounded: Python's re matches them inside a short segment
        # with less call overhead. Custom (user) patterns always run on RE2, which cannot backtrack.
        self._regexes = tuple(_exact_regex(d) for d in self._detectors)
        self._keywords = tuple(_keyword_regex(d.keywords) for d in self._detectors)
        self._extends = tuple(re.compile(d.extend) if d.extend else None for d in self._detectors)
        self._population_checks = tuple(
            None if d.key.startswith("custom:") else POPULATION_CHECKS.get(d.key) for d in self._detectors
        )
        self._by_class: dict[str, tuple[int, ...]] = {}
        for index, detector in enumerate(self._detectors):
            self._by_class[detector.segment] = (*self._by_class.get(detector.segment, ()), index)
        searchable = tuple(i for i, d in enumerate(self._detectors) if d.ascii_only)
        self._always_run = tuple(i for i, d in enumerate(self._detectors) if not d.ascii_only)
        self._searched_by_class = {
            c: tuple(i for i in indexes if i not in self._always_run) for c, indexes in self._by_class.items()
        }
        self._longest_digit_value = max(
            (d.max_length for d in self._detectors if d.segment == "digits"), default=MIN_DIGITS
        )
        patterns: dict[int, tuple[str, ...]] = {i: (self._detectors[i].fast_pattern,) for i in searchable}
        self._search = make_search(backend, self._detectors, searchable, patterns)
        self.backend: str = self._search.name
        self._native: NativeExact | None = None
        if exact_wanted(exact):
            self._native = NativeExact(
                self._detectors, [_exact_pattern(d) for d in self._detectors], self._population_checks, enabled,
                self._threshold, KEYWORD_WINDOW,
            )
        self.exact = "native" if self._native is not None else "python"
        # Per candidate order (detectors, then EDM sets): its profile, and whether the population
        # rule's demotion to Low can drop it (its profile counts above Low).
        orders = range(len(self._detectors) + len(self._edm_sets))
        self._order_profiles = tuple(self._profile_of(order) for order in orders)
        self._order_demotable = tuple(self._threshold[profile] > _LOW for profile in self._order_profiles)
        self.max_match_length = max((d.max_length for d in self._detectors), default=0)
        self.profile_set_digest = hashlib.sha256(
            json.dumps(
                {
                    "version": ENGINE_VERSION,
                    "profiles": [[p.name, list(p.entries), p.match_count, p.confidence.value] for p in profiles],
                    "salt": hashlib.sha256(salt.encode()).hexdigest(),
                    "custom": extra_digest,
                },
                sort_keys=True,
            ).encode()
        ).hexdigest()

    def __repr__(self) -> str:
        return f"DlpEngine(profiles={list(self.enabled_profiles)}, backend={self.backend!r})"

    @classmethod
    def from_settings(cls, settings: DlpSettings, backend: Backend = "auto", exact: Exact = "auto") -> DlpEngine:
        """Raises ValueError (with a message fit for a user) when the settings cannot be used.
        `exact` picks the exact step: C (engine_native) for ASCII text when built, or Python."""
        profiles = resolve_predefined(settings) + resolve_custom(settings)
        salt = settings.salt or installation_salt()
        custom_detectors, edm_sets, custom_digest = build_custom_detectors(settings, salt)
        return cls(profiles, PREDEFINED_DETECTORS + custom_detectors, edm_sets, salt, backend, custom_digest, exact)

    @property
    def enabled_profiles(self) -> tuple[str, ...]:
        return tuple(p.name for p in self._profiles)

    def match(self, text: str) -> MatchResult:
        tally = _Tally(self._profiles)
        self._detect_into(tally, text, 0, len(text))
        return tally.result()

    def detections(self, text: str) -> tuple[Detection, ...]:
        """The detections `match` counts, with their positions in `text` (and their confidence
        after the population rule)."""
        census: _Census = {}
        resolved = self._resolve(self._candidates(text, census))
        population = _Population()
        population.add(census, 0, len(text))
        found: list[Detection] = []
        for start, end, order, entry, rank, _digest, stratum in resolved:
            profile = self._profile_of(order)
            if stratum and population.at_chance(stratum):
                rank = _LOW
                if rank < self._threshold[profile]:
                    continue
            confidence = (Confidence.LOW, Confidence.MEDIUM, Confidence.HIGH)[rank]
            found.append(Detection(start, end, profile, entry, confidence))
        return tuple(found)

    def matcher(self) -> StreamMatcher:
        return StreamMatcher(self, _Tally(self._profiles))

    def redact(self, text: str) -> str:
        """`text` with each detection `match` would count replaced by its masked form (as in
        masked samples): for text shown to people that was not scanned as content, e.g. the
        name of an archive entry in a note). Detections the population rule would demote are
        masked too: masking more is harmless there."""
        detectors = self._detectors
        parts: list[str] = []
        last = 0
        for start, end, order, _entry, _rank, _digest, _stratum in self._resolve(self._candidates(text, {})):
            value = text[start:end]
            parts.append(text[last:start])
            parts.append(detectors[order].mask(value) if order < len(detectors) else mask_value(value))
            last = end
        parts.append(text[last:])
        return "".join(parts)

    # --- internals -------------------------------------------------------------------------

    def _profile_of(self, order: int) -> str:
        detectors = self._detectors
        return detectors[order].profile if order < len(detectors) else self._edm_sets[order - len(detectors)][0]

    def _detect_into(self, tally: _Tally, text: str, accept_from: int, accept_to: int) -> None:
        """Add detections and population counts of `text` starting in [accept_from, accept_to) to the tally."""
        detectors = self._detectors
        census: _Census = {}
        candidates = self._candidates(text, census)
        tally.population.add(census, accept_from, accept_to)
        profiles, demotable, full, counts = self._order_profiles, self._order_demotable, tally.full, tally.counts
        for start, end, order, entry, _rank, edm_digest, stratum in self._resolve(candidates):
            if not accept_from <= start < accept_to:
                continue
            # Demoted to Low, a detection still counts under a profile at confidence Low.
            key = (profiles[order], entry, stratum if stratum and demotable[order] else 0)
            if key in full:
                counts[key] += 1
                continue
            want_sample, want_hash = tally.wants(key)
            masked = digest = None
            if order < len(detectors):
                detector = detectors[order]
                value = text[start:end]
                masked = detector.mask(value) if want_sample else None
                if want_hash:
                    digest = hashlib.sha256(f"{self._salt}\x00{detector.normalize(value)}".encode()).hexdigest()
            else:
                masked = mask_value(text[start:end]) if want_sample else None
                digest = edm_digest or ""
            tally.add(key, masked, digest)

    def _candidates(self, text: str, census: _Census) -> list[_Candidate]:
        """Validated candidates above their profile's threshold; `census` gets the bare values
        that reached a population check (start -> digit count, passed)."""
        found: list[_Candidate] = []
        ascii_text = text.isascii()
        native = self._native if ascii_text else None
        encoded: list[bytes] = []

        def data() -> bytes:  # encoded once, if the Python step or the search needs it
            if not encoded:
                encoded.append(encode(text))
            return encoded[0]

        segments = self._search.segments(text if ascii_text else data())
        for segment_class, spans in segments.by_class.items():
            if segment_class == "digits":
                spans = self._digit_pieces(text, spans)
            for batch in _batches(text, segment_class, spans):
                for index in self._searched_by_class.get(segment_class, ()):
                    self._run_detector(native, text, data, index, batch, found, census)
        for index, spans in segments.by_detector.items():
            for batch in _batches(text, self._detectors[index].segment, spans):
                self._run_detector(native, text, data, index, batch, found, census)
        whole = Batch(text, [(0, len(text))])
        for index in self._always_run:
            self._run_detector(native, text, data, index, whole, found, census)
        for offset, (_profile, edm) in enumerate(self._edm_sets):
            order = len(self._detectors) + offset
            for start, end, digest in edm.find(text):
                found.append((start, end, order, edm.name, Confidence.HIGH.rank, digest, 0))
        return found

    def _run_detector(
        self, native: NativeExact | None, text: str, data: Callable[[], bytes], index: int, batch: Batch,
        found: list[_Candidate], census: _Census,
    ) -> None:
        """One detector over one batch of spans: in C when it can, else (or when PCRE2 gives up
        on a pathological text, its partial output dropped) in Python."""
        if native is not None and native.covers(index):
            kept = len(found)
            try:
                native.match(index, text, batch.spans, found, census)
                return
            except RuntimeError:
                del found[kept:]
        self._match_detector(text, data(), index, batch, found, census)

    def _digit_pieces(self, text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        longest = self._longest_digit_value
        pieces: list[tuple[int, int]] = []
        for start, end in spans:
            if end - start > 4 * longest:
                pieces.extend(cut_digit_run(text, start, end, longest))
            else:
                pieces.append((start, end))
        return pieces

    def _match_detector(
        self, text: str, data: bytes, index: int, batch: Batch, found: list[_Candidate], census: _Census
    ) -> None:
        detector = self._detectors[index]
        refused = self._population_checks[index]
        counted = census if refused is not None else None
        group = detector.value_group
        extend = self._extends[index]
        keywords = self._keywords[index]
        threshold = self._threshold[detector.profile]
        base = detector.base.rank
        regex, joined = self._regexes[index], batch.joined
        # Built-in patterns: a match that does not validate must not hide a value starting inside
        # it ("5123-4111 1111 1111 1111" holds a card after the dash), so the search goes on from
        # its next character. User patterns keep RE2's non-overlapping matches.
        retry = isinstance(regex, re.Pattern)
        matches = iter(()) if retry else regex.finditer(joined)
        position = 0
        while True:
            match = regex.search(joined, position) if retry else next(matches, None)
            if match is None:
                break
            position = match.start() + 1
            value_start, value_end = match.span(group)
            if value_start < 0:
                continue
            offset = batch.offset_at(value_start)
            value_start += offset
            value_end += offset
            if extend is not None:
                tail = extend.match(text, value_end, value_start + detector.max_length)
                if tail is None:
                    continue
                value_end = tail.end()
            hit = self._validate(text, detector, value_start, value_end, counted, refused)
            if hit is None:
                continue
            value_start, value_end, entry = hit
            position = max(position, min(match.end(), value_end - offset))
            if (detector.profile, entry) not in self._enabled_entries:
                continue
            rank = base
            form = None if detector.judge is None else detector.judge(text, value_start, value_end)
            if form is not None:
                if form == "reject":
                    continue
                rank = _LOW
            if keywords is not None and form != "sample":
                rank = self._confidence_of(keywords, text, data, value_start, value_end, rank)
            # A bare value without a judged form is one the population rule demotes when the text's
            # bare candidates pass at chance, unless a keyword is on its own line (its row): in an
            # id list, "paid by card ..." in one row must not vouch for the ids of the rows around.
            stratum = 0
            if refused is not None and form is None and text[value_start:value_end].isdigit() and (
                rank == base
                or (keywords is not None and not self._keyword_on_line(keywords, text, data, value_start, value_end))
            ):
                stratum = value_end - value_start
            # Below the profile's threshold a detection neither counts nor hides another one.
            if rank >= threshold:
                found.append((value_start, value_end, index, entry, rank, None, stratum))

    @staticmethod
    def _validate(
        text: str,
        detector: Detector,
        start: int,
        end: int,
        census: _Census | None = None,
        refused: Callable[[str], bool] | None = None,
    ) -> tuple[int, int, str] | None:
        """Boundaries and validator; a too-long match may be cut back at its separators (card groups).

        Digits after `+` are a phone number (E.164), never a digit detector's value; digits that
        are part of a decimal number (`0.4702573977223816`, `605.961510684348`) are no value of
        any detector. With a `census`, each bare value (digits only) given to the validator is
        recorded: passed, or refused by `refused` (its checksum alone)."""
        digits = detector.segment == "digits"
        if start > 0 and (text[start - 1].isalnum() or (digits and text[start - 1] == "+")):
            return None
        candidate_end = end
        while True:
            if (candidate_end >= len(text) or not text[candidate_end].isalnum()) and not (
                continues(text, start, candidate_end) if digits else in_decimal(text, start, candidate_end)
            ):
                value = text[start:candidate_end]
                entry = detector.classify(value)
                if census is not None and refused is not None and value.isdigit():
                    if entry is not None:
                        census[start] = (candidate_end - start, True)
                    elif refused(value):
                        census[start] = (candidate_end - start, False)
                if entry is not None:
                    return start, candidate_end, entry
            if not detector.trim:
                return None
            candidate_end -= 1
            while candidate_end > start and text[candidate_end] not in detector.trim:
                candidate_end -= 1
            if candidate_end <= start:
                return None

    @staticmethod
    def _confidence_of(keywords: re2._Regexp, text: str, data: bytes, start: int, end: int, base: int) -> int:
        if base >= _HIGH:
            return base
        source: str | bytes = data if isinstance(keywords.pattern, bytes) else text
        window = source[max(0, start - KEYWORD_WINDOW) : end + KEYWORD_WINDOW]
        return _HIGH if keywords.search(window) else base

    @staticmethod
    def _keyword_on_line(keywords: re2._Regexp, text: str, data: bytes, start: int, end: int) -> bool:
        """A keyword within the keyword window and on the value's line."""
        low = max(0, start - KEYWORD_WINDOW)
        high = end + KEYWORD_WINDOW
        before = text.rfind("\n", low, start)
        after = text.find("\n", end, high)
        source: str | bytes = data if isinstance(keywords.pattern, bytes) else text
        return keywords.search(source[before + 1 if before >= 0 else low : after if after >= 0 else high]) is not None

    @staticmethod
    def _resolve(candidates: list[_Candidate]) -> list[_Candidate]:
        """Drop detections overlapping a longer (then more confident, then earlier-defined) one."""
        candidates.sort(key=_BY_SPAN)
        kept: list[_Candidate] = []
        cluster: list[_Candidate] = []
        cluster_end = -1
        for candidate in candidates:
            if candidate[0] < cluster_end:
                cluster.append(candidate)
                cluster_end = max(cluster_end, candidate[1])
                continue
            if len(cluster) == 1:
                kept.append(cluster[0])
            elif cluster:
                kept.extend(_choose(cluster))
            cluster = [candidate]
            cluster_end = candidate[1]
        if cluster:
            kept.extend(_choose(cluster))
        return kept


def _batches(text: str, segment_class: str, spans: list[tuple[int, int]]) -> list[Batch]:
    """One batch of all the spans, or one per span for window classes: their matches may hold any
    character, so no joint could keep a match from running from one window into the next."""
    if not spans:
        return []
    if segment_class in SEGMENT_WINDOWS:
        return [Batch(text, [span]) for span in spans]
    return [Batch(text, spans)]


def _choose(cluster: list[_Candidate]) -> list[_Candidate]:
    """The non-overlapping detections of a cluster: longer, then more confident, then defined first."""
    if len(cluster) == 1:
        return cluster
    chosen: list[_Candidate] = []
    for c in sorted(cluster, key=lambda c: (c[0] - c[1], -c[4], c[2], c[0])):
        if all(c[1] <= k[0] or k[1] <= c[0] for k in chosen):
            chosen.append(c)
    return sorted(chosen, key=_BY_SPAN)


class StreamMatcher:
    """Matches a text fed in chunks, as `match` would match it whole.

    Windows overlap by more than the longest match plus the keyword window on each side; a
    detection is counted by the window in which it starts, and a window is cut after a newline
    where one is near so that no segment (except PEM blocks) straddles the cut.
    """

    WINDOW = 4 << 20

    def __init__(self, engine: DlpEngine, tally: _Tally) -> None:
        self._engine = engine
        self._tally = tally
        self._overlap = engine.max_match_length + KEYWORD_WINDOW + 64
        self._chunks: list[str] = []
        self._buffered = 0
        self._accept_from = 0  # in the current buffer
        self._result: MatchResult | None = None

    def feed(self, chunk: str) -> None:
        if self._result is not None:
            raise RuntimeError("feed() after result(): start a new matcher for a new text")
        if not chunk:
            return
        self._chunks.append(chunk)
        self._buffered += len(chunk)
        if self._buffered >= self._accept_from + self.WINDOW + self._overlap:
            self._process(final=False)

    def result(self) -> MatchResult:
        if self._result is None:
            self._process(final=True)
            self._result = self._tally.result()
        return self._result

    def _process(self, final: bool) -> None:
        text = "".join(self._chunks)
        if final:
            cut = len(text)
        else:
            limit = len(text) - self._overlap
            newline = text.rfind("\n", self._accept_from, limit)
            cut = newline + 1 if newline >= self._accept_from else limit
        self._engine._detect_into(self._tally, text, self._accept_from, cut)
        keep_from = max(0, cut - self._overlap)
        self._chunks = [text[keep_from:]]
        self._buffered = len(text) - keep_from
        self._accept_from = cut - keep_from
