"""The ``[quality]`` table of a corpus config: which measures a build takes, which records it
keeps, and whether the same sound is published once.

    [quality]
    measures = ["snr_db", "speech_ratio", "clipped", "chars_per_second"]  # the default; add
                             # "dnsmos" for recorded speech (0.2 s of CPU per clip: see below)
    min_snr_db = 15          # each filter is off unless set; a record without the measure
    min_dnsmos = 3.0         #   (a clip too short for its window) is not judged by it
    min_speech_ratio = 0.3
    max_clipped = 0.001
    rate_outliers = 1.5      # Tukey's k on seconds per character, per speaker (second pass)
    rate_min_clips = 10      # a speaker with fewer measured clips has no fences
    dedupe_sounds = true     # default: copies of one sound are one utterance (audio:duplicate)

DNSMOS is not in the default list: its model hears 9.01 s windows (a shorter clip is repeated
to that length), about 0.2 s of one core per window, so on a corpus of short clips it costs
10-100 times the rest of the build (make bench prints it). Add it to ``measures`` (or run
``speechmill measure --measures dnsmos`` on the built corpus) to have it; ``min_dnsmos`` needs
it listed.

``judge(measures, quality, where)`` raises the first filter's ``Reject`` (``quality:snr``,
``quality:dnsmos``, ``quality:speech``, ``quality:clipped``) with the measured value.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from speechmill.corpus.errors import UserError
from speechmill.corpus.measures import MEASURES, Measures
from speechmill.corpus.reject import Reject

# filter key -> (measure, reason, True: a lower bound)
FILTERS: dict[str, tuple[str, str, bool]] = {  # in the order they judge: no speech first
    "min_speech_ratio": ("speech_ratio", "quality:speech", True),
    "min_snr_db": ("snr_db", "quality:snr", True),
    "min_dnsmos": ("dnsmos", "quality:dnsmos", True),
    "max_clipped": ("clipped", "quality:clipped", False),
}


DEFAULT_MEASURES = tuple(m for m in MEASURES if m != "dnsmos")


class QualityError(UserError, ValueError):
    label = "config error"


@dataclasses.dataclass(frozen=True)
class QualitySettings:
    measures: tuple[str, ...] = DEFAULT_MEASURES
    min_snr_db: float | None = None
    min_dnsmos: float | None = None
    min_speech_ratio: float | None = None
    max_clipped: float | None = None
    rate_outliers: float | None = None
    rate_min_clips: int = 10
    dedupe_sounds: bool = True

    def __post_init__(self) -> None:
        unknown = [m for m in self.measures if m not in MEASURES]
        if unknown:
            raise QualityError(
                f"[quality] measures: unknown {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(MEASURES)}"
            )
        for key, (name, _, _) in FILTERS.items():
            value = getattr(self, key)
            if value is None:
                continue
            if not _number(value):
                raise QualityError(f"[quality] {key} must be a number, got {value!r}")
            if name not in self.measures:
                raise QualityError(f"[quality] {key} needs the {name} measure in measures")
        if self.rate_outliers is not None:
            if not _number(self.rate_outliers) or self.rate_outliers <= 0:
                raise QualityError("[quality] rate_outliers must be a number above 0 (Tukey's k)")
            if "chars_per_second" not in self.measures:
                raise QualityError("[quality] rate_outliers needs chars_per_second in measures")
        if not isinstance(self.rate_min_clips, int) or self.rate_min_clips < 4:
            raise QualityError("[quality] rate_min_clips must be a whole number, 4 or more")
        if not isinstance(self.dedupe_sounds, bool):
            raise QualityError("[quality] dedupe_sounds must be true or false")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def parse_quality(table: Any, where: str) -> QualitySettings:
    """A ``[quality]`` table (its keys checked by the config's reader) -> QualitySettings
    (raises QualityError, a config error)."""
    if not isinstance(table, dict):
        raise QualityError(f"{where}: quality must be a [quality] table")
    values = dict(table)
    if "measures" in values:
        if not isinstance(values["measures"], list):
            raise QualityError(f"{where}: [quality] measures must be a list of names")
        values["measures"] = tuple(values["measures"])
    try:
        return QualitySettings(**values)
    except QualityError as e:
        raise QualityError(f"{where}: {e}") from None


def judge(measures: Measures, quality: QualitySettings, where: str) -> None:
    """Raise the Reject of the first filter the record fails."""
    for key, (name, reason, lower) in FILTERS.items():
        bound, value = getattr(quality, key), getattr(measures, name)
        if bound is None or value is None:
            continue
        if (value < bound) if lower else (value > bound):
            shown = f"{value:.4g}"
            rule = f"min {key[4:]} {bound}" if lower else f"max {key[4:]} {bound}"
            raise Reject(reason, f"{name} {shown} (the config's {rule})", where=where)
