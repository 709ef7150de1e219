"""``speechmill export``: a corpus for another speech stack (pipelines/export_corpus.py)."""

from __future__ import annotations

import argparse
import json

from speechmill.console.errors import command
from speechmill.console.options import (
    BEAM_FLAGS,
    add_corpus_input,
    add_job_options,
    command_parser,
    job_run,
)


def parser() -> argparse.ArgumentParser:
    from speechmill.corpus.export.formats import FORMATS

    p = command_parser("export", BEAM_FLAGS)
    p.add_argument(
        "--format",
        required=True,
        choices=[*FORMATS, "tfds"],
        help="; ".join(f"{name}: {row.help}" for name, row in FORMATS.items())
        + "; tfds: metadata in the corpus folder",
    )
    add_corpus_input(p, "corpus folder made by make corpus")
    p.add_argument("--output", default=None, help="output folder (not for --format tfds)")
    add_job_options(
        p, "redo every range", "export.json (tfds: info.json) instead of the summary line"
    )
    return p


def run(argv: list[str] | None = None) -> dict:
    """Parse ``argv`` and export; returns export.json (tfds: the corpus's info.json)."""
    from speechmill.pipelines.export_corpus import ExportRequest, export

    known, beam_args = parser().parse_known_args(argv)
    request = ExportRequest(format=known.format, input=known.input, output=known.output)
    return export(request, job_run(known, beam_args))


@command("export")
def main(argv: list[str] | None = None) -> int:
    known, _ = parser().parse_known_args(argv)
    result = run(argv)
    if known.json:
        print(json.dumps(result, indent=2))
    elif known.format == "tfds":
        print(
            f"speechmill: TFDS metadata written: "
            f"tfds.builder_from_directory({known.input.rstrip('/')!r}).as_dataset(split='train')"
        )
    else:
        print(summary_line(result, known.output.rstrip("/")))
    return 0


def summary_line(export: dict, out_dir: str) -> str:
    """One line: format, splits with their examples and hours, how to load it."""
    from speechmill.corpus.export.formats import FORMATS

    splits = ", ".join(
        f"{name} {s['examples']} utt / {s['seconds'] / 3600:.2f} h"
        for name, s in export["splits"].items()
    )
    return f"speechmill: exported ({export['format']}): {splits} -> {FORMATS[export['format']].load_hint(out_dir)}"
