"""Every benchmark, each beside the library a user would use instead (``make bench``).

``python -m benchmarks`` in a source checkout: benchmarks are not installed with the package;
they measure on the checkout's configs and build their inputs under build/bench.

Each runs in its own process (``python -m benchmarks.bench_<name>``) and prints its table:
corpus (build, TTS, the floor), scale (peak memory and time of builds of N and 10 N
utterances; the plan for 10^8 utterances in one process), captions (sync beside ffsubsync), augment (effects beside
librosa and audiomentations, the whole job), train (tf.data input), verify (make verify beside
the forward pass alone), teacher (Whisper and pocketsphinx on real speech: speed, error and the
CER threshold, beside our model's forward pass), resume (a killed build run
again), text (the normalizer beside nemo-text-processing), export (hf/nemo/lhotse beside Hugging
Face datasets and soundfile).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import GOALS, REPO, machine, print_goals

WORK = REPO / "build" / "bench"
# What the benches write and never read again (each run writes them afresh); their inputs
# (generated corpora and recordings) stay for the next run. A whole bench leaves ~17 GB of these.
OUTPUTS = (
    *("out-*", "*-output", "*-output-*", "export-hf", "export-nemo", "export-lhotse"),
    *("resume", "lhotse", "scale/out-*"),
)


def remove_outputs(work: Path = WORK) -> float:
    """Delete the benches' outputs under ``work``; the GB freed."""
    freed = 0
    for pattern in OUTPUTS:
        for path in work.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                freed += sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
                shutil.rmtree(path, ignore_errors=True)
    return freed / 1e9


BENCHES = (
    "corpus",
    "scale",
    "captions",
    "augment",
    "train",
    "verify",
    "teacher",
    "audiobook",
    "quality",
    "runtime",
    "resume",
    "text",
    "export",
)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--only", default=",".join(BENCHES), help="comma-separated benchmarks to run")
    p.add_argument(
        "--minutes",
        type=float,
        default=180,
        help="minutes of speech the corpus benchmark generates",
    )
    args = p.parse_args(argv)
    chosen = [b for b in args.only.split(",") if b]
    unknown = sorted(set(chosen) - set(BENCHES))
    if unknown:
        p.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHES)}")
    checkout = str(REPO)
    print(f"make bench on {machine()}", flush=True)
    GOALS.unlink(missing_ok=True)
    started = time.time()
    failed = 0
    for name in chosen:
        extra = {  # sized so that the whole bench stays under 20 minutes on 2 cores
            "corpus": ["--minutes", str(args.minutes)],
            "resume": ["--minutes", str(args.minutes), "--speakers", "24"],  # 48 units
            "captions": ["--minutes", "30"],
            "teacher": ["--prompts", "80", "--sphinx-prompts", "40"],
            "audiobook": ["--minutes", "4"],
            "quality": ["--minutes", "3"],
            "train": ["--epochs", "2", "--steps", "10"],
        }.get(name, [])
        began = time.time()
        failed += (
            subprocess.run(
                [sys.executable, "-m", f"benchmarks.bench_{name}", *extra], cwd=checkout
            ).returncode
            != 0
        )
        print(f"({name}: {time.time() - began:.0f} s)", flush=True)
    print_goals()
    freed = remove_outputs()
    print(f"\n(removed the benches' outputs under {WORK}: {freed:.1f} GB; their inputs stay)")
    print(f"make bench on {machine()}: {(time.time() - started) / 60:.1f} min in all")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
