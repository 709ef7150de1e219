"""`make bench` scale section: does any step's memory grow with the number of utterances?

(a) Two tiny-clip LibriSpeech-layout corpora of N and 10*N utterances (100 a chapter, clips of
    0.3-0.4 s, one word each) are built fresh on the default runner (DirectRunner, one
    worker process per core); printed: the largest single process's peak RSS and the wall
    and CPU time per utterance. Goal: peak RSS at 10*N within 10 % of N's, time linear.
(b) The planning and combining code alone, in this one process, fed 10^8 synthetic utterances
    in 10^6 unit summaries (the shard plan of one split, the units' facts combiner, the shard
    rows): its peak memory. Goal: under 1 GB.

    python -m benchmarks.bench_scale [--utterances N] [--work DIR] [--skip-builds]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import corpus_command, goal

REPO = Path(__file__).resolve().parent.parent
PER_CHAPTER = 100
RATE = 16000


def make_tiny_librispeech(root: Path, utterances: int) -> Path:
    """A LibriSpeech-layout tree of ``utterances`` tiny FLAC clips (reused when complete)."""
    import numpy as np
    import soundfile

    marker = root / f"done-{utterances}-v2"
    if marker.exists():
        return root
    if root.exists():
        shutil.rmtree(root)
    rng = np.random.default_rng(7)
    words = ["mill", "river", "stone", "lantern", "harbour", "clock", "field", "paper"]
    for c in range(-(-utterances // PER_CHAPTER)):
        speaker, chapter = 1000 + c // 4, c
        folder = root / "LibriSpeech" / "train-clean-100" / str(speaker) / str(chapter)
        folder.mkdir(parents=True)
        lines = []
        for i in range(min(PER_CHAPTER, utterances - c * PER_CHAPTER)):
            utt = f"{speaker}-{chapter}-{i:04d}"
            n = int(RATE * (0.3 + 0.1 * rng.random()))
            soundfile.write(
                folder / f"{utt}.flac", (rng.standard_normal(n) * 3000).astype(np.int16), RATE
            )
            lines.append(f"{utt} {words[(i + c) % len(words)].upper()}")
        (folder / f"{speaker}-{chapter}.trans.txt").write_text("\n".join(lines) + "\n")
    marker.write_text("ok")
    return root


def build_child(config: Path, out: Path) -> dict:
    """Run one fresh build on the default runner in a child process (measured from here)."""
    start, t = resource.getrusage(resource.RUSAGE_CHILDREN), time.time()
    proc = subprocess.run(
        corpus_command(config, out, "--fresh"),
        cwd=REPO,
        capture_output=True,
        text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    )
    wall, end = time.time() - t, resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit("bench: scale build failed")
    info = json.loads((out / "info.json").read_text())
    return {
        "utterances": sum(s["examples"] for s in info["splits"].values()),
        "wall_s": wall,
        "cpu_s": (end.ru_utime + end.ru_stime) - (start.ru_utime + start.ru_stime),
        "peak_mb": end.ru_maxrss / 1024,  # the largest single process waited for so far
    }


def peak_child(utterances: int, root: Path) -> dict:
    """A fresh interpreter per size, so each peak RSS is that build's own."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_scale",
            "--child-build",
            str(utterances),
            str(root),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit("bench: scale build failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def plan_in_one_process(units: int, per_unit: int) -> dict:
    """The plan and the combiners over ``units`` synthetic unit summaries of ``per_unit``
    utterances each, in this process; returns time and peak memory."""
    from speechmill.corpus.facts import ShardStat, UnitFacts, source_totals
    from speechmill.corpus.parts import PartSummary, UnitResult
    from speechmill.corpus.plan import PartRef, plan_split
    from speechmill.corpus.reject import RejectRecord

    t = time.time()
    record_bytes, record_samples = 8_300, 4_000
    facts = UnitFacts()
    acc = facts.create()

    def refs():
        for u in range(units):
            digest = f"{u:020x}"
            part = PartSummary(
                "train",
                f"/corpus/.parts/{digest}-train.tfrecord",
                "librispeech",
                f"folder/train-clean-100/{u}",
                per_unit,
                per_unit * record_bytes,
                per_unit * record_samples,
                u % 3,
                "",
            )
            rejects = (
                (RejectRecord("librispeech", f"x/{u}", "clean", "duration:short"),)
                if u % 50 == 0
                else ()
            )
            result = UnitResult(digest, part.key, (part,), rejects)
            facts.add(acc, result)  # the units' facts: one accumulator however many units
            yield PartRef(digest, 0, part)

    placed = shards = 0
    for place in plan_split(refs(), seed=1, shard_mb=100):  # as Beam's FlatMap takes them
        placed, shards = placed + 1, place.shards
    out = facts.extract(acc)
    rows = [
        ShardStat(
            "train", i, per_unit, per_unit * record_samples, (("librispeech", per_unit, 0, 0),)
        )
        for i in range(shards)
    ]
    totals = source_totals(rows)
    return {
        "units": units,
        "utterances": units * per_unit,
        "placed": placed,
        "shards": shards,
        "rejects": out["total"],
        "sources": len(totals),
        "seconds": time.time() - t,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--utterances", type=int, default=20_000, help="N (the larger build has 10*N)"
    )
    parser.add_argument("--work", default=str(REPO / "build" / "bench" / "scale"))
    parser.add_argument("--skip-builds", action="store_true", help="only the one-process plan")
    parser.add_argument("--units", type=int, default=1_000_000, help="unit summaries of (b)")
    parser.add_argument("--child-build", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-plan", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_build:
        utterances, root = int(args.child_build[0]), Path(args.child_build[1])
        data = make_tiny_librispeech(root / f"data-{utterances}", utterances)
        config = root / f"scale-{utterances}.toml"
        config.write_text(  # no measures or sound dedupe: the tiny clips are noise (and
            # with them the 200 000-utterance build takes 12 minutes of the bench's 20)
            f"[corpus]\nseed = 1\nmin_seconds = 0.1\n\n[quality]\nmeasures = []\n"
            f'dedupe_sounds = false\n\n[[source]]\ntype = "librispeech"\npath = "{data}"\n'
        )
        print(json.dumps(build_child(config, root / f"out-{utterances}")))
        return 0
    if args.child_plan:
        print(json.dumps(plan_in_one_process(*args.child_plan)))
        return 0

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if not args.skip_builds:
        n = args.utterances
        small, large = peak_child(n, work), peak_child(10 * n, work)
        print(
            f"\n(a) fresh tiny-clip LibriSpeech builds, default runner ({os.cpu_count()} worker processes)"
        )
        print(
            f"{'utterances':>10} {'wall s':>8} {'CPU s':>8} {'ms/utt wall':>12} {'ms/utt CPU':>11} {'peak RSS MB':>12}"
        )
        for r in (small, large):
            print(
                f"{r['utterances']:>10} {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} "
                f"{1000 * r['wall_s'] / r['utterances']:>12.2f} {1000 * r['cpu_s'] / r['utterances']:>11.2f} "
                f"{r['peak_mb']:>12.0f}"
            )
        growth = large["peak_mb"] / small["peak_mb"] - 1
        per_utt = (
            1024
            * (large["peak_mb"] - small["peak_mb"])
            / (large["utterances"] - small["utterances"])
        )
        linear = (large["cpu_s"] / large["utterances"]) / (small["cpu_s"] / small["utterances"])
        print(
            f"largest process of the whole tree (launcher and workers): {small['peak_mb']:.0f} MB -> "
            f"{large['peak_mb']:.0f} MB ({growth:+.0%}), {per_utt:.3f} KB per utterance more "
            f"(goal: under 0.1 KB); CPU time per utterance at 10*N / at N: {linear:.2f} (1.00 = linear)"
        )
        goal(
            "scale: memory growth per utterance, 20k -> 200k (KB)",
            [per_utt],
            "the 20 000-utterance build",
            "< 0.1",
            per_utt < 0.1,
        )
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_scale", "--child-plan", str(args.units), "100"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        return 1
    plan = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"\n(b) plan + combiners in one process: {plan['utterances']:.0e} utterances in "
        f"{plan['units']:.0e} unit summaries -> {plan['shards']} shards, {plan['rejects']} rejects "
        f"in {plan['seconds']:.1f} s, peak {plan['peak_mb']:.0f} MB (goal: under 1024 MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
