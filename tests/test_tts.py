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

import numpy as np
import pytest
import soundfile
from support.jobs import build, read_corpus, write_config

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


def engine_speech(engine: str, voice: str, text: str, tmp_path: Path) -> tuple[np.ndarray, int]:
    """What flite or festival says for ``text`` at its own default pace, through its own
    command (no setting of ours): the reference a record is compared with."""
    out = tmp_path / "reference.wav"
    if engine == "flite":
        command = ["flite", "-voice", voice, "-t", text, "-o", str(out)]
    else:
        (tmp_path / "reference.txt").write_text(text)
        command = ["text2wave", "-eval", f"(voice_{voice})", str(tmp_path / "reference.txt")]
        command += ["-o", str(out)]
    subprocess.run(command, check=True, capture_output=True)
    audio, rate = soundfile.read(out, dtype="float32")
    return audio, rate


def dtw_cost(a: np.ndarray, b: np.ndarray, rate: int) -> float:
    """Mean cost of the best time alignment of two utterances' MFCCs (librosa's DTW): low for
    the same words at another pace, high for other words."""
    import librosa

    features = [librosa.feature.mfcc(y=x, sr=rate, n_mfcc=13)[1:] for x in (a, b)]
    features = [
        (f - f.mean(axis=1, keepdims=True)) / (f.std(axis=1, keepdims=True) + 1e-6)
        for f in features
    ]
    cost, path = librosa.sequence.dtw(X=features[0], Y=features[1], metric="euclidean")
    return float(cost[-1, -1] / len(path))


@pytest.mark.slow  # two builds and the engines' own speech of every text: about 15 s
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
    # Each flite/festival record is the engine's speech of its own transcript: of the engine's
    # own speech of every piece's text (at its default pace, through its own command), its own
    # text's is the closest by DTW over MFCCs. A batch shifted by one piece, or audio cut short,
    # would match another text or none. And the record is slower than the engine's default
    # pace, as 150 wpm asks (both engines speak about 170 wpm of their own).
    import soxr

    texts = sorted({row["text"] for row in rows})
    references: dict[tuple[str, str, str], np.ndarray] = {}
    checked = 0
    for row in rows:
        setting = row["speaker"].split("/")[1]
        if not setting.startswith(("flite_", "festival_")):
            continue
        engine, voice = setting.split("@")[0].split("_", 1)
        record = np.asarray(row["audio"], dtype=np.float32)  # in [-1, 1)
        costs = {}
        for text in texts:
            if (engine, voice, text) not in references:
                reference, rate = engine_speech(engine, voice, text, tmp_path)
                references[engine, voice, text] = soxr.resample(reference, rate, 16000)
            reference = references[engine, voice, text]
            costs[text] = dtw_cost(record, reference, 16000)
            if text == row["text"]:
                own_seconds = len(reference) / 16000
        assert min(costs, key=costs.get) == row["text"], (row["id"], costs)
        assert len(record) / 16000 > own_seconds, row["id"]  # 150 wpm: slower than its own pace
        checked += 1
    assert checked >= 4
