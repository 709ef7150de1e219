"""Real human speech for tests: Debian's asterisk-core-sounds-en-wav (568 prompts read by one
professional speaker, 8 kHz, CC-BY-SA-3.0) with their texts from asterisk-core-sounds-en
(``core-sounds-en.txt``). Installed by ``make setup``'s system step, never copied into the
repository. ``prompts()`` lists (name, wav path, text); ``prompt_folder`` lays chosen prompts
out as a folder source (one speaker) with their own texts, another prompt's text, or none."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

SOUNDS = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
TEXTS = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
MISSING = (
    "the asterisk prompts are not installed: apt-get install asterisk-core-sounds-en-wav "
    "asterisk-core-sounds-en (make setup does)"
)


def prompts() -> list[tuple[str, Path, str]]:
    """(name, wav, text) of every prompt whose recording exists and whose text is what it says
    (not a "[tone]", "<beep>" or "(10 seconds of silence)" description, nor a text with a note in
    parentheses), sorted by name."""
    if not TEXTS.exists() or not SOUNDS.is_dir():
        raise RuntimeError(MISSING)
    found = []
    with gzip.open(TEXTS, "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith(";") or ":" not in line:
                continue
            name, text = (part.strip() for part in line.split(":", 1))
            wav = SOUNDS / f"{name}.wav"
            if text and not any(c in text for c in "[(<") and wav.is_file():
                found.append((name, wav, text))
    return sorted(found)


def differs_by_a_third(a: str, b: str) -> bool:
    """At least a third of either text's characters must change to make the other (jiwer CER
    >= 1/3 both ways: a longer text that holds the shorter one whole is not wrong enough)."""
    import jiwer

    a, b = a.lower(), b.lower()
    return min(jiwer.cer(a, b), jiwer.cer(b, a)) >= 1 / 3


def wrong_text(i: int, chosen: list[tuple[str, Path, str]]) -> str:
    """Another prompt's text for prompt ``i``: the next one in the list that differs from its
    own text by at least a third of its characters (a stable choice)."""
    own = chosen[i][2]
    for k in range(1, len(chosen)):
        other = chosen[(i + k) % len(chosen)][2]
        if differs_by_a_third(own, other):
            return other
    raise ValueError(f"no prompt differs enough from {chosen[i][0]}")


def prompt_folder(out: Path, items: list[tuple[str, Path, str | None]]) -> Path:
    """A folder source of one speaker: ``out/allison/<name>.wav`` with ``<name>.txt`` holding
    the text given (None: no transcript file)."""
    speaker = out / "allison"
    speaker.mkdir(parents=True, exist_ok=True)
    for name, wav, text in items:
        stem = name.replace("/", "-")
        shutil.copyfile(wav, speaker / f"{stem}.wav")
        if text is not None:
            (speaker / f"{stem}.txt").write_text(text + "\n", encoding="utf-8")
    os.utime(out)
    return out


RATE = 16000
NOISE = "anoisesrc=color=pink:amplitude=0.3"  # ffmpeg sources of sound that is not speech
MUSIC = "aevalsrc=0.2*sin(2*PI*(220+110*floor(2*t))*t)+0.1*sin(2*PI*330*t)"


def load16k(wav: Path) -> np.ndarray:
    """A prompt's recording as 16 kHz float32."""
    import soundfile as sf
    import soxr

    audio, rate = sf.read(wav, dtype="float32")
    return soxr.resample(audio, rate, RATE).astype(np.float32)


def every_nth(n: int, min_words: int = 3, max_seconds: float = 12.0):
    """Every n-th prompt of at least ``min_words`` words and at most ``max_seconds``."""
    import soundfile as sf

    chosen = [
        p
        for p in prompts()
        if len(p[2].split()) >= min_words and sf.info(p[1]).duration <= max_seconds
    ]
    return chosen[::n]


def not_speech(path: Path, source: str) -> None:
    """3 s of an ffmpeg lavfi source (NOISE, MUSIC) at 16 kHz."""
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            source,
            "-t",
            "3",
            "-ar",
            "16000",
            str(path),
        ],
        check=True,
    )


def records(corpus: Path) -> dict:
    """id -> Utterance of every record of a corpus (the corpus reader, no TensorFlow)."""
    from speechmill.corpus.reader import load_info, utterances

    info = load_info(str(corpus))
    return {u.id: u for split in info["splits"] for u in utterances(str(corpus), info, split)}
