"""``speechmill augment``: a new corpus with augmented copies of a corpus's train split
(pipelines/augment_corpus.py)."""

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
    from speechmill.pipelines.augment_corpus import DEFAULT_RECIPE

    p = command_parser("augment", BEAM_FLAGS)
    add_corpus_input(p, "corpus folder made by make corpus")
    p.add_argument("--output", required=True, help="output folder (a new corpus)")
    p.add_argument("--recipe", default=DEFAULT_RECIPE, help="augmentation recipe")
    p.add_argument("--seed", type=int, default=None, help="seed (None: the input corpus's seed)")
    p.add_argument(
        "--noise-dir", default=None, help="folder of noise recordings (e.g. MUSAN noise)"
    )
    p.add_argument("--rir-dir", default=None, help="folder of room impulse responses")
    add_job_options(p, "redo every range")
    return p


def run(argv: list[str] | None = None) -> dict:
    """Parse ``argv`` and augment; returns the new corpus's info.json."""
    from speechmill.pipelines.augment_corpus import AugmentRequest, augment

    known, beam_args = parser().parse_known_args(argv)
    request = AugmentRequest(
        input=known.input,
        output=known.output,
        recipe=known.recipe,
        seed=known.seed,
        noise_dir=known.noise_dir,
        rir_dir=known.rir_dir,
    )
    return augment(request, job_run(known, beam_args))


@command("augment")
def main(argv: list[str] | None = None) -> int:
    return corpus_job_main(parser(), run, summary_line, argv)


def summary_line(info: dict) -> str:
    recipe = info["augment"]["recipe"]
    return f"speechmill: augmented corpus built with recipe {recipe!r}: {splits_line(info)}"
