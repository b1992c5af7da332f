"""The DLP matching engine: every entry of every enabled profile in one pass over the text.

Pipeline: a backend (Hyperscan, else RE2) finds the segments holding a hit; each detector of
the segment's class is matched exactly inside them (Python re for built-in patterns, RE2 for user
patterns; once per class over the segments joined), cut to non-alphanumeric boundaries and
validated; keywords nearby raise confidence; overlapping detections are resolved (longer, then
more confident, then predefined order wins); only masked samples and salted hashes leave.
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
from dataclasses import dataclass
from typing import Literal

import re2

from openai_casb.dlp.detectors import PREDEFINED_DETECTORS, Detector
from openai_casb.dlp.detectors.base import MIN_DIGITS
from openai_casb.dlp.detectors.custom import build_custom_detectors
from openai_casb.dlp.detectors.pieces import Batch, continues, cut_digit_run, in_decimal
from openai_casb.dlp.detectors.search import encode, make_search
from openai_casb.dlp.edm import EdmSet
from openai_casb.dlp.profiles import Profile, resolve_custom, resolve_predefined
from openai_casb.dlp.settings import Confidence, DlpSettings, installation_salt
from openai_casb.inventory.model import EntryMatch
from openai_casb.redaction import mask_value

# Characters before and after a detection searched for its keywords: about the 50-100 tokens of
# context Presidio and Cloudflare use; 1000 let a word two paragraphs away promote a number.
KEYWORD_WINDOW = 200
MAX_SAMPLES = 3
MAX_HASHES = 20
# Bump when detection changes so cached verdicts are recomputed (3: EDM sentence ends; 4: numeric
# precision: decimals, `+` phones, weak and sample forms, keyword boundaries and window).
ENGINE_VERSION = "5"  # 5 includes AWS secret access keys near their key id (secrets.py)

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
# (start, end, order, entry, confidence rank, EDM digest or None); order is the detector's
# index, EDM sets come after the detectors.
_Candidate = tuple[int, int, int, str, int, str | None]
_BY_SPAN = operator.itemgetter(0, 1)
_HIGH = Confidence.HIGH.rank
_LOW = Confidence.LOW.rank


def _keyword_alternatives(keywords: list[str]) -> str:
    # A space in a phrase also matches `_` and `-`: "card number" finds card_number, card-number.
    return "|".join(re2.escape(k).replace("\\ ", "[ _\\-]") for k in sorted(keywords, key=len, reverse=True))


def _keyword_regex(keywords: tuple[str, ...]) -> re2._Regexp | None:
    """A keyword is a whole word: `_` and `-` are word characters here, so `patient_ref` or
    `.card-4` hold no keyword. Keywords written in capitals (acronyms: `SIN`, `PAN`) match in
    capitals only, so `np.sin(x)` is no SIN; the others match in any case.

    ASCII keywords are searched in the encoded text (bytes), which spares RE2 a UTF-8
    conversion per search; a non-ASCII letter is `?` there, a non-alphanumeric as in the text."""
    if not keywords:
        return None
    acronyms = [k for k in keywords if k.isupper()]
    words = [k.lower() for k in keywords if not k.isupper()]
    alternatives = [f"(?i:{_keyword_alternatives(words)})"] if words else []
    if acronyms:
        alternatives.append(_keyword_alternatives(acronyms))
    edge = "[^A-Za-z0-9_\\-]"
    pattern = f"(?:^|{edge})(?:{'|'.join(alternatives)})(?:{edge}|$)"
    return re2.compile(pattern.encode() if pattern.isascii() else pattern)


def _exact_regex(detector: Detector) -> re.Pattern[str] | re2._Regexp:
    """The regex run inside segments. Built-in patterns run on Python's re, bounded by
    alphanumeric look-arounds when the match is the value: a value needs non-alphanumeric
    characters on both sides anyway, and without them every 9 digits of a 12-digit group would be
    a match to reject in Python. Custom (user) patterns always run on RE2, which cannot backtrack."""
    if detector.key.startswith("custom:"):
        return re2.compile(detector.pattern)
    if detector.value_group or detector.extend:
        return re.compile(detector.pattern)
    return re.compile(f"(?<![A-Za-z0-9])(?:{detector.pattern})(?![A-Za-z0-9])")


class _Tally:
    """Counts, masked samples and hashes per (profile, entry); never the values."""

    def __init__(self, profiles: tuple[Profile, ...]) -> None:
        self._profiles = profiles
        self._counts: dict[tuple[str, str], int] = {}
        self._samples: dict[tuple[str, str], list[str]] = {}
        self._hashes: dict[tuple[str, str], list[str]] = {}

    def wants(self, profile: str, entry: str) -> tuple[bool, bool]:
        """Whether a new detection's (masked sample, hash) could still be kept: past the limits
        neither is computed, which spares a mask and a SHA-256 per detection on busy files."""
        key = (profile, entry)
        return len(self._samples.get(key, ())) < MAX_SAMPLES, len(self._hashes.get(key, ())) < MAX_HASHES

    def add(self, profile: str, entry: str, masked: str | None, digest: str | None) -> None:
        key = (profile, entry)
        self._counts[key] = self._counts.get(key, 0) + 1
        samples = self._samples.setdefault(key, [])
        if masked is not None and len(samples) < MAX_SAMPLES and masked not in samples:
            samples.append(masked)
        hashes = self._hashes.setdefault(key, [])
        if digest is not None and len(hashes) < MAX_HASHES and digest not in hashes:
            hashes.append(digest)

    def result(self) -> MatchResult:
        matches: list[EntryMatch] = []
        matched: list[str] = []
        for profile in self._profiles:
            total = 0
            for entry in profile.entries:
                count = self._counts.get((profile.name, entry), 0)
                if count:
                    total += count
                    key = (profile.name, entry)
                    matches.append(EntryMatch(profile.name, entry, count, tuple(self._samples[key]),
                                              tuple(self._hashes[key])))
            if total > profile.match_count:
                matched.append(profile.name)
        return MatchResult(tuple(matches), tuple(matched))


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
    def from_settings(cls, settings: DlpSettings, backend: Backend = "auto") -> DlpEngine:
        """Raises ValueError (with a message fit for a user) when the settings cannot be used."""
        profiles = resolve_predefined(settings) + resolve_custom(settings)
        salt = settings.salt or installation_salt()
        custom_detectors, edm_sets, custom_digest = build_custom_detectors(settings, salt)
        return cls(profiles, PREDEFINED_DETECTORS + custom_detectors, edm_sets, salt, backend, custom_digest)

    @property
    def enabled_profiles(self) -> tuple[str, ...]:
        return tuple(p.name for p in self._profiles)

    def match(self, text: str) -> MatchResult:
        tally = _Tally(self._profiles)
        self._detect_into(tally, text, 0, len(text))
        return tally.result()

    def detections(self, text: str) -> tuple[Detection, ...]:
        """The detections `match` counts, with their positions in `text`."""
        found: list[Detection] = []
        self._detect_into(None, text, 0, len(text), found)
        return tuple(found)

    def matcher(self) -> StreamMatcher:
        return StreamMatcher(self, _Tally(self._profiles))

    def redact(self, text: str) -> str:
        """`text` with each detection `match` would count replaced by its masked form (as in
        masked samples): for text shown to people that was not scanned as content, e.g. the
        name of an archive entry in a note."""
        detectors = self._detectors
        parts: list[str] = []
        last = 0
        for start, end, order, _entry, _rank, _digest in self._resolve(self._candidates(text)):
            value = text[start:end]
            parts.append(text[last:start])
            parts.append(detectors[order].mask(value) if order < len(detectors) else mask_value(value))
            last = end
        parts.append(text[last:])
        return "".join(parts)

    # --- internals -------------------------------------------------------------------------

    def _detect_into(
        self,
        tally: _Tally | None,
        text: str,
        accept_from: int,
        accept_to: int,
        positions: list[Detection] | None = None,
    ) -> None:
        """Add detections of `text` starting in [accept_from, accept_to) to the tally (or to `positions`)."""
        detectors = self._detectors
        for start, end, order, entry, rank, edm_digest in self._resolve(self._candidates(text)):
            if not accept_from <= start < accept_to:
                continue
            profile = detectors[order].profile if order < len(detectors) else self._edm_sets[order - len(detectors)][0]
            if positions is not None:
                confidence = (Confidence.LOW, Confidence.MEDIUM, Confidence.HIGH)[rank]
                positions.append(Detection(start, end, profile, entry, confidence))
            if tally is None:
                continue
            want_sample, want_hash = tally.wants(profile, entry)
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
            tally.add(profile, entry, masked, digest)

    def _candidates(self, text: str) -> list[_Candidate]:
        found: list[_Candidate] = []
        data = encode(text)
        segments = self._search.segments(data)
        for segment_class, spans in segments.by_class.items():
            if segment_class == "digits":
                spans = self._digit_pieces(text, spans)
            if spans:
                batch = Batch(text, spans)
                for index in self._searched_by_class.get(segment_class, ()):
                    self._match_detector(text, data, index, batch, found)
        for index, spans in segments.by_detector.items():
            self._match_detector(text, data, index, Batch(text, spans), found)
        for index in self._always_run:
            self._match_detector(text, data, index, Batch(text, [(0, len(text))]), found)
        for offset, (_profile, edm) in enumerate(self._edm_sets):
            order = len(self._detectors) + offset
            for start, end, digest in edm.find(text):
                found.append((start, end, order, edm.name, Confidence.HIGH.rank, digest))
        return found

    def _digit_pieces(self, text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        longest = self._longest_digit_value
        pieces: list[tuple[int, int]] = []
        for start, end in spans:
            if end - start > 4 * longest:
                pieces.extend(cut_digit_run(text, start, end, longest))
            else:
                pieces.append((start, end))
        return pieces

    def _match_detector(self, text: str, data: bytes, index: int, batch: Batch, found: list[_Candidate]) -> None:
        detector = self._detectors[index]
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
            hit = self._validate(text, detector, value_start, value_end)
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
            # Below the profile's threshold a detection neither counts nor hides another one.
            if rank >= threshold:
                found.append((value_start, value_end, index, entry, rank, None))

    @staticmethod
    def _validate(text: str, detector: Detector, start: int, end: int) -> tuple[int, int, str] | None:
        """Boundaries and validator; a too-long match may be cut back at its separators (card groups).

        Digits after `+` are a phone number (E.164), never a digit detector's value; digits that
        are part of a decimal number (`0.4702573977223816`, `605.961510684348`) are no value of
        any detector."""
        digits = detector.segment == "digits"
        if start > 0 and (text[start - 1].isalnum() or (digits and text[start - 1] == "+")):
            return None
        candidate_end = end
        while True:
            if (candidate_end >= len(text) or not text[candidate_end].isalnum()) and not (
                continues(text, start, candidate_end) if digits else in_decimal(text, start, candidate_end)
            ):
                entry = detector.classify(text[start:candidate_end])
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
            if cluster:
                kept.extend(_choose(cluster))
            cluster = [candidate]
            cluster_end = candidate[1]
        if cluster:
            kept.extend(_choose(cluster))
        return kept


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
