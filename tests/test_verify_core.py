"""The verification core: CTC segmentation of a transcript against frame log-probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from speechmill.train.verify import CHAR_LIST, CannotAlign, align, model_log_probs

FRAME = 0.04


def peaked(text: str, first: int, step: int, frames: int = 150) -> np.ndarray:
    """Log-probabilities where character i of ``text`` is certain at frame first + i*step, blank elsewhere."""
    floor = np.log(0.01 / (len(CHAR_LIST) - 1))
    out = np.full((frames, len(CHAR_LIST)), floor)
    out[:, 0] = np.log(0.99)
    for i, ch in enumerate(text):
        out[first + i * step, 0] = floor
        out[first + i * step, CHAR_LIST.index(ch)] = np.log(0.99)
    return out


def test_word_timings_come_from_the_frames_the_model_heard():
    log_probs = peaked("the cat sat", first=20, step=3)
    result = align(log_probs, "the cat sat", FRAME)
    assert result.score > -0.1
    assert result.words == (("the", 0.8, 1.08), ("cat", 1.28, 1.56), ("sat", 1.76, 2.04))
    assert result.start <= 0.8 and result.end >= 2.0


def test_a_transcript_of_other_words_scores_low():
    log_probs = peaked("the cat sat", first=20, step=3)
    right = align(log_probs, "the cat sat", FRAME).score
    for wrong in ("big dog ran", "the dog ran", "a boat"):
        assert align(log_probs, wrong, FRAME).score < right - 1.0, wrong


def test_a_shifted_utterance_is_found_where_it_is():
    late = align(peaked("the cat sat", first=60, step=3), "the cat sat", FRAME)
    assert late.words[0][1] == pytest.approx(60 * FRAME) and late.words[-1][2] == pytest.approx(
        (60 + 30) * FRAME + FRAME
    )


def test_text_that_cannot_fit_is_refused():
    with pytest.raises(CannotAlign):
        align(peaked("a", first=1, step=1, frames=5), "a very long transcript", FRAME)
    with pytest.raises(CannotAlign):
        align(peaked("a", first=1, step=1, frames=5), "   ", FRAME)
    with pytest.raises(CannotAlign) as caught:  # fewer frames than letters and their blanks
        align(peaked("a", first=1, step=1, frames=5), "aaaa", FRAME)
    assert str(caught.value) == (
        "5 frames are too few for the 4 characters (a repeated letter needs a blank between its frames)"
    )  # in our words, not the library's "Audio is shorter than text!"


def test_model_posteriors_are_log_probabilities_cut_to_each_true_length():
    import tensorflow as tf

    from speechmill.train.model import build_model, config_for, output_lengths

    model = build_model(config_for("small", d_model=16, heads=2, layers=1, conv_channels=4))
    lengths = tf.constant([16000, 9000], tf.int32)
    audio = tf.random.stateless_normal([2, 16000], seed=[1, 2]) * tf.sequence_mask(
        lengths, 16000, tf.float32
    )
    out = model_log_probs(model, audio, lengths)
    assert [len(o) for o in out] == output_lengths(lengths, 16000).numpy().tolist()
    for o in out:
        assert o.shape[1] == len(CHAR_LIST)
        np.testing.assert_allclose(np.log(np.exp(o).sum(axis=1)), 0.0, atol=1e-4)
