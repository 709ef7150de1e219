"""``speechmill listen``: transcribe a live stream, raw s16le mono PCM on standard input or a
microphone, as 'partial' and 'final' lines (runtime/listen.py)."""

from __future__ import annotations

import argparse
import sys

from speechmill.commands.runtime_options import add_decoder_arguments, decoder_spec
from speechmill.console.errors import command
from speechmill.console.options import command_parser


def parser() -> argparse.ArgumentParser:
    p = command_parser("listen", "Prints 'partial' and 'final' lines as the speech comes.")
    add_decoder_arguments(p)
    p.add_argument(
        "--input",
        default="auto",
        help="'-' (standard input), 'mic', 'mic:DEVICE', or auto: standard "
        "input unless it is a terminal",
    )
    p.add_argument(
        "--rate",
        type=int,
        default=None,
        help="sample rate of the PCM on standard input (default: the model's)",
    )
    p.add_argument("--step", type=float, default=0.5, help="seconds of new audio between decodes")
    p.add_argument(
        "--window", type=float, default=15.0, help="longest piece before a forced cut (seconds)"
    )
    p.add_argument("--pause", type=float, default=0.4, help="quiet seconds that end a final line")
    p.add_argument("--finals-only", action="store_true", help="print only final lines")
    return p


@command("listen")
def main(argv: list[str] | None = None) -> int:
    from speechmill.runtime.listen import (
        LiveTranscriber,
        check_live,
        microphone_chunks,
        stdin_chunks,
    )
    from speechmill.runtime.transcribe import load_decoder

    p = parser()
    args = p.parse_args(argv)
    check_live(args.rate, args.step, args.window, args.pause)
    source = args.input if args.input != "auto" else ("-" if not sys.stdin.isatty() else "mic")
    if source != "-" and source != "mic" and not source.startswith("mic:"):
        p.error(f"--input {source}: use '-', 'mic' or 'mic:DEVICE'")
    recognizer, transcribe = load_decoder(decoder_spec(args))
    rate = recognizer.sample_rate
    if source == "-":
        chunks = stdin_chunks(rate, args.rate or rate)
    else:
        chunks = microphone_chunks(rate, source[4:] or None)
    live = LiveTranscriber(transcribe, rate, step=args.step, window=args.window, pause=args.pause)
    try:
        for chunk in chunks:
            for line in live.feed(chunk):
                if line.kind == "final" or not args.finals_only:
                    print(line, flush=True)
    except KeyboardInterrupt:
        pass
    for line in live.finish():
        print(line, flush=True)
    print(live.summary(), file=sys.stderr)
    return 0
