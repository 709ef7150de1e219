"""On-the-fly augmentation ops in TensorFlow: levels, lengths, masks, determinism, tf.data use."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from support.speech import speak

from speechmill.augment import tf_ops

RATE = 16000


@pytest.fixture(scope="module")
def audio() -> tf.Tensor:
    return tf.constant(
        speak("the keeper climbs the tower every half hour").astype(np.float32) / 32768.0
    )


def test_noise_at_snr_and_stateless_determinism(audio):
    seed = tf.constant([1, 2])
    noisy = tf_ops.add_noise(audio, 10.0, seed)
    noise = (noisy - audio).numpy()
    assert 20 * np.log10(
        np.sqrt(np.mean(audio.numpy() ** 2)) / np.sqrt(np.mean(noise**2))
    ) == pytest.approx(10, abs=0.5)
    assert np.array_equal(noisy.numpy(), tf_ops.add_noise(audio, 10.0, seed).numpy())
    assert not np.array_equal(
        noisy.numpy(), tf_ops.add_noise(audio, 10.0, tf.constant([1, 3])).numpy()
    )


def _pitch(x: np.ndarray) -> float:
    """The strongest frequency of a signal (Hz at RATE), from its spectrum."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * RATE / len(x))


@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_speed_on_the_fly_is_make_augments_speed(audio, factor):
    """A 440 Hz tone sped up by k is a 440 k Hz tone of 1/k the length (measured from its
    spectrum, not from our code), and the on-the-fly op gives make augment's samples."""
    from speechmill.augment.effects import speed

    tone = np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE).astype(np.float32)
    fast = tf_ops.change_speed(tf.constant(tone), factor).numpy()
    assert len(fast) == pytest.approx(RATE / factor, abs=2)
    assert _pitch(fast) == pytest.approx(440 * factor, abs=2.0)
    assert np.array_equal(fast, speed(tone, RATE, factor))  # one effect, one algorithm
    speech = tf_ops.change_speed(audio, factor).numpy()
    assert np.array_equal(speech, speed(audio.numpy(), RATE, factor))


def test_gain_is_one_factor_per_utterance_drawn_across_the_range(audio):
    x = audio.numpy()
    loud = np.abs(x) > 0.01
    gains = []
    for seed in range(40):
        out = tf_ops.random_gain(audio, -6.0, 6.0, tf.constant([seed, 4])).numpy()
        ratio = out[loud] / x[loud]
        assert np.allclose(ratio, ratio[0], rtol=1e-5)  # one gain for the whole utterance
        gains.append(20 * np.log10(ratio[0]))
        again = tf_ops.random_gain(audio, -6.0, 6.0, tf.constant([seed, 4])).numpy()
        assert np.array_equal(out, again)  # stateless: same seed, same gain
    assert all(-6.0 <= g <= 6.0 for g in gains)
    assert min(gains) < -4.0 and max(gains) > 4.0 and len({round(g, 3) for g in gains}) == 40


def test_spec_augment_masks_bands_and_keeps_shape():
    features = tf.ones([200, 80])
    masked = tf_ops.spec_augment(
        features, tf.constant([5, 6]), time_masks=2, time_width=20, freq_masks=2, freq_width=10
    ).numpy()
    assert masked.shape == (200, 80)
    zero_rows = int((masked == 0).all(axis=1).sum())
    zero_cols = int((masked == 0).all(axis=0).sum())
    assert 0 < zero_rows <= 40 and 0 < zero_cols <= 20
    assert np.array_equal(masked, tf_ops.spec_augment(features, tf.constant([5, 6])).numpy())


def test_augment_dataset_works_in_tf_data_and_differs_each_epoch(audio):
    dataset = tf.data.Dataset.from_tensors(
        {"audio": audio, "num_samples": tf.constant(audio.shape[0], tf.int64)}
    )
    out = list(tf_ops.augment_dataset(dataset.repeat(4), seed=3).as_numpy_iterator())
    assert all(len(e["audio"]) == e["num_samples"] for e in out)
    assert len({e["audio"][:1000].tobytes() for e in out}) > 1  # fresh effects per epoch
    again = list(tf_ops.augment_dataset(dataset.repeat(4), seed=3).as_numpy_iterator())
    assert all(np.array_equal(a["audio"], b["audio"]) for a, b in zip(out, again))


def _rms(x) -> float:
    return float(np.sqrt(np.mean(np.square(x))))


def test_the_on_the_fly_recipe_does_what_it_says(audio):
    """Training's augmentation speaks make augment's recipe language: speed values change the
    length by exactly 1/value, gain scales by its decibels, noise lands at its SNR, @p applies
    to about that share, and effects without a TF op are refused."""
    from speechmill.corpus.errors import UserError

    n = int(audio.shape[0])
    element = {"audio": audio, "num_samples": tf.constant(n, tf.int64)}
    dataset = tf.data.Dataset.from_tensors(element).repeat(40)

    out = list(tf_ops.augment_dataset(dataset, seed=1, recipe="speed=0.9,1.1").as_numpy_iterator())
    lengths = {int(e["num_samples"]) for e in out}
    assert lengths == {round(n / 0.9), round(n / 1.1)}
    assert all(len(e["audio"]) == e["num_samples"] for e in out)

    (louder,) = tf_ops.augment_dataset(
        dataset.take(1), seed=1, recipe="gain=6dB"
    ).as_numpy_iterator()
    assert 20 * np.log10(_rms(louder["audio"]) / _rms(audio.numpy())) == pytest.approx(
        6.0, abs=0.01
    )

    for e in tf_ops.augment_dataset(
        dataset.take(5), seed=2, recipe="noise=10dB"
    ).as_numpy_iterator():
        noise = e["audio"] - audio.numpy()
        assert 20 * np.log10(_rms(audio.numpy()) / _rms(noise)) == pytest.approx(10.0, abs=0.2)

    some = list(
        tf_ops.augment_dataset(dataset, seed=3, recipe="gain=-20..-10@0.5").as_numpy_iterator()
    )
    changed = [not np.array_equal(e["audio"], audio.numpy()) for e in some]
    assert 10 <= sum(changed) <= 30  # about half of 40
    for e, moved in zip(some, changed):
        if moved:
            assert -20.01 <= 20 * np.log10(_rms(e["audio"]) / _rms(audio.numpy())) <= -9.99

    with pytest.raises(UserError, match="reverb only works offline"):
        tf_ops.augment_dataset(dataset, seed=1, recipe="reverb=0.5")
