"""`make bench` for the corpus build: x-realtime per core of each stage beside its baseline.

x-realtime per core = seconds of audio processed / CPU seconds spent (user + system, the
measuring process and its children), so a figure does not depend on how many cores ran it.
Every measurement runs in a fresh subprocess, which also reports its peak memory; each is
run three times and the fastest run is reported.

Stages, on one generated LibriSpeech-layout corpus (espeak-ng speech, FLAC, >= --minutes):
  (a) floor: soundfile FLAC decode + tf.train.Example + tf.io.TFRecordWriter, a plain loop
  (b) the speechmill LibriSpeech build (Beam DirectRunner, one in-process worker), overall and
      at steady state (the cost of a one-chapter build subtracted), at half and full size
  (c) the espeak-ng command line, one call per piece, against the Gutenberg source (pyttsx3)
      speaking the same pieces with the same voice
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import cpu_seconds

REPO = Path(__file__).resolve().parent.parent
BOOK = REPO / "configs" / "books" / "lantern-keepers.txt"
VOICES = ["en-us", "en", "en-us+f3", "en-gb-scotland", "en-029", "en-gb-x-rp+f2"]


def peak_mb() -> float:
    return (
        max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        )
        / 1024
    )


# ----------------------------------------------------------------------------- data


def make_librispeech(root: Path, minutes: float) -> float:
    """Write a LibriSpeech-layout corpus of at least ``minutes`` of speech; returns seconds."""
    import soundfile
    import soxr

    from speechmill.corpus.inputs.book import book_pieces

    marker = root / f"done-{minutes}"
    if marker.exists():
        return float(marker.read_text())
    pieces = [p.upper() for p in book_pieces(BOOK.read_bytes(), min_words=10, max_words=35)]
    total, n = 0.0, 0
    while total < minutes * 60:
        speaker = 1000 + (n // 40)
        chapter = 10 + (n // 20) % 2
        utt = f"{speaker}-{chapter}-{n % 20:04d}"
        folder = root / "LibriSpeech" / "train-clean-100" / str(speaker) / str(chapter)
        folder.mkdir(parents=True, exist_ok=True)
        text = pieces[n % len(pieces)]
        wav = subprocess.run(
            [
                "espeak-ng",
                "-v",
                VOICES[speaker % len(VOICES)],
                "-s",
                "165",
                "--stdout",
                text.lower(),
            ],
            check=True,
            capture_output=True,
        ).stdout
        x, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
        y = soxr.resample(x, rate, 16000)
        soundfile.write(folder / f"{utt}.flac", y, 16000, subtype="PCM_16")
        with open(folder / f"{speaker}-{chapter}.trans.txt", "a") as f:
            f.write(f"{utt} {text}\n")
        total += len(y) / 16000
        n += 1
    marker.write_text(str(total))
    return total


def subset(root: Path, src: Path, speakers: int) -> Path:
    """A LibriSpeech folder with the first ``speakers`` speakers of ``src`` (hard links)."""
    target = root / "train-clean-100"
    if not target.exists():
        target.mkdir(parents=True)
        for speaker in sorted((src / "LibriSpeech" / "train-clean-100").iterdir())[:speakers]:
            shutil.copytree(speaker, target / speaker.name, copy_function=os.link)
    return root


# ----------------------------------------------------------------------------- measurements (subprocess side)


def measure_floor(data: Path, out: Path) -> dict:
    import soundfile
    import tensorflow as tf

    start = cpu_seconds()
    seconds = 0.0
    out.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(out / "floor.tfrecord")) as writer:
        for trans in sorted(data.rglob("*.trans.txt")):
            for line in trans.read_text().splitlines():
                utt, text = line.split(" ", 1)
                audio, rate = soundfile.read(trans.parent / f"{utt}.flac", dtype="int16")
                feature = {
                    "id": tf.train.Feature(bytes_list=tf.train.BytesList(value=[utt.encode()])),
                    "text": tf.train.Feature(bytes_list=tf.train.BytesList(value=[text.encode()])),
                    "audio": tf.train.Feature(
                        bytes_list=tf.train.BytesList(value=[audio.tobytes()])
                    ),
                    "num_samples": tf.train.Feature(
                        int64_list=tf.train.Int64List(value=[len(audio)])
                    ),
                }
                writer.write(
                    tf.train.Example(
                        features=tf.train.Features(feature=feature)
                    ).SerializeToString()
                )
                seconds += len(audio) / rate
    return {"audio_s": seconds, "cpu_s": cpu_seconds() - start}


def measure_build(config: Path, out: Path) -> dict:
    from speechmill.commands.corpus import run

    start = cpu_seconds()
    info = run(
        [
            "--config",
            str(config),
            "--output",
            str(out),
            "--fresh",  # every timed build does all its work: no unit reused from a run before
            "--log-level",
            "ERROR",
            "--direct_num_workers=1",
            "--direct_running_mode=in_memory",
        ]
    )
    audio = sum(s["seconds"] for s in info["splits"].values())
    return {"audio_s": audio, "cpu_s": cpu_seconds() - start}


def measure_espeak_cli(voice: str) -> dict:
    import soundfile

    from speechmill.corpus.inputs.book import book_pieces

    start, seconds = cpu_seconds(), 0.0
    for piece in book_pieces(BOOK.read_bytes()):
        wav = subprocess.run(
            ["espeak-ng", "-v", voice, "-s", "160", "--stdout", piece],
            check=True,
            capture_output=True,
        ).stdout
        seconds += soundfile.info(io.BytesIO(wav)).duration
    return {"audio_s": seconds, "cpu_s": cpu_seconds() - start}


def measure_gutenberg_source(voice: str) -> dict:
    import soundfile

    from speechmill.corpus.sources.gutenberg import GutenbergSource

    source = GutenbergSource(books=[str(BOOK)], voices=[voice], rates=[160], pitches=[50])
    start, seconds = cpu_seconds(), 0.0
    for segment in source.read(source.units()[0]):
        seconds += soundfile.info(io.BytesIO(segment.audio)).duration
    source.close()
    return {"audio_s": seconds, "cpu_s": cpu_seconds() - start}


def best(kind: str, *args: str, repeat: int = 3) -> dict:
    """The fastest of ``repeat`` runs of a measurement (the least disturbed by the machine)."""
    return min((child(kind, *args) for _ in range(repeat)), key=lambda r: r["cpu_s"])


def child(kind: str, *args: str) -> dict:
    """Run one measurement in a fresh interpreter; returns its result plus peak memory."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_corpus", "--child", kind, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"bench: {kind} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def write_config(path: Path, source: str) -> Path:
    path.write_text(f"[corpus]\nseed = 1\nmax_seconds = 35.0\n\n[[source]]\n{source}\n")
    return path


def xrt(result: dict) -> float:
    return result["audio_s"] / result["cpu_s"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--minutes", type=float, default=60.0, help="minutes of generated speech (default 60)"
    )
    parser.add_argument("--work", default=str(REPO / "build" / "bench"))
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, rest = args.child[0], args.child[1:]
        fn = {
            "floor": lambda: measure_floor(Path(rest[0]), Path(rest[1])),
            "build": lambda: measure_build(Path(rest[0]), Path(rest[1])),
            "espeak": lambda: measure_espeak_cli(rest[0]),
            "gutenberg": lambda: measure_gutenberg_source(rest[0]),
        }[kind]
        result = fn()
        print(json.dumps({**result, "peak_mb": peak_mb()}))
        return 0

    work = Path(args.work)
    data = work / f"librispeech-{args.minutes:g}min"
    t = time.time()
    total = make_librispeech(data, args.minutes)
    speakers = len(list((data / "LibriSpeech" / "train-clean-100").iterdir()))
    print(
        f"data: {total / 60:.1f} min of espeak-ng speech, {speakers} speakers, LibriSpeech layout "
        f"({time.time() - t:.0f} s to make or reuse) in {data}"
    )
    half = subset(work / f"half-{args.minutes:g}", data, max(1, speakers // 2))
    tiny = subset(work / f"tiny-{args.minutes:g}", data, 1)

    floor = best("floor", str(data), str(work / "floor"))
    runs = {}
    for name, folder in (("tiny", tiny), ("half", half), ("full", data)):
        config = write_config(work / f"{name}.toml", f'type = "librispeech"\npath = "{folder}"')
        runs[name] = best("build", str(config), str(work / f"out-{name}"))
    steady = {
        "audio_s": runs["full"]["audio_s"] - runs["tiny"]["audio_s"],
        "cpu_s": runs["full"]["cpu_s"] - runs["tiny"]["cpu_s"],
    }
    voice = "en-us"
    cli = best("espeak", voice)
    source = best("gutenberg", voice)
    tts_config = write_config(
        work / "tts.toml",
        f'type = "gutenberg"\nbooks = ["{BOOK}"]\nvoices = ["{voice}"]\nrates = [160]',
    )
    tts_build = best("build", str(tts_config), str(work / "out-tts"))

    rows = [
        ("(a) FLAC decode + TFRecord write (soundfile + tf.io, the floor)", floor, None),
        ("(b) LibriSpeech build, whole job (Beam DirectRunner)", runs["full"], floor),
        ("(b) LibriSpeech build, steady state", steady, floor),
        ("(c) espeak-ng command line, one call per piece", cli, None),
        ("(c) Gutenberg source (pyttsx3 on libespeak-ng)", source, cli),
        ("(c) Gutenberg build, whole job (Beam DirectRunner)", tts_build, cli),
    ]
    print(
        f"\n{'stage':<66} {'audio min':>9} {'CPU s':>7} {'x-realtime/core':>16} {'vs baseline':>11}"
    )
    for label, r, base in rows:
        ratio = f"{xrt(r) / xrt(base):.2f}x" if base else "baseline"
        print(
            f"{label:<66} {r['audio_s'] / 60:>9.1f} {r['cpu_s']:>7.2f} {xrt(r):>16.0f} {ratio:>11}"
        )
    print(
        "\npeak memory of a LibriSpeech build (MB): "
        + ", ".join(
            f"{name} {runs[name]['audio_s'] / 60:.1f} min -> {runs[name]['peak_mb']:.0f}"
            for name in ("tiny", "half", "full")
        )
    )
    print(
        f"goals: (b) steady >= 0.5x floor: {xrt(steady) / xrt(floor):.2f}x; "
        f"Gutenberg source >= 0.5x espeak-ng: {xrt(source) / xrt(cli):.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
