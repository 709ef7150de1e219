"""The two kinds of failure a user can act on, and what the front door does with each.

``UserError`` (exit status 2): the user's input is wrong: a config, a flag, a missing folder,
a corpus that does not fit a model, a missing optional library. ``DataError`` (exit status 1):
the data or the environment: too many rejects, a damaged shard, a busy output folder. Every
error class that means one of these derives from it, so the front door maps an error to one
line and an exit status in one place (``speechmill/console/errors.py``); anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations


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
