"""The two kinds of failure a user can act on, and what the front door does with each.

``UserError`` (exit status 2): the user's input is wrong: a config, a flag, a missing folder,
a corpus that does not fit a model, a missing optional library. ``DataError`` (exit status 1):
the data or the environment: too many rejects, a damaged shard, a busy output folder. Every
error class that means one of these derives from it, so ``speechmill`` maps an error to one
line and an exit status in one place (``speechmill/cli.py``); anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations

import errno
import functools
import os
import re
import sys
from collections.abc import Callable


class UserError(Exception):
    """The user's input cannot be used (exit status 2)."""

    exit_status = 2


class DataError(Exception):
    """The data or the environment failed (exit status 1)."""

    exit_status = 1


class MissingExtra(UserError, ImportError):
    """A library of an optional part of speechmill is not installed; says which extra has it."""

    def __init__(self, library: str, extra: str, purpose: str):
        super().__init__(
            f"{purpose} needs {library}, which is not installed: pip install 'speechmill[{extra}]'"
        )


class UsageError(UserError, ValueError):
    """A flag or argument that cannot be used (a value out of range, an output that is the input)."""


class CorruptCorpus(DataError, ValueError):
    """A corpus file that cannot be read: info.json that is not JSON, a damaged shard or record."""


VERBOSE_ENV = "SPEECHMILL_VERBOSE"  # set by ``speechmill --verbose``: failures keep their traceback
_OUR_LINE_RE = re.compile(r"(speechmill: .*?)(?: \[while running '[^']*'\])?$")


def printable(text: str) -> str:
    """``text`` safe for a terminal: every character that does not print (escape sequences,
    newlines that would forge a console line, bidi overrides) shown as its ``\\x``/``\\u`` escape."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def os_name(text: str) -> str:
    """A file name as Python lists it, made valid text: the bytes of a name that is not UTF-8
    (held as surrogates) shown as ``\\xNN`` escapes ("caf\\xe9.wav"); valid names unchanged."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


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
