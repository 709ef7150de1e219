"""A model's threshold measured in the corpus it is about to verify.

The run's own calibration (train/calibrate.py) is measured on its dev split: speech that sounds
like what the model trained on. A harvest sounds otherwise (room noise, other voices): right
transcripts score lower there and wrong ones higher, so a dev threshold both rejects right
transcripts and keeps wrong ones. ``make verify`` with a model (and no ``--min-score``) therefore
measures the two distributions again in the very audio it judges, on a bounded sample of the
corpus (up to ``MAX_UTTERANCES`` records, a few from each of up to that many shards spread evenly
over the corpus), each record heard in the window verify hears it in (``--context`` around a
span of a film):

- **own**: each record scored with its own transcript (its best reading). Most are right; some
  are wrong (that is why the corpus is verified), so only robust statistics are used: the median
  and the median absolute deviation (x 1.4826, a standard deviation for a normal distribution);
- **wrong**: each record scored with ``WRONG_PER_UTTERANCE`` other records' transcripts cut to
  its own length (train/calibrate.py ``wrong_texts``). Nearly all are wrong; a neighbouring cue
  heard in a film's context window can match, so these too are summarised by median and MAD.

The rule (``choose_in_corpus``): the threshold is the score as many robust deviations below the
own median as it is above the wrong median, ``z = (own median - wrong median) / (own MAD +
wrong MAD)`` of each: where two normal distributions with those centres and spreads have equal
tail shares, so it expects to reject as many right transcripts as it keeps wrong ones, ``Φ(-z)``
each. The corpus is **refused** (the model cannot tell right from wrong in this audio: verify
with a teacher, or pass ``--min-score``) when ``z < MIN_Z`` (more than 2.3 % expected each way).
With fewer than ``MIN_UTTERANCES`` scored records the run's dev threshold is used, and info.json
says so.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from statistics import NormalDist

import numpy as np

from speechmill.train.calibrate import QUANTILES, WRONG_PER_UTTERANCE, wrong_texts

MAX_UTTERANCES = 200  # records scored (bounded work in the launcher on any corpus)
MIN_UTTERANCES = 20  # fewer: robust statistics mean little; the dev threshold is used
MIN_Z = 2.0  # refused below: over 2.3 % of right rejected and of wrong kept, expected
MAD_TO_SD = 1.4826
RULE = (
    "in the corpus being verified: the score as many robust deviations (MAD) below the median "
    "own score as above the median wrong-pair score; refused when that is under "
    f"{MIN_Z:g} deviations (over {NormalDist().cdf(-MIN_Z):.1%} expected wrong each way)"
)


def robust(scores: np.ndarray) -> tuple[float, float]:
    """(median, MAD x 1.4826) of a sample; the spread is at least 0.01 (ties)."""
    median = float(np.median(scores))
    return median, max(0.01, MAD_TO_SD * float(np.median(np.abs(scores - median))))


def choose_in_corpus(own, wrong) -> dict:
    """Own and wrong-pair scores of one corpus -> its threshold, what it expects and measures,
    and whether the model separates them (the rule in the module docstring)."""
    o, w = np.asarray(own, float), np.asarray(wrong, float)
    (own_median, own_spread), (wrong_median, wrong_spread) = robust(o), robust(w)
    z = (own_median - wrong_median) / (own_spread + wrong_spread)
    threshold = round(own_median - z * own_spread, 3)
    return {
        "threshold": threshold,
        "z": round(z, 3),
        "expected_error": round(NormalDist().cdf(-z), 4) if math.isfinite(z) else 0.0,
        "own_below": round(float(np.mean(o < threshold)), 4),
        "wrong_kept": round(float(np.mean(w >= threshold)), 4),
        "separable": bool(z >= MIN_Z),
        "own": {
            "count": len(o),
            "median": round(own_median, 3),
            "spread": round(own_spread, 3),
            "quantiles": _quantiles(o),
        },
        "wrong": {
            "count": len(w),
            "median": round(wrong_median, 3),
            "spread": round(wrong_spread, 3),
            "quantiles": _quantiles(w),
        },
        "rule": RULE,
    }


def sample(data: str, info: dict, keep: Callable) -> Iterator:
    """Up to ``MAX_UTTERANCES`` utterances ``keep`` accepts, a few from the start of each of up
    to that many shards spread evenly over the corpus (all splits, in shard order)."""
    from speechmill.corpus.reader import all_shards, shard_records
    from speechmill.corpus.schema import decode_utterance

    shards = [path for _, path in all_shards(data, info)]
    if len(shards) > MAX_UTTERANCES:
        shards = [shards[k * len(shards) // MAX_UTTERANCES] for k in range(MAX_UTTERANCES)]
    per_shard = -(-MAX_UTTERANCES // max(1, len(shards)))
    for path in shards:
        taken = 0
        for record in shard_records(path):
            if taken == per_shard:
                break
            utt = decode_utterance(record)
            if keep(utt):
                taken += 1
                yield utt


def measure_in_corpus(recognizer, data: str, info: dict, context: float, keep: Callable) -> dict:
    """The corpus calibration of ``data`` for a loaded model (train/verify.py TrainedModel):
    ``{"used": False, ...}`` with the reason when too few records could be scored."""
    from speechmill.train.verify import CannotAlign, align, best_reading, window_for

    chosen = [u for u in sample(data, info, keep) if u.text.strip()]
    rate, frame = recognizer.sample_rate, recognizer.frame_seconds
    windows = [window_for(u, rate, context).audio for u in chosen]
    log_probs = recognizer.log_probs([w.astype(np.float32) / 32768.0 for w in windows])
    ids, texts = [u.id for u in chosen], [u.text for u in chosen]
    own, wrong = [], []
    for i, (utt, lp) in enumerate(zip(chosen, log_probs)):
        try:
            own.append(best_reading(lp, utt.readings or (utt.text,), frame)[1].score)
        except CannotAlign:
            continue
        for text in wrong_texts(ids, texts, i, halves=False):
            try:
                wrong.append(align(lp, text, frame).score)
            except CannotAlign:
                pass
    where = {"data": os.path.abspath(data), "sampled": len(chosen)}
    if len(own) < MIN_UTTERANCES or len(wrong) < MIN_UTTERANCES:
        return {
            **where,
            "used": False,
            "why": (
                f"{len(own)} records scored; a corpus calibration needs {MIN_UTTERANCES}: "
                "the run's dev threshold is used"
            ),
        }
    return {
        **where,
        "used": True,
        "wrong_per_utterance": WRONG_PER_UTTERANCE,
        **choose_in_corpus(own, wrong),
    }


def corpus_refusal(found: dict, run: str) -> str:
    """The one line for a model that cannot tell right from wrong in the corpus it verifies."""
    return (
        f"{run}: in {found['data']} this model cannot tell right from wrong transcripts: own "
        f"scores {found['own']['median']} ± {found['own']['spread']}, other records' transcripts "
        f"{found['wrong']['median']} ± {found['wrong']['spread']} ({found['z']} deviations apart, "
        f"at least {MIN_Z:g} needed; {found['expected_error']:.0%} expected wrong each way); "
        "verify with a teacher (--teacher whisper), train longer, or pass --min-score"
    )


def _quantiles(scores: np.ndarray) -> dict[str, float]:
    return {f"{q:g}": round(float(np.quantile(scores, q)), 3) for q in QUANTILES}
