"""``speechmill measure``: a corpus's records measured (SNR, speech share, DNSMOS, clipping,
speaking rate) into a new corpus, without a rebuild (pipelines/measure_corpus.py)."""

from __future__ import annotations

import argparse

from speechmill.console.errors import command
from speechmill.console.options import (
    BEAM_FLAGS,
    add_corpus_input,
    add_job_options,
    command_parser,
    corpus_job_main,
    job_run,
)
from speechmill.console.progress import splits_line


def parser() -> argparse.ArgumentParser:
    from speechmill.corpus.measures import MEASURES

    p = command_parser("measure", BEAM_FLAGS)
    add_corpus_input(p, "corpus folder made by make corpus (any schema version)")
    p.add_argument("--output", required=True, help="output folder (a new corpus)")
    p.add_argument(
        "--measures",
        default=",".join(MEASURES),
        help="comma-separated measures to add (default: all of them)",
    )
    add_job_options(p, "redo every range")
    return p


def run(argv: list[str] | None = None) -> dict:
    """Parse ``argv`` and measure; returns the new corpus's info.json."""
    from speechmill.pipelines.measure_corpus import MeasureRequest, measure_corpus

    known, beam_args = parser().parse_known_args(argv)
    names = tuple(n.strip() for n in known.measures.split(",") if n.strip())
    request = MeasureRequest(input=known.input, output=known.output, measures=names)
    return measure_corpus(request, job_run(known, beam_args))


@command("measure")
def main(argv: list[str] | None = None) -> int:
    return corpus_job_main(parser(), run, summary_line, argv)


def summary_line(info: dict) -> str:
    measures = ", ".join(info["measured"]["measures"])
    return f"speechmill: measured corpus ({measures}): {splits_line(info)}"
