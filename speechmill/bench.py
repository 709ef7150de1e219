"""``speechmill bench``: every benchmark, each beside the library a user would use instead.

Each runs in its own process (``python -m benchmarks.bench_<name>``) and prints its table:
corpus (build, TTS, the floor), scale (peak memory and time of builds of N and 10 N
utterances; the plan for 10^8 utterances in one process), captions (sync beside ffsubsync), augment (effects beside
librosa and audiomentations, the whole job), train (tf.data input), verify (make verify beside
the forward pass alone), resume (a killed build run
again), text (the normalizer beside nemo-text-processing), export (hf/nemo/lhotse beside Hugging
Face datasets and soundfile).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from speechmill.corpus.errors import UserError, command
from speechmill.corpus.options import HelpFormatter

BENCHES = (
    "corpus",
    "scale",
    "captions",
    "augment",
    "train",
    "verify",
    "runtime",
    "resume",
    "text",
    "export",
)


@command("bench")
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="speechmill bench",
        formatter_class=HelpFormatter,
        description=__doc__.splitlines()[0],
    )
    p.add_argument("--only", default=",".join(BENCHES), help="comma-separated benchmarks to run")
    p.add_argument(
        "--minutes", type=float, default=60, help="minutes of speech the corpus benchmark generates"
    )
    args = p.parse_args(argv)
    chosen = [b for b in args.only.split(",") if b]
    unknown = sorted(set(chosen) - set(BENCHES))
    if unknown:
        p.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHES)}")
    checkout = source_checkout()
    failed = 0
    for name in chosen:
        extra = {"corpus": ["--minutes", str(args.minutes)], "captions": ["--minutes", "30"]}.get(
            name, []
        )
        failed += (
            subprocess.run(
                [sys.executable, "-m", f"benchmarks.bench_{name}", *extra], cwd=checkout
            ).returncode
            != 0
        )
    return 1 if failed else 0


def source_checkout() -> str:
    """The repository folder that holds ``benchmarks/`` (benchmarks are not installed)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not os.path.isfile(os.path.join(root, "benchmarks", "__init__.py")):
        raise UserError(
            "speechmill: the benchmarks run from a source checkout (git clone, then make bench); "
            "this installation has none"
        )
    return root
