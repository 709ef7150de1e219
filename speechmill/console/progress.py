"""Progress on the terminal: a corpus job's units and utterances done, hours of audio,
x-realtime, ETA and rejects; a loop's items; the summary lines' pieces (durations, reasons).

Workers leave one small note per finished unit in ``OUT/.staging/progress/`` (see
``corpus.workdir.note_progress``), so this works on any runner whose workers can write the
output folder: the DirectRunner, a Dask cluster, and on Dataflow/Flink/Spark through Beam's
FileSystems. ``JobProgress`` polls those notes in a thread: a live tqdm bar when standard error is
a terminal, a plain line every ``interval`` seconds otherwise (CI, log files).
``TerminalProgress`` hands both to the jobs as their progress callback (corpus/progress.py).
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from typing import TextIO

from speechmill.corpus.progress import Progress
from speechmill.corpus.workdir import read_planned, read_progress

_REAL_STDERR_FD: int | None = None


def use_stderr_fd(fd: int) -> None:
    """Progress goes to this descriptor (the terminal, when standard error is being filtered)."""
    global _REAL_STDERR_FD
    _REAL_STDERR_FD = fd


def _stream() -> TextIO:
    if _REAL_STDERR_FD is not None:
        return os.fdopen(os.dup(_REAL_STDERR_FD), "w", buffering=1)
    return sys.stderr


def describe(done: dict, total_units: int | None, elapsed: float) -> str:
    """'5/12 units, 170 utt, 0.38 h, 510x realtime, ETA 0:06, 0 rejects' ('5 units, ...' when
    the workers enumerate the units and the total is not known)."""
    units = done["units"]
    rate = done["seconds"] / elapsed if elapsed > 0 else 0.0
    eta = ""
    if total_units and 0 < units < total_units:
        left = elapsed / units * (total_units - units)
        eta = f", ETA {int(left // 60)}:{int(left % 60):02d}"
    count = f"{units}/{max(total_units, units)}" if total_units else f"{units}"
    return (
        f"{count} units, {done['utterances']} utt, {done['seconds'] / 3600:.2f} h, "
        f"{rate:.0f}x realtime{eta}, {done['rejects']} rejects"
    )


class JobProgress:
    """Context manager: shows a job's progress while the block runs."""

    def __init__(
        self,
        folder: str,
        total_units: int | None,
        label: str,
        mode: str = "auto",
        interval: float = 10.0,
    ):
        self.folder, self.given, self.label, self.interval = folder, total_units, label, interval
        stream = _stream()
        self.mode = ("bar" if stream.isatty() else "lines") if mode == "auto" else mode
        self.stream = stream
        self._stop = threading.Event()
        self._best = {"units": 0, "utterances": 0, "seconds": 0.0, "rejects": 0}
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.start = time.time()

    def __enter__(self) -> JobProgress:
        if self.mode != "none":
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        if self.mode == "bar":
            from tqdm import tqdm

            width = (
                shutil.get_terminal_size(fallback=(100, 20)).columns or 100
            )  # a pty may report 0
            with tqdm(
                total=self.total or None,
                desc=f"speechmill: {self.label}",
                unit="unit",
                file=self.stream,
                ncols=width,
                leave=False,
            ) as bar:
                while not self._stop.wait(0.5):
                    self._update_bar(bar)
                self._update_bar(bar)
            return
        last = time.time()
        while not self._stop.wait(0.5):
            if time.time() - last >= self.interval:
                last = time.time()
                done = self._read()
                print(
                    f"speechmill: {self.label}: {describe(done, self.total, time.time() - self.start)}",
                    file=self.stream,
                    flush=True,
                )

    @property
    def total(self) -> int | None:
        """The launcher's count of units, else what the workers' expansions announced."""
        return self.given if self.given is not None else read_planned(self.folder) or None

    def _read(self) -> dict:
        """The notes so far; never less than before (the folder goes when the job publishes)."""

        done = read_progress(self.folder)
        if done["units"] >= self._best["units"]:
            self._best = done
        return self._best

    def _update_bar(self, bar) -> None:
        done = self._read()
        if self.total:
            bar.total = max(self.total, done["units"])
        bar.n = done["units"]
        rate = done["seconds"] / max(time.time() - self.start, 1e-9)
        bar.set_postfix_str(
            f"{done['utterances']} utt, {done['seconds'] / 3600:.2f} h, {rate:.0f}x rt, "
            f"{done['rejects']} rejects",
            refresh=True,
        )


def progress_iter(items, total: int | None, label: str, unit: str = "item", interval: float = 10.0):
    """``items`` with a live bar on a terminal, or a plain line every ``interval`` s otherwise."""
    stream = _stream()
    if stream.isatty():
        from tqdm import tqdm

        width = shutil.get_terminal_size(fallback=(100, 20)).columns or 100
        yield from tqdm(
            items,
            total=total,
            desc=f"speechmill: {label}",
            unit=unit,
            file=stream,
            ncols=width,
            leave=False,
        )
        return
    start = last = time.time()
    for done, item in enumerate(items, start=1):
        yield item
        if time.time() - last >= interval:
            last = time.time()
            rate = done / (last - start)
            left = f", ETA {int((total - done) / rate)} s" if total and rate else ""
            print(
                f"speechmill: {label}: {done}/{total or '?'} {unit}s{left}", file=stream, flush=True
            )


def duration(seconds: float) -> str:
    """Seconds of audio as a person reads them: "2.08 h", "12.5 min", "8.3 s"."""
    if seconds >= 360:
        return f"{seconds / 3600:.2f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def by_reason(counts: dict[str, int]) -> str:
    """Reject counts as "audio:decode 2, text:empty 1" (most first), or "none"."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{reason} {n}" for reason, n in ranked) or "none"


def splits_line(info: dict, shards: bool = False) -> str:
    """ "dev 3 utt / 8.3 s, train 948 utt / 2.08 h" from an info.json."""
    return ", ".join(
        f"{name} {s['examples']} utt / {duration(s.get('seconds', s['hours'] * 3600))}"
        + (f" in {len(s['shards'])} shard(s)" if shards else "")
        for name, s in info["splits"].items()
    )


class TerminalProgress(Progress):
    """The jobs' progress callback on this terminal (``mode``: auto, bar, lines or none)."""

    def __init__(self, mode: str = "auto"):
        self.mode = mode

    def job(self, folder: str, total_units: int | None, label: str) -> JobProgress:
        return JobProgress(folder, total_units, label, self.mode)

    def watches(self) -> bool:
        return self.mode != "none"

    def items(self, items, total: int | None, label: str, unit: str = "item"):
        if self.mode == "none":
            return iter(items)
        return progress_iter(items, total, label, unit)
