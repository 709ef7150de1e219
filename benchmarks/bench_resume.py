"""`make bench` for resuming: a build killed at 60 % of its units and run again, beside a clean build.

Wall-clock seconds of `make corpus` on the default config (default runner): a clean build with
``--fresh``; then a build killed once 60 % of its work units are finished, and the same command
run again, which reuses those units and builds the rest. Best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def build(out: Path, *extra: str) -> float:
    start = time.time()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "speechmill.cli",
            "corpus",
            "--config",
            str(REPO / "configs" / "default.toml"),
            "--output",
            str(out),
            "--log-level",
            "ERROR",
            *extra,
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    return time.time() - start


def killed_at(out: Path, units: int, share: float) -> None:
    """Start a fresh build and kill it (and its workers) once ``share`` of its units are done."""
    job = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "speechmill.cli",
            "corpus",
            "--config",
            str(REPO / "configs" / "default.toml"),
            "--output",
            str(out),
            "--fresh",
            "--log-level",
            "ERROR",
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    while len(list((out / ".parts").glob("*.json"))) < share * units and job.poll() is None:
        time.sleep(0.05)
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", default=str(REPO / "build" / "bench"))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    out = Path(args.work) / "resume"
    clean = min(build(out, "--fresh") for _ in range(args.repeat))
    units = len(list((out / ".parts").glob("*.json")))
    resumed = []
    for _ in range(args.repeat):
        killed_at(out, units, 0.6)
        resumed.append(build(out))
    print(
        f"\nresume: default corpus ({units} units), clean build {clean:.1f} s wall; killed at 60 % and run again: "
        f"{min(resumed):.1f} s ({min(resumed) / clean:.2f}x of a clean build; nothing reused would be 1.0x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
