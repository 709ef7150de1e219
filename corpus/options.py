"""What every command's options share: the help formatter and the version.

``HelpFormatter`` ends an option's help with ``(default: X)`` only where X means something: not
after a required flag, a switch, an option without a default, or help that already names its
default. ``deprecated(old, new)`` keeps an old flag name working with one line saying so.
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from typing import Any


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            action.required
            or action.default in (None, False, argparse.SUPPRESS)
            or not action.option_strings
            or "default" in text.lower().replace(str(action.default), "")
        ):
            return text
        return super()._get_help_string(action) or text


def version() -> str:
    """speechmill's installed version."""
    try:
        return metadata.version("speechmill")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


class Deprecated(argparse.Action):
    """An old flag name: works as its new one, with one line on standard error."""

    def __init__(self, option_strings: list[str], dest: str, new: str = "", **kwargs: Any):
        self.new = new
        super().__init__(option_strings, dest, help=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
        print(f"speechmill: {option_string} is deprecated; use {self.new}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def deprecated(
    parser: argparse.ArgumentParser, old: str, new: str, dest: str, **kwargs: Any
) -> None:
    """Accept ``old`` as a hidden alias of ``new`` (same ``dest``)."""
    parser.add_argument(old, action=Deprecated, new=new, dest=dest, **kwargs)
