"""A transcript checked against its audio by a trained CTC model, with CTC segmentation.

``TrainedModel(run)`` loads a trained run's model once and gives each utterance's frame
log-probabilities over ``CHAR_LIST`` (blank first), in batches of similar lengths.
``align(log_probs, text, frame_seconds)`` aligns the transcript to them with the
``ctc-segmentation`` library (the one ESPnet, NeMo and SpeechBrain use) and returns an
:class:`Alignment`: a confidence score (the mean log-probability of the transcript's letters
at the frames where the alignment places them: blanks, pauses and the audio around the text
do not count, so the score does not depend on how long the utterance or its window is), the
span the text covers, and each word's start and end. ``heard_distance`` compares a candidate
reading with what the model hears. What score a right transcript gets
depends on the model; train/calibrate.py measures each model's own threshold. ``judge`` turns
an alignment into the verdict ``make verify`` acts on (keep with new edges, or reject with a
reason).
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

from speechmill.corpus.reject import Reject
from speechmill.corpus.schema import ALPHABET, Utterance
from speechmill.corpus.workdir import file_sha256

CHAR_LIST = ["<blank>"] + list(ALPHABET)  # token 0 is the CTC blank, as in the model


@dataclasses.dataclass(frozen=True)
class Alignment:
    score: float  # <= 0; higher is a better match
    start: float  # seconds: first character's start, last one's end
    end: float
    words: tuple[tuple[str, float, float], ...]  # (word, start, end) in seconds


class CannotAlign(ValueError):
    """The text does not fit the audio at all (more characters than frames, or no characters)."""


def model_log_probs(model, audio, lengths) -> list[np.ndarray]:
    """A padded batch (float32 [B, N], lengths [B]) -> per utterance [T_i, len(CHAR_LIST)] log-probabilities."""
    import tensorflow as tf

    from speechmill.train.encoders import subsampling_of
    from speechmill.train.model import output_lengths, sample_rate_of

    logits = model({"audio": audio, "audio_length": lengths}, training=False)
    log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1).numpy()
    lengths = output_lengths(lengths, sample_rate_of(model), subsampling_of(model))
    frames = np.minimum(lengths.numpy(), log_probs.shape[1])
    return [log_probs[i, :n] for i, n in enumerate(frames)]


def heard_distance(log_probs: np.ndarray, text: str, span: tuple[int, int]) -> int:
    """Characters to change to turn what the model hears in frames [span) (its greedy
    transcript) into ``text``: how readings of one transcript are told apart. (The alignment
    score cannot: it averages only the letters a text has, so "two three" matches speech that
    says "two or three" as well as that text does; CTC likelihood lets short words drop.)"""
    import jiwer

    from speechmill.lm.decode import greedy

    heard = greedy(log_probs[span[0] : span[1]])
    if not heard:
        return len(text)
    found = jiwer.process_characters(text, heard)
    return found.substitutions + found.deletions + found.insertions


def align(log_probs: np.ndarray, text: str, frame_seconds: float) -> Alignment:
    """Align ``text`` (normalized, in the corpus alphabet) to one utterance's log-probabilities."""
    from ctc_segmentation import (
        CtcSegmentationParameters,
        ctc_segmentation,
        prepare_text,
    )

    text = " ".join(text.split())
    if not text:
        raise CannotAlign("empty transcript")
    if len(text) >= len(log_probs):
        raise CannotAlign(f"{len(text)} characters for {len(log_probs)} frames")
    config = CtcSegmentationParameters(char_list=CHAR_LIST, blank=0, index_duration=frame_seconds)
    ground_truth, begins = prepare_text(config, [text])
    try:
        timings, char_probs, _ = ctc_segmentation(
            config, np.asarray(log_probs, dtype=np.float64), ground_truth
        )
    except AssertionError:  # the library's "Audio is shorter than text!", in our words
        raise CannotAlign(
            f"{len(log_probs)} frames are too few for the {len(text)} characters "
            "(a repeated letter needs a blank between its frames)"
        ) from None
    first = begins[0] + 1  # ground truth index of the text's first character
    letters = [first + k for k, c in enumerate(text) if c != " "]
    frames = np.minimum(
        np.rint(np.asarray(timings)[letters] / frame_seconds).astype(int), len(char_probs) - 1
    )
    score = float(np.mean(np.asarray(char_probs)[frames]))
    words, position = [], 0
    for word in text.split(" "):
        i, j = first + position, first + position + len(word) - 1
        words.append(
            (word, round(float(timings[i]), 3), round(float(timings[j]) + frame_seconds, 3))
        )
        position += len(word) + 1
    return Alignment(score=score, start=words[0][1], end=words[-1][2], words=tuple(words))


# ----------------------------------------------------------------------------- verdicts


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What make verify does with one utterance: keep it cut to [start, end) of its window, or reject."""

    score: float
    reason: str = ""  # "" keeps the utterance; else a ledger reason
    detail: str = ""
    start: float = 0.0  # seconds into the window the model heard
    end: float = 0.0
    word_times: tuple[float, ...] = ()  # relative to ``start``

    @property
    def kept(self) -> bool:
        return not self.reason


def judge(
    alignment: Alignment,
    *,
    min_score: float,
    margin: float,
    window_seconds: float,
    own: tuple[float, float],
) -> Verdict:
    """An alignment -> a verdict. ``own`` is where the utterance was in the window before
    (seconds); the aligned text must overlap it (a transcript found only in a neighbour's
    speech is not this utterance's). Kept utterances are cut to the aligned speech plus
    ``margin`` on each side, within the window."""
    score = round(alignment.score, 3)
    if score < min_score:
        return Verdict(score, "verify:low-score", f"score {score:.3f} < min_score {min_score}")
    if alignment.end <= own[0] or alignment.start >= own[1]:
        return Verdict(
            score,
            "verify:elsewhere",
            f"text found at {alignment.start:.2f}-{alignment.end:.2f} s, outside the utterance's own "
            f"{own[0]:.2f}-{own[1]:.2f} s",
        )
    start = round(max(0.0, alignment.start - margin), 3)
    end = round(min(window_seconds, alignment.end + margin), 3)
    times = tuple(round(t - start, 3) for _, a, b in alignment.words for t in (a, b))
    return Verdict(score, start=start, end=end, word_times=times)


# ----------------------------------------------------------------------------- the model


class TrainedModel:
    """A trained run's model, loaded once: waveforms -> frame log-probabilities, in batches."""

    def __init__(self, run: str, batch_size: int = 16):
        from speechmill.train.encoders import subsampling_of
        from speechmill.train.features import HOP_MS
        from speechmill.train.model import load_model, sample_rate_of

        path = model_file(run)
        self.model = load_model(path)
        self.sample_rate = sample_rate_of(self.model)
        self.frame_seconds = subsampling_of(self.model) * HOP_MS / 1000  # a logit frame: 40 ms
        self.batch_size = batch_size

    def log_probs(self, waves: list[np.ndarray]) -> list[np.ndarray]:
        """float32 waveforms at the model's rate -> their log-probabilities, in input order.

        Batches hold neighbours in length order, so the padding (and the work) stays small;
        the batching depends only on the list, so the same list gives the same numbers."""
        import tensorflow as tf

        order = sorted(range(len(waves)), key=lambda i: (len(waves[i]), i))
        out: list[np.ndarray | None] = [None] * len(waves)
        for k in range(0, len(order), self.batch_size):
            chosen = order[k : k + self.batch_size]
            width = max(len(waves[i]) for i in chosen)
            batch = np.zeros((len(chosen), width), np.float32)
            for row, i in enumerate(chosen):
                batch[row, : len(waves[i])] = waves[i]
            lengths = tf.constant([len(waves[i]) for i in chosen], tf.int32)
            for i, lp in zip(chosen, model_log_probs(self.model, tf.constant(batch), lengths)):
                out[i] = lp
        return out  # type: ignore[return-value]


def model_file(run: str) -> str:
    """A run folder (or a .keras file) -> the model file; FileNotFoundError naming what is missing."""
    path = run if run.endswith(".keras") else os.path.join(run, "model.keras")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{run}: no trained model (model.keras); train one with make train")
    return path


def model_facts(run: str) -> dict:
    """What info.json records about the model: its file, sha256 and the run's steps."""
    path = model_file(run)
    digest = file_sha256(path)
    state = os.path.join(os.path.dirname(path), "state.json")
    steps = json.load(open(state)).get("steps") if os.path.exists(state) else None
    return {"run": os.path.dirname(os.path.abspath(path)), "sha256": digest, "steps": steps}


# Where an utterance is heard and which of its readings the audio supports (make verify's
# per-utterance logic; pipelines/verify_corpus.py only wires it).
RETIMED_SECONDS = 0.01  # an edge that moved more than this counts as retimed


@dataclasses.dataclass(frozen=True)
class Window:
    """The audio the model hears for one utterance: ``audio`` starts ``offset`` seconds into
    ``media`` ("" : the record's own audio); the utterance was at ``own`` seconds of it."""

    audio: np.ndarray
    own: tuple[float, float]
    media: str = ""
    offset: float = 0.0


def window_for(utt: Utterance, rate: int, context: float) -> Window:
    """The record's audio with ``context`` seconds around it re-read from its local media file
    when the record is a span of one (``media``, ``media_span``), else the record's own audio
    (always for an augmented copy: the file holds the original sound)."""
    own = Window(utt.audio, (0.0, utt.num_samples / rate))
    local = utt.media and "://" not in utt.media and os.path.isfile(utt.media)
    if context <= 0 or utt.augment or not local or len(utt.media_span) != 2:
        return own
    from speechmill.corpus.inputs.media import load_window

    start, end = utt.media_span
    offset = max(0.0, start - context)
    try:
        audio = load_window(utt.media, rate, offset, end + context - offset)
    except Reject:
        return own
    if len(audio) < int((end - offset) * rate):  # the file changed since the build
        return own
    return Window(audio, (round(start - offset, 3), round(end - offset, 3)), utt.media, offset)


def best_reading(log_probs: np.ndarray, readings: tuple[str, ...], frame_seconds: float):
    """(reading, alignment) of the reading the audio supports best among those that align:
    the fewest characters from what the model hears where the readings align (its greedy
    transcript over their spans, 0.2 s more each side), then the higher alignment score, then
    the earlier reading; CannotAlign when none aligns."""
    aligned, error = [], None
    for k, reading in enumerate(readings):
        try:
            aligned.append((k, reading, align(log_probs, reading, frame_seconds)))
        except CannotAlign as e:
            error = error or e
    if not aligned:
        raise error
    if len(aligned) == 1:
        return aligned[0][1], aligned[0][2]
    pad = 0.2 / frame_seconds
    span = (
        max(0, int(min(a.start for _, _, a in aligned) / frame_seconds - pad)),
        int(max(a.end for _, _, a in aligned) / frame_seconds + pad) + 1,
    )
    _, reading, alignment = min(
        aligned, key=lambda x: (heard_distance(log_probs, x[1], span), -x[2].score, x[0])
    )
    return reading, alignment


def moved(window: Window, start: float, end: float) -> bool:
    """Did an edge of the utterance move by more than RETIMED_SECONDS?"""
    return (
        abs(start - window.own[0]) > RETIMED_SECONDS or abs(end - window.own[1]) > RETIMED_SECONDS
    )
