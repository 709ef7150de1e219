"""Augmentation recipes: a small spec that says which copies to make of each utterance.

    speed=0.9,1.1;noise=5..20dB@0.5;pitch=-2..2@0.3

Steps are separated by ``;``. ``name=v1,v2`` lists values: one copy per value (several listed
steps multiply). ``name=v`` is a fixed value for every copy. ``name=lo..hi`` draws a value
uniformly for each copy. ``@p`` applies the step to a share ``p`` of the copies only. Units
(``dB``, ``st``, ``s``) may follow numbers. With no listed step, each utterance gets one copy.
The effects, their limits and units are the rows of ``augment.effects.EFFECTS``: speed, tempo
(factors), pitch (semitones), reverb (RT60 seconds), telephone (no value), noise (dB SNR),
gain (dB). Every choice is drawn from a generator seeded by a stable hash
of (seed, utterance id, copy, effect), so a recipe is reproducible per utterance.
"""

from __future__ import annotations

import dataclasses
import itertools
import re

import numpy as np

from speechmill.augment.effects import EFFECTS, EffectError, check_params
from speechmill.corpus.types import stable_hash

ON_THE_FLY = (
    "speed=0.9,1.0,1.1;noise=5..20dB@0.5;gain=-6..6dB"  # training's default on-the-fly recipe
)
_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_STEP_RE = re.compile(rf"^(?P<name>[a-z]+)(?:=(?P<spec>[^@]+))?(?:@(?P<p>{_NUMBER}))?$")
_UNIT_RE = re.compile(r"(?i)(db|st|s|x)$")

Chain = tuple[tuple[str, float], ...]


@dataclasses.dataclass(frozen=True)
class Step:
    effect: str
    values: tuple[float, ...] = ()  # listed (or one fixed) value
    low: float | None = None  # a range draws uniformly in low..high
    high: float | None = None
    probability: float = 1.0

    @property
    def multiplies(self) -> bool:
        return len(self.values) > 1


@dataclasses.dataclass(frozen=True)
class Recipe:
    steps: tuple[Step, ...]
    text: str

    def chains(self, utterance_id: str, seed: int) -> list[Chain]:
        """The effect chains of this utterance's copies (empty chains are dropped)."""
        listed = [s for s in self.steps if s.multiplies]
        out = []
        for copy, combo in enumerate(
            itertools.product(*[s.values for s in listed]) if listed else [()]
        ):
            picked = dict(zip((s.effect for s in listed), combo))
            chain = []
            for step in sorted(self.steps, key=lambda s: list(EFFECTS).index(s.effect)):
                rng = np.random.default_rng(
                    stable_hash("augment", seed, utterance_id, copy, step.effect)
                )
                if step.probability < 1.0 and rng.random() >= step.probability:
                    continue
                if step.effect in picked:
                    value = picked[step.effect]
                elif step.values:
                    value = step.values[0]
                elif step.low is not None and step.high is not None:
                    value = round(float(rng.uniform(step.low, step.high)), 2)
                else:
                    value = 1.0  # an effect that takes no value
                chain.append((step.effect, value))
            if chain:
                out.append(tuple(chain))
        return out


def _number(text: str, where: str) -> float:
    text = _UNIT_RE.sub("", text.strip())
    if not re.fullmatch(_NUMBER, text):
        raise EffectError(f"recipe step {where!r}: {text!r} is not a number")
    return float(text)


def parse_recipe(text: str) -> Recipe:
    """Recipe text -> Recipe; every value is range-checked before any audio is read."""
    steps = []
    for part in (p.strip() for p in text.replace(" ", "").split(";")):
        if not part:
            continue
        m = _STEP_RE.match(part)
        if not m:
            raise EffectError(f"recipe step {part!r} is not name=values[@probability]")
        name, spec, p = m.group("name"), m.group("spec"), m.group("p")
        if name not in EFFECTS:
            raise EffectError(
                f"recipe step {part!r}: unknown effect {name!r}; effects: {', '.join(EFFECTS)}"
            )
        probability = float(p) if p is not None else 1.0
        if not 0 < probability <= 1:
            raise EffectError(f"recipe step {part!r}: probability must be within 0..1")
        if spec is None:
            if EFFECTS[name].takes_value:
                raise EffectError(f"recipe step {part!r}: {name} needs a value, e.g. {name}=1.1")
            steps.append(Step(name, probability=probability))
            continue
        if ".." in spec:
            low, high = (_number(v, part) for v in spec.split("..", 1))
            if low > high:
                raise EffectError(f"recipe step {part!r}: range {low:g}..{high:g} is empty")
            for v in (low, high):
                check_params(name, v)
            steps.append(Step(name, low=low, high=high, probability=probability))
        else:
            values = tuple(_number(v, part) for v in spec.split(","))
            for v in values:
                check_params(name, v)
            if len(values) > 1 and probability < 1:
                raise EffectError(
                    f"recipe step {part!r}: listed values make copies; they take no @probability"
                )
            steps.append(Step(name, values=values, probability=probability))
    if not steps:
        raise EffectError("empty recipe")
    if len({s.effect for s in steps}) < len(steps):
        raise EffectError(f"recipe {text!r} names an effect twice")
    return Recipe(steps=tuple(steps), text=text)


def chain_label(chain: Chain) -> tuple[str, str]:
    """(id suffix, augment field) for a chain, e.g. ("~speed1.1+noise12.3dB", "speed=1.1,noise=12.3dB")."""

    def value(effect: str, v: float) -> str:
        return f"{v:g}{EFFECTS[effect].unit}" if EFFECTS[effect].takes_value else ""

    suffix = "~" + "+".join(f"{e}{value(e, v)}" for e, v in chain)
    field = ",".join(f"{e}={value(e, v)}" if EFFECTS[e].takes_value else e for e, v in chain)
    return suffix, field


def parse_on_the_fly(text: str) -> Recipe:
    """A recipe for on-the-fly augmentation in training: each element gets one copy, a listed
    step picks one of its values at random; only effects with a TensorFlow op (``tf_op``)."""
    recipe = parse_recipe(text)
    offline = [s.effect for s in recipe.steps if EFFECTS[s.effect].tf_op is None]
    if offline:
        live = ", ".join(e.name for e in EFFECTS.values() if e.tf_op)
        raise EffectError(
            f"on-the-fly recipe {text!r}: {', '.join(offline)} only works offline "
            f"(make augment); on the fly: {live}"
        )
    return recipe
