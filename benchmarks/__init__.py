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


def default_corpus(folder: str | Path, *extra: str) -> Path:
    """The default config's corpus in ``folder``, built there first when it is not (the input
    a benchmark measures its stage on, not the measured work; ``extra``: more build flags)."""
    folder = Path(folder)
    if not (folder / "info.json").exists():
        from speechmill.commands.corpus import run as build

        config = str(REPO / "configs" / "default.toml")
        build(["--config", config, "--output", str(folder), "--log-level", "ERROR", *extra])
    return folder
