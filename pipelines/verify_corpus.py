"""Beam job: a corpus checked by a trained model, a teacher or both -> a new corpus of what
they confirm.

    verify(VerifyRequest("build/harvest", "build/verified", model="build/run"), JobRun())
    verify(VerifyRequest("build/harvest", "build/verified", teacher="whisper"), JobRun())

(``speechmill verify``, speechmill/commands/verify.py, reads the flags into a VerifyRequest.)

Every utterance's transcript is aligned to the model's frame posteriors with CTC segmentation
(train/verify.py). Below the model's threshold (measured in the corpus being verified,
train/calibrate_corpus.py, or on its dev split, train/calibrate.py, with ``--threshold-from
dev``; a model that cannot tell right from wrong transcripts there is refused in one line, by
pipelines/verify_judges.py before any work) or below ``--min-score`` when given, it goes to
the ledger as ``verify:low-score`` with its score; a transcript found only outside the
utterance's own time is ``verify:elsewhere``; one with more letters than the model has frames
is ``verify:unalignable``. The rest are kept with
``verify_score`` and word timings, cut to the aligned speech plus ``--margin``. A transcript
with several readings of its written forms (``readings``, from the build: "1994" as "nineteen
ninety four" or "one thousand nine hundred and ninety four") gets the reading nearest to what
the model hears there (``best_reading``) as its ``text``; info.json counts per source
how many had several (``readings``) and how many the audio moved off the default (``reread``).

Where a record is a span of a readable media file (its ``media`` and ``media_span`` fields, as
the movies source writes them), the model hears ``--context`` seconds more on each side, read
again from the file: a cue that was late or early by up to that much is found where it is
spoken, and the record is cut there (its ``media_span`` and ``origin`` get the new time). Other records are
checked against their own audio. An utterance whose edges moved by more than 10 ms is counted
as ``verify:retimed`` in info.json, with the score quantiles per source and the model used.

With a teacher (``teacher``: a spec of speechmill/teachers/table.py, ``whisper`` by default
in ``make verify TEACHER=``), a pretrained recognizer hears every checked utterance, one
batch per work unit (speechmill/teachers/check.py): ``verify:no-speech``,
``verify:teacher-unsure`` and ``verify:teacher-disagrees`` (its CER above ``max_cer``, the
teacher's own threshold unless given) go to the ledger; what it keeps records ``teacher`` and
``teacher_cer``. Both given: the teacher decides whether a transcript is right, the model must
confirm it too (its threshold), and the model chooses among the readings the teacher matches
best and re-times the cut (CTC segmentation); the teacher alone chooses with a recognizer that
writes spoken words and cuts to the speech its words and the VAD find.

Work units are ranges of 32 records of any split, cut by the workers (the model is loaded once
per worker, in ``setup``); the job runs on the skeleton every corpus job shares
(pipelines/job.py): the same unit cache, shard plan, combiners and atomic publish as a build.
The score quantiles come from a fixed-bin histogram (corpus/facts.py), so they are the same
on any runner and worker count.
Same input, model and settings -> byte-identical output.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
from collections.abc import Iterator

import numpy as np
from apache_beam.metrics import Metrics

from speechmill.corpus.config import CorpusSettings
from speechmill.corpus.errors import UsageError
from speechmill.corpus.facts import ScoreHistogram
from speechmill.corpus.reader import (
    ShardRange,
    load_info,
    read_range,
    same_folder,
)
from speechmill.corpus.reject import Reject, RejectRecord, record_reject
from speechmill.corpus.schema import SCHEMA_VERSION, Utterance, decode_utterance
from speechmill.corpus.types import Note
from speechmill.corpus.workdir import fingerprint, parts_dir
from speechmill.pipelines.corpus_input import CachedRanges, RangeParts
from speechmill.pipelines.job import DEFAULT_RUN, JobRun, over_corpus, run_corpus_job
from speechmill.pipelines.verify_judges import (
    CONTEXT,
    MARGIN,
    VerifyRequest,
    VerifySettings,
    calibrated,
    calibrated_in_corpus,
    skipped,
    teacher_facts,
)

__all__ = ["CONTEXT", "MARGIN", "VerifyRequest", "verify"]

log = logging.getLogger("speechmill.verify")
RECORDS_PER_UNIT = 32
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


class VerifyRanges(CachedRanges):
    """ShardRange -> its UnitResult: the kept utterances, rejects, a Note of scores per source."""

    def __init__(
        self,
        verify: VerifySettings,
        rate: int,
        parts_dir: str,
        job: str,
    ):
        super().__init__("verify", parts_dir, job)
        self.verify, self.rate = verify, rate

    def setup(self) -> None:
        self.recognizer = self.teacher = None
        if self.verify.teacher:
            from speechmill.teachers.check import TeacherCheck

            self.teacher = TeacherCheck(
                self.verify.teacher, self.rate, self.verify.margin, self.verify.max_cer
            )
        if not self.verify.model:
            return
        from speechmill.train.verify import TrainedModel

        self.recognizer = TrainedModel(self.verify.model, self.verify.batch_size)
        if self.recognizer.sample_rate != self.rate:
            raise UsageError(
                f"{self.verify.model}: the model hears {self.recognizer.sample_rate} Hz, "
                f"the corpus is {self.rate} Hz"
            )

    def skipped(self, utt: Utterance) -> bool:
        return skipped(self.verify, utt)

    def work(self, work: ShardRange, parts: RangeParts) -> Iterator[RejectRecord | Note]:
        from speechmill.train.verify import CannotAlign, best_reading, judge, moved, window_for

        records = list(read_range(work))
        utterances = [decode_utterance(r) for r in records]
        checked = [i for i, u in enumerate(utterances) if not self.skipped(u)]
        context = self.verify.context if self.recognizer else 0.0
        windows = {i: window_for(utterances[i], self.rate, context) for i in checked}
        heard = (
            dict(zip(checked, self.teacher.check([utterances[i] for i in checked])))
            if self.teacher
            else {}
        )
        posteriors = (
            dict(
                zip(
                    checked,
                    self.recognizer.log_probs(
                        [windows[i].audio.astype(np.float32) / 32768.0 for i in checked]
                    ),
                )
            )
            if self.recognizer
            else {}
        )
        scores: dict[str, list[float]] = collections.defaultdict(list)
        counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        for i, (utt, record) in enumerate(zip(utterances, records)):
            if i not in windows:
                counts[utt.source]["skipped"] += 1
                parts.write(utt, record)
                continue
            window, readings, taught = windows[i], utt.readings or (utt.text,), heard.get(i)
            if taught is not None:
                if not taught.verdict.kept:
                    counts[utt.source]["rejected"] += 1
                    yield self._reject(utt, taught.verdict.reason, taught.verdict.detail, work)
                    continue
                candidates = tuple(readings[k] for k in taught.verdict.candidates)
                if not self.recognizer:  # the teacher alone: its reading, its cut
                    reading = readings[taught.reading]
                    if utt.readings:
                        counts[utt.source]["readings"] += 1
                        counts[utt.source]["reread"] += reading != utt.readings[0]
                    start, end = taught.cut
                    counts[utt.source]["retimed"] += moved(window, start, end)
                    counts[utt.source]["kept"] += 1
                    parts.write(self._taught(utt, reading, taught, start, end))
                    continue
                readings = candidates
            try:
                reading, alignment = best_reading(
                    posteriors[i], readings, self.recognizer.frame_seconds
                )
            except CannotAlign as e:
                counts[utt.source]["rejected"] += 1
                yield self._reject(utt, "verify:unalignable", str(e), work)
                continue
            if utt.readings:
                counts[utt.source]["readings"] += 1
                counts[utt.source]["reread"] += reading != utt.readings[0]
                utt = dataclasses.replace(utt, text=reading)
            verdict = judge(
                alignment,
                min_score=self.verify.min_score,
                margin=self.verify.margin,
                window_seconds=len(window.audio) / self.rate,
                own=window.own,
            )
            scores[utt.source].append(verdict.score)
            if not verdict.kept:
                counts[utt.source]["rejected"] += 1
                yield self._reject(utt, verdict.reason, verdict.detail, work)
                continue
            counts[utt.source]["retimed"] += moved(window, verdict.start, verdict.end)
            counts[utt.source]["kept"] += 1
            kept = self._kept(utt, window, verdict)
            if taught is not None:
                kept = dataclasses.replace(
                    kept, teacher=self.verify.teacher, teacher_cer=taught.verdict.cer
                )
            parts.write(kept)
        for source in sorted(counts):
            yield Note(source, f"verify/{work.key}", {"scores": scores[source], **counts[source]})

    def _kept(self, utt: Utterance, window, verdict) -> Utterance:
        a, b = int(round(verdict.start * self.rate)), int(round(verdict.end * self.rate))
        origin, span = utt.origin, utt.media_span
        if window.media:  # the cut, as the media's time: fields, and the origin's #t= for people
            span = (round(window.offset + verdict.start, 3), round(window.offset + verdict.end, 3))
            origin = f"{window.media}#t={span[0]:.2f},{span[1]:.2f}"
        Metrics.counter("verify", "kept").inc()
        score = float(np.float32(verdict.score))
        return dataclasses.replace(
            utt,
            audio=window.audio[a:b].copy(),
            origin=origin,
            media_span=span,
            verify_score=score,
            word_times=verdict.word_times,
        )

    def _taught(self, utt: Utterance, reading: str, taught, start: float, end: float) -> Utterance:
        """A record the teacher alone kept: its reading, cut to [start, end) of its audio."""
        a, b = int(round(start * self.rate)), int(round(end * self.rate))
        origin, span = utt.origin, utt.media_span
        if utt.media and len(span) == 2:
            span = (round(span[0] + start, 3), round(span[0] + end, 3))
            origin = f"{utt.media}#t={span[0]:.2f},{span[1]:.2f}"
        Metrics.counter("verify", "kept").inc()
        return dataclasses.replace(
            utt,
            text=reading,
            audio=utt.audio[a:b].copy(),
            origin=origin,
            media_span=span,
            teacher=self.verify.teacher,
            teacher_cer=float(np.float32(taught.verdict.cer)),
        )

    def _reject(self, utt: Utterance, reason: str, detail: str, work: ShardRange) -> RejectRecord:
        return record_reject(
            Reject(reason, detail),
            source=utt.source,
            stage="verify",
            item_id=utt.id,
            where=utt.origin or work.path,
            seconds=utt.num_samples / self.rate,
        )


def verify(known: VerifyRequest, run: JobRun = DEFAULT_RUN) -> dict:
    """Verify a corpus; returns the new info.json as a dict."""
    from speechmill.train.verify import model_facts

    source_dir, out_dir = known.input.rstrip("/"), known.output.rstrip("/")
    if same_folder(source_dir, out_dir):
        raise UsageError(
            f"--output {out_dir} is the input corpus; write the verified corpus to another folder"
        )
    if known.min_score is not None and known.min_score > 0:
        raise UsageError(f"--min-score {known.min_score}: scores are log-probabilities, at most 0")
    if not known.model and not known.teacher:
        raise UsageError("give a trained model (--model RUN), a teacher (--teacher SPEC) or both")
    if known.threshold_from not in ("corpus", "dev"):
        raise UsageError(f"--threshold-from {known.threshold_from}: corpus or dev")
    if known.max_cer is not None and not 0 <= known.max_cer <= 1:
        raise UsageError(f"--max-cer {known.max_cer}: a character error rate from 0 to 1")
    info = load_info(source_dir)
    teacher = teacher_facts(known.teacher, known.max_cer) if known.teacher else None
    model = model_facts(known.model) if known.model else None
    calibration = (
        None if model is None or known.min_score is not None else calibrated(known, model["sha256"])
    )
    checks = VerifySettings(
        model=known.model or "",
        min_score=(known.min_score or 0.0) if calibration is None else calibration["threshold"],
        margin=known.margin,
        context=known.context,
        skip_synthetic=known.skip_synthetic,
        skip_sources=tuple(sorted(known.skip_source)),
        batch_size=known.batch_size,
        teacher=known.teacher or "",
        max_cer=teacher["max_cer"] if teacher else 0.0,
    )
    in_corpus = (
        calibrated_in_corpus(known, info, checks, calibration)
        if calibration is not None and known.threshold_from == "corpus"
        else None
    )
    if in_corpus is not None and in_corpus["used"]:
        checks = dataclasses.replace(checks, min_score=in_corpus["threshold"])
    threshold_from = (
        None
        if model is None
        else "--min-score"
        if calibration is None
        else "corpus"
        if in_corpus is not None and in_corpus["used"]
        else "dev"
    )
    overrides = (
        {}
        if known.max_reject_fraction is None
        else {"max_reject_fraction": known.max_reject_fraction}
    )
    settings = CorpusSettings(**{**info["settings"], **overrides})
    facts = {
        "input": source_dir,
        "model": model,
        "teacher": teacher,
        "min_score": checks.min_score if model else None,
        "threshold_from": threshold_from,
        "calibration": calibration,
        "corpus_calibration": in_corpus,
        "margin": checks.margin,
        "context": checks.context,
        "skip_synthetic": checks.skip_synthetic,
        "skip_sources": list(checks.skip_sources),
    }
    extra = {
        "alignment": info.get("alignment", []),
        **({"augment": info["augment"]} if "augment" in info else {}),
    }
    fingerprint_of_job = fingerprint(
        SCHEMA_VERSION,
        settings.sample_rate,
        model["sha256"] if model else "",
        teacher,
        dataclasses.replace(checks, model=""),
    )
    job = over_corpus(
        "verify",
        source_dir,
        out_dir,
        info,
        settings,
        lambda split: RECORDS_PER_UNIT,
        VerifyRanges(checks, settings.sample_rate, parts_dir(out_dir), fingerprint_of_job),
        extra=extra,
        notes=ScoreHistogram(facts),
    )
    return run_corpus_job(job, run)
