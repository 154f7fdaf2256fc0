"""Seeded, deterministic problem streams over the families."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from types import ModuleType

from . import bars, clock, counting, lengths, numbers
from .problem import LEVELS, Problem

_MODULES: tuple[ModuleType, ...] = (counting, bars, clock, numbers, lengths)
#: family name -> its module (each has `make(rng, level) -> Problem fields`)
FAMILY_MODULES: dict[str, ModuleType] = {module.NAME: module for module in _MODULES}
FAMILIES: tuple[str, ...] = tuple(FAMILY_MODULES)


def check_families(families: Sequence[str] | None) -> tuple[str, ...]:
    """`families` as a tuple (default: all); raises `ValueError` naming an unknown family."""
    chosen = tuple(families) if families is not None else FAMILIES
    unknown = [f for f in chosen if f not in FAMILY_MODULES]
    if unknown or not chosen:
        raise ValueError(f"unknown or no families {unknown or list(chosen)}; known: {list(FAMILIES)}")
    return chosen


def iter_problems(stream: str, level: str, families: Sequence[str] | None = None) -> Iterator[Problem]:
    """An endless, deterministic stream of problems: problem `i` has family `families[i % len(families)]` and is
    drawn from its own `random.Random(f"{stream}/{level}/{i}")`, so it does not depend on the other problems."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    chosen = check_families(families)
    index = 0
    while True:
        family = chosen[index % len(chosen)]
        rng = random.Random(f"{stream}/{level}/{index}")
        fields = FAMILY_MODULES[family].make(rng, level)
        yield Problem(id=f"{family}-{level}-{stream}-{index:06d}", family=family, level=level, **fields)
        index += 1


def generate(n: int, seed: int, level: str, families: Sequence[str] | None = None) -> list[Problem]:
    """`n` problems of `level` ("easy" | "hard"), families taken in turn; the same arguments give the same
    problems (ids, images, texts)."""
    stream = iter_problems(str(seed), level, families)
    return [next(stream) for _ in range(n)]


__all__ = ["FAMILIES", "FAMILY_MODULES", "check_families", "generate", "iter_problems"]
