"""Run a function in a child process with a deadline on the whole call.

Socket time-outs bound each read, not a download: a server that drip-feeds a byte every few
seconds never trips them. ``call_with_deadline(func, args, seconds)`` runs ``func(*args)`` in
``python -m speechmill.corpus.inputs.bounded`` (arguments and result pickled over the pipes) and kills the
child's whole process group (ffmpeg included) when the deadline passes, raising
``Reject(reason)``. A ``Reject`` raised in the child is raised again here; any other error
fails loudly with the child's traceback.
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
    func: Callable, args: tuple, seconds: float, *, reason: str, where: str = ""
) -> Any:
    """``func(*args)`` in a child process, at most ``seconds`` long; raises Reject(reason) after."""
    child = subprocess.Popen(
        [sys.executable, "-m", "speechmill.corpus.inputs.bounded"],
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
    if not out:
        raise ChildError(
            f"the child process for {getattr(func, '__name__', func)} died (exit {child.returncode})"
        )
    kind, value = pickle.loads(out)
    if kind == "reject":
        raise value
    if kind == "error":
        raise ChildError(value)
    return value


def _serve() -> None:
    func, args = pickle.loads(sys.stdin.buffer.read())
    try:
        reply = ("ok", func(*args))
    except Reject as reject:
        reply = ("reject", reject)
    except Exception:  # noqa: BLE001 - sent to the parent, which fails loudly with it
        reply = ("error", traceback.format_exc())
    sys.stdout.buffer.write(pickle.dumps(reply))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    _serve()
