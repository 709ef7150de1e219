"""`make bench` for augmentation: each effect beside librosa and audiomentations, same audio.

x-realtime per core = seconds of audio processed / CPU seconds (this process), best of 5 rounds,
on 60 s of espeak-ng speech at 16 kHz. Then the whole `make augment` job with the default
recipe on a generated corpus: seconds of train audio in / CPU seconds of the job.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile
import soxr

from benchmarks import default_corpus, goal, spread

REPO = Path(__file__).resolve().parent.parent
RATE = 16000
CLIP_SECONDS = 10.0  # effects run on clips of a record's length (a corpus's are 1-35 s)


def speech(seconds: float) -> np.ndarray:
    from speechmill.corpus.inputs.book import book_pieces

    pieces, out, total = (
        book_pieces((REPO / "configs/books/lantern-keepers.txt").read_bytes()),
        [],
        0,
    )
    for i, piece in enumerate(pieces):
        wav = subprocess.run(
            ["espeak-ng", "-v", ["en-us", "en+f3"][i % 2], "--stdout", piece],
            check=True,
            capture_output=True,
        ).stdout
        x, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
        out.append(soxr.resample(x, rate, RATE))
        total += len(out[-1]) / RATE
        if total >= seconds:
            break
    return np.concatenate(out)[: int(seconds * RATE)].astype(np.float32)


def xrt(fn, seconds: float, repeat: int = 5) -> float:
    """Audio seconds per CPU second of ``fn``: best of ``repeat`` rounds, each long enough
    (>= 0.2 CPU s) for the CPU clock to resolve it."""
    fn()
    start, calls = time.process_time(), 0
    while time.process_time() - start < 0.05:
        fn()
        calls += 1
    per_round = max(1, int(calls * 0.2 / 0.05))
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(per_round):
            fn()
        best = min(best, (time.process_time() - start) / per_round)
    return seconds / max(best, 1e-12)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--work", default=str(REPO / "build" / "bench"))
    args = parser.parse_args(argv)
    import librosa

    from speechmill.pipelines.transforms import one_thread_per_worker

    one_thread_per_worker()  # as in the job's workers: ours and the baselines on one thread each

    from speechmill.augment import effects

    try:
        import audiomentations as am
    except ImportError:
        am = None
    x = speech(args.seconds)
    seconds = len(x) / RATE
    rng = np.random.default_rng(0)
    noise = effects.colored_noise("white", len(x), rng)
    energy = effects.running_energy(noise)  # kept with a bank noise, made once a worker
    clips = np.array_split(x, max(1, round(seconds / CLIP_SECONDS)))  # as the job: record by record
    rir = effects.synthetic_rir(RATE, 0.4, rng)
    rows = [
        (
            "speed 1.1 (resample)",
            lambda c: effects.speed(c, RATE, 1.1),
            "soxr.resample (bare)",
            lambda c: soxr.resample(c, RATE, RATE / 1.1),
            "librosa.resample",
            lambda c: librosa.resample(c, orig_sr=RATE, target_sr=int(RATE / 1.1)),
            None,
        ),
        (
            "pitch +2 st",
            lambda c: effects.pitch_shift(c, RATE, 2),
            "librosa.effects.pitch_shift",
            lambda c: librosa.effects.pitch_shift(c, sr=RATE, n_steps=2),
            None,
            None,
            am and am.PitchShift(min_semitones=2, max_semitones=2, p=1.0),
        ),
        (
            "tempo 1.1",
            lambda c: effects.tempo(c, RATE, 1.1),
            "librosa.effects.time_stretch",
            lambda c: librosa.effects.time_stretch(c, rate=1.1),
            None,
            None,
            am and am.TimeStretch(min_rate=1.1, max_rate=1.1, leave_length_unchanged=False, p=1.0),
        ),
        (
            "noise 10 dB, generated",
            lambda c: effects.add_noise(c, noise[: len(c)], 10.0, rng, noise_rms=1.0),
            "numpy add (bare)",
            lambda c: c + 0.1 * noise[: len(c)],
            None,
            None,
            am and am.AddGaussianSNR(min_snr_db=10, max_snr_db=10, p=1.0),
        ),
        (
            "noise 10 dB, bank",
            lambda c: effects.add_noise(c, noise, 10.0, rng, energy=energy),
            "numpy add, random piece",
            lambda c: c + 0.1 * random_piece(noise, len(c), rng),
            None,
            None,
            None,
        ),
        (
            "reverb (0.4 s RIR)",
            lambda c: effects.reverb(c, rir),
            "scipy fftconvolve (bare)",
            lambda c: __import__("scipy.signal").signal.fftconvolve(c, rir),
            None,
            None,
            None,
        ),
    ]

    def random_piece(bank_noise: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """What a bare mix of bank noise takes: a piece at a random offset (not always the same,
        cache-warm first piece)."""
        start = int(rng.integers(0, len(bank_noise) - n + 1))
        return bank_noise[start : start + n]

    def each(fn):
        return lambda: [fn(c) for c in clips]

    librosa_pitch = xrt(each(lambda c: librosa.effects.pitch_shift(c, sr=RATE, n_steps=2)), seconds)
    print(f"\naugmentation effects on {seconds:.0f} s of speech, x-realtime per core (best of 5):")
    print(
        f"{'effect':<22} {'speechmill':>10}  {'baseline':<30} {'x-rt':>8} {'ratio':>6}  {'audiomentations':>15}"
    )
    for label, ours, base_name, base, alt_name, alt, am_transform in rows:
        mine = xrt(each(ours), seconds)
        theirs = xrt(each(base), seconds)
        am_x = (
            xrt(each(lambda c: am_transform(samples=c, sample_rate=RATE)), seconds)
            if am_transform
            else None
        )
        print(
            f"{label:<22} {mine:>10.0f}  {base_name:<30} {theirs:>8.0f} {mine / theirs:>5.2f}x  "
            f"{(f'{am_x:.0f}' if am_x else '-'):>15}"
        )
        if alt:
            other = xrt(each(alt), seconds)
            print(f"{'':<22} {'':>10}  {alt_name:<30} {other:>8.0f} {mine / other:>5.2f}x")
    if am is None:
        print(
            "(audiomentations: not installed; its releases need numpy < 2, librosa < 0.11 or soxr < 1,"
            " which the pinned stack does not allow)"
        )
    bank = rows[4]
    noise_ratios = [xrt(each(bank[1]), seconds) / xrt(each(bank[3]), seconds) for _ in range(3)]
    print(f"noise 10 dB from a bank beside a bare numpy add, 3 rounds: {spread(noise_ratios)}x")
    goal(
        "noise at a target SNR (bank in memory) vs a bare numpy add",
        noise_ratios,
        "numpy add",
        ">= 0.8",
        statistics.median(noise_ratios) >= 0.8,
    )

    # The whole job on a generated corpus, in a fresh process.
    work = Path(args.work)
    corpus = default_corpus(work / "augment-input")
    info = json.loads((corpus / "info.json").read_text())
    train_seconds = info["splits"]["train"]["seconds"]
    code = (
        "import resource, sys; from speechmill.commands.augment import run; "
        f"run(['--input', {str(corpus)!r}, '--output', {str(work / 'augment-output')!r}, '--log-level', 'ERROR', "
        "'--direct_num_workers=1', '--direct_running_mode=in_memory', '--fresh']); "
        "r = resource.getrusage(resource.RUSAGE_SELF); print('CPU', r.ru_utime + r.ru_stime)"
    )
    t = time.time()
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    used = float(out.stdout.strip().splitlines()[-1].split()[1])
    print(
        f"\nmake augment, default recipe, on the default corpus ({train_seconds / 60:.1f} min of train speech): "
        f"{train_seconds / used:.0f}x realtime per core ({used:.1f} CPU s incl. start-up, {time.time() - t:.1f} s wall)"
    )
    marginal_pitch_job(work, librosa_pitch)
    return 0


def job_cpu(corpus: Path, out: Path, recipe: str) -> float:
    """CPU seconds (the job and its worker processes) of one `make augment` with the default runner."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "speechmill.cli",
            "augment",
            "--input",
            str(corpus),
            "--output",
            str(out),
            "--recipe",
            recipe,
            "--fresh",
            "--log-level",
            "ERROR",
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def marginal_pitch_job(work: Path, librosa_pitch: float, runs: int = 3) -> None:
    """`make augment RECIPE=pitch=2` with the default (multi-process) runner on a small and a full
    corpus, ``runs`` times each: the marginal cost per core of the extra audio, beside librosa's
    pitch_shift on the same speech."""
    sizes = {}
    for name, limit in (("small", ["--limit", "120"]), ("full", [])):
        corpus = default_corpus(work / f"pitch-input-{name}", *limit)
        seconds = json.loads((corpus / "info.json").read_text())["splits"]["train"]["seconds"]
        cpus = [job_cpu(corpus, work / f"pitch-output-{name}", "pitch=2") for _ in range(runs)]
        sizes[name] = (seconds, cpus)
        print(
            f"make augment RECIPE=pitch=2, {name} corpus ({seconds / 60:.1f} min train): "
            f"{spread(cpus, 1)} CPU s in all processes"
        )
    (s0, c0), (s1, c1) = sizes["small"], sizes["full"]
    ratios = [(s1 - s0) / max(b - a, 1e-9) / librosa_pitch for a, b in zip(c0, c1)]
    print(
        f"make augment RECIPE=pitch=2, marginal, beside librosa.effects.pitch_shift "
        f"({librosa_pitch:.0f}x on the same speech): {spread(ratios)}x (goal 2x)"
    )
    goal(
        "make augment RECIPE=pitch=2 (whole job, margin) vs librosa",
        ratios,
        "librosa pitch_shift",
        ">= 2",
        statistics.median(ratios) >= 2,
    )


if __name__ == "__main__":
    sys.exit(main())
