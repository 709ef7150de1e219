"""Live transcription (make listen) and the TensorFlow-free runtime: a recording piped at
real-time pace against the offline transcript, the cutting rules, and transcribe/listen run
in a process where TensorFlow, Keras and Beam cannot be imported."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import jiwer
import numpy as np
import pytest
import soundfile
from support.jobs import VERIFY_VOICE
from support.speech import speak

from speechmill.runtime.listen import LiveTranscriber

RATE = 16000
SPOKEN = [
    "The keeper climbed the tower before the storm came in.",
    "Every night he lit the lamp and watched the sea.",
    "The ships passed by the rocks and nobody was lost.",
    "In the morning he wrote the weather in his book.",
]


def recording(lines: list[str], pause: float = 0.9) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """The lines spoken one after another with pauses; -> (float32 samples, (first, last) audible
    sample of each line, in seconds; espeak-ng's own trailing silence is not speech)."""
    voice, wpm = VERIFY_VOICE
    pieces, spans, at = [np.zeros(int(0.5 * RATE), np.float32)], [], 0.5
    for line in lines:
        speech = speak(line, voice, wpm).astype(np.float32) / 32768.0
        audible = np.nonzero(np.abs(speech) > 0.01)[0]
        pieces += [speech, np.zeros(int(pause * RATE), np.float32)]
        spans.append((at + audible[0] / RATE, at + (audible[-1] + 1) / RATE))
        at += (len(speech) + int(pause * RATE)) / RATE
    return np.concatenate(pieces), spans


def pipe_at_real_time(
    command: list[str], samples: np.ndarray, chunk: float = 0.1
) -> list[tuple[float, str]]:
    """Run ``command`` with the samples as s16le on stdin, written at real-time pace;
    -> (seconds after the start, line) for each stdout line, and the stderr text."""
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    step = 2 * int(RATE * chunk)
    lines: list[tuple[float, str]] = []
    reader = threading.Thread(
        target=lambda: lines.extend(
            (time.monotonic(), line.decode().rstrip("\n")) for line in process.stdout
        )
    )
    reader.start()
    time.sleep(8.0)  # let the model load before the speaker starts
    began = time.monotonic()
    for i in range(0, len(pcm), step):
        process.stdin.write(pcm[i : i + step])
        process.stdin.flush()
        time.sleep(max(0.0, began + (i + step) / (2 * RATE) - time.monotonic()))
    process.stdin.close()
    reader.join(timeout=120)
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0, err
    return [(t - began, line) for t, line in lines], err


@pytest.mark.slow
def test_live_lines_match_the_offline_transcript_at_real_time_pace(tmp_path, verify_model):
    from speechmill.runtime.recognizer import load_recognizer
    from speechmill.runtime.transcribe import text_of, transcribe_long

    samples, spans = recording(SPOKEN)
    soundfile.write(tmp_path / "talk.wav", samples, RATE)
    recognizer = load_recognizer(str(verify_model))
    offline = transcribe_long(samples, RATE, text_of(recognizer))
    truth = " ".join(jiwer.RemovePunctuation()(line.lower()) for line in SPOKEN)
    assert jiwer.cer(truth, offline) < 0.5  # the model hears the sentences

    lines, err = pipe_at_real_time(
        [
            sys.executable,
            "-m",
            "speechmill.cli",
            "listen",
            "--model",
            str(verify_model),
            "--input",
            "-",
        ],
        samples,
    )
    finals = [(t, line.split(None, 3)) for t, line in lines if line.startswith("final")]
    partials = [(t, line.split(None, 3)) for t, line in lines if line.startswith("partial")]
    assert len(finals) == len(SPOKEN) and len(partials) >= len(SPOKEN)
    live = " ".join(f[3] for _, f in finals if len(f) == 4)
    # the pieces give the model less context than the whole file: the words may differ where a
    # small model is unsure, but the live text is as close to what was said as the offline one
    assert jiwer.cer(truth, live) <= jiwer.cer(truth, offline) + 0.05, (truth, offline, live)
    assert jiwer.cer(offline, live) <= 0.3, (offline, live)
    for (arrived, (_, start, end, _)), (said_from, said_to) in zip(finals, spans):
        assert float(start) <= said_from and said_to <= float(end)  # each final holds one sentence
        assert arrived - said_to < 2.5  # and comes soon after it ends
    first_partial = partials[0][0]
    assert first_partial < spans[0][1]  # words show while the first sentence goes on
    assert "real-time factor" in err and "latency median" in err


def bursts(layout: list[tuple[str, float]]) -> np.ndarray:
    """'tone' and 'quiet' stretches of the given seconds."""
    rng = np.random.default_rng(0)
    out = []
    for kind, seconds in layout:
        n = int(seconds * RATE)
        out.append(
            0.3 * np.sin(np.arange(n) * 0.2) * (1 + 0.1 * rng.standard_normal(n))
            if kind == "tone"
            else 0.0005 * rng.standard_normal(n)
        )
    return np.concatenate(out).astype(np.float32)


def feed_all(live: LiveTranscriber, samples: np.ndarray, chunk: float = 0.1):
    lines = []
    for i in range(0, len(samples), int(chunk * RATE)):
        lines += live.feed(samples[i : i + int(chunk * RATE)])
    return lines + live.finish()


def test_finals_cut_in_pauses_and_cover_the_stream_once():
    heard = []
    live = LiveTranscriber(
        lambda s: heard.append(len(s)) or f"n{len(s)}", RATE, step=0.5, window=6.0, pause=0.4
    )
    samples = bursts(
        [
            ("quiet", 0.6),
            ("tone", 2.0),
            ("quiet", 0.8),
            ("tone", 1.5),
            ("quiet", 0.2),
            ("tone", 1.0),
            ("quiet", 1.0),
            ("tone", 9.0),
            ("quiet", 0.3),
        ]
    )
    lines = feed_all(live, samples)
    finals = [line for line in lines if line.kind == "final"]
    # decisions every 0.5 s; a pause is 0.4 s of quiet, cut in its middle: 2.8 s (tone ends 2.6), then
    # 6.3 s (the 0.2 s gap at 4.9 s is no pause; the tone ends at 6.1 s)
    assert [f.end for f in finals[:2]] == [
        pytest.approx(2.8, abs=0.01),
        pytest.approx(6.3, abs=0.01),
    ]
    assert finals[0].start == 0 and all(
        a.end == b.start for a, b in zip(finals, finals[1:])
    )  # no gap, no overlap
    assert finals[-1].end == pytest.approx(len(samples) / RATE, abs=0.01)
    assert any(7.1 < f.end < 16.1 for f in finals)  # the 9 s tone: a forced cut inside it
    assert all(f.end - f.start <= 6.5 for f in finals)
    assert max(heard) <= 6.5 * RATE  # no decode beyond the window
    assert all(f.latency is not None and f.latency >= 0 for f in finals)
    assert sum(1 for line in lines if line.kind == "partial") >= 4


def test_silence_prints_nothing():
    live = LiveTranscriber(lambda s: "never", RATE, step=0.5, window=4.0)
    assert feed_all(live, bursts([("quiet", 12.0)])) == []


BLOCKER = """
import importlib.abc, sys
BLOCKED = {"tensorflow", "keras", "apache_beam", "tf_keras", "jax", "torch"}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked in this test")
sys.meta_path.insert(0, Block())
from speechmill.cli import main
status = main(sys.argv[1:])
assert not BLOCKED & {m.split(".")[0] for m in sys.modules}, "a blocked module was imported"
sys.exit(status)
"""


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory) -> Path:
    """An exported tiny Conformer with peaky random outputs (non-trivial text)."""
    import keras

    from speechmill.train.export import export
    from speechmill.train.model import build_model, config_for

    keras.utils.set_random_seed(2)
    model = build_model(config_for("small", d_model=32, heads=2, layers=1, conv_channels=8))
    kernel, bias = model.get_layer("logits").get_weights()
    model.get_layer("logits").set_weights([kernel * 40.0, bias])
    folder = tmp_path_factory.mktemp("tiny") / "export"
    assert export(model, str(folder), RATE)["tflite_builtin_only"] is True
    return folder


def test_the_runtime_transcribes_files_and_streams_without_tensorflow(tmp_path, tiny_export):
    """A Conformer export (builtin-ops .tflite) and an LM, used by a process that cannot import
    TensorFlow: the same text as the TensorFlow SavedModel path gives."""
    from speechmill.lm.arpa import count_ngrams, estimate, write_arpa
    from speechmill.lm.files import load_lm
    from speechmill.runtime.recognizer import load_recognizer
    from speechmill.runtime.transcribe import text_of

    export = tiny_export
    (tmp_path / "lm").mkdir()
    with open(tmp_path / "lm" / "lm.arpa", "w") as f:
        write_arpa(estimate(count_ngrams([s.lower().rstrip(".") for s in SPOKEN], 2), 2), f)
    samples, _ = recording(SPOKEN[:2], pause=0.6)
    soundfile.write(tmp_path / "talk.flac", samples, RATE)

    saved = load_recognizer(str(export), backend="savedmodel")
    expected_greedy = text_of(saved)(soundfile.read(tmp_path / "talk.flac", dtype="float32")[0])
    expected_lm = text_of(saved, 8, load_lm(str(tmp_path / "lm")))(
        soundfile.read(tmp_path / "talk.flac", dtype="float32")[0]
    )
    runner = tmp_path / "no_tf.py"
    runner.write_text(BLOCKER)
    run = subprocess.run(
        [
            sys.executable,
            str(runner),
            "transcribe",
            "--model",
            str(export),
            str(tmp_path / "talk.flac"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\t", 1)[1].strip() == expected_greedy
    run = subprocess.run(
        [
            sys.executable,
            str(runner),
            "transcribe",
            "--model",
            str(export),
            "--lm",
            str(tmp_path / "lm"),
            "--beam",
            "8",
            str(tmp_path / "talk.flac"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\t", 1)[1].strip() == expected_lm
    pcm = (samples * 32767).astype("<i2").tobytes()
    run = subprocess.run(
        [
            sys.executable,
            str(runner),
            "listen",
            "--model",
            str(export),
            "--input",
            "-",
            "--finals-only",
        ],
        input=pcm,
        capture_output=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr.decode()
    finals = run.stdout.decode().strip().splitlines()
    assert finals and all(line.startswith("final") for line in finals)
    assert "real-time factor" in run.stderr.decode()


def test_a_missing_microphone_is_one_line(tiny_export):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "speechmill.cli",
            "listen",
            "--model",
            str(tiny_export),
            "--input",
            "mic",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and ("microphone" in lines[0]), lines


def test_long_files_are_read_block_by_block_and_cut_as_if_read_whole(tmp_path):
    """transcribe holds one block and one piece, not the file: blocks come from soundfile (with
    a streaming resampler) or ffmpeg's pipe as the pieces are needed, and the pieces are the
    ones the whole file would be cut into."""
    import subprocess

    from speechmill.runtime.audio import audio_blocks
    from speechmill.runtime.transcribe import CHUNK_SECONDS, chunk_bounds, transcribe_blocks

    rng = np.random.default_rng(0)
    seconds = 95.0
    t = np.arange(int(seconds * RATE)) / RATE
    loud = (np.sin(2 * np.pi * 0.3 * t) > -0.6).astype(np.float32)  # pauses now and then
    samples = (0.3 * loud * rng.standard_normal(len(t))).astype(np.float32)
    wav, mp3 = tmp_path / "long.wav", tmp_path / "long.mp3"
    soundfile.write(wav, samples, RATE, subtype="FLOAT")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), str(mp3)], check=True)

    blocks = list(audio_blocks(str(wav), RATE, block_seconds=7.0))
    assert len(blocks) == 14 and max(len(b) for b in blocks) == 7 * RATE
    assert np.array_equal(np.concatenate(blocks), samples)  # the same samples, in order
    assert sum(len(b) for b in audio_blocks(str(wav), 8000)) == pytest.approx(len(t) / 2, abs=2)
    piped = list(audio_blocks(str(mp3), RATE, block_seconds=7.0))
    assert len(piped) >= 13 and abs(sum(len(b) for b in piped) - len(t)) < 0.1 * RATE

    pieces, pulled = [], []

    def lazily(source):
        for block in source:
            pulled.append(len(block))
            yield block

    def transcribe(piece):
        pieces.append((sum(pulled), len(piece)))
        return f"piece{len(pieces)}"

    text = transcribe_blocks(lazily(audio_blocks(str(wav), RATE, 7.0)), RATE, transcribe)
    whole = chunk_bounds(samples, RATE)
    assert text == " ".join(f"piece{i + 1}" for i in range(len(whole)))
    assert [n for _, n in pieces] == [end - start for start, end in whole]
    emitted = 0
    for read, size in pieces:  # what was read but not yet sent: never more than a piece + a block
        emitted += size
        assert read - emitted <= (CHUNK_SECONDS + 7.0) * RATE


def test_memory_stays_flat_whatever_the_length_of_the_file(tmp_path):
    import tracemalloc

    from speechmill.runtime.audio import audio_blocks
    from speechmill.runtime.transcribe import transcribe_blocks

    path = tmp_path / "twenty-minutes.wav"  # 77 MB as float32 samples if read whole
    rng = np.random.default_rng(1)
    with soundfile.SoundFile(path, "w", RATE, 1, subtype="PCM_16") as f:
        for _ in range(120):
            f.write((rng.standard_normal(10 * RATE) * 3000).astype(np.int16))
    pieces = []
    tracemalloc.start()
    try:
        transcribe_blocks(
            audio_blocks(str(path), RATE), RATE, lambda p: pieces.append(len(p)) or ""
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sum(pieces) == 1200 * RATE and len(pieces) >= 40
    assert peak < 16e6, peak
