"""Custom regexes, checked in the syntax they run in (RE2): valid, bounded, not empty-matching.

RE2 cannot backtrack, so a pattern cannot run away in time; what is left to bound is the length
of a match (a value is masked, hashed and kept per match) and RE2's own repeat limits. RE2
exposes no syntax tree, so `max_width` walks the pattern text, which RE2 has already accepted:
every construct is then well formed, and anything the walk does not expect is refused rather
than guessed.
"""

from __future__ import annotations

import re

import re2

_REPEAT = re.compile(r"\{(\d+)(,(\d*))?\}")  # RE2: any other "{" is a literal
_OCTAL = re.compile(r"[0-7]{1,3}")
_ZERO_WIDTH_ESCAPES = frozenset("AzbB")


class Unbounded(ValueError):
    """The pattern has `*`, `+` or `{n,}`."""


class Unsupported(ValueError):
    """The pattern is valid RE2 but cannot be used here; the message says why."""


def compile_re2(pattern: str) -> re2._Regexp:
    """Compile `pattern` with RE2, quiet (RE2 logs parse errors to stderr by default).

    Raises ValueError with the reason, in the words the settings use for what they refuse."""
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        detail = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
    if detail.startswith("invalid perl operator: (?=") or detail.startswith("invalid perl operator: (?!") or \
            detail.startswith("invalid perl operator: (?<=") or detail.startswith("invalid perl operator: (?<!"):
        raise ValueError("look-around assertions are not supported (RE2 syntax)")
    if re.match(r"invalid escape sequence: \\[1-9]|invalid perl operator: \(\?P=", detail):
        raise ValueError("back-references are not supported (RE2 syntax)")
    repeat = re.fullmatch(r"invalid repetition size: \{(\d+)(?:,(\d*))?\}", detail)
    if repeat and not (repeat.group(2) and int(repeat.group(2)) < int(repeat.group(1))):
        # RE2 refuses repeats over 1000, alone or nested: longer than any custom match may be.
        raise Unsupported(f"regex may match more than 1024 characters ({detail}); use bounded repeats like {{1,64}}")
    # RE2 quotes the rest of the pattern from the error on ("missing ): 4716 2810 ..."): a pattern
    # may be built around the very values it looks for, so only a short fragment is shown.
    kind, _, fragment = detail.partition(": ")
    raise ValueError(f"invalid regex: {kind}" + (f": {fragment}" if len(fragment) <= 8 else " (pattern not quoted)"))


def max_width(pattern: str) -> float:
    """Most characters a match of `pattern` (already accepted by RE2) can span; raises Unbounded
    for `*`, `+`, `{n,}`, Unsupported for `\\C` or what the walk does not expect."""
    walk = _Walk(pattern)
    width = walk.alternation()
    if walk.at < len(pattern):
        raise Unsupported("regex could not be checked for a bounded match length")
    return width


class _Walk:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def _peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def alternation(self) -> float:
        widest = self._sequence()
        while self._peek() == "|":
            self.at += 1
            widest = max(widest, self._sequence())
        return widest

    def _sequence(self) -> float:
        total = 0.0
        while self._peek() not in ("", "|", ")"):
            fixed, last = self._atom()
            total += fixed + self._repeated(last)
        return total

    def _repeated(self, width: float) -> float:
        char = self._peek()
        if char in ("*", "+"):
            raise Unbounded("unbounded repeat (*, + or {n,}) is not allowed; write {min,max}")
        if char == "?":
            self.at += 1
        elif char == "{" and (repeat := _REPEAT.match(self.text, self.at)):
            if repeat.group(2) and not repeat.group(3):
                raise Unbounded("unbounded repeat (*, + or {n,}) is not allowed; write {min,max}")
            self.at = repeat.end()
            width *= int(repeat.group(3) or repeat.group(1))
        else:
            return width
        if self._peek() == "?":  # non-greedy: same width
            self.at += 1
        return width

    def _atom(self) -> tuple[float, float]:
        """(width before the last repeatable piece, width of that piece)."""
        char = self.text[self.at]
        self.at += 1
        if char == "(":
            return 0.0, self._group()
        if char == "[":
            self._class()
            return 0.0, 1.0
        if char in ("^", "$"):
            return 0.0, 0.0
        if char == "\\":
            return self._escape()
        return 0.0, 1.0

    def _group(self) -> float:
        if self.text.startswith("?", self.at):
            named = re.compile(r"\?P?<[^>]*>").match(self.text, self.at)
            flags = re.compile(r"\?[A-Za-z-]*([:)])").match(self.text, self.at)
            if named:
                self.at = named.end()
            elif flags:
                self.at = flags.end()
                if flags.group(1) == ")":
                    return 0.0  # (?i): flags for the rest, matches nothing
            else:
                raise Unsupported("regex could not be checked for a bounded match length")
        width = self.alternation()
        if self._peek() != ")":
            raise Unsupported("regex could not be checked for a bounded match length")
        self.at += 1
        return width

    def _class(self) -> None:
        """Skip a bracket expression: one character wide whatever it holds."""
        if self._peek() == "^":
            self.at += 1
        if self._peek() == "]":  # a "]" first is a literal
            self.at += 1
        while self.at < len(self.text):
            char = self.text[self.at]
            if char == "]":
                self.at += 1
                return
            if char == "[" and self.text.startswith("[:", self.at):
                end = self.text.find(":]", self.at + 2)
                self.at = end + 2 if end >= 0 else len(self.text)
            elif char == "\\":
                self.at += 1
                self._escape()
            else:
                self.at += 1
        raise Unsupported("regex could not be checked for a bounded match length")

    def _escape(self) -> tuple[float, float]:
        """Called past the backslash (from a class too, where only the skipping matters)."""
        if char := self.text[self.at] if self.at < len(self.text) else "":
            self.at += 1
        if char == "Q":  # literal text up to \E: each character is one, the last may repeat
            end = self.text.find("\\E", self.at)
            literal = self.text[self.at:] if end < 0 else self.text[self.at:end]
            self.at = len(self.text) if end < 0 else end + 2
            return (max(len(literal) - 1, 0), 1.0 if literal else 0.0)
        if char == "C":
            # RE2's single byte: google-re2 maps byte offsets inside a character to wrong spans.
            raise Unsupported(r"\C (any single byte) is not supported: text is matched as characters")
        if char in _ZERO_WIDTH_ESCAPES:
            return 0.0, 0.0
        if char in ("x", "p", "P") and self._peek() == "{":
            end = self.text.find("}", self.at)
            self.at = end + 1 if end >= 0 else len(self.text)
        elif char in ("p", "P") or (char == "x" and self._peek()):
            self.at += 2 if char == "x" else 1  # \xhh, \pL
        elif char.isdigit() and (octal := _OCTAL.match(self.text, self.at - 1)):
            self.at = octal.end()
        return 0.0, 1.0

