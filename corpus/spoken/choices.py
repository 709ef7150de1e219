"""Readings people choose between: a rule offers its readings through ``pick`` (the first is
the default); ``corpus.text.readings`` runs the rules once per choice vector to list them all."""

from __future__ import annotations

import contextvars
import itertools
from collections.abc import Callable, Iterator


class Choices:
    """The choices of one run of the rules: ``vector[k]`` picks the option of the k-th choice
    point met (0, the default, beyond it); ``arities`` records how many options each had."""

    def __init__(self, vector: tuple[int, ...] = ()):
        self.vector = vector
        self.arities: list[int] = []

    def pick(self, options: list[str]) -> str:
        k = len(self.arities)
        self.arities.append(len(options))
        return options[min(self.vector[k], len(options) - 1) if k < len(self.vector) else 0]


_CHOICES: contextvars.ContextVar[Choices | None] = contextvars.ContextVar("choices", default=None)


def pick(options: list[str]) -> str:
    """One of a written form's readings: the first (the default) unless a run that lists the
    readings asks for another. Options are deduplicated, the order kept."""
    options = list(dict.fromkeys(options))
    choices = _CHOICES.get()
    if choices is None or len(options) == 1:
        return options[0]
    return choices.pick(options)


def choice_vectors(arities: list[int], points: int) -> Iterator[tuple[int, ...]]:
    """Every choice vector over the first ``points`` choice points, fewest changes first."""
    ranges = [range(a) for a in arities[:points]]
    vectors = sorted(itertools.product(*ranges), key=lambda v: (sum(x > 0 for x in v), v))
    yield from vectors


def run_with(vector: tuple[int, ...], func: Callable[[], str]) -> tuple[str, list[int]]:
    """``func()`` with the choice points picking ``vector``; returns its result and arities."""
    choices = Choices(vector)
    token = _CHOICES.set(choices)
    try:
        return func(), choices.arities
    finally:
        _CHOICES.reset(token)
