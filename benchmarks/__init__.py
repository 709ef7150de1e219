"""`make bench`: throughput of each stage beside the library a user would use instead."""

import json
import resource
import statistics
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its waited-for children."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def corpus_command(config: str | Path, out: str | Path, *extra: str) -> list[str]:
    """The argv of a quiet `speechmill corpus` build in a child process (default runner)."""
    import sys

    return [
        sys.executable,
        "-m",
        "speechmill.cli",
        "corpus",
        "--config",
        str(config),
        "--output",
        str(out),
        "--progress",
        "none",
        "--log-level",
        "ERROR",
        *extra,
    ]


def machine() -> str:
    """The machine a bench ran on, in one line: cores, CPU model, memory."""
    import os

    model, memory = "unknown CPU", ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next(
                (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
                model,
            )
        with open("/proc/meminfo", encoding="utf-8") as f:
            kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
            memory = f", {kb / 2**20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{os.cpu_count()} cores, {model}{memory}"


def default_corpus(folder: str | Path, *extra: str) -> Path:
    """The default config's corpus in ``folder``, built there first when it is not (the input
    a benchmark measures its stage on, not the measured work; ``extra``: more build flags)."""
    folder = Path(folder)
    if not (folder / "info.json").exists():
        from speechmill.commands.corpus import run as build

        config = str(REPO / "configs" / "default.toml")
        build(["--config", config, "--output", str(folder), "--log-level", "ERROR", *extra])
    return folder


GOALS = REPO / "build" / "bench" / "goals.jsonl"  # each bench's goal rows, printed at the end


def spread(values: list[float], digits: int = 2) -> str:
    """``min / median / max`` of a measurement's runs."""
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{low:.{digits}f} / {mid:.{digits}f} / {high:.{digits}f}"


def goal(stage: str, measured: list[float], baseline: str, target: str, met: bool) -> None:
    """Keep one row of the goals table ``make bench`` prints last (``measured``: one value a run)."""
    GOALS.parent.mkdir(parents=True, exist_ok=True)
    row = {"stage": stage, "measured": measured, "baseline": baseline, "goal": target, "met": met}
    with open(GOALS, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")


def print_goals() -> None:
    """The goals table: each goal's runs as min / median / max, and whether its median meets it."""
    if not GOALS.exists():
        return
    rows = [json.loads(line) for line in GOALS.read_text(encoding="utf-8").splitlines() if line]
    print("\ngoals (each ratio over fresh runs: min / median / max):")
    print(f"{'stage':<58} {'runs':>4} {'measured':>22}  {'goal':<14} {'met':<3}  baseline")
    for r in rows:
        print(
            f"{r['stage']:<58} {len(r['measured']):>4} {spread(r['measured']):>22}  "
            f"{r['goal']:<14} {'yes' if r['met'] else 'NO':<3}  {r['baseline']}"
        )
