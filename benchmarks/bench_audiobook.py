"""`make bench` for the audiobook source: a chapter aligned to its book, beside hearing it alone.

The benchmark makes its own chapter: the paragraphs of the project's books (configs/books/, as
one book) spoken in order by flite's slt voice (the one of the installed engines Whisper
tiny.en hears at a CER of about 0.03), ``--minutes`` long, with a preamble that is not in the
book. Two runs on that fresh recording, each in a fresh labeller:

- **teacher alone**: the teacher stage hearing the recording (60 s windows, VAD, Whisper per
  utterance): the floor, what labelling it without a book costs;
- **audiobook**: the same plus finding it in the book, aligning word by word, judging each
  utterance and reading the labelled ones again from the file.

Printed: x-realtime per core of each (seconds of audio per CPU second of this process and its
children: Whisper and the VAD run on one thread), what the alignment adds, and the share of
the utterances labelled, each checked against the text flite was given for that time (an
independent truth, not our output).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks import REPO, cpu_seconds

RATE = 16000
PREAMBLE = "This is a recording made for a benchmark. It is in the public domain."


def chapter(folder: Path, minutes: float) -> tuple[Path, Path, list[tuple[float, float, str]]]:
    """A recording of a book's paragraphs in order (and a preamble), ``minutes`` long."""
    import soundfile as sf
    import soxr

    from speechmill.corpus.inputs.book import book_paragraphs

    paragraphs = [
        p
        for path in sorted((REPO / "configs" / "books").glob("*.txt"))
        for p in book_paragraphs(path.read_bytes())
    ]  # the project's thirteen books as one (about an hour of speech)
    book = folder / "books.txt"
    book.write_text("\n\n".join(" ".join(p) for p in paragraphs) + "\n")
    gap = np.zeros(int(0.8 * RATE), np.float32)
    pieces, placed, t = [gap], [], len(gap) / RATE
    for text in [PREAMBLE] + [s for p in paragraphs for s in p]:
        if t >= minutes * 60:
            break
        out = folder / "s.wav"
        subprocess.run(["flite", "-voice", "slt", "-t", text, "-o", str(out)], check=True)
        audio, rate = sf.read(out, dtype="float32")
        audio = soxr.resample(audio, rate, RATE).astype(np.float32)
        placed.append((t, t + len(audio) / RATE, text))
        pieces += [audio, gap]
        t += (len(audio) + len(gap)) / RATE
    recording = folder / "chapter.wav"
    sf.write(recording, np.concatenate(pieces), RATE)
    return recording, book, placed


def run(recording: Path, book: Path, with_book: bool) -> tuple[float, list]:
    from speechmill.corpus.types import Recording
    from speechmill.teachers.label import Labeller

    labeller = Labeller("whisper", max_seconds=20.0)
    rec = Recording(
        "audiobook/bench/chapter",
        "audiobook/bench",
        "audiobook/bench",
        str(recording),
        "public domain",
        text=str(book) if with_book else "",
    )
    counts = {"recordings": 1, "seconds": 0.0, "speech_seconds": 0.0, "heard": 0}
    start = cpu_seconds()
    if with_book:
        from speechmill.teachers.book import aligned

        out = list(aligned(labeller, rec, counts))
    else:
        out = [h[3].text for h in labeller.heard(rec, counts)]
    return cpu_seconds() - start, out


def main(argv: list[str] | None = None) -> int:
    from speechmill.corpus.text import normalize

    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_audiobook")
    p.add_argument("--minutes", type=float, default=30.0, help="length of the chapter")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        recording, book, placed = chapter(Path(tmp), args.minutes)
        seconds = placed[-1][1] + 0.8
        alone, heard = run(recording, book, with_book=False)
        aligned_cpu, out = run(recording, book, with_book=True)
    segments = [x for x in out if hasattr(x, "text_raw")]
    exact, wrong = 0, []
    for seg in segments:
        a, b = seg.media_span
        spoken = [s for s in placed if min(b, s[1]) > max(a, s[0])]
        said = normalize(" ".join(s[2] for s in spoken)).split()
        label = normalize(seg.text_raw).split()
        # the label is a run of the words spoken in its span, and whole sentences where the
        # span holds a sentence's start or end (a piece cut at a pause inside a sentence
        # holds part of it)
        runs = [k for k in range(len(said) - len(label) + 1) if said[k : k + len(label)] == label]
        starts = a <= spoken[0][0] + 0.1 if spoken else False
        ends = b >= spoken[-1][1] - 0.1 if spoken else False
        if any((k == 0 or not starts) and (k + len(label) == len(said) or not ends) for k in runs):
            exact += 1
        else:
            wrong.append((seg.text_raw, " ".join(said)))
    print(
        f"audiobook: a {seconds / 60:.1f}-minute chapter of {book.name} (flite slt), {len(heard)} utterances"
    )
    print(f"{'':<26}{'x-RT/core':>10}")
    print(f"{'teacher alone (Whisper)':<26}{seconds / alone:>10.1f}")
    print(
        f"{'audiobook (+ alignment)':<26}{seconds / aligned_cpu:>10.1f}   "
        f"alignment adds {aligned_cpu / alone - 1:+.1%}; labelled {len(segments)} of "
        f"{len(heard)} utterances, {exact} exactly what was said, {len(segments) - exact} not"
    )
    for label, said in wrong[:5]:
        print(f"    not what was said: label {label!r}, said {said!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
