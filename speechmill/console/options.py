"""What every command's options share: the help formatter, the version, old flag names, the
flags of the corpus jobs, and one name per concept (a corpus is ``--input`` everywhere, with
``--data`` kept as an alias; a trained run is ``--model``, with ``--run`` kept where it was).

``HelpFormatter`` ends an option's help with ``(default: X)`` only where X means something: not
after a required flag, a switch, an option without a default, or help that already names its
default. ``deprecated(old, new)`` keeps an old flag name working with one line saying so.
"""

from __future__ import annotations

import argparse
import logging
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


def command_parser(name: str, more: str = "") -> argparse.ArgumentParser:
    """The parser of ``speechmill NAME``; its description is the command's one line in
    ``speechmill --help`` (speechmill/commands/__init__.py COMMANDS), then ``more``."""
    from speechmill.commands import COMMANDS

    text = COMMANDS[name][1]
    return argparse.ArgumentParser(
        prog=f"speechmill {name}",
        formatter_class=HelpFormatter,
        description=f"{text[0].upper()}{text[1:]}." + (f" {more}" if more else ""),
    )


class Deprecated(argparse.Action):
    """An old flag name: works as its new one, with one line on standard error."""

    def __init__(self, option_strings: list[str], dest: str, new: str = "", **kwargs: Any):
        self.new = new
        super().__init__(option_strings, dest, help=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
        print(f"speechmill: {option_string} is deprecated; use {self.new}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def deprecated(parser: Any, old: str, new: str, dest: str, **kwargs: Any) -> None:
    """Accept ``old`` as a hidden alias of ``new`` (same ``dest``)."""
    parser.add_argument(old, action=Deprecated, new=new, dest=dest, **kwargs)


def add_corpus_input(parser: argparse.ArgumentParser, help: str, required: bool = True) -> None:
    """``--input CORPUS`` (``--data`` is the same flag: train, eval and lm called it so)."""
    parser.add_argument("--input", "--data", dest="input", required=required, help=help)


def add_model(parser: argparse.ArgumentParser, help: str, required: bool = True, **kw: Any) -> None:
    """``--model RUN``: a trained run folder (``--run`` is the same flag where it was one)."""
    parser.add_argument("--model", "--run", dest="model", required=required, help=help, **kw)


BEAM_FLAGS = (
    "Any other --flag goes to Beam's PipelineOptions (--runner, --direct_num_workers, ...)."
)


def add_job_options(
    parser: argparse.ArgumentParser,
    redo: str,
    prints: str = "the new info.json instead of the summary line",
) -> None:
    """The flags every corpus job takes: --fresh (``redo`` says what it redoes), --progress,
    --log-level, --dask, --json."""
    parser.add_argument(
        "--dask",
        default=None,
        help="run on Dask: local:N starts a local cluster of N workers; tcp://host:port uses one",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help=f"{redo} instead of reusing what an earlier run into OUTPUT finished",
    )
    parser.add_argument(
        "--progress",
        choices=["auto", "bar", "lines", "none"],
        default="auto",
        help="auto: a live bar on a terminal, a line every 10 s otherwise",
    )
    parser.add_argument("--log-level", default="INFO", help="level of speechmill's own messages")
    parser.add_argument("--json", action="store_true", help=f"print {prints}")


def job_run(known: argparse.Namespace, beam_args: list[str]) -> Any:
    """The common job flags as the jobs' ``JobRun`` (progress on this terminal); sets the log
    levels (ours at --log-level, Beam's and Dask's at WARNING)."""
    from speechmill.console.progress import TerminalProgress
    from speechmill.pipelines.job import JobRun

    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", level=logging.INFO)
    logging.getLogger().setLevel(known.log_level.upper())
    logging.getLogger("apache_beam").setLevel(logging.WARNING)
    logging.getLogger("apache_beam.runners.portability.local_job_service").setLevel(logging.ERROR)
    logging.getLogger("distributed").setLevel(logging.WARNING)
    return JobRun(
        fresh=known.fresh,
        dask=known.dask,
        beam_args=tuple(beam_args),
        progress=TerminalProgress(known.progress),
    )


def corpus_job_main(parser: argparse.ArgumentParser, run: Any, summary: Any, argv) -> int:
    """The end of ``speechmill corpus|augment|verify``: run the job, describe the new folder for
    TFDS, print info.json (``--json``) or the job's summary line and the TFDS line."""
    from speechmill.corpus.schema import dumps_info
    from speechmill.pipelines.tfds_metadata import tfds_line

    known, _ = parser.parse_known_args(argv)
    info = run(argv)
    tfds = tfds_line(known.output, info)  # the folder is a TFDS dataset too
    print(dumps_info(info).rstrip("\n") if known.json else f"{summary(info)}\n{tfds}")
    return 0
