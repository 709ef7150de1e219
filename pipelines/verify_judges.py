"""What ``make verify`` is asked and who judges: the request, the settings every worker gets,
and what the launcher settles before any work (pipelines/verify_corpus.py runs the job): the
model's threshold (its dev calibration, train/calibrate.py, then the one measured in the corpus
being verified, train/calibrate_corpus.py) and the teacher's facts. Each refusal is one line."""

from __future__ import annotations

import dataclasses
import logging

from speechmill.corpus.errors import UsageError, printable
from speechmill.corpus.schema import Utterance

log = logging.getLogger("speechmill.verify")
MARGIN = 0.15  # seconds of audio kept around the aligned speech
CONTEXT = 2.0  # seconds heard on each side of a cue re-read from its film


@dataclasses.dataclass(frozen=True)
class VerifySettings:
    model: str  # "" : no model
    min_score: float  # the model's calibrated threshold (train/calibrate.py) or --min-score
    margin: float = MARGIN
    context: float = CONTEXT
    skip_synthetic: bool = False
    skip_sources: tuple[str, ...] = ()
    batch_size: int = 16
    teacher: str = ""  # "" : no teacher
    max_cer: float = 0.0


def skipped(verify: VerifySettings, utt: Utterance) -> bool:
    """Whether the record is carried over unchecked (--skip-source, --skip-synthetic)."""
    return (utt.source in verify.skip_sources) or (verify.skip_synthetic and utt.synthetic)


@dataclasses.dataclass(frozen=True)
class VerifyRequest:
    """One ``make verify``: the corpus, the new corpus's folder, the trained run that judges,
    and how (every field's meaning is its flag's help in speechmill/commands/verify.py)."""

    input: str
    output: str
    model: str | None = None  # None: no model (then a teacher)
    min_score: float | None = None  # None: the model's calibrated threshold
    calibrate_with: str | None = None
    margin: float = MARGIN
    context: float = CONTEXT
    skip_synthetic: bool = False
    skip_source: tuple[str, ...] = ()
    batch_size: int = 16
    max_reject_fraction: float | None = None  # None: the input corpus's setting
    teacher: str | None = None  # a teacher spec (speechmill/teachers/table.py) or None
    max_cer: float | None = None  # None: the teacher's own threshold
    threshold_from: str = "corpus"  # "corpus" or "dev": where the model's threshold is measured


def calibrated(known: VerifyRequest, model_sha256: str) -> dict:
    """The model's calibration (stored with the run, or measured now); UsageError in one line
    when there is none to be had or the model cannot separate right from wrong transcripts."""
    from speechmill.train.calibrate import CannotCalibrate, calibration_for, refusal

    try:
        calibration = calibration_for(known.model, known.calibrate_with, sha256=model_sha256)
    except (CannotCalibrate, FileNotFoundError) as e:
        raise UsageError(f"{e}; or pass --min-score") from None
    if not calibration["separable"]:
        raise UsageError(refusal(calibration, known.model))
    return calibration


def calibrated_in_corpus(
    known: VerifyRequest, info: dict, checks: VerifySettings, dev: dict
) -> dict:
    """The model's threshold measured in the corpus being verified (train/calibrate_corpus.py);
    UsageError in one line when the model cannot tell right from wrong transcripts there."""
    from speechmill.train.calibrate_corpus import corpus_refusal, measure_in_corpus
    from speechmill.train.verify import TrainedModel

    recognizer = TrainedModel(known.model, known.batch_size)
    found = measure_in_corpus(
        recognizer, known.input, info, checks.context, lambda u: not skipped(checks, u)
    )
    if found["used"] and not found["separable"]:
        raise UsageError(corpus_refusal(found, known.model))
    log.info(
        "%s: threshold %s measured in %s (the dev split's: %s)",
        printable(known.model),
        found.get("threshold"),
        printable(found["data"]),
        dev["threshold"],
    )
    return found


def teacher_facts(spec: str, max_cer: float | None) -> dict:
    """The teacher loaded once here (a missing or damaged model is one line before any work),
    and what info.json records of it: backend, model, digest, device, compute type, threshold."""
    from speechmill.teachers.table import load_teacher, row_of

    facts = load_teacher(spec).facts()
    return {
        "spec": spec,
        **facts,
        "max_cer": row_of(spec).max_cer if max_cer is None else max_cer,
        "max_cer_from": "the teacher's table row" if max_cer is None else "--max-cer",
    }
