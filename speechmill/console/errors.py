"""Failures as the user sees them: one line and an exit status for an error the user can act on
(``UserError`` 2, ``DataError`` 1, see corpus/errors.py), a traceback for a bug; ``--verbose``
keeps every traceback."""

from __future__ import annotations

import errno
import functools
import os
import re
import sys
from collections.abc import Callable

from speechmill.corpus.errors import DataError, UserError, printable

VERBOSE_ENV = "SPEECHMILL_VERBOSE"  # set by ``speechmill --verbose``: failures keep their traceback
_OUR_LINE_RE = re.compile(r"(speechmill: .*?)(?: \[while running '[^']*'\])?$")


def our_line(error: BaseException) -> str | None:
    """The "speechmill: ..." sentence inside an error, however a runner wrapped it, or None."""
    for line in reversed(str(error).splitlines()):
        found = _OUR_LINE_RE.search(line.strip())
        if found:
            return found.group(1)
    return None


def one_line(error: BaseException, command: str = "") -> tuple[str, int] | None:
    """The one line and exit status for an error a user can act on, or None for a bug.

    UserError (and a missing file or folder) is status 2, DataError status 1; an error that a
    Beam runner wrapped is known by the "speechmill: ..." sentence inside it (status 1)."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else type(error).__name__
    ours = our_line(error)
    label = getattr(error, "label", command)
    plain = ours or (
        first
        if first.startswith("speechmill:")
        else f"speechmill: {label + ': ' if label else ''}{first}"
    )
    if (
        isinstance(error, OSError)
        and error.errno == errno.ENOSPC
        or "No space left on device" in text
    ):
        where = getattr(error, "filename", None) or "the output folder"
        return f"speechmill: the disk is full writing {where}", 1
    if isinstance(error, (UserError, FileNotFoundError, NotADirectoryError)):
        return plain, 2
    if isinstance(error, DataError) or ours:
        return plain, 1
    return None


def command(name: str) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """Decorate a command's ``main(argv) -> int``: an error the user can act on becomes one line
    on standard error and its exit status (see :func:`one_line`); a bug keeps its traceback."""

    def wrap(main: Callable[..., int]) -> Callable[..., int]:
        @functools.wraps(main)
        def run(argv: list[str] | None = None) -> int:
            try:
                return int(main(argv) or 0)
            except BrokenPipeError:  # `speechmill inspect ... | head`: the reader has gone
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                return 0
            except Exception as error:  # noqa: BLE001 - sorted by one_line; a bug is raised again
                found = one_line(error, name)
                if found is None or os.environ.get(VERBOSE_ENV):
                    raise
                print(printable(found[0]), file=sys.stderr)
                return found[1]

        return run

    return wrap
