"""`make bench` for the corpus build: x-realtime per core of each stage beside its baseline.

x-realtime per core = seconds of audio processed / CPU seconds spent (user + system, the
measuring process and its children), so a figure does not depend on how many cores ran it.
Every measurement runs in a fresh subprocess (every build with ``--fresh``, into a folder
emptied before the clock starts, with no progress display), ``--runs`` times
(default 3); each ratio is printed as min / median / max over the runs, each run's build
beside the same run's baseline.

On one generated LibriSpeech-layout corpus (espeak-ng speech, FLAC, >= --minutes, every clip
a different sound: voice, rate and pitch differ by speaker):
  (a) the floor: soundfile FLAC decode + tf.train.Example + tf.io.TFRecordWriter, a plain loop,
      on the bare build's own tree (the kernel's cost of writing grows with the volume);
      and the floor of the default measures: the same loop plus the Silero VAD
      (faster-whisper's get_speech_timestamps), the one library call they need, on a third
      of the speakers (VAD's cost does not depend on the length); each round runs a floor
      and then its builds, so a slower hour of the machine slows both
  (b) the speechmill LibriSpeech build (Beam DirectRunner, one in-process worker), whole job
      and at the margin (the same run's one-speaker build subtracted: start-up and the
      fixed cost of a build), bare (no measures, no sound dedupe) and with the defaults
  (c) with --profile: where a default build's CPU goes (cProfile of one build of a third of
      the speakers, by step)
  (d) the espeak-ng command line, one call per piece, against the Gutenberg source (pyttsx3)
      speaking the same pieces with the same voice
  (e) the peer, when lhotse is installed (`make bench` installs it in .venv-interop, as `make
      test` does; or pip install torch==2.13.0 lhotse urllib3): `lhotse
      prepare librispeech` + `lhotse cut simple` + `lhotse shar export -a original` on the same
      tree, three whole processes, beside the builds' whole jobs
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import cpu_seconds, goal, spread

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

    marker = root / f"done-v2-{minutes}"
    if marker.exists():
        return float(marker.read_text())
    if root.exists():
        shutil.rmtree(root)  # an older or unfinished tree: transcripts are appended to
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
                str(150 + 7 * (speaker % 5)),  # with the voice and pitch: no two clips one sound
                "-p",
                str(35 + 3 * (speaker % 9)),
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


def replicated(root: Path, src: Path, copies: int) -> Path:
    """A LibriSpeech tree of ``copies`` copies of ``src`` under new speaker ids (hard links:
    the bare build, which neither measures nor compares sounds, gets a corpus long enough
    that start-up is a small share of it)."""
    marker = root / f"done-{copies}"
    if marker.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    for k in range(copies):
        for speaker in sorted((src / "LibriSpeech" / "train-clean-100").iterdir()):
            new = str(10000 * (k + 1) + int(speaker.name))
            for chapter in sorted(speaker.iterdir()):
                folder = root / "LibriSpeech" / "train-clean-100" / new / chapter.name
                folder.mkdir(parents=True)
                old_prefix, new_prefix = f"{speaker.name}-{chapter.name}", f"{new}-{chapter.name}"
                for flac in chapter.glob("*.flac"):
                    os.link(flac, folder / flac.name.replace(old_prefix, new_prefix, 1))
                trans = (chapter / f"{old_prefix}.trans.txt").read_text()
                lines = [line.replace(old_prefix, new_prefix, 1) for line in trans.splitlines()]
                (folder / f"{new_prefix}.trans.txt").write_text("\n".join(lines) + "\n")
    marker.write_text("ok")
    return root


# ----------------------------------------------------------------------------- measurements (subprocess side)


def measure_floor(data: Path, out: Path, vad: bool = False) -> dict:
    import numpy as np
    import soundfile
    import tensorflow as tf

    if vad:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        options = VadOptions(threshold=0.5, min_silence_duration_ms=100, speech_pad_ms=0)
        get_speech_timestamps(np.zeros(16000, np.float32), options, 16000)  # the model loaded
    shutil.rmtree(out, ignore_errors=True)  # as a build's output: emptied before the clock
    out.mkdir(parents=True)
    start = cpu_seconds()
    seconds = 0.0
    with tf.io.TFRecordWriter(str(out / "floor.tfrecord")) as writer:
        for trans in sorted(data.rglob("*.trans.txt")):
            for line in trans.read_text().splitlines():
                utt, text = line.split(" ", 1)
                audio, rate = soundfile.read(trans.parent / f"{utt}.flac", dtype="int16")
                if vad:
                    get_speech_timestamps(audio.astype(np.float32) / 32768, options, rate)
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


def measure_build(config: Path, out: Path, profile: Path | None = None) -> dict:
    from speechmill.commands.corpus import run

    # Work a first build does not do, left out of its time: removing the last run's output
    # (its shards and unit cache: 1.3 s of a 38 s bare build of the 1440 minutes, 1 700 files).
    shutil.rmtree(out, ignore_errors=True)
    start = cpu_seconds()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    info = run(
        [
            "--config",
            str(config),
            "--output",
            str(out),
            "--fresh",  # every timed build does all its work: no unit reused from a run before
            "--log-level",
            "ERROR",
            "--progress",  # no display reads progress notes, so the workers leave none (a
            "none",  # terminal's bar costs a file a unit: 0.8 s of the same build)
            "--direct_num_workers=1",
            "--direct_running_mode=in_memory",
        ]
    )
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(profile))
    audio = sum(s["seconds"] for s in info["splits"].values())
    return {"audio_s": audio, "cpu_s": cpu_seconds() - start}


def lhotse_cli() -> str | None:
    """The lhotse command, when lhotse is installed: beside this interpreter, in the interop
    environment (.venv-interop: torch 2.13.0 + lhotse, which `make bench` installs as `make
    test` does, apart from the project's environment) or on the PATH."""
    for folder in (Path(sys.executable).parent, REPO / ".venv-interop" / "bin"):
        if (folder / "lhotse").exists():
            return str(folder / "lhotse")
    return shutil.which("lhotse")


def measure_lhotse(data: Path, out: Path, audio_s: float) -> dict:
    """`lhotse prepare librispeech` + `lhotse cut simple` + `lhotse shar export -a original`
    on the same tree, each a whole process as a user runs it: CPU of all three."""
    cli = lhotse_cli()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    manifests, part = out / "manifests", "train-clean-100"
    steps = [
        ["prepare", "librispeech", "-p", part, str(data / "LibriSpeech"), str(manifests)],
        [
            "cut",
            "simple",
            "-r",
            str(manifests / f"librispeech_recordings_{part}.jsonl.gz"),
            "-s",
            str(manifests / f"librispeech_supervisions_{part}.jsonl.gz"),
            str(out / "cuts.jsonl.gz"),
        ],
        ["shar", "export", "-a", "original", str(out / "cuts.jsonl.gz"), str(out / "shar")],
    ]
    start = resource.getrusage(resource.RUSAGE_CHILDREN)
    for step in steps:
        subprocess.run([cli, *step], check=True, capture_output=True)
    end = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (end.ru_utime + end.ru_stime) - (start.ru_utime + start.ru_stime)
    return {"audio_s": audio_s, "cpu_s": cpu}


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


def runs(kind: str, *args: str, count: int = 3) -> list[dict]:
    """``count`` runs of a measurement, each in a fresh interpreter."""
    return [child(kind, *args) for _ in range(count)]


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


def write_config(path: Path, source: str, quality: str = "") -> Path:
    path.write_text(f"[corpus]\nseed = 1\nmax_seconds = 35.0\n{quality}\n[[source]]\n{source}\n")
    return path


BARE = "\n[quality]\nmeasures = []\ndedupe_sounds = false\n"


def xrt(result: dict) -> float:
    return result["audio_s"] / result["cpu_s"]


def margin(full: dict, small: dict) -> dict:
    """The cost of what one build did beyond the other (its audio and CPU seconds)."""
    return {k: full[k] - small[k] for k in ("audio_s", "cpu_s")}


# where a default build's CPU goes: (step, module, function[, only as called by this function])
STEPS = (
    ("FLAC decode (soundfile)", "corpus/audio.py", "decode_file", None),
    ("to the corpus format", "corpus/audio.py", "to_corpus_format", None),
    ("transcript: normalize, readings", "corpus/text.py", "readings", "to_utterance"),
    ("measures: Silero VAD (speech_ratio, chars/s)", "corpus/vad.py", "speech_spans", None),
    ("measures: WADA-SNR", "corpus/measures.py", "wada_snr", None),
    (
        "fingerprint + sketch (sound dedupe keys)",
        "corpus/fingerprint.py",
        "prints_and_sketch",
        None,
    ),
    ("record encode + part write", "corpus/parts.py", "write", None),
    ("sound dedupe: compare candidates", "corpus/repeats.py", "repeats", None),
    ("unit cache: manifest, sha1 for resume", "corpus/workdir.py", "store", None),
    ("publish: shard copy", "corpus/shards.py", "write_shard", None),
)


def profile_lines(stats_path: Path, audio_s: float) -> list[str]:
    """The STEPS' cumulative seconds in one profiled build, the rest as Beam and start-up."""
    import pstats

    stats = pstats.Stats(str(stats_path)).stats  # type: ignore[attr-defined]
    total = max(v[3] for v in stats.values())
    lines, counted = [], 0.0
    for label, module, name, caller in STEPS:
        spent = 0.0
        for (path, _, function), (_, _, _, cumulative, callers) in stats.items():
            if path.endswith(module) and function == name:
                if caller is None:
                    spent += cumulative
                else:
                    spent += sum(v[3] for k, v in callers.items() if k[2] == caller)
        counted += spent
        lines.append(
            f"  {label:<48} {spent:>6.2f} s {spent / total:>5.0%} {audio_s / max(spent, 1e-9):>9.0f}x"
        )
    rest = total - counted
    lines.append(
        f"  {'Beam, imports, plan, listing, the rest':<48} {rest:>6.2f} s {rest / total:>5.0%}"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--minutes", type=float, default=180.0, help="minutes of generated speech (default 180)"
    )
    parser.add_argument("--runs", type=int, default=3, help="fresh runs of each measurement")
    parser.add_argument(
        "--bare-copies", type=int, default=8, help="copies of the speech the bare build reads"
    )
    parser.add_argument("--work", default=str(REPO / "build" / "bench"))
    parser.add_argument(
        "--profile",
        action="store_true",
        help="(c): profile a default build of a third of the speakers (about 40 s more)",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, rest = args.child[0], args.child[1:]
        fn = {
            "floor": lambda: measure_floor(Path(rest[0]), Path(rest[1])),
            "floor-vad": lambda: measure_floor(Path(rest[0]), Path(rest[1]), vad=True),
            "build": lambda: measure_build(
                Path(rest[0]), Path(rest[1]), Path(rest[2]) if len(rest) > 2 else None
            ),
            "espeak": lambda: measure_espeak_cli(rest[0]),
            "lhotse": lambda: measure_lhotse(Path(rest[0]), Path(rest[1]), float(rest[2])),
            "gutenberg": lambda: measure_gutenberg_source(rest[0]),
        }[kind]
        result = fn()
        print(json.dumps({**result, "peak_mb": peak_mb()}))
        return 0

    work, n = Path(args.work), args.runs
    data = work / f"librispeech-{args.minutes:g}min"
    t = time.time()
    total = make_librispeech(data, args.minutes)
    speakers = len(list((data / "LibriSpeech" / "train-clean-100").iterdir()))
    print(
        f"data: {total / 60:.1f} min of espeak-ng speech, {speakers} speakers, LibriSpeech layout "
        f"({time.time() - t:.0f} s to make or reuse) in {data}"
    )
    tiny = subset(work / f"tiny-v2-{args.minutes:g}", data, 1)

    big = replicated(
        work / f"librispeech-{args.minutes:g}min-x{args.bare_copies}", data, args.bare_copies
    )
    third = subset(work / f"third-v2-{args.minutes:g}", data, max(1, speakers // 3))
    # Each round runs a floor and then the builds it is the baseline of, so a slower hour of the
    # machine slows both. The bare floor decodes and writes the bare build's own 24 hours: the
    # kernel's cost of writing gigabytes (page cache, writeback) grows with the volume, and a
    # floor of 180 minutes would not pay it. The VAD floor is the same in one process at any
    # length (a third of the speakers).
    floors = {"bare": ("floor", big), "default": ("floor-vad", third)}
    floor, floor_vad = [], []
    builds: dict[str, list[dict]] = {}
    for kind, quality, full in (("bare", BARE, big), ("default", "", data)):
        configs = {
            name: write_config(
                work / f"{kind}-{name}.toml", f'type = "librispeech"\npath = "{folder}"', quality
            )
            for name, folder in (("tiny", tiny), ("full", full))
        }
        for _ in range(n):
            measure, tree = floors[kind]
            (floor if kind == "bare" else floor_vad).append(
                child(measure, str(tree), str(work / "floor"))
            )
            for name, config in configs.items():
                builds.setdefault(f"{kind}-{name}", []).append(
                    child("build", str(config), str(work / f"out-{kind}-{name}"))
                )
    margins = {
        kind: [margin(f, s) for f, s in zip(builds[f"{kind}-full"], builds[f"{kind}-tiny"])]
        for kind in ("bare", "default")
    }
    peer = lhotse_cli() and runs("lhotse", str(data), str(work / "lhotse"), str(total), count=n)
    voice = "en-us"
    cli = runs("espeak", voice, count=n)
    source = runs("gutenberg", voice, count=n)
    tts_config = write_config(
        work / "tts.toml",
        f'type = "gutenberg"\nbooks = ["{BOOK}"]\nvoices = ["{voice}"]\nrates = [160]',
    )
    tts_build = runs("build", str(tts_config), str(work / "out-tts"), count=1)  # (no goal)

    def ratios(rs: list[dict], bases: list[dict]) -> list[float]:
        return [xrt(r) / xrt(b) for r, b in zip(rs, bases)]

    rows = [
        ("(a) floor: FLAC decode + TFRecord write (soundfile + tf.io)", floor, None),
        ("(a) floor + Silero VAD (faster-whisper), the default measures'", floor_vad, None),
        (
            f"(b) bare build (no measures, no dedupe), whole job, {args.bare_copies}x the speech",
            builds["bare-full"],
            floor,
        ),
        ("(b) bare build, at the margin", margins["bare"], floor),
        ("(b) default build (make corpus defaults), whole job", builds["default-full"], floor_vad),
        ("(b) default build, at the margin", margins["default"], floor_vad),
        *(
            [
                ("(e) lhotse prepare + cut simple + shar export -a original", peer, None),
                ("(e) default build, whole job, beside lhotse", builds["default-full"], peer),
            ]
            if peer
            else []
        ),
        ("(d) espeak-ng command line, one call per piece", cli, None),
        ("(d) Gutenberg source (pyttsx3 on libespeak-ng)", source, cli),
        ("(d) Gutenberg build, whole job (Beam DirectRunner, one run)", tts_build, cli),
    ]
    print(f"\n{'stage':<66} {'audio min':>9} {'x-realtime/core':>22} {'vs baseline':>20}")
    for label, rs, bases in rows:
        ratio = spread(ratios(rs, bases)) if bases else "baseline"
        speeds = spread([xrt(r) for r in rs], 0)
        print(f"{label:<66} {rs[0]['audio_s'] / 60:>9.1f} {speeds:>22} {ratio:>20}")
    if not peer:
        print(
            "(e) lhotse: skipped, not installed (make interop installs it in .venv-interop;"
            " or pip install torch==2.13.0 lhotse urllib3)"
        )

    def startup_share(full: dict, small: dict, marginal: dict) -> float:
        """The one-speaker build's CPU less its audio's at the margin's speed (its fixed cost:
        imports, the job's set-up and end), as a share of the whole build."""
        fixed = small["cpu_s"] - small["audio_s"] * marginal["cpu_s"] / marginal["audio_s"]
        return fixed / full["cpu_s"]

    tiny = {kind: builds[f"{kind}-tiny"] for kind in ("bare", "default")}
    startup = {
        kind: [
            startup_share(f, s, m)
            for f, s, m in zip(builds[f"{kind}-full"], tiny[kind], margins[kind])
        ]
        for kind in ("bare", "default")
    }
    whole_tiny = {
        kind: [s["cpu_s"] / f["cpu_s"] for f, s in zip(builds[f"{kind}-full"], tiny[kind])]
        for kind in ("bare", "default")
    }
    print(
        "start-up (the fixed cost: a one-speaker build of "
        f"{tiny['bare'][0]['audio_s'] / 60:.1f} min less its audio at the margin's speed) as a "
        f"share of the whole build: bare {spread(startup['bare'])}, default "
        f"{spread(startup['default'])} (the whole one-speaker build: bare "
        f"{spread(whole_tiny['bare'])}, default {spread(whole_tiny['default'])}); the margins "
        "leave it out"
    )
    print(
        "peak memory (MB) of a build, one-speaker / whole: "
        + ", ".join(
            f"{kind} {max(r['peak_mb'] for r in builds[kind + '-tiny']):.0f} / "
            f"{max(r['peak_mb'] for r in builds[kind + '-full']):.0f}"
            for kind in ("bare", "default")
        )
    )
    if args.profile:
        stats = work / "default-build.prof"
        config = write_config(
            work / "default-third.toml", f'type = "librispeech"\npath = "{third}"'
        )
        profiled = child("build", str(config), str(work / "out-default-third"), str(stats))
        print(
            "\n(c) where a default build's CPU goes (cProfile, one in-process build of "
            f"{profiled['audio_s'] / 60:.0f} min;"
        )
        print("    seconds of the main thread, share, x-realtime of that step alone):")
        print("\n".join(profile_lines(stats, profiled["audio_s"])))

    else:
        print("\n(c) where a default build's CPU goes: python -m benchmarks.bench_corpus --profile")

    bare, default = ratios(margins["bare"], floor), ratios(margins["default"], floor_vad)
    goal(
        "make corpus, bare, at the margin, vs the floor",
        bare,
        "decode + write",
        ">= 0.8",
        statistics.median(bare) >= 0.8,
    )
    goal(
        "make corpus, defaults, at the margin, vs floor + VAD",
        default,
        "decode + VAD + write",
        ">= 0.8",
        statistics.median(default) >= 0.8,
    )
    tts = ratios(source, cli)
    goal(
        "Gutenberg source vs the espeak-ng command line",
        tts,
        "espeak-ng CLI",
        ">= 0.5",
        statistics.median(tts) >= 0.5,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
