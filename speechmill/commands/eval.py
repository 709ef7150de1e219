"""``speechmill eval``: WER / CER of a trained run on a corpus, per split, source and decoder
(train/evaluate.py)."""

from __future__ import annotations

import argparse

from speechmill.console.errors import command
from speechmill.console.options import add_corpus_input, add_model, command_parser


def parser() -> argparse.ArgumentParser:
    p = command_parser("eval")
    add_model(p, "run folder (holds model.keras)")
    add_corpus_input(p, "corpus folder")
    p.add_argument("--splits", default="dev,test", help="comma-separated splits to evaluate")
    p.add_argument(
        "--beam",
        type=int,
        default=0,
        help="also decode by beam search of this width (0: greedy only)",
    )
    p.add_argument(
        "--lm",
        default=None,
        help="also decode by beam search with this language model (make lm's folder "
        "or a KenLM .arpa/.bin file)",
    )
    p.add_argument(
        "--alpha", type=float, default=None, help="LM weight (default: the LM folder's lm.json)"
    )
    p.add_argument(
        "--beta", type=float, default=None, help="word insertion bonus (default: lm.json)"
    )
    p.add_argument(
        "--teacher",
        default=None,
        metavar="SPEC",
        help="also transcribe the splits with a teacher (whisper, pocketsphinx, run:PATH) and "
        "print its WER/CER beside the run's",
    )
    p.add_argument(
        "--tune",
        action="store_true",
        help="choose alpha and beta on the dev split and keep them in lm.json",
    )
    return p


@command("eval")
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from speechmill.console.progress import TerminalProgress
    from speechmill.train.evaluate import EvalRequest, evaluate_run, report_lines

    request = EvalRequest(
        model=args.model,
        input=args.input,
        splits=tuple(s for s in args.splits.split(",") if s),
        beam=args.beam,
        lm=args.lm,
        alpha=args.alpha,
        beta=args.beta,
        tune=args.tune,
        teacher=args.teacher,
    )
    done = evaluate_run(request, TerminalProgress())
    if done["tuned"]:
        t = done["tuned"]
        print(
            f"speechmill: eval: LM weights alpha {t['alpha']} beta {t['beta']} (dev WER {t['wer']:.3f})"
        )
    print("\n".join(report_lines(done["report"])))
    return 0
