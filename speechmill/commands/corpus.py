"""``speechmill corpus``: build a corpus from a config (pipelines/build_corpus.py)."""

from __future__ import annotations

import argparse

from speechmill.console.errors import command
from speechmill.console.options import (
    BEAM_FLAGS,
    add_job_options,
    command_parser,
    corpus_job_main,
    job_run,
)
from speechmill.console.progress import by_reason, splits_line


def parser() -> argparse.ArgumentParser:
    from speechmill.pipelines.build_corpus import DEFAULT_CONFIG, DEFAULT_OUTPUT

    p = command_parser("corpus", BEAM_FLAGS)
    p.add_argument("--config", default=DEFAULT_CONFIG, help="TOML config")
    p.add_argument("--output", default=DEFAULT_OUTPUT, help="output folder or URL")
    p.add_argument(
        "--limit", type=int, default=None, help="max utterances per source (quick trials)"
    )
    add_job_options(p, "rebuild every unit")
    return p


def run(argv: list[str] | None = None) -> dict:
    """Parse ``argv`` and build; returns the published info.json."""
    from speechmill.pipelines.build_corpus import BuildRequest, build

    known, beam_args = parser().parse_known_args(argv)
    request = BuildRequest(config=known.config, output=known.output, limit=known.limit)
    return build(request, job_run(known, beam_args))


@command("corpus")
def main(argv: list[str] | None = None) -> int:
    return corpus_job_main(parser(), run, summary_line, argv)


def summary_line(info: dict) -> str:
    rejects = info["rejects"]
    reasons = f" ({by_reason(rejects['by_reason'])})" if rejects["total"] else ""
    built = splits_line(info, shards=True)
    return f"speechmill: corpus built: {built}; rejects {rejects['total']}{reasons}"
