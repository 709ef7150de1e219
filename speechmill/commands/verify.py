"""``speechmill verify``: check every utterance of a corpus against its audio with a trained
model, a teacher (a pretrained recognizer) or both; keep and re-time what they confirm
(pipelines/verify_corpus.py)."""

from __future__ import annotations

import argparse

from speechmill.console.errors import command
from speechmill.console.options import (
    BEAM_FLAGS,
    add_corpus_input,
    add_job_options,
    add_model,
    command_parser,
    corpus_job_main,
    job_run,
)
from speechmill.console.progress import by_reason, splits_line


def parser() -> argparse.ArgumentParser:
    from speechmill.pipelines.verify_corpus import CONTEXT, MARGIN

    p = command_parser(
        "verify",
        "Every transcript is aligned to the model's frame posteriors (CTC segmentation), or "
        "compared with what a teacher hears (--teacher), or both: what they confirm is kept, "
        "re-timed to the speech; the rest goes to the ledger. " + BEAM_FLAGS,
    )
    add_corpus_input(p, "corpus folder made by make corpus or make augment")
    p.add_argument("--output", required=True, help="output folder (a new corpus)")
    add_model(p, "trained run folder (make train) or its model.keras", required=False)
    p.add_argument(
        "--teacher",
        default=None,
        metavar="SPEC",
        help="a pretrained recognizer that judges every transcript: whisper (tiny.en, offline), "
        "whisper:NAME_OR_FOLDER, pocketsphinx or run:PATH",
    )
    p.add_argument(
        "--max-cer",
        type=float,
        default=None,
        help="highest CER between the teacher and a transcript that is kept "
        "(default: the teacher's own, docs/verify.md)",
    )
    p.add_argument(
        "--min-score",
        type=float,
        default=None,
        help="lowest score kept (mean log-probability of the transcript's letters, <= 0); "
        "default: the model's own threshold, calibrated on a dev split",
    )
    p.add_argument(
        "--calibrate-with",
        default=None,
        metavar="CORPUS",
        help="calibrate the model on this corpus's dev split (default: the run's stored "
        "calibration, else its training corpus)",
    )
    p.add_argument(
        "--threshold-from",
        choices=("corpus", "dev"),
        default="corpus",
        help="measure the model's threshold in the corpus being verified (default: its own "
        "transcripts against other records', docs/verify.md) or take the dev split's",
    )
    p.add_argument(
        "--margin", type=float, default=MARGIN, help="seconds kept around the aligned speech"
    )
    p.add_argument(
        "--context",
        type=float,
        default=CONTEXT,
        help="seconds heard around an utterance re-read from its film (0: the record only)",
    )
    p.add_argument(
        "--skip-synthetic", action="store_true", help="carry TTS utterances over unchecked"
    )
    p.add_argument(
        "--skip-source",
        action="append",
        default=[],
        metavar="NAME",
        help="carry this source's utterances over unchecked (repeatable)",
    )
    p.add_argument("--batch-size", type=int, default=16, help="utterances per forward pass")
    p.add_argument(
        "--max-reject-fraction",
        type=float,
        default=None,
        help="fail when more is rejected (None: the input corpus's setting)",
    )
    add_job_options(p, "re-check every range")
    return p


def run(argv: list[str] | None = None) -> dict:
    """Parse ``argv`` and verify; returns the new corpus's info.json."""
    from speechmill.pipelines.verify_corpus import VerifyRequest, verify

    known, beam_args = parser().parse_known_args(argv)
    request = VerifyRequest(
        input=known.input,
        output=known.output,
        model=known.model,
        min_score=known.min_score,
        calibrate_with=known.calibrate_with,
        margin=known.margin,
        context=known.context,
        skip_synthetic=known.skip_synthetic,
        skip_source=tuple(known.skip_source),
        batch_size=known.batch_size,
        max_reject_fraction=known.max_reject_fraction,
        teacher=known.teacher,
        max_cer=known.max_cer,
        threshold_from=known.threshold_from,
    )
    return verify(request, job_run(known, beam_args))


@command("verify")
def main(argv: list[str] | None = None) -> int:
    return corpus_job_main(parser(), run, summary_line, argv)


def summary_line(info: dict) -> str:
    """One line for the console: kept, retimed, rejected and the median score."""
    sources = info["verify"]["sources"].values()
    kept, retimed = sum(s["kept"] for s in sources), sum(s["retimed"] for s in sources)
    skipped, rejected = sum(s["skipped"] for s in sources), info["rejects"]["by_reason"]
    low = sum(n for r, n in rejected.items() if r.startswith("verify:"))
    checked = kept + low
    splits = splits_line(info)
    verify_reasons = {r: n for r, n in rejected.items() if r.startswith("verify:")}
    return (
        f"speechmill: verified {checked} utterances: kept {kept} ({retimed} retimed), rejected {low} "
        f"({low / checked:.0%}{': ' + by_reason(verify_reasons) if low else ''})"
        f"{f', {skipped} carried over unchecked' if skipped else ''}; corpus: {splits}"
        if checked
        else f"speechmill: nothing checked ({skipped} carried over unchecked); corpus: {splits}"
    )
