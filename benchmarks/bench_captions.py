"""`make bench` for captioned media: subtitle sync + segmentation on a generated film.

A 30-minute (``--minutes``) film soundtrack of espeak-ng speech lines in room noise, and an SRT
for it shifted by +2.5 s and timed for 25 fps while the film runs at 23.976 fps. Measured, in
x-realtime per core (film seconds per CPU second):
  - speechmill sync + segmentation on decoded audio (speech activity, offset/ratio search,
    cue cleanup, utterance cutting and boundary refinement)
  - the same including ffmpeg decoding of the soundtrack
  - ffsubsync (the tool people use for syncing alone), end to end on the same files,
    when it is installed (`pip install ffsubsync`; `make bench` installs it)
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile
import soxr

from benchmarks import cpu_seconds

REPO = Path(__file__).resolve().parent.parent
BOOK = REPO / "configs" / "books" / "lantern-keepers.txt"
RATE = 16000
OFFSET, RATIO = 2.5, 25 / 23.976


def make_film(folder: Path, minutes: float) -> tuple[Path, Path]:
    """Soundtrack WAV and shifted SRT; reused when already there."""
    from speechmill.corpus.inputs.book import book_pieces

    wav, srt = folder / f"film-{minutes:g}.wav", folder / f"film-{minutes:g}.srt"
    if wav.exists() and srt.exists():
        return wav, srt
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    lines = book_pieces(BOOK.read_bytes(), min_words=4, max_words=14)
    total = int(minutes * 60 * RATE)
    track = rng.normal(0, 40, total).astype(np.float32)
    cues, t, k = [], 3.0, 0
    while True:
        text = lines[k % len(lines)]
        out = subprocess.run(
            ["espeak-ng", "-v", ["en-us", "en", "en-us+f3"][k % 3], "--stdout", text],
            check=True,
            capture_output=True,
        ).stdout
        x, rate = soundfile.read(io.BytesIO(out), dtype="float32")
        y = soxr.resample(x, rate, RATE) * 32768 * 0.6
        loud = np.flatnonzero(np.abs(y) > 300)
        y = y[loud[0] : loud[-1] + 1]
        a = int(t * RATE)
        if a + len(y) >= total - RATE:
            break
        track[a : a + len(y)] += y
        cues.append((t, t + len(y) / RATE, text))
        t += len(y) / RATE + rng.uniform(0.8, 4.0)
        k += 1
    soundfile.write(wav, np.clip(track, -32768, 32767).astype(np.int16), RATE)

    def stamp(x: float) -> str:
        ms = int(round(x * 1000))
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    srt.write_text(
        "\n".join(
            f"{i}\n{stamp((s - OFFSET) / RATIO)} --> {stamp((e - OFFSET) / RATIO)}\n{text}\n"
            for i, (s, e, text) in enumerate(cues, start=1)
        )
    )
    return wav, srt


def speechmill_sync(audio: np.ndarray, srt: Path) -> tuple[float, float, int]:
    from speechmill.corpus.subtitles.parse import parse_subtitles
    from speechmill.corpus.subtitles.spans import clean_cues, utterance_spans
    from speechmill.corpus.subtitles.sync import find_alignment, speech_activity

    cues, _ = parse_subtitles(srt.read_bytes(), srt.name)
    spans, _ = clean_cues(cues, "bench", str(srt))
    speech = speech_activity(audio, RATE)
    alignment = find_alignment(speech, [(s, e) for s, e, _ in spans])
    utterances = utterance_spans(spans, speech, alignment)
    return alignment.offset, alignment.ratio, len(utterances)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--work", default=str(REPO / "build" / "bench"))
    args = parser.parse_args(argv)
    wav, srt = make_film(Path(args.work), args.minutes)
    seconds = soundfile.info(wav).duration
    print(
        f"\nfilm: {seconds / 60:.1f} min soundtrack, subtitles shifted {OFFSET:+.1f} s and timed for 25 fps "
        f"(ratio {RATIO:.5f}) in {wav.parent}"
    )

    audio, _ = soundfile.read(wav, dtype="int16")
    best = None
    for _ in range(3):
        start = cpu_seconds()
        offset, ratio, count = speechmill_sync(audio, srt)
        used = cpu_seconds() - start
        best = used if best is None else min(best, used)
    from speechmill.corpus.inputs.media import load_audio

    start = cpu_seconds()
    decoded = load_audio(str(wav), RATE)
    speechmill_sync(decoded, srt)
    with_decode = cpu_seconds() - start
    rows = [
        (
            "speechmill sync + segmentation (decoded audio)",
            best,
            f"{offset:+.3f} s x{ratio:.5f}, {count} utt",
        ),
        ("speechmill incl. ffmpeg decode of the soundtrack", with_decode, ""),
    ]
    ffsubsync = shutil.which("ffsubsync") or str(Path(sys.executable).parent / "ffsubsync")
    if Path(ffsubsync).exists():
        start = cpu_seconds()
        run = subprocess.run(
            [ffsubsync, str(wav), "-i", str(srt), "-o", str(wav.parent / "ffsubsync-out.srt")],
            capture_output=True,
            text=True,
        )
        used = cpu_seconds() - start
        found = re.search(r"offset seconds: (-?[\d.]+)", run.stderr)
        scale = re.search(r"framerate scale factor: ([\d.]+)", run.stderr)
        note = (
            f"{float(found.group(1)):+.3f} s x{float(scale.group(1)):.5f}"
            if found and scale
            else f"exit {run.returncode}"
        )
        rows.append(("ffsubsync, end to end (decode + VAD + sync)", used, note))
    else:
        rows.append(("ffsubsync (not installed: pip install ffsubsync)", float("nan"), ""))
    print(
        f"\n{'stage':<52} {'CPU s':>7} {'x-realtime/core':>16}  found (truth {OFFSET:+.3f} s x{RATIO:.5f})"
    )
    for label, used, note in rows:
        print(f"{label:<52} {used:>7.2f} {seconds / used:>16.0f}  {note}")
    print(f"goal: sync + segmentation >= 200x realtime per core: {seconds / best:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
