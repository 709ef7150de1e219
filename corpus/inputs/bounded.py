"""Run a function in a child process with a deadline on the whole call and a memory bound.

Socket time-outs bound each read, not a download: a server that drip-feeds a byte every few
seconds never trips them, and an endless page grows the reader's memory without end.
``call_with_deadline(func, args, seconds, memory_mb=...)`` runs ``func(*args)`` in
``python -m speechmill.corpus.inputs.bounded`` (arguments and result pickled over the pipes),
with its address space (and its children's, ffmpeg included) limited to ``memory_mb``; it
kills the child's whole process group when the deadline passes, raising ``Reject(reason)``,
and raises ``Reject(memory_reason)`` when the child runs out of its memory. A ``Reject`` raised
in the child is raised again here; any other error fails loudly with the child's traceback.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable
from typing import Any

from speechmill.corpus.reject import Reject


class ChildError(RuntimeError):
    """The function failed in the child with an error that is not a Reject (a bug)."""


def call_with_deadline(
    func: Callable,
    args: tuple,
    seconds: float,
    *,
    reason: str,
    where: str = "",
    memory_mb: float | None = None,
    memory_reason: str = "",
) -> Any:
    """``func(*args)`` in a child process, at most ``seconds`` long (Reject(reason) after) and
    in at most ``memory_mb`` MB of address space (Reject(memory_reason) past it)."""
    limit = [] if memory_mb is None else [str(int(memory_mb * (1 << 20)))]
    child = subprocess.Popen(
        [sys.executable, "-m", "speechmill.corpus.inputs.bounded", *limit],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        out, _ = child.communicate(pickle.dumps((func, args)), timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        raise Reject(
            reason, f"not finished after {seconds:g} s (deadline_seconds)", where=where
        ) from None
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    bound = f"{memory_mb:g} MB of memory"
    if not out and memory_mb is not None:  # an allocation that failed outside Python
        raise Reject(
            memory_reason, f"died (exit {child.returncode}) within its {bound}", where=where
        )
    if not out:
        raise ChildError(
            f"the child process for {getattr(func, '__name__', func)} died (exit {child.returncode})"
        )
    kind, value = pickle.loads(out)
    if kind == "memory":
        raise Reject(memory_reason, f"needed more than its {bound}", where=where)
    if kind == "reject":
        raise value
    if kind == "error":
        raise ChildError(value)
    return value


def _serve(memory_bytes: int | None) -> None:
    func, args = pickle.loads(sys.stdin.buffer.read())
    if memory_bytes is not None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        reply = ("ok", func(*args))
    except Reject as reject:
        reply = ("reject", reject)
    except MemoryError:
        reply = ("memory", None)
    except Exception:  # noqa: BLE001 - sent to the parent, which fails loudly with it
        reply = ("error", traceback.format_exc())
    sys.stdout.buffer.write(pickle.dumps(reply))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    _serve(int(sys.argv[1]) if len(sys.argv) > 1 else None)
