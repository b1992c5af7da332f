"""Shared pieces of the synthetic organization: the spec, per-object RNGs, people and id schemes.

Every object is a pure function of (seed, kind, index): it is built on demand with its own RNG and
its id encodes its index, so nothing is held in memory and `after=<id>` is O(1).
"""

from __future__ import annotations

import math
import random
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import cache

DAY = 86400.0

FIRST_NAMES = (
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kira",
    "Liam",
    "Maya",
    "Nils",
    "Olga",
    "Priya",
    "Quentin",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Yara",
    "Zoe",
)
LAST_NAMES = (
    "Adams",
    "Berg",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jensen",
    "Khan",
    "Lopez",
    "Moreau",
    "Novak",
    "Okafor",
    "Park",
    "Quinn",
    "Rossi",
    "Silva",
    "Tanaka",
    "Ueda",
    "Varga",
)
DOMAIN = "example.com"


class GenerateSpecError(ValueError):
    """A `users=..,gpts=..` spec that cannot be used; the message says which part."""


@dataclass(frozen=True)
class GenerateSpec:
    users: int = 50
    invites: int = 10
    projects: int = 5
    keys_per_project: int = 4
    admin_keys: int = 3
    gpts: int = 20
    chatgpt_projects: int = 5
    conversations: int = 200
    files: int = 60

    @classmethod
    def parse(cls, text: str) -> GenerateSpec:
        known = {f.name for f in fields(cls)}
        values: dict[str, int] = {}
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            name, sep, raw = part.partition("=")
            name = name.strip()
            if not sep or name not in known:
                raise GenerateSpecError(f"'{part}' is not name=count; names: {', '.join(sorted(known))}")
            try:
                values[name] = int(raw)
            except ValueError:
                raise GenerateSpecError(f"'{part}': the count must be a whole number") from None
        spec = cls(**values)
        spec.validate()
        return spec

    def validate(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) < 0:
                raise GenerateSpecError(f"{f.name} must not be negative")
        if self.users < 1 and (self.conversations or self.gpts or self.chatgpt_projects or self.projects):
            raise GenerateSpecError("users must be at least 1 when anything is owned by people")


_MASK64 = (1 << 64) - 1


def mix(*parts: int) -> int:
    """A 64-bit hash of integers (splitmix64 steps): cheap, stable across processes, well spread."""
    state = 0x9E3779B97F4A7C15
    for part in parts:
        state = (state ^ (part & _MASK64)) * 0xBF58476D1CE4E5B9 & _MASK64
        state = (state ^ (state >> 31)) * 0x94D049BB133111EB & _MASK64
        state ^= state >> 29
    return state


@cache
def _kind_code(kind: str) -> int:
    return zlib.crc32(kind.encode())


def object_rng(seed: int, kind: str, index: int) -> random.Random:
    """The RNG of one object; seeding with an int is far cheaper than with a string."""
    return random.Random(mix(seed, _kind_code(kind), index))


def unit_float(seed: int, kind: str, index: int) -> float:
    """A value in [0, 1) from (seed, kind, index) without building an RNG."""
    return mix(seed, _kind_code(kind), index) / 2.0**64


def coprime_step(n: int, start: int = 7919) -> int:
    """A multiplier coprime with n, so i -> (i * step) % n visits every index (a cheap permutation)."""
    step = start
    while n > 1 and math.gcd(step, n) != 1:
        step += 1
    return step


def index_parser(pattern: str) -> Callable[[str], int | None]:
    compiled = re.compile(pattern)

    def parse(object_id: str) -> int | None:
        match = compiled.fullmatch(object_id)
        return int(match.group(1)) if match else None

    return parse


def user_id(index: int) -> str:
    return f"user-E{index:023d}"


parse_user_id = index_parser(r"user-E(\d{23})")


@dataclass(frozen=True)
class Person:
    index: int
    id: str
    name: str
    email: str
    disabled: bool  # org user disabled / workspace user inactive
    inactive: bool  # no activity signal in the last 90 days


def person(seed: int, index: int) -> Person:
    code = mix(seed, _kind_code("person"), index)
    first, last = FIRST_NAMES[code % len(FIRST_NAMES)], LAST_NAMES[(code >> 16) % len(LAST_NAMES)]
    return Person(
        index=index,
        id=user_id(index),
        name=f"{first} {last}",
        email=f"{first.lower()}.{last.lower()}{index}@{DOMAIN}",
        disabled=index % 50 == 7,
        inactive=index % 10 == 3,
    )


def active_person_index(users: int, candidate: int) -> int:
    """The first person from `candidate` on who is neither disabled nor designated inactive."""
    for offset in range(users):
        index = (candidate + offset) % users
        if index % 10 != 3 and index % 50 != 7:
            return index
    return candidate % users
