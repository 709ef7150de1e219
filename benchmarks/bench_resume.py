"""`make bench` for resuming: a build killed after a third of its units and run again, beside
a clean build of the same corpus, in each of ``--runs`` fresh runs.

The corpus: the corpus benchmark's LibriSpeech-layout tree (``--minutes`` of espeak-ng speech,
two chapters a speaker; ``--speakers N`` takes the first N: ``make bench`` builds 24 speakers,
48 units, 120 of the 180 minutes), the default quality settings, the default runner
(one worker process per core). Each run: a clean build (``--fresh``); a fresh build killed
(SIGKILL to the launcher and its workers) once a third of the units are finished; the same
command again, which reuses the finished units and builds the rest. Goal: the re-run costs at
most the share of units left + 0.15 of the clean build (wall clock; start-up, the dedupe pass
and the shards, which are whole-corpus work, are in that 0.15).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import REPO, corpus_command, goal, spread
from benchmarks.bench_corpus import make_librispeech, subset, write_config


def command(config: Path, out: Path, *extra: str) -> list[str]:
    return corpus_command(config, out, *extra)


def build(config: Path, out: Path, *extra: str) -> float:
    """Wall seconds of one whole build (a child process and its workers)."""
    start = time.time()
    subprocess.run(command(config, out, *extra), cwd=REPO, check=True, capture_output=True)
    return time.time() - start


def finished(out: Path) -> int:
    return len(list((out / ".parts").glob("*.json")))


def killed_after(config: Path, out: Path, units: int) -> int:
    """Start a fresh build and kill it (and its workers) once ``units`` are finished; returns
    how many were finished when it died."""
    shutil.rmtree(out / ".parts", ignore_errors=True)  # as --fresh will: count only this build's
    job = subprocess.Popen(
        command(config, out, "--fresh"),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    while finished(out) < units and job.poll() is None:
        time.sleep(0.02)
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()
    return finished(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", default=str(REPO / "build" / "bench"))
    parser.add_argument("--minutes", type=float, default=180.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--speakers", type=int, default=0, help="build the first N speakers (0: all; 2 units each)"
    )
    args = parser.parse_args(argv)
    work = Path(args.work)
    data = work / f"librispeech-{args.minutes:g}min"
    make_librispeech(data, args.minutes)
    if args.speakers:
        data = subset(work / f"speakers-{args.speakers}-{args.minutes:g}min", data, args.speakers)
    config = write_config(work / "resume.toml", f'type = "librispeech"\npath = "{data}"')
    out = work / "resume"
    clean, resumed, left = [], [], []
    for _ in range(args.runs):
        clean.append(build(config, out, "--fresh"))
        units = finished(out)
        done = killed_after(config, out, -(-units // 3))
        left.append(1 - done / units)
        resumed.append(build(config, out))
    info = json.loads((out / "info.json").read_text())
    spoken = sum(split["hours"] for split in info["splits"].values()) * 3600
    ratios = [r / c for r, c in zip(resumed, clean)]
    excess = [r - share for r, share in zip(ratios, left)]
    print(
        f"\nresume: {units} units ({spoken / 60:.0f} min of LibriSpeech-layout speech, default "
        f"settings, default runner), min / median / max of {args.runs} runs:\n"
        f"  clean build {spread(clean, 1)} s wall; killed with {spread(left)} of the units left, "
        f"then run again: {spread(resumed, 1)} s\n"
        f"  re-run / clean build: {spread(ratios)}; beyond the share left: {spread(excess)} "
        "(goal: at most 0.15; a re-run that reused nothing would be 1.00 and 0.67 beyond)"
    )
    goal(
        "resume after a kill at a third: cost beyond the share left",
        excess,
        "a clean build",
        "<= 0.15",
        statistics.median(excess) <= 0.15,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
