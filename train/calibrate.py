"""A trained model's own line between right and wrong transcripts, measured on held-out speech.

``make verify`` keeps an utterance when its transcript's score (train/verify.py: the mean
log-probability of its letters where CTC segmentation places them) reaches a threshold. What a
right transcript scores depends on the model (a 3-minute model's right ones score lower than a
well-trained model's wrong ones), so no fixed threshold fits every model. Each model gets its
own, from two distributions measured on a dev split whose transcripts are right:

- **right**: each dev utterance (the first ``MAX_UTTERANCES``) scored with its own transcript;
- **wrong**: the same audio scored with the transcripts of ``WRONG_PER_UTTERANCE`` other dev
  utterances (chosen by a stable hash), each cut at a word boundary once to the utterance's own
  length and once to half of it (a short wrong cue in a wider window, as verify's ``--context``
  windows are).

The rule (``choose``): ``wrong_top`` is the score that only ``FALSE_ACCEPT`` (1 %) of the wrong
pairs reach; the threshold lies ``TOWARD_RIGHT`` (15 %) of the way from ``wrong_top`` up to
the median right score, so it keeps a margin on both sides when the corpus being verified sounds
less like the dev split than the dev split sounds like itself. The model is **refused** (it
cannot tell right from wrong) when that threshold rejects more than ``MAX_FALSE_REJECT`` of the
right dev transcripts or lets more than ``MAX_FALSE_ACCEPT`` of the wrong ones through, or when
the dev split has fewer than ``MIN_UTTERANCES``.

``calibration_for(run)`` reads ``RUN/calibration.json`` when it was measured for this model file
(its sha256) by this rule, else measures it (``speechmill train`` does at the end of a run) and
stores it there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence

import numpy as np

from speechmill.corpus.types import stable_hash

RULE_VERSION = (
    1  # bump when the score, the pairs or the rule change: stored calibrations are remeasured
)
MAX_UTTERANCES = 200  # dev utterances scored (bounded work and memory on any corpus)
MIN_UTTERANCES = 8
WRONG_PER_UTTERANCE = 6
FALSE_ACCEPT = 0.01
TOWARD_RIGHT = 0.15
MAX_FALSE_REJECT = 0.10
MAX_FALSE_ACCEPT = 0.05
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
FILE = "calibration.json"


class CannotCalibrate(ValueError):
    """No dev split with enough utterances to measure a model's threshold on."""


def cut_to(text: str, chars: int) -> str:
    """The words of ``text`` from its start while they fit in ``chars`` characters (at least one)."""
    words = text.split()
    out = words[:1]
    for word in words[1:]:
        if len(" ".join(out)) + 1 + len(word) > chars:
            break
        out.append(word)
    return " ".join(out)


def wrong_texts(ids: Sequence[str], texts: Sequence[str], i: int, halves: bool = True) -> list[str]:
    """Transcripts that are not utterance ``i``'s: ``WRONG_PER_UTTERANCE`` others (stable-hash
    order), each cut to ``i``'s length and (``halves``) to half of it; texts equal to ``i``'s
    are skipped."""
    others = sorted(
        (j for j in range(len(ids)) if j != i and texts[j] != texts[i]),
        key=lambda j: (stable_hash("calibrate", ids[i], ids[j]), ids[j]),
    )[:WRONG_PER_UTTERANCE]
    own = len(texts[i])
    out = []
    for j in others:
        for chars in (own, own // 2) if halves else (own,):
            cut = cut_to(texts[j], chars)
            if cut and cut != texts[i]:
                out.append(cut)
    return out


def quantiles(scores: np.ndarray) -> dict[str, float]:
    return {f"{q:g}": round(float(np.quantile(scores, q)), 3) for q in QUANTILES}


def choose(right: Sequence[float], wrong: Sequence[float]) -> dict:
    """Scores of right and wrong transcripts -> the threshold, its error rates on them, whether
    the model separates them (the rule in the module docstring)."""
    r, w = np.asarray(right, float), np.asarray(wrong, float)
    wrong_top = float(np.quantile(w, 1 - FALSE_ACCEPT, method="higher"))
    threshold = round(wrong_top + TOWARD_RIGHT * (float(np.median(r)) - wrong_top), 3)
    false_reject = float(np.mean(r < threshold))
    false_accept = float(np.mean(w >= threshold))
    return {
        "threshold": threshold,
        "false_reject": round(false_reject, 4),
        "false_accept": round(false_accept, 4),
        "separable": bool(false_reject <= MAX_FALSE_REJECT and false_accept <= MAX_FALSE_ACCEPT),
        "right": {"count": len(r), "quantiles": quantiles(r)},
        "wrong": {"count": len(w), "quantiles": quantiles(w)},
    }


def pair_scores(
    log_probs: Sequence[np.ndarray], ids: Sequence[str], texts: Sequence[str], frame_seconds: float
) -> tuple[list[float], list[float]]:
    """Each utterance's frame log-probabilities -> (right scores, wrong scores)."""
    from speechmill.train.verify import CannotAlign, align

    right, wrong = [], []
    for i, lp in enumerate(log_probs):
        try:
            right.append(align(lp, texts[i], frame_seconds).score)
        except CannotAlign:
            continue
        for text in wrong_texts(ids, texts, i):
            try:
                wrong.append(align(lp, text, frame_seconds).score)
            except CannotAlign:
                pass
    return right, wrong


def dev_utterances(data: str, sample_rate: int) -> Iterator:
    """The first ``MAX_UTTERANCES`` dev utterances of a corpus (CannotCalibrate without a dev split)."""
    from speechmill.corpus.reader import load_info, utterances

    info = load_info(data, sample_rate=sample_rate)
    if "dev" not in info["splits"]:
        raise CannotCalibrate(f"{data}: no dev split to calibrate on")
    for n, utt in enumerate(utterances(data, info, "dev")):
        if n == MAX_UTTERANCES:
            return
        yield utt


def measure(run: str, data: str, model=None, sha256: str | None = None) -> dict:
    """Score ``data``'s dev split with the run's model -> the calibration (not stored)."""
    from speechmill.corpus.workdir import file_sha256
    from speechmill.train.verify import TrainedModel, model_file

    recognizer = TrainedModel(run) if model is None else model
    utts = [u for u in dev_utterances(data, recognizer.sample_rate) if u.text.strip()]
    if len(utts) < MIN_UTTERANCES:
        raise CannotCalibrate(
            f"{data}: {len(utts)} dev utterances; calibrating a model needs at least {MIN_UTTERANCES}"
        )
    log_probs = recognizer.log_probs([u.audio.astype(np.float32) / 32768.0 for u in utts])
    right, wrong = pair_scores(
        log_probs, [u.id for u in utts], [u.text for u in utts], recognizer.frame_seconds
    )
    if len(right) < MIN_UTTERANCES or not wrong:
        raise CannotCalibrate(f"{data}: too few dev utterances could be aligned to calibrate on")
    return {
        "rule_version": RULE_VERSION,
        "model_sha256": sha256 or file_sha256(model_file(run)),
        "data": os.path.abspath(data),
        "rule": rule_text(),
        **choose(right, wrong),
    }


def rule_text() -> str:
    return (
        f"threshold {TOWARD_RIGHT:g} of the way from the score {FALSE_ACCEPT:.0%} of wrong dev "
        f"transcripts reach to the median right one; refused above {MAX_FALSE_REJECT:.0%} right "
        f"rejected or {MAX_FALSE_ACCEPT:.0%} wrong kept"
    )


def stored(run: str, sha256: str | None = None) -> dict | None:
    """``RUN/calibration.json`` when it belongs to the run's model file (``sha256``: its digest
    when the caller has it already) and this rule, else None."""
    from speechmill.corpus.workdir import file_sha256
    from speechmill.train.verify import model_file

    path = _calibration_path(run)
    try:
        with open(path) as f:
            found = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(found, dict) or found.get("rule_version") != RULE_VERSION:
        return None
    threshold = found.get("threshold")
    if not isinstance(threshold, (int, float)) or not -1e3 < threshold <= 0:
        return None  # a file from someone else that is not a threshold: measured again
    if not isinstance(found.get("separable"), bool):
        return None
    digest = sha256 or file_sha256(model_file(run))
    return found if found.get("model_sha256") == digest else None


def calibration_for(
    run: str, data: str | None = None, model=None, sha256: str | None = None
) -> dict:
    """The run's stored calibration, or one measured on ``data`` (default: the corpus the run
    was trained on, from its config.json) and stored with the run when its folder is writable."""
    found = stored(run, sha256) if data is None else None
    if found is not None:
        return found
    if data is None:
        data = _training_data(run)
    calibration = measure(run, data, model, sha256)
    path = _calibration_path(run)
    try:
        with open(path + ".tmp", "w") as f:
            json.dump(calibration, f, indent=2)
        os.replace(path + ".tmp", path)
    except OSError:
        pass  # a read-only run folder: measured again next time
    return calibration


def refusal(calibration: dict, run: str) -> str:
    """The one line for a model that cannot tell right from wrong transcripts."""
    return (
        f"{run}: this model cannot tell right from wrong transcripts: on the dev split of "
        f"{calibration['data']} the best threshold ({calibration['threshold']}) rejects "
        f"{calibration['false_reject']:.0%} of right ones and keeps {calibration['false_accept']:.0%} "
        f"of wrong ones; train longer or pass --min-score"
    )


def _calibration_path(run: str) -> str:
    """``calibration.json`` beside the run's model file."""
    from speechmill.train.verify import model_file

    return os.path.join(os.path.dirname(model_file(run)), FILE)


def _training_data(run: str) -> str:
    path = os.path.join(os.path.dirname(_calibration_path(run)), "config.json")
    try:
        with open(path) as f:
            data = json.load(f)["data"]
    except (OSError, ValueError, KeyError, TypeError):
        raise CannotCalibrate(
            f"{run}: no calibration.json and no config.json naming its training corpus; "
            f"pass --calibrate-with CORPUS (a corpus with a dev split) or --min-score"
        ) from None
    return str(data)
