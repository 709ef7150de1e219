"""Beam job: one corpus folder -> a new one whose records carry the audio measures.

    measure(MeasureRequest("build/old-corpus", "build/measured"), JobRun())

A corpus built before the measures came in (schema 7 or older), or with fewer of them, gets
them on its existing shards without a rebuild: each record is read, measured where it is
decoded (corpus/measures.py) and written again with everything else as it was. Work units are
ranges of 32 records of every split, on the skeleton every corpus job shares
(pipelines/job.py), so a re-run reuses finished ranges and the output is the same on any
worker count. Records already carrying a measure keep their value. Filters and the dedupe
belong to a build (``[quality]``); this job only measures.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from speechmill.corpus.config import CorpusSettings
from speechmill.corpus.errors import UsageError
from speechmill.corpus.measures import MEASURES, measure
from speechmill.corpus.reader import ShardRange, load_info, read_range, same_folder
from speechmill.corpus.schema import SCHEMA_VERSION, decode_utterance
from speechmill.corpus.workdir import fingerprint, parts_dir
from speechmill.pipelines.corpus_input import CachedRanges, RangeParts
from speechmill.pipelines.job import DEFAULT_RUN, JobRun, over_corpus, run_corpus_job

RECORDS_PER_UNIT = 32


class MeasureRanges(CachedRanges):
    """ShardRange -> its UnitResult: every record with the measures it lacked."""

    def __init__(self, names: tuple[str, ...], rate: int, parts_dir: str, job: str):
        super().__init__("measure", parts_dir, job)
        self.names, self.rate = names, rate

    def work(self, work: ShardRange, parts: RangeParts) -> Iterator:
        for record in read_range(work):
            utt = decode_utterance(record)
            had = utt.measures
            missing = tuple(n for n in self.names if getattr(had, n) is None)
            if not missing:
                parts.write(utt, record)
                continue
            found = measure(utt.audio, self.rate, utt.text, missing, utt.synthetic)
            merged = dataclasses.replace(
                had, **{n: getattr(found, n) for n in missing if getattr(found, n) is not None}
            )
            parts.write(dataclasses.replace(utt, measures=merged))
        return iter(())


@dataclasses.dataclass(frozen=True)
class MeasureRequest:
    """One ``speechmill measure``: the input corpus, the new corpus's folder, which measures."""

    input: str
    output: str
    measures: tuple[str, ...] = tuple(MEASURES)


def measure_corpus(request: MeasureRequest, run: JobRun = DEFAULT_RUN) -> dict:
    """Measure a corpus's records into a new corpus; returns its info.json as a dict."""
    source_dir, out_dir = request.input.rstrip("/"), request.output.rstrip("/")
    if same_folder(source_dir, out_dir):
        raise UsageError(
            f"--output {out_dir} is the input corpus; write the measured corpus to another folder"
        )
    unknown = [n for n in request.measures if n not in MEASURES]
    if unknown:
        raise UsageError(f"unknown measure(s) {', '.join(unknown)}; known: {', '.join(MEASURES)}")
    info = load_info(source_dir)
    settings = CorpusSettings(**info["settings"])
    job_id = fingerprint(SCHEMA_VERSION, request.measures, settings.sample_rate)
    job = over_corpus(
        "measure",
        source_dir,
        out_dir,
        info,
        settings,
        lambda split: RECORDS_PER_UNIT,
        MeasureRanges(request.measures, settings.sample_rate, parts_dir(out_dir), job_id),
        extra={
            "measured": {"input": source_dir, "measures": list(request.measures)},
            **{k: info[k] for k in ("alignment", "labels", "teachers") if k in info},
        },
    )
    return run_corpus_job(job, run)
