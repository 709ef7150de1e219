"""Speech and media made on the spot: espeak-ng utterances, LibriSpeech, Common Voice and film
layouts, subtitles, and the sentences each recording was spoken from (the truth tests check
against)."""

from __future__ import annotations

import io
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import soundfile
import soxr

LINES = [
    "The ferry left the north bank at seven every morning.",
    "It carried farmers and their baskets of eggs.",
    "Now and then a goat refused to stand still.",
    "The ferryman had crossed the river many times.",
    "He could do it with his eyes closed.",
    "His passengers would not have liked that at all.",
    "In winter the river froze near the banks.",
    "Then the ferry waited for the spring thaw.",
]

RATE = 16000


SENTENCES = {
    "84-121123-0000": "THE MILL STOOD WHERE TWO RIVERS MET",
    "84-121123-0001": "SHE LIT THE LAMPS ALONG THE RIVER ROAD",
    "84-121123-0002": "THE WHEEL TURNED AGAIN BEFORE NOON",
    "19-198-0000": "A STRANGER CAME ON THE AFTERNOON COACH",
    "19-198-0001": "HE MEASURED THE WATER EVERY MORNING",
    "19-198-0002": "THE STORM CAME DOWN FROM THE HILLS",
    "26-495-0000": "EIGHT BOATS WERE TIED UP AT THE LANDING",
    "26-495-0001": "NOBODY EVER LEARNED WHY THE PLANS CHANGED",
    "26-495-0002": "THE KEEPER CLIMBS THE TOWER EVERY HALF HOUR",
}


SUBSET_OF_SPEAKER = {"84": "dev-clean", "19": "train-clean-100", "26": "train-clean-100"}


SPEAKERS_TXT = textwrap.dedent("""\
    ; Some of the speakers of a LibriSpeech-layout test corpus
    ;ID  |SEX| SUBSET           |MINUTES| NAME
    19   | F | train-clean-100  | 25.19 | Kara
    26   | M | train-clean-100  | 25.08 | Denny
    84   | F | dev-clean        |  8.02 | Christie
    """)


def speak(text: str, voice: str = "en-us", rate: int = 170, sample_rate: int = 16000) -> np.ndarray:
    """espeak-ng speech for ``text`` as int16 samples at ``sample_rate``."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(rate), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    x, rate_in = soundfile.read(io.BytesIO(wav), dtype="float32")
    y = soxr.resample(x, rate_in, sample_rate)
    return np.clip(np.rint(y * 32768), -32768, 32767).astype(np.int16)


def write_audio(path: Path, samples: np.ndarray, rate: int = 16000) -> Path:
    """Write int16 samples in the format ``path``'s extension names (WAV/FLAC/OGG by libsndfile,
    anything else, e.g. MP3 or M4A, by ffmpeg)."""
    if path.suffix.lower() in (".wav", ".flac", ".ogg"):
        soundfile.write(path, samples, rate)
        return path
    wav = path.with_suffix(".tmp.wav")
    soundfile.write(wav, samples, rate)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), str(path)], check=True)
    wav.unlink()
    return path


VOICES = ("en-us", "en-gb", "en-us+f3", "en+m3", "en-us+f4", "en-gb-scotland", "en+f5", "en-029")


def write_librispeech(root: Path, sentences: dict[str, str] = SENTENCES) -> Path:
    """A LibriSpeech/ folder in the official layout (FLAC, trans.txt, SPEAKERS.TXT)."""
    base = root / "LibriSpeech"
    base.mkdir(parents=True, exist_ok=True)
    (base / "SPEAKERS.TXT").write_text(SPEAKERS_TXT)
    chapters: dict[Path, list[str]] = {}
    for utt_id, text in sentences.items():
        speaker, chapter, _ = utt_id.split("-")
        folder = base / SUBSET_OF_SPEAKER.get(speaker, "train-clean-100") / speaker / chapter
        folder.mkdir(parents=True, exist_ok=True)
        voice = VOICES[int(speaker) % len(VOICES)]  # one voice per reader: no two share a sound
        audio = speak(text.lower(), voice=voice)
        soundfile.write(folder / f"{utt_id}.flac", audio, 16000, subtype="PCM_16")
        chapters.setdefault(folder, []).append(f"{utt_id} {text}")
    for folder, lines in chapters.items():
        (folder / f"{folder.parent.name}-{folder.name}.trans.txt").write_text(
            "\n".join(lines) + "\n"
        )
    return base


def with_corrupt_flac(librispeech: Path, folder: Path, utt_id: str) -> Path:
    """A copy of a LibriSpeech-layout folder in ``folder`` whose FLAC ``utt_id`` is damaged."""
    import shutil

    copy = folder / "LibriSpeech"
    shutil.copytree(librispeech, copy)
    speaker, chapter, _ = utt_id.split("-")
    next(copy.glob(f"*/{speaker}/{chapter}/{utt_id}.flac")).write_bytes(b"fLaC" + bytes(300))
    return copy


def room_noise(seconds: float, rms: float, seed: int = 1, rate: int = 16000) -> np.ndarray:
    """Pink-ish noise (white through a one-pole low-pass, as a room's hum and rumble sound) of
    the given RMS level."""
    from scipy.signal import lfilter

    white = np.random.default_rng(seed).normal(0, 1, int(seconds * rate))
    pink = lfilter([1.0], [1.0, -0.95], white)
    return (pink * rms / pink.std()).astype(np.int16)


def make_movie(
    folder: Path,
    name: str,
    lines: list[str],
    first: float = 4.0,
    gap: float = 1.6,
    extra: list[tuple[float, np.ndarray]] = (),
    tail: float = 3.0,
    voice: str = "en-us",
    rate: int = 175,
) -> list[tuple[float, float, str]]:
    """Write ``name.mkv``: each line spoken by espeak-ng (``voice`` at ``rate``) at a known time, ``extra``
    sounds added at given times, ``tail`` seconds after the last line; returns (start, end,
    line) of the speech as spoken. (Two films with the same voice, rate and lines share their sounds,
    which a build publishes once.)"""
    RATE = 16000
    rng = np.random.default_rng(0)
    pieces, placed, t = [], [], first
    for line in lines:
        speech = speak(line, voice=voice, rate=rate)
        loud = np.flatnonzero(np.abs(speech) > 300)
        speech = speech[loud[0] : loud[-1] + 1]  # exact speech extent: the truth
        placed.append((t, t + len(speech) / RATE, line))
        pieces.append((int(t * RATE), speech))
        t += len(speech) / RATE + gap
    track = (rng.normal(0, 30, int((t + tail) * RATE))).astype(np.int16)  # quiet room noise
    for start, speech in pieces + [(int(t0 * RATE), sound) for t0, sound in extra]:
        track[start : start + len(speech)] += speech
    wav = folder / f"{name}.wav"
    soundfile.write(wav, track, RATE)
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "color=c=black:s=64x48:r=5",
            "-i",
            str(wav),
            "-shortest",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "pcm_s16le",
            str(folder / f"{name}.mkv"),
        ],
        check=True,
    )
    wav.unlink()
    return placed


def srt(cues: list[tuple[float, float, str]], offset: float, ratio: float, extra: str = "") -> str:
    """An SRT whose times are the true times mapped back: sub = (audio - offset) / ratio."""

    def stamp(x: float) -> str:
        ms = int(round(x * 1000))
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    blocks = [
        f"{i}\n{stamp((s - offset) / ratio)} --> {stamp((e - offset) / ratio)}\n{text}"
        for i, (s, e, text) in enumerate(cues, start=1)
    ]
    return "\n\n".join(blocks) + "\n\n" + extra


def video_with_speech(folder: Path, name: str, lines: list[str]) -> list[tuple[float, float, str]]:
    """An mp4 with each line spoken in turn, 1.5 s apart; returns (start, end, line)."""
    track, placed, t = [np.zeros(RATE, np.int16)], [], 1.0
    for line in lines:
        s = speak(line)
        loud = np.flatnonzero(np.abs(s) > 300)
        s = s[loud[0] : loud[-1] + 1]
        placed.append((t, t + len(s) / RATE, line))
        track += [s, np.zeros(int(1.5 * RATE), np.int16)]
        t += len(s) / RATE + 1.5
    wav = folder / f"{name}.wav"
    soundfile.write(wav, np.concatenate(track), RATE)
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "color=c=gray:s=64x48:r=5",
            "-i",
            str(wav),
            "-shortest",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            str(folder / f"{name}.mp4"),
        ],
        check=True,
    )
    return placed


def stamp(x: float) -> str:
    ms = int(round(x * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


HEADER = "\t".join(
    "client_id path sentence_id sentence sentence_domain up_votes down_votes age gender accents"
    " variant locale segment".split()
)


def write_commonvoice(root: Path, tables: dict[str, list[tuple]]) -> Path:
    """A Common Voice locale folder: clips/*.mp3 and one TSV per table. A row is
    (client, sentence) or (client, sentence, up_votes, down_votes, gender)."""
    (root / "clips").mkdir(parents=True, exist_ok=True)
    number = 1000
    for table, rows in tables.items():
        lines = [HEADER]
        for row in rows:
            client, sentence, up, down, gender = (
                (*row, 2, 0, "female_feminine")[:5] if len(row) == 2 else row
            )
            number += 1
            clip = f"common_voice_en_{number}.mp3"
            write_audio(root / "clips" / clip, speak(sentence))
            lines.append(
                f"{client * 8}\t{clip}\ts{number}\t{sentence}\t\t{up}\t{down}\tthirties\t{gender}\t\t\ten\t"
            )
        (root / f"{table}.tsv").write_text("\n".join(lines) + "\n")
    return root


WORDS = ["MILL", "RIVER", "STONE", "LANTERN", "HARBOUR", "CLOCK"]


def tiny_librispeech(root: Path, chapters: int, per_chapter: int) -> Path:
    """A LibriSpeech-layout tree of many small units: noise clips with short transcripts, some
    with digits (spelled out), every ninth clip too short (a ``duration:short`` ledger line)."""
    rng = np.random.default_rng(3)
    base = root / "LibriSpeech"
    for c in range(chapters):
        speaker = 200 + c // 2
        subset = "dev-clean" if speaker % 5 == 0 else "train-clean-100"
        folder = base / subset / str(speaker) / str(c)
        folder.mkdir(parents=True)
        lines = []
        for i in range(per_chapter):
            utt = f"{speaker}-{c}-{i:04d}"
            seconds = 0.2 if (c * per_chapter + i) % 9 == 0 else 0.6 + 0.5 * rng.random()
            audio = (rng.standard_normal(int(seconds * 16000)) * 2000).astype(np.int16)
            soundfile.write(folder / f"{utt}.flac", audio, 16000)
            text = f"{WORDS[i % 6]} {i}" if i % 3 == 0 else f"{WORDS[i % 6]} {WORDS[c % 6]}"
            lines.append(f"{utt} {text}")
        (folder / f"{speaker}-{c}.trans.txt").write_text("\n".join(lines) + "\n")
    return base


RATE_LINES = [
    "the tide came in slowly",
    "a lamp was burning in the window",
    "the road turned north",
    "we waited by the gate",
    "the baker opened early",
    "snow covered the hills",
    "the clock struck nine",
    "a letter came for her",
    "the ferry left at dawn",
    "he mended the old chair",
    "the garden needed rain",
    "birds sang on the wire",
]


def speakers_with_a_slow_first_clip(root: Path, speakers: list[tuple[str, str, int]]) -> Path:
    """A folder-source tree: for each (speaker, espeak-ng voice, clips), that many different
    lines as ``NN.wav`` + ``NN.txt``, the first spoken at 80 words a minute and the rest at 175
    (a speaking-rate outlier among its speaker's clips)."""
    for speaker, voice, count in speakers:
        (root / speaker).mkdir(parents=True, exist_ok=True)
        for i, line in enumerate(RATE_LINES[:count]):
            rate = 80 if i == 0 else 175
            write_audio(root / speaker / f"{i:02d}.wav", speak(line, voice=voice, rate=rate))
            (root / speaker / f"{i:02d}.txt").write_text(line)
    return root


def rate_outlier_config(
    tmp_path: Path, speakers: list[tuple[str, str, int]], min_clips: int
) -> Path:
    """A config of ``speakers_with_a_slow_first_clip`` (under ``tmp_path/voices``) as one train
    folder, fencing speaking-rate outliers of speakers with ``min_clips`` clips or more."""
    from support.jobs import write_config

    root = speakers_with_a_slow_first_clip(tmp_path / "voices", speakers)
    return write_config(
        tmp_path / "r.toml",
        f'[[source]]\ntype = "folder"\npath = "{root}"\nsplit = "train"\n'
        f"[quality]\nrate_outliers = 1.5\nrate_min_clips = {min_clips}\n",
        corpus="max_reject_fraction = 0.5",
    )
