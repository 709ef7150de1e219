"""``speechmill report CORPUS|RUN [-o report.html]``: one self-contained HTML page to look at
and listen to (speechmill/report.py)."""

from __future__ import annotations

import argparse
import os

from speechmill.console.errors import command
from speechmill.console.options import command_parser


@command("report")
def main(argv: list[str] | None = None) -> int:
    from speechmill.report import SAMPLES_PER_SPLIT, write_report

    p = command_parser("report")
    p.add_argument(
        "folder", help="a corpus folder (info.json) or a training run folder (config.json)"
    )
    p.add_argument(
        "-o", "--output", default=None, help="HTML file to write (None: FOLDER/report.html)"
    )
    p.add_argument(
        "--samples", type=int, default=SAMPLES_PER_SPLIT, help="utterances to listen to per split"
    )
    p.add_argument("--selftest", action="store_true", help=argparse.SUPPRESS)  # the tests' check
    args = p.parse_args(argv)
    output = write_report(args.folder, args.output, args.samples, args.selftest)
    print(
        f"speechmill: report written to {output} ({os.path.getsize(output) / 1e6:.1f} MB); "
        f"open it in a browser: file://{os.path.abspath(output)}"
    )
    return 0
