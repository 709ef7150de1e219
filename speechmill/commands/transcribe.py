"""``speechmill transcribe``: audio files or folders -> one ``path<TAB>text`` line per file
(runtime/transcribe.py); TensorFlow is not needed with the tflite backend."""

from __future__ import annotations

import argparse
import sys

from speechmill.commands.runtime_options import add_decoder_arguments, decoder_spec
from speechmill.console.errors import command
from speechmill.console.options import command_parser
from speechmill.corpus.errors import printable


def parser() -> argparse.ArgumentParser:
    p = command_parser(
        "transcribe",
        "One path<TAB>text line per file on standard output; a file that cannot "
        "be read is one line on standard error (exit status 1 at the end).",
    )
    add_decoder_arguments(p)
    p.add_argument("paths", nargs="+", help="audio files or folders")
    return p


@command("transcribe")
def main(argv: list[str] | None = None) -> int:
    from speechmill.console.progress import TerminalProgress
    from speechmill.runtime.transcribe import transcribe_files

    args = parser().parse_args(argv)
    failed = 0
    for path, text, why in transcribe_files(args.paths, decoder_spec(args), TerminalProgress()):
        if text is None:
            print(f"speechmill: cannot read {printable(path)}: {printable(why)}", file=sys.stderr)
            failed += 1
            continue
        print(f"{printable(path)}\t{text}", flush=True)
    return 1 if failed else 0
