"""The audio measures against independent truth: SNR against the noise the test mixed in (on
recordings whose own floor is measured apart), DNSMOS against what was done to the audio, the
VAD's share against noise and real speech, and the fingerprint against copies made by ffmpeg,
soxr and gain, and against a second reading of the same sentence."""

from __future__ import annotations

import io
import subprocess

import numpy as np
import pytest
import soundfile
import soxr
from support.noise import floor_db, mix, noise, reverberant
from support.prompts import load16k, prompts
from support.speech import speak

from speechmill.corpus import fingerprint
from speechmill.corpus.candidates import Seen
from speechmill.corpus.measures import dnsmos, measure, wada_snr

LEVELS = (0, 5, 10, 20, 30)
LANTERN = "In winter the wind came from the north and the glass rattled in its frame all night."


def pcm(wave: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(wave * 32768), -32768, 32767).astype(np.int16)


@pytest.fixture(scope="module")
def quiet_prompts() -> list[np.ndarray]:
    """Asterisk prompts (a person reading) whose own noise floor lies 50 dB or more below them,
    so the SNR of a mix is the one the test made."""
    chosen = []
    for _, wav, _ in prompts()[::4]:
        x = pcm(load16k(wav))
        if floor_db(x) >= 50 and len(x) > 16000:
            chosen.append(x)
        if len(chosen) == 16:
            break
    assert len(chosen) == 16
    return chosen


def median_errors(speech: list[np.ndarray], kind: str) -> dict[int, float]:
    errors: dict[int, float] = {}
    for snr in LEVELS:
        found = [wada_snr(mix(x, kind, snr, seed=i) / 32768.0) for i, x in enumerate(speech)]
        errors[snr] = float(np.median([f - snr for f in found]))
    return errors


@pytest.mark.parametrize("kind", ["white", "pink", "brown"])
def test_snr_estimate_within_3_db_for_white_and_coloured_noise(quiet_prompts, kind):
    errors = median_errors(quiet_prompts, kind)
    assert all(abs(e) <= 3.0 for e in errors.values()), errors
    estimates = [snr + errors[snr] for snr in LEVELS]
    assert estimates == sorted(estimates)  # in the right order


def test_snr_estimate_under_babble_keeps_the_order(quiet_prompts, capsys):
    errors = median_errors(quiet_prompts[:8], "babble")
    estimates = [snr + errors[snr] for snr in LEVELS]
    assert estimates == sorted(estimates)
    # babble is speech, which WADA's model reads as more speech: the estimate is high at low
    # SNR (measured: about +5 dB at 0 dB, +3 at 5, +2 at 10, +1 at 20, 0 at 30)
    assert errors[0] > 0 and max(abs(e) for e in errors.values()) < 10, errors
    with capsys.disabled():
        print(f"\nWADA-SNR median error under babble: {errors}")


@pytest.mark.slow
def test_dnsmos_scores_noisy_and_reverberant_copies_lower():
    for _, wav, _ in prompts()[10:13]:
        clean = pcm(load16k(wav))
        noisy, echo = mix(clean, "white", 5), reverberant(clean)
        scores = [dnsmos(x / 32768.0) for x in (clean, noisy, echo)]
        assert scores[0] > scores[1] + 0.5 and scores[0] > scores[2] + 0.3, scores


@pytest.mark.slow
def test_pure_noise_has_no_speech_and_real_speech_measures_like_a_studio():
    hiss = pcm(noise("pink", 3 * 16000, 1) * 0.1)
    assert measure(hiss, 16000, "not a word of this").speech_ratio < 0.05
    for _, wav, text in prompts()[20:200:12]:
        x = pcm(load16k(wav))
        if len(x) < 1.5 * 16000:
            continue
        m = measure(x, 16000, text.lower())
        assert m.snr_db > 15 and m.clipped == 0.0, m  # passes the 15 dB cut of IndicWav2Vec
        assert 0.4 <= m.speech_ratio <= 1.0 and 8 <= m.chars_per_second <= 25, m
        assert m.dnsmos >= 2.9, m


def test_a_clip_too_short_for_a_window_has_no_value():
    m = measure(speak("hi")[:4000], 16000, "hi")  # 0.25 s
    assert m.snr_db is None and m.dnsmos is None and m.clipped == 0.0


def mp3(x: np.ndarray) -> np.ndarray:
    wav = io.BytesIO()
    soundfile.write(wav, x, 16000, format="WAV", subtype="PCM_16")
    coded = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "wav", "-i", "-", "-b:a", "48k", "-f", "mp3", "-"],
        input=wav.getvalue(),
        capture_output=True,
        check=True,
    ).stdout
    back = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "-", "-f", "s16le", "-ac", "1", "-ar", "16000", "-"],
        input=coded,
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(back, np.int16)


def test_fingerprint_holds_copies_and_tells_readings_apart():
    for _, wav, _ in prompts()[40:160:20]:
        x = load16k(wav)
        original = pcm(x)
        copies = {
            "mp3": mp3(original),
            "resampled": pcm(soxr.resample(soxr.resample(x, 16000, 44100), 44100, 16000)),
            "quieter": pcm(x * 0.3),
            "trimmed": original[int(0.2 * 16000) :],
        }
        a = fingerprint.prints(original, 16000)
        for name, copy in copies.items():
            assert fingerprint.same_sound(a, fingerprint.prints(copy, 16000)), name
            shared = set(fingerprint.keys(fingerprint.sketch(original, 16000))) & set(
                fingerprint.keys(fingerprint.sketch(copy, 16000))
            )
            assert shared, f"{name}: no key in common, never compared"
    line = "please enter the number of the conference you wish to join"
    readings = [(speak(line, rate=175), speak(line, rate=other)) for other in (160, 185)]
    # one voice in two accents: the same timbre and timing, a few vowels apart
    readings.append((speak(LANTERN, voice="en-us", rate=190), speak(LANTERN, voice="en", rate=190)))
    for a, b in readings:
        assert not fingerprint.same_sound(
            fingerprint.prints(a, 16000), fingerprint.prints(b, 16000)
        )


def test_the_compiled_comparison_gives_numpys_share_and_frames(monkeypatch):
    """The dedupe compares prints in one compiled pass (corpus/shift_votes.py); on real speech,
    its copies and other readings, every pair's (share of differing bits, shared frames) is
    the numpy way's, so a corpus deduplicates alike on a machine without numba."""
    clips = []
    for _, wav, _ in prompts()[10:130:6]:
        x = load16k(wav)
        original = pcm(x)
        clips += [original, original[int(0.3 * 16000) :], pcm(x * 0.5)[: -int(0.2 * 16000)]]
    clips += [speak(LANTERN, rate=rate) for rate in (160, 175, 190)]  # three readings
    printed = [fingerprint.indexed(fingerprint.prints(c, 16000)) for c in clips]
    assert fingerprint.compiled(fingerprint.shift_votes.best_shift_errors) is not None
    pairs = [(a, b) for a in printed for b in printed]
    fast = [fingerprint.bit_errors(a, b.words) for a, b in pairs]
    monkeypatch.setattr(fingerprint, "compiled", lambda loop: None)
    assert fast == [fingerprint.bit_errors(a, b.words) for a, b in pairs]
    n, prompted = len(clips), len(clips) - 3
    close = {
        (i, j)
        for i in range(n)
        for j in range(n)
        if fast[i * n + j][0] <= fingerprint.MAX_BIT_ERRORS
    }
    assert all(i // 3 == j // 3 for i, j in close)  # a clip is close to its copies only
    assert all((g, g + k) in close for g in range(0, prompted, 3) for k in (1, 2))
    assert not any((i, j) in close for i in range(prompted, n) for j in range(i + 1, n))


def test_the_sketch_finds_every_repeat_in_either_form():
    exact_max = 20_000  # the filters past it (the default, 2**20 keys, is slow to fill here)
    small, big = Seen(exact_max=exact_max), Seen(exact_max=exact_max)
    for i in range(300):
        small.add(f"id:{i}")
    for i in range(200, exact_max + 500):  # becomes the two filters
        big.add(f"id:{i}")
    big.add("id:99999")
    big.add("id:99999")
    small.maybe_repeated("id:0"), big.maybe_repeated("id:0")  # (the keys are added in batches)
    assert small.sparse and not big.sparse
    merged = small.merge(big)
    assert all(merged.maybe_repeated(f"id:{i}") for i in range(200, 300))
    assert merged.maybe_repeated("id:99999")
    assert not any(merged.maybe_repeated(f"id:{i}") for i in range(200))
    false = sum(merged.maybe_repeated(f"id:{i}") for i in range(exact_max + 1000, exact_max + 3000))
    assert false == 0  # 20 000 keys in 2**27 bits
