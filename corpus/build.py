"""One work unit -> cleaned utterances written to per-split part files, plus ledger records.

``to_utterance`` turns a source's :class:`Segment` into an :class:`Utterance` (decode, mono,
resample, PCM16, normalize, measure (corpus/measures.py), filter) or raises ``Reject``. ``build_unit`` runs a whole unit
and streams accepted utterances into TFRecord part files (one per split), so memory holds
one utterance at a time; it returns the unit's :class:`UnitResult` (totals, rejects, notes)
and the parts' record indexes, which the unit cache keeps for the shard writers.
``build_or_reuse`` takes a finished unit of the same identity from the output folder's unit
cache instead (see corpus/workdir.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from speechmill.corpus import audio as audio_lib
from speechmill.corpus.config import CorpusSettings
from speechmill.corpus.errors import os_name
from speechmill.corpus.fingerprint import prints_and_sketch
from speechmill.corpus.inputs.localfile import open_input
from speechmill.corpus.measures import measure
from speechmill.corpus.parts import PartIndex, PartWriter, UnitResult
from speechmill.corpus.print_files import PrintWriter
from speechmill.corpus.quality import judge
from speechmill.corpus.reasons import REASONS
from speechmill.corpus.reject import Reject, RejectRecord, record_reject
from speechmill.corpus.schema import Utterance
from speechmill.corpus.text import normalize, readings
from speechmill.corpus.types import InputFile, Note, Recording, Segment, Unit, stable_hash
from speechmill.corpus.workdir import UnitCache, unit_digest

if TYPE_CHECKING:
    from speechmill.corpus.sources import Source


def assign_split(group: str, settings: CorpusSettings) -> str:
    """A stable split for a group: the same group always lands in the same split."""
    u = stable_hash("split", settings.seed, group) / 2.0**64
    if u < settings.test_fraction:
        return "test"
    if u < settings.test_fraction + settings.dev_fraction:
        return "dev"
    return "train"


def read_or_clean(reject: Reject) -> str:
    """The stage of a reject ``to_utterance`` raised: ``read`` for what opening an InputFile
    found (a FIFO, a link out of the tree), else ``clean``."""
    return "read" if REASONS[reject.reason].stage == "read" else "clean"


def to_utterance(segment: Segment, source: str, settings: CorpusSettings) -> Utterance:
    """A segment as found -> a clean utterance at the corpus rate; raises Reject."""
    where = segment.origin
    if isinstance(segment.audio, InputFile):
        with open_input(segment.audio) as f:
            samples, rate = audio_lib.decode_file(
                f, where=where, fallback_rate=settings.sample_rate
            )
    elif isinstance(segment.audio, (bytes, bytearray)):
        samples, rate = audio_lib.decode(
            bytes(segment.audio), where=where, fallback_rate=settings.sample_rate
        )
    else:
        samples, rate = np.asarray(segment.audio), int(segment.sample_rate or 0)
        if rate <= 0:
            raise ValueError(f"{segment.id}: array audio needs sample_rate")
    pcm = audio_lib.to_corpus_format(samples, rate, settings.sample_rate)
    seconds = pcm.shape[0] / settings.sample_rate
    if seconds < settings.min_seconds:
        raise Reject(
            "duration:short", f"{seconds:.2f} s < min_seconds {settings.min_seconds}", where=where
        )
    if seconds > settings.max_seconds:
        raise Reject(
            "duration:long", f"{seconds:.2f} s > max_seconds {settings.max_seconds}", where=where
        )
    # a person spoke it: keep every reading of its written forms for make verify to choose
    # from; a TTS engine spoke the default reading itself
    options = (
        (normalize(segment.text_raw, where=where),)
        if segment.synthetic
        else readings(segment.text_raw, where=where)
    )
    text = options[0]
    cps = len(text) / seconds
    if cps > settings.max_chars_per_second:
        raise Reject(
            "rate:fast",
            f"{cps:.1f} chars/s > {settings.max_chars_per_second} "
            "(transcript too long for the audio)",
            where=where,
        )
    if cps < settings.min_chars_per_second:
        raise Reject(
            "rate:slow",
            f"{cps:.1f} chars/s < {settings.min_chars_per_second} "
            "(transcript too short for the audio)",
            where=where,
        )
    quality = settings.quality
    found = measure(pcm, settings.sample_rate, text, quality.measures, segment.synthetic)
    judge(found, quality, where)
    return Utterance(
        id=os_name(segment.id),
        source=source,
        speaker=os_name(segment.speaker),
        group=os_name(segment.group),
        text=text,
        text_raw=segment.text_raw,
        audio=pcm,
        license=segment.license,
        origin=os_name(segment.origin),
        synthetic=segment.synthetic,
        gender=segment.gender,
        captions=segment.captions,
        engine=segment.engine,
        media=os_name(segment.media),
        media_span=tuple(segment.media_span),
        readings=options if len(options) > 1 else (),
        label_source=segment.label_source,
        measures=found,
    )


Labeller = Callable[[Recording], Iterator[Segment | Reject | Note]]


def labelled(items: Iterator, label: Labeller | None) -> Iterator[Segment | Reject | Note]:
    """A source's items with each Recording replaced by what the teacher stage makes of it
    (``label``: the job's labeller for this source, speechmill/teachers/label.py)."""
    for item in items:
        if not isinstance(item, Recording):
            yield item
        elif label is None:
            yield Reject(
                "text:missing",
                "no transcript and no teacher to label it",
                item_id=item.id,
                where=item.path,
            )
        else:
            yield from label(item)


def build_or_reuse(
    source: Source,
    unit: Unit,
    settings: CorpusSettings,
    cache: UnitCache,
    table: int,
    identity: str,
    label: Labeller | None = None,
) -> UnitResult:
    """The unit's result from the cache when a finished unit of the same identity is there,
    else built (and then stored in the cache with its part files' record index)."""
    digest = unit_digest(table, unit)
    return cache.reuse_or_make(
        digest,
        identity,
        lambda: build_unit(
            source,
            unit,
            settings,
            lambda split: cache.part_path(digest, split),
            table,
            digest,
            label,
        ),
    )


def build_unit(
    source: Source,
    unit: Unit,
    settings: CorpusSettings,
    part_path: Callable[[str], str],
    table: int = 0,
    digest: str = "",
    label: Labeller | None = None,
) -> tuple[UnitResult, dict[str, PartIndex]]:
    """Read one unit, clean every segment, write the survivors to ``part_path(split)``; returns
    the unit's result and each part's record index (by path)."""
    writers: dict[str, PartWriter] = {}
    prints: dict[str, PrintWriter] = {}
    rejects: list[RejectRecord] = []
    notes: list[Note] = []
    accepted = 0
    try:
        for item in labelled(source.read(unit), label):
            if isinstance(item, Reject):
                rejects.append(
                    record_reject(item, source=source.name, stage="read", where=unit.key)
                )
                continue
            if isinstance(item, Note):
                notes.append(item)
                continue
            try:
                utt = to_utterance(item, source.name, settings)
            except Reject as reject:
                rejects.append(
                    record_reject(
                        reject,
                        source=source.name,
                        stage=read_or_clean(reject),
                        item_id=item.id,
                        where=item.origin,
                    )
                )
                continue
            split = source.split or item.split or assign_split(item.group, settings)
            if split not in writers:
                writers[split] = PartWriter(part_path(split))
                if settings.quality.dedupe_sounds:
                    prints[split] = PrintWriter(part_path(split))
            if settings.quality.dedupe_sounds:
                words, key = prints_and_sketch(utt.audio, settings.sample_rate)
                writers[split].write(utt, key)
                prints[split].add(words)  # the dedupe compares these, not the audio again
            else:
                writers[split].write(utt)
            accepted += 1
            if source.limit is not None and accepted >= source.limit:
                break
    except Reject as reject:
        rejects.append(
            record_reject(
                reject,
                source=source.name,
                stage="unit",
                item_id=f"{source.name}/{unit.key}",
                where=unit.key,
            )
        )
    finally:
        for writer in [*writers.values(), *prints.values()]:
            writer.close()
    ordered = sorted(writers.items())
    result = UnitResult(
        digest=digest,
        table=table,
        unit_key=unit.key,
        parts=tuple(w.summary(split, source.name, unit.key) for split, w in ordered),
        rejects=tuple(rejects),
        notes=tuple(notes),
    )
    return result, {w.path: w.index for _, w in ordered}
