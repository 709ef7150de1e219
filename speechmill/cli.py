"""``speechmill``: one console command for every step, each a subcommand with its own ``--help``.

    speechmill corpus --config configs/default.toml --output build/corpus
    speechmill augment --input build/corpus --output build/augmented
    speechmill train --data build/corpus --run build/run
    speechmill verify --input build/harvest --output build/verified --model build/run
    speechmill eval --model build/run --data build/corpus
    speechmill transcribe --model build/run recording.wav
    speechmill report build/corpus -o report.html
    speechmill inspect build/corpus --split dev -n 5
    speechmill describe build/corpus

The console is quiet by default (``speechmill.console.quiet``); ``--verbose`` (before the subcommand)
shows every library message and the full traceback of any failure. A failure the user can act
on ends in one line naming what and where: exit status 2 for the user's input (a config, a
missing folder, a corpus that does not fit a model, a bad recipe), 1 for data or the
environment (too many rejects, a damaged shard, a busy or full output folder). A bug still
shows its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from speechmill.commands import COMMANDS
from speechmill.console.errors import VERBOSE_ENV, one_line
from speechmill.console.options import version

__all__ = ["COMMANDS", "main", "one_line"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="speechmill",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="speechmill: build, augment, inspect and train on speech corpora.",
        epilog="commands:\n"
        + "\n".join(f"  {name:<11} {text}" for name, (_, text) in COMMANDS.items())
        + "\n\n`speechmill COMMAND --help` lists a command's options and their defaults.",
    )
    p.add_argument("--version", action="version", version=f"speechmill {version()}")
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show every library message and full tracebacks",
    )
    p.add_argument(
        "command", choices=sorted(COMMANDS), metavar="COMMAND", help="one of the commands below"
    )
    p.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    module_name, _ = COMMANDS[args.command]
    from speechmill.console.quiet import filtered_stderr, quiet_environment

    if args.verbose:
        return _run(module_name, args.args, verbose=True)
    quiet_environment()
    with filtered_stderr() as terminal:
        from speechmill.console.progress import use_stderr_fd

        use_stderr_fd(terminal)
        return _run(module_name, args.args, verbose=False)


EXTRA_OF = {
    "apache_beam": "corpus",
    "pyttsx3": "corpus",
    "pydub": "corpus",
    "tensorflow": "train",
    "keras": "train",
    "jiwer": "train",
    "ai_edge_litert": "runtime",
    "kenlm": "runtime",
}


def _run(module_name: str, argv: list[str], verbose: bool) -> int:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        top = (error.name or "").split(".")[0]
        if top not in EXTRA_OF or verbose:
            raise
        print(
            f"speechmill: {module_name.split('.')[-1].replace('_', ' ')} needs {top}, which is not installed: "
            f"pip install 'speechmill[{EXTRA_OF[top]}]' (or 'speechmill[all]')",
            file=sys.stderr,
        )
        return 2
    if verbose:
        os.environ[VERBOSE_ENV] = "1"  # the command's failures keep their traceback
    try:
        return int(module.main(argv) or 0)  # each command maps its errors (console/errors.py)
    except KeyboardInterrupt:
        print("speechmill: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
