"""``speechmill describe CORPUS``: per split what ``lhotse cut describe`` prints, plus speakers,
vocabulary and held-out words against train (corpus/describe.py)."""

from __future__ import annotations

from speechmill.console.errors import command
from speechmill.console.options import command_parser
from speechmill.corpus.errors import printable


@command("describe")
def main(argv: list[str] | None = None) -> int:
    from speechmill.corpus.describe import (
        describe_corpus,
        label_lines,
        measure_lines,
        table,
        verify_lines,
    )
    from speechmill.corpus.reader import load_info

    p = command_parser("describe")
    p.add_argument("corpus", help="corpus folder")
    args = p.parse_args(argv)
    print(f"{printable(args.corpus)}:")
    for row in table(describe_corpus(args.corpus)):
        print(row)
    info = load_info(args.corpus)
    for row in label_lines(info) + verify_lines(info) + measure_lines(info):
        print(row)
    return 0
