"""Effects measured on espeak-ng speech: durations, pitch, SNR, reverb tails, determinism."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
from support.speech import speak

from speechmill.augment import effects
from speechmill.augment.recipe import chain_label, parse_recipe

RATE = 16000


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    parts = [
        speak("the lamps along the river road were lit at six every evening"),
        speak("nobody spoke until the great wheel began to turn", voice="en+f3"),
    ]
    return np.concatenate(parts).astype(np.float32) / 32768.0


def median_f0(x: np.ndarray) -> float:
    f0, voiced, _ = librosa.pyin(x, fmin=60, fmax=500, sr=RATE, frame_length=1024)
    return float(np.nanmedian(f0[voiced]))


@pytest.mark.slow
def test_speed_changes_duration_and_pitch_together(speech):
    fast = effects.speed(speech, RATE, 1.1)
    assert len(fast) == pytest.approx(len(speech) / 1.1, rel=0.01)
    assert median_f0(fast) / median_f0(speech) == pytest.approx(1.1, rel=0.03)


@pytest.mark.slow
@pytest.mark.parametrize("semitones", [2, -2])
def test_pitch_shift_keeps_duration_and_moves_f0(speech, semitones):
    shifted = effects.pitch_shift(speech, RATE, semitones)
    assert len(shifted) == pytest.approx(len(speech), rel=0.01)
    assert median_f0(shifted) / median_f0(speech) == pytest.approx(2 ** (semitones / 12), rel=0.03)


@pytest.mark.slow
def test_tempo_keeps_pitch(speech):
    slow = effects.tempo(speech, RATE, 0.9)
    assert len(slow) == pytest.approx(len(speech) / 0.9, rel=0.01)
    assert median_f0(slow) / median_f0(speech) == pytest.approx(1.0, rel=0.03)


@pytest.mark.parametrize("kind", ["white", "pink", "brown"])
def test_noise_is_mixed_at_the_requested_snr(speech, kind):
    rng = np.random.default_rng(3)
    noisy = effects.add_noise(speech, effects.colored_noise(kind, 5000, rng), 10.0, rng)
    noise = noisy - speech
    assert 20 * np.log10(effects.rms(speech) / effects.rms(noise)) == pytest.approx(10.0, abs=0.5)


def test_the_one_pass_noise_mix_gives_numpys_bytes_and_the_noise_comes_out_again(speech):
    """The compiled mix (augment/mix.py) against numpy's multiply-then-add on the same inputs,
    bytes for bytes (an augmented corpus is the same on a machine without numba); and the
    noise bank's piece is what subtracting the speech gives back."""
    from speechmill.augment.mix import mix

    rng = np.random.default_rng(5)
    for n in (0, 1, 7, 4097, len(speech)):
        x, piece = speech[:n], effects.colored_noise("pink", n + 9, rng)[3 : 3 + n]
        scale = float(rng.uniform(0.001, 3.0))
        numpy_mix = piece * np.float32(scale)
        numpy_mix += x
        assert mix(x, piece, scale).tobytes() == numpy_mix.tobytes()
    bank = effects.colored_noise("white", 3 * len(speech), rng)
    noisy = effects.add_noise(speech, bank, 20.0, np.random.default_rng(9))
    start = int(np.random.default_rng(9).integers(0, len(bank) - len(speech) + 1))
    added = (noisy - speech).astype(np.float64)
    piece = bank[start : start + len(speech)].astype(np.float64)
    assert np.corrcoef(added, piece)[0, 1] > 0.999
    assert 20 * np.log10(effects.rms(speech) / effects.rms(noisy - speech)) == pytest.approx(
        20.0, abs=0.05
    )


def test_babble_from_other_utterances(speech):
    rng = np.random.default_rng(1)
    others = [speech[:8000], speech[8000:20000], speech[20000:]]
    noisy = effects.add_noise(speech, effects.babble(others, len(speech), rng), 5.0, rng)
    assert 20 * np.log10(effects.rms(speech) / effects.rms(noisy - speech)) == pytest.approx(
        5.0, abs=0.5
    )


def test_reverb_adds_the_tail_and_keeps_the_level(speech):
    rir = effects.synthetic_rir(RATE, 0.5, np.random.default_rng(0))
    wet = effects.reverb(speech, rir)
    assert len(wet) == len(speech) + len(rir) - 1
    assert effects.rms(wet) == pytest.approx(effects.rms(speech), rel=0.01)
    assert np.abs(wet).max() < 1.0


def test_simulated_rooms_ring_for_about_their_rt60_and_are_seeded():
    import pyroomacoustics as pra

    measured = {
        rt60: [
            pra.experimental.measure_rt60(
                effects.room_rir(RATE, rt60, np.random.default_rng(i)), RATE
            )
            for i in range(6)
        ]
        for rt60 in (0.3, 1.2)
    }
    for (
        rt60,
        values,
    ) in measured.items():  # image sources vs Sabine: the same order, not the same value
        assert 0.7 * rt60 < np.median(values) < 2.0 * rt60, (rt60, values)
    assert np.mean(measured[1.2]) > 2 * np.mean(measured[0.3])
    rir = effects.room_rir(RATE, 0.5, np.random.default_rng(7))
    assert np.array_equal(rir, effects.room_rir(RATE, 0.5, np.random.default_rng(7)))
    assert np.abs(rir[0]) >= 0.05 and np.abs(rir).max() == pytest.approx(
        1.0
    )  # starts at the direct sound


def test_telephone_removes_low_and_high_frequencies(speech):
    band = effects.telephone(speech, RATE)
    spectrum = np.abs(np.fft.rfft(band)) ** 2
    freqs = np.fft.rfftfreq(len(band), 1 / RATE)
    inside = spectrum[(freqs > 400) & (freqs < 3000)].sum()
    assert (
        spectrum[freqs > 5000].sum() < 0.01 * inside and spectrum[freqs < 100].sum() < 0.01 * inside
    )


def test_same_seed_same_output_and_different_utterances_differ():
    recipe = parse_recipe("speed=0.9,1.1;noise=5..20dB@0.5;pitch=-2..2@0.3")
    assert recipe.chains("a/1", 7) == recipe.chains("a/1", 7)
    chains = [recipe.chains(f"a/{i}", 7) for i in range(200)]
    assert all(
        len(c) == 2 and c[0][0] == ("speed", 0.9) and c[1][0] == ("speed", 1.1) for c in chains
    )
    with_noise = sum(any(e == "noise" for e, _ in chain) for c in chains for chain in c) / 400
    with_pitch = sum(any(e == "pitch" for e, _ in chain) for c in chains for chain in c) / 400
    assert 0.4 < with_noise < 0.6 and 0.2 < with_pitch < 0.4
    values = [v for c in chains for chain in c for e, v in chain if e == "noise"]
    assert min(values) >= 5 and max(values) <= 20 and len(set(values)) > 20


def test_fixed_effects_make_exactly_one_copy():
    for text, chain in [
        ("pitch=2", (("pitch", 2.0),)),
        ("speed=1.1", (("speed", 1.1),)),
        ("noise=10dB", (("noise", 10.0),)),
    ]:
        assert parse_recipe(text).chains("x", 0) == [chain]
    assert chain_label((("speed", 1.1), ("noise", 12.3))) == (
        "~speed1.1+noise12.3dB",
        "speed=1.1,noise=12.3dB",
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("speed=3", "speed=3 is outside 0.5..2"),
        ("pitch=-2..30", "pitch=30 is outside -12..12"),
        ("noise=loud", "'loud' is not a number"),
        ("echo=2", "unknown effect 'echo'"),
        ("noise=5..20dB@1.5", "probability must be within 0..1"),
        ("speed=0.9,1.1@0.5", "take no @probability"),
        ("noise=20..5", "range 20..5 is empty"),
    ],
)
def test_bad_parameters_fail_before_any_work(text, message):
    with pytest.raises(effects.EffectError, match=message):
        parse_recipe(text)


def test_effect_functions_check_their_parameters(speech):
    with pytest.raises(effects.EffectError, match="outside"):
        effects.speed(speech, RATE, 0.1)
    with pytest.raises(effects.EffectError, match="non-silent"):
        effects.add_noise(speech, np.zeros(100, np.float32), 10, np.random.default_rng(0))
    with pytest.raises(effects.EffectError, match="noise kind"):
        effects.colored_noise("purple", 10, np.random.default_rng(0))


@pytest.mark.parametrize("kind, slope", [("white", 0.0), ("pink", -10.0), ("brown", -20.0)])
def test_colored_noise_has_its_spectral_slope(kind, slope):
    from scipy import signal

    noise = effects.colored_noise(kind, RATE * 20, np.random.default_rng(2))
    freqs, psd = signal.welch(noise, fs=RATE, nperseg=4096)
    band = (freqs >= 100) & (freqs <= 4000)
    fitted = np.polyfit(np.log10(freqs[band]), 10 * np.log10(psd[band]), 1)[0]  # dB per decade
    assert fitted == pytest.approx(slope, abs=2.0)


def test_a_new_effect_is_one_table_row(monkeypatch, speech):
    """Parsing, range checks, labels, application and word-time stretching all read EFFECTS:
    a new row is enough for `make augment` to use the effect."""
    from speechmill.augment.apply import Banks, augment_utterance
    from speechmill.augment.recipe import parse_on_the_fly
    from speechmill.corpus.errors import UserError
    from speechmill.corpus.schema import Utterance

    row = effects.Effect(
        "trim",
        0.25,
        4.0,
        "a factor",
        lambda x, rate, v, banks, rng_for: x[: int(len(x) / v)],
        unit="x",
        stretches=True,
    )
    monkeypatch.setitem(effects.EFFECTS, "trim", row)
    recipe = parse_recipe("trim=2;speed=1.25")
    (chain,) = recipe.chains("u", seed=1)
    assert chain == (("speed", 1.25), ("trim", 2.0))  # the table's order, not the text's
    assert chain_label(chain) == ("~speed1.25+trim2x", "speed=1.25,trim=2x")
    with pytest.raises(effects.EffectError, match=r"trim=9 is outside 0.25..4 a factor"):
        parse_recipe("trim=9")
    with pytest.raises(UserError, match="trim only works offline"):
        parse_on_the_fly("trim=2")
    pcm = (speech * 32767).astype(np.int16)
    utt = Utterance(
        id="u",
        source="s",
        speaker="k",
        group="g",
        text="a b",
        text_raw="a b",
        audio=pcm,
        verify_score=-1.0,
        word_times=(0.0, 0.5, 0.6, 1.0),
    )
    copy = augment_utterance(utt, chain, RATE, Banks(), seed=1)
    assert copy.num_samples == pytest.approx(len(pcm) / 1.25 / 2, abs=2)
    assert copy.word_times == (0.0, 0.2, 0.24, 0.4)  # word times follow: x 1 / (1.25 * 2)
