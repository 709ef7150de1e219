"""TTS speech is what espeak-ng says for each piece alone, at the piece's own settings, and
identical from build to build (many units per worker, voices and rates changing between units)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import soundfile
from conftest import build, read_corpus, write_config

BOOK = """*** START OF THE PROJECT GUTENBERG EBOOK LANTERNS ***

The keeper of the lantern climbed the stairs every evening before the sun went down.

His daughter counted the ships that passed the point and wrote their names in a book.

In winter the wind came from the north and the glass rattled in its frame all night.

In 1847 he came home with $2.50 in his pocket and a clock that struck 13.

Nobody in the village could remember a night when the light had not been lit.

*** END OF THE PROJECT GUTENBERG EBOOK LANTERNS ***
"""
VOICES = ["en-us", "en", "en-us+f3"]
RATES = [150, 190]


def espeak_alone(text: str, voice: str, rate: int, pitch: int) -> float:
    """Seconds of speech espeak-ng's own command gives for ``text`` at these settings."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(rate), "-p", str(pitch), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    info = soundfile.info(io.BytesIO(wav))
    return info.frames / info.samplerate


def lanterns_config(tmp_path: Path, voices: list[str], rates: list[int], extra: str = "") -> Path:
    """A config speaking the lanterns book with these voices and rates (train split, 4-20 words)."""
    book = tmp_path / "lanterns.txt"
    book.write_text(BOOK)
    return write_config(
        tmp_path / "tts.toml",
        f"""
        [[source]]
        type = "gutenberg"
        books = ["{book}"]
        voices = {voices}
        rates = {rates}
        {extra}
        split = "train"
        min_words = 4
        max_words = 20
        """,
    )


def test_multi_voice_books_are_identical_and_each_piece_has_its_own_settings(tmp_path):
    config = lanterns_config(tmp_path, VOICES, RATES)
    first = build(config, tmp_path / "a")
    second = build(config, tmp_path / "b")
    assert first == second
    assert first["sources"][0]["cleaning"]["spelled_out"] == len(VOICES) * len(
        RATES
    )  # the number sentence
    for name in first["splits"]["train"]["shards"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name

    rows = read_corpus(tmp_path / "a", "train")
    assert len(rows) == 5 * len(VOICES) * len(RATES)
    for row in rows:  # e.g. gutenberg/lanterns/en-us+f3@150wpm-p50/00000
        voice, rest = row["id"].split("/")[2].split("@")
        rate = int(rest.split("wpm")[0])
        # The audio is what the engine says for the stored transcript alone, at this setting:
        # within 2 % (libespeak-ng carries a few ms of state between pieces; a wrong rate is
        # 15-25 % off, and the raw text of the number sentence is read 20 % longer).
        expected = espeak_alone(row["text"], voice.replace("_", "+"), rate, 50)
        assert abs(row["num_samples"] / 16000 - expected) < 0.02 * expected, (
            row["id"],
            row["num_samples"],
            expected,
        )
        if "1847" in row["text_raw"]:
            raw = espeak_alone(row["text_raw"], voice.replace("_", "+"), rate, 50)
            assert abs(raw - expected) > 0.1 * expected  # the check tells the two readings apart


def median_pitch(folder: Path, split: str = "train") -> dict[str, tuple[float, str, str]]:
    """Each record's median F0 (librosa's YIN, a measure independent of the voice names) with its
    stored gender and engine."""
    import librosa
    import numpy as np

    from speechmill.corpus.reader import load_info, utterances

    out = {}
    for utt in utterances(str(folder), load_info(str(folder)), split):
        f0 = librosa.yin(utt.audio.astype(np.float32) / 32768, fmin=60, fmax=400, sr=16000)
        out[utt.id] = (float(np.median(f0)), utt.gender, utt.engine)
    return out


def test_tts_voices_carry_the_gender_their_pitch_shows_and_their_engine(tmp_path):
    """espeak-ng's "+f2" variant and flite's slt are women's voices, espeak's en-us and flite's
    awb men's: the stored gender agrees with the speech's median F0 on every record."""
    voices = ["en-us", "en-gb-scotland+f2", "flite:slt", "flite:awb"]
    config = lanterns_config(tmp_path, voices, [170])
    build(config, tmp_path / "corpus")
    found = median_pitch(tmp_path / "corpus")
    assert len(found) == 5 * len(voices)
    for uid, (pitch, gender, engine) in found.items():  # men about 100-135 Hz, women 170-220
        assert gender == ("f" if pitch > 150 else "m"), (uid, pitch, gender)
        assert engine == ("flite" if "/flite_" in uid else "espeak-ng"), (uid, engine)
    assert {g for _, g, _ in found.values()} == {"f", "m"}


def test_the_tts_child_dies_with_the_build(tmp_path):
    # The build's main process marks itself and starts a worker (like Beam's SDK workers, which
    # outlive a killed job for a while); the worker's TTS child must go when the build goes.
    worker = (
        "import time\nfrom corpus.inputs.tts import Synthesizer\ns = Synthesizer()\n"
        "s.speak('hello there', 'en-us', 160, 50)\nimport os\nprint(os.getpid(), s._proc.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    job = (
        "import subprocess, sys\nfrom corpus.inputs.tts import mark_job\nmark_job()\n"
        f"w = subprocess.Popen([sys.executable, '-c', {worker!r}], stdout=sys.stdout)\nw.wait()\n"
    )
    repo = Path(__file__).resolve().parent.parent
    build_process = subprocess.Popen(
        [sys.executable, "-c", job], stdout=subprocess.PIPE, text=True, cwd=repo
    )
    worker_pid, child = (int(pid) for pid in build_process.stdout.readline().split())
    try:
        os.kill(build_process.pid, signal.SIGKILL)
        build_process.wait()
        deadline = time.time() + 5
        while time.time() < deadline and _alive(child):
            time.sleep(0.1)
        assert _alive(worker_pid) and not _alive(child)
    finally:
        os.kill(worker_pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def program_alone(engine: str, voice: str, text: str, stretch: float, tmp_path: Path) -> float:
    """Seconds of speech flite's or festival's own command gives for ``text`` alone."""
    out = tmp_path / "alone.wav"
    if engine == "flite":
        subprocess.run(
            [
                "flite",
                "-voice",
                voice,
                "--setf",
                f"duration_stretch={stretch:.4f}",
                "-t",
                text,
                "-o",
                str(out),
            ],
            check=True,
            capture_output=True,
        )
    else:
        (tmp_path / "alone.txt").write_text(text)
        subprocess.run(
            [
                "text2wave",
                "-eval",
                f"(voice_{voice})",
                "-eval",
                f"(Parameter.set 'Duration_Stretch {stretch})",
                str(tmp_path / "alone.txt"),
                "-o",
                str(out),
            ],
            check=True,
            capture_output=True,
        )
    return soundfile.info(out).duration


def test_flite_and_festival_voices_speak_their_share_of_the_pieces(tmp_path):
    voices = ["en-us", "flite:slt", "flite:awb", "festival:kal_diphone", "festival:ked_diphone"]
    config = lanterns_config(tmp_path, voices, [150], "voices_per_piece = 2")
    first = build(config, tmp_path / "a")
    assert build(config, tmp_path / "b") == first  # the same pieces to the same voices again
    rows = read_corpus(tmp_path / "a", "train")
    by_piece = {}
    for row in rows:
        by_piece.setdefault(row["id"].rsplit("/", 1)[1], []).append(row["speaker"])
    assert len(by_piece) == 5 and all(
        len(set(s)) == 2 for s in by_piece.values()
    )  # two voices per piece
    speakers = {row["speaker"] for row in rows}
    assert {"gutenberg/flite_slt@150wpm", "gutenberg/festival_kal_diphone@150wpm"} & speakers
    durations = []
    for row in rows:
        setting = row["speaker"].split("/")[1]
        if setting.startswith(("flite_", "festival_")):
            engine, voice = setting.split("@")[0].split("_", 1)
            expected = program_alone(engine, voice, row["text"], 170 / 150, tmp_path)
            # the record is the engine's speech of its own transcript (a batch shifted by one piece
            # would be off by seconds: the pieces differ in length by far more than 1 %)
            assert abs(row["num_samples"] / 16000 - expected) < 0.01 * expected + 0.01, (
                row["id"],
                expected,
            )
            durations.append(expected)
    assert len(durations) >= 4 and max(durations) > 1.3 * min(durations)
