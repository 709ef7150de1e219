"""`make bench`: throughput of each stage beside the library a user would use instead."""

import resource
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its waited-for children."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


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
