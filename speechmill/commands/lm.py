"""``speechmill lm``: a word n-gram language model (ARPA, modified Kneser-Ney) from a corpus's
train transcripts and text files, for beam-search decoding (lm/build.py)."""

from __future__ import annotations

import argparse
import sys

from speechmill.console.errors import command
from speechmill.console.options import add_corpus_input, command_parser


def parser() -> argparse.ArgumentParser:
    p = command_parser("lm")
    add_corpus_input(p, "corpus folder whose train split's transcripts are used", required=False)
    p.add_argument("--text", nargs="*", default=[], help="text files or Project Gutenberg books")
    p.add_argument("--output", required=True, help="folder for lm.arpa and lm.json")
    p.add_argument("--order", type=int, default=3, help="n-gram order")
    return p


@command("lm")
def main(argv: list[str] | None = None) -> int:
    from speechmill.lm.build import build_lm
    from speechmill.lm.files import lm_path

    args = parser().parse_args(argv)
    facts = build_lm(args.input, args.text, args.output, args.order)
    print(
        f"speechmill: lm: {facts['order']}-gram model of {facts['sentences']:,} sentences, "
        f"{facts['words']:,} words, {facts['vocabulary']:,} distinct -> {lm_path(args.output)}"
    )
    for note in facts["notes"]:
        print(f"speechmill: lm: {note}")
    if facts["held_out_in_text"]:
        print(
            f"speechmill: lm: warning: {facts['held_out_in_text']} of {facts['held_out']} dev/test "
            "transcripts occur in the text files; WER with this LM will look better than it is",
            file=sys.stderr,
        )
    return 0
