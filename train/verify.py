"""A transcript checked against its audio by a trained CTC model, with CTC segmentation.

``log_posteriors(model, audio, lengths)`` runs a batch through the model and returns each
utterance's frame log-probabilities over ``CHAR_LIST`` (blank first), cut to its true length.
``align(log_probs, text, frame_seconds)`` aligns the transcript to them with the
``ctc-segmentation`` library (the one ESPnet, NeMo and SpeechBrain use) and returns an
:class:`Alignment`: a confidence score (the lowest mean log-probability of the aligned
characters over any window of ``WINDOW_FRAMES`` frames, so one wrong stretch pulls it down), the
span of the audio the text covers, and each word's start and end.

This is the core that ``make verify`` (issue 9) is to run over a corpus; the job itself, its
record fields and its thresholds are not built yet.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from corpus.schema import ALPHABET

CHAR_LIST = ["<blank>"] + list(ALPHABET)      # token 0 is the CTC blank, as in the model
WINDOW_FRAMES = 30                            # 1.2 s at the model's 40 ms frames


@dataclasses.dataclass(frozen=True)
class Alignment:
    score: float                                 # <= 0; higher is a better match
    start: float                                 # seconds: where the text starts and ends in the audio
    end: float
    words: tuple[tuple[str, float, float], ...]  # (word, start, end) in seconds


class CannotAlign(ValueError):
    """The text does not fit the audio at all (more characters than frames, or no characters)."""


def log_posteriors(model, audio, lengths) -> list[np.ndarray]:
    """A padded batch (float32 [B, N], lengths [B]) -> per utterance [T_i, len(CHAR_LIST)] log-probabilities."""
    import tensorflow as tf

    from train.model import output_lengths, sample_rate_of

    logits = model({"audio": audio, "audio_length": lengths}, training=False)
    log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1).numpy()
    frames = np.minimum(output_lengths(lengths, sample_rate_of(model)).numpy(), log_probs.shape[1])
    return [log_probs[i, :n] for i, n in enumerate(frames)]


def align(log_probs: np.ndarray, text: str, frame_seconds: float) -> Alignment:
    """Align ``text`` (normalized, in the corpus alphabet) to one utterance's log-probabilities."""
    from ctc_segmentation import CtcSegmentationParameters, ctc_segmentation, determine_utterance_segments, prepare_text

    text = " ".join(text.split())
    if not text:
        raise CannotAlign("empty transcript")
    if len(text) >= len(log_probs):
        raise CannotAlign(f"{len(text)} characters for {len(log_probs)} frames")
    config = CtcSegmentationParameters(char_list=CHAR_LIST, blank=0, index_duration=frame_seconds,
                                       score_min_mean_over_L=WINDOW_FRAMES)
    ground_truth, begins = prepare_text(config, [text])
    try:
        timings, char_probs, _ = ctc_segmentation(config, np.asarray(log_probs, dtype=np.float64), ground_truth)
    except AssertionError as e:                  # the library's own "audio is shorter than text"
        raise CannotAlign(str(e)) from None
    (start, end, score), = determine_utterance_segments(config, begins, char_probs, timings, [text])
    first = begins[0] + 1                        # ground truth index of the text's first character
    words, position = [], 0
    for word in text.split(" "):
        a, b = first + position, first + position + len(word) - 1
        words.append((word, round(float(timings[a]), 3), round(float(timings[b]) + frame_seconds, 3)))
        position += len(word) + 1
    return Alignment(score=float(score), start=round(float(start), 3), end=round(float(end), 3), words=tuple(words))
