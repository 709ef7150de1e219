"""The corpus contract: one record format for writer and reader alike.

Writers (Beam workers) encode an :class:`Utterance` into a serialized ``tf.train.Example``
with the ``protobuf`` library alone, so a worker never imports TensorFlow. Readers (``train/``)
parse the same bytes with TensorFlow through :func:`parse_example`. ``info.json`` and the
rejects ledger that sit beside the shards are described here too.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from speechmill.corpus.errors import CorruptCorpus, UserError
from speechmill.corpus.measures import MEASURES, NONE, Measures
from speechmill.corpus.wire import entry, key_order, varint

SCHEMA_VERSION = 8  # 2: `captions`; 3: `verify_score`, `word_times`; 4: `readings`, `engine`;
# 5: `media`, `media_span` (the time of a span of a longer recording, as fields);
# 6: `teacher`, `teacher_cer` (make verify --teacher); 7: `label_source` (a teacher's label);
# 8: the audio measures (`snr_db`, `speech_ratio`, `dnsmos`, `clipped`, `chars_per_second`)
READABLE_VERSIONS = (2, 3, 4, 5, 6, 7, 8)  # a version-2 record reads as an unverified one
# Token 0 is the CTC blank/pad; the character at index i has token id i + 1.
ALPHABET = " 'abcdefghijklmnopqrstuvwxyz"
INFO_FILE = "info.json"
LEDGER_FILE = (
    "rejects.jsonl"  # the one-file ledger of corpora built before the ledger came in pieces
)
LEDGER_PIECE = "rejects-{index:05d}-of-{count:05d}.jsonl"
SPLITS = ("train", "dev", "test")
TFDS_FILES = (
    "dataset_info.json",
    "features.json",
)  # TFDS's metadata beside the shards (from info.json)

BYTES_FIELDS = (
    "id",
    "source",
    "speaker",
    "gender",
    "group",
    "text",
    "text_raw",
    "audio",
    "license",
    "origin",
    "augment",
    "captions",
)
INT_FIELDS = ("num_samples", "synthetic")
FLOAT_FIELDS = ("verify_score", "word_times")  # written only for verified utterances
LIST_FIELDS = ("readings",)  # written only when a transcript has several readings
OPTIONAL_BYTES_FIELDS = ("engine", "media", "teacher", "label_source")  # only when they apply
MEDIA_FIELDS = ("media_span",)  # written with ``media``: start and end (s) of the span in it
TEACHER_FIELDS = ("teacher_cer",)  # written with ``teacher``: its CER against ``text``
# Each field as TFDS (and the report's feature list) types it: (feature class, shape, dtype).
# A field a record may lack is a sequence of none or some values.
FIELD_TYPES: dict[str, tuple[str, str, str]] = {
    **{name: ("Text", "()", "string") for name in BYTES_FIELDS if name != "audio"},
    "audio": ("Audio", "(None,)", "int16"),
    "num_samples": ("Scalar", "()", "int64"),
    "synthetic": ("Scalar", "()", "bool"),
    **{
        name: ("Tensor", "(None,)", "float32")
        for name in (*FLOAT_FIELDS, *MEDIA_FIELDS, *TEACHER_FIELDS, *MEASURES)
    },
    **{
        name: ("Sequence(Text)", "(None,)", "string")
        for name in (*LIST_FIELDS, *OPTIONAL_BYTES_FIELDS)
    },
}
FIELD_DOCS = {  # what each record field holds: the feature lists of TFDS, the exports and the report
    "id": "<source>/<native id>; augmented copies add ~effect suffixes",
    "source": "registry name of the source (librispeech, youtube, movies, gutenberg, ...)",
    "speaker": "speaker id, namespaced by source",
    "gender": "f, m or empty when unknown",
    "group": "what no two splits share (speaker, book, channel, ...)",
    "text": "normalized transcript: lower-case letters, apostrophe and space",
    "text_raw": "the transcript as found",
    "audio": "mono PCM16 at the corpus sample rate",
    "license": "licence of the item",
    "origin": "where the item came from (path or URL)",
    "augment": "the effect chain of an augmented copy, empty for an original",
    "captions": "manual or auto for caption and subtitle transcripts, else empty",
    "num_samples": "length of the audio in samples",
    "synthetic": "spoken by a TTS engine",
    "verify_score": "make verify's CTC-segmentation score (<= 0); absent when not verified",
    "word_times": "make verify's start and end (s) of each word of text, flattened",
    "readings": "the candidate readings of a written form, text among them; empty for one reading",
    "engine": "the TTS engine of a synthetic utterance",
    "media": "the recording or video (path or URL) the utterance is a span of; absent otherwise",
    "media_span": "start and end (s) of that span in the media; absent without media",
    "teacher": "the teacher that heard the utterance in make verify (its spec); absent otherwise",
    "teacher_cer": "character error rate of the teacher's transcript against text; with teacher",
    "label_source": "teacher:SPEC when a teacher wrote the transcript (no transcript came with "
    "the audio); absent otherwise",
    **{
        name: f"{m.meaning}; absent when not measured"
        + (f" (or the clip is under {m.min_seconds} s)" if m.min_seconds else "")
        for name, m in MEASURES.items()
    },
}


@dataclasses.dataclass(frozen=True)
class Utterance:
    """One training example: mono PCM16 audio at the corpus rate plus its transcript."""

    id: str  # "<source>/<native id>", augmented copies get "~effect" suffixes
    source: str  # registry name of the source
    speaker: str  # speaker id, namespaced by source
    group: str  # what must not leak across splits (speaker, book, channel, ...)
    text: str  # normalized transcript, every character in ALPHABET
    text_raw: str  # transcript as found
    audio: np.ndarray  # int16, mono
    license: str = ""
    origin: str = ""  # where the item came from (path or URL)
    synthetic: bool = False
    gender: str = ""  # "f", "m" or ""
    augment: str = ""  # "" or the effect chain, e.g. "speed=1.1,noise=12dB"
    captions: str = ""  # "manual" or "auto" for caption/subtitle transcripts, else ""
    verify_score: float | None = (
        None  # make verify's CTC-segmentation score (<= 0), None: not verified
    )
    word_times: tuple[
        float, ...
    ] = ()  # make verify: start, end (s) of each word of ``text``, flattened
    engine: str = ""  # the TTS engine that spoke a synthetic utterance ("espeak-ng", "flite" ...)
    media: str = ""  # the recording this utterance is a span of (a film, a video URL), or ""
    media_span: tuple[float, ...] = ()  # (start, end) seconds of that span in ``media``
    readings: tuple[str, ...] = ()  # a written form's candidate readings, ``text`` among them;
    # () when the transcript has one reading. The first is the normalizer's default; make
    # verify sets ``text`` to the one the audio supports best.
    teacher: str = ""  # the teacher (spec) that heard it in make verify, or ""
    teacher_cer: float | None = None  # its CER against ``text``; None without a teacher
    label_source: str = ""  # "teacher:SPEC" when a teacher wrote the transcript, else ""
    measures: Measures = NONE  # the audio's measures (corpus/measures.py); NONE: not measured

    @property
    def num_samples(self) -> int:
        return int(self.audio.shape[0])

    @property
    def words(self) -> list[tuple[str, float, float]]:
        """(word, start, end) in seconds of this record's audio; [] when not verified."""
        times = self.word_times
        return (
            [(w, times[2 * i], times[2 * i + 1]) for i, w in enumerate(self.text.split())]
            if times
            else []
        )


def _example_message_class():
    """Build a message class wire-compatible with tensorflow/core/example/example.proto."""
    f = descriptor_pb2.FileDescriptorProto(
        name="speechmill/example.proto", package="speechmill.tf", syntax="proto3"
    )
    T = descriptor_pb2.FieldDescriptorProto
    rep, opt = T.LABEL_REPEATED, T.LABEL_OPTIONAL

    def message(name, *fields):
        m = f.message_type.add(name=name)
        for number, (fname, ftype, label, type_name) in enumerate(fields, start=1):
            fd = m.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name:
                fd.type_name = type_name
        return m

    message("BytesList", ("value", T.TYPE_BYTES, rep, None))
    message("FloatList", ("value", T.TYPE_FLOAT, rep, None))
    message("Int64List", ("value", T.TYPE_INT64, rep, None))
    feature = message("Feature")
    feature.oneof_decl.add(name="kind")
    for number, fname, type_name in (
        (1, "bytes_list", "BytesList"),
        (2, "float_list", "FloatList"),
        (3, "int64_list", "Int64List"),
    ):
        feature.field.add(
            name=fname,
            number=number,
            type=T.TYPE_MESSAGE,
            label=opt,
            type_name=f".speechmill.tf.{type_name}",
            oneof_index=0,
        )
    features = message(
        "Features", ("feature", T.TYPE_MESSAGE, rep, ".speechmill.tf.Features.FeatureEntry")
    )
    entry = features.nested_type.add(name="FeatureEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=T.TYPE_STRING, label=opt)
    entry.field.add(
        name="value", number=2, type=T.TYPE_MESSAGE, label=opt, type_name=".speechmill.tf.Feature"
    )
    message("Example", ("features", T.TYPE_MESSAGE, opt, ".speechmill.tf.Features"))
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("speechmill.tf.Example"))


_Example = _example_message_class()


def record_chunks(utt: Utterance) -> list[bytes]:
    """Utterance -> its serialized tf.train.Example in a few pieces (the audio bytes one of
    them), so a writer copies the audio once more, into the file, and never joins it.

    Joined, the pieces are what protobuf's deterministic serialization of the Example gives
    (features in protobuf's key order, lists packed); a test compares them with protobuf's own
    serializer."""
    if utt.audio.dtype != np.int16 or utt.audio.ndim != 1:
        raise TypeError(
            f"{utt.id}: audio must be a 1-D int16 array, got {utt.audio.dtype} {utt.audio.shape}"
        )
    features: dict[str, tuple[str, list]] = {}
    for name in BYTES_FIELDS:
        if name == "audio":
            value = utt.audio.astype("<i2", copy=False).tobytes()
        else:
            value = getattr(utt, name).encode("utf-8")
        features[name] = ("bytes", [value])
    features["num_samples"] = ("int", [utt.num_samples])
    features["synthetic"] = ("int", [int(utt.synthetic)])
    if utt.verify_score is not None:
        if len(utt.word_times) != 2 * len(utt.text.split()):
            raise ValueError(
                f"{utt.id}: {len(utt.word_times)} word times for {len(utt.text.split())} words"
            )
        features["verify_score"] = ("float", [utt.verify_score])
        features["word_times"] = ("float", list(utt.word_times))
    if utt.engine:
        features["engine"] = ("bytes", [utt.engine.encode("utf-8")])
    if utt.media:
        if len(utt.media_span) != 2:
            raise ValueError(f"{utt.id}: media without its (start, end) span")
        features["media"] = ("bytes", [utt.media.encode("utf-8")])
        features["media_span"] = ("float", list(utt.media_span))
    if utt.teacher:
        if utt.teacher_cer is None:
            raise ValueError(f"{utt.id}: a teacher without its CER")
        features["teacher"] = ("bytes", [utt.teacher.encode("utf-8")])
        features["teacher_cer"] = ("float", [utt.teacher_cer])
    if utt.label_source:
        features["label_source"] = ("bytes", [utt.label_source.encode("utf-8")])
    for name, value in utt.measures.items():
        features[name] = ("float", [value])
    if utt.readings:
        if utt.text not in utt.readings:
            raise ValueError(f"{utt.id}: text {utt.text!r} is not one of its readings")
        features["readings"] = ("strings", [r.encode("utf-8") for r in utt.readings])
    pieces: list[bytes] = []
    small: list[bytes] = []
    for key in key_order(tuple(features)):
        head, payload = entry(key, *features[key])
        small.append(head)
        if len(payload) > 4096:  # a large value (the audio) stays its own piece
            pieces += [b"".join(small), payload]
            small = []
        else:
            small.append(payload)
    pieces.append(b"".join(small))
    return [b"\x0a" + varint(sum(len(p) for p in pieces)), *pieces]


def encode_utterance(utt: Utterance) -> bytes:
    """Utterance -> serialized tf.train.Example (audio as little-endian PCM16 bytes)."""
    return b"".join(record_chunks(utt))


def encode_utterance_protobuf(utt: Utterance) -> bytes:
    """The same record through protobuf's own serializer (the reference the tests compare)."""
    example = _Example()
    feature_map = example.features.feature
    for name in BYTES_FIELDS:
        value = utt.audio.astype("<i2").tobytes() if name == "audio" else getattr(utt, name)
        feature_map[name].bytes_list.value.append(
            value if isinstance(value, bytes) else value.encode("utf-8")
        )
    feature_map["num_samples"].int64_list.value.append(utt.num_samples)
    feature_map["synthetic"].int64_list.value.append(int(utt.synthetic))
    if utt.verify_score is not None:
        feature_map["verify_score"].float_list.value.append(utt.verify_score)
        feature_map["word_times"].float_list.value.extend(utt.word_times)
    if utt.engine:
        feature_map["engine"].bytes_list.value.append(utt.engine.encode("utf-8"))
    if utt.media:
        feature_map["media"].bytes_list.value.append(utt.media.encode("utf-8"))
        feature_map["media_span"].float_list.value.extend(utt.media_span)
    if utt.teacher:
        feature_map["teacher"].bytes_list.value.append(utt.teacher.encode("utf-8"))
        feature_map["teacher_cer"].float_list.value.append(utt.teacher_cer)
    if utt.label_source:
        feature_map["label_source"].bytes_list.value.append(utt.label_source.encode("utf-8"))
    for name, value in utt.measures.items():
        feature_map[name].float_list.value.append(value)
    if utt.readings:
        feature_map["readings"].bytes_list.value.extend(r.encode("utf-8") for r in utt.readings)
    return example.SerializeToString(deterministic=True)


def decode_utterance(serialized: bytes) -> Utterance:
    """Serialized tf.train.Example -> Utterance, without TensorFlow (tools and tests)."""
    example = _Example.FromString(serialized)
    fmap = example.features.feature
    text = {n: fmap[n].bytes_list.value[0] for n in BYTES_FIELDS}
    audio = np.frombuffer(text.pop("audio"), dtype="<i2").astype(np.int16)
    num_samples = fmap["num_samples"].int64_list.value[0]
    if audio.shape[0] != num_samples:
        raise ValueError(
            f"record {text['id']!r}: {audio.shape[0]} samples, header says {num_samples}"
        )
    fields = {k: v.decode("utf-8") for k, v in text.items()}
    verified = "verify_score" in fmap
    return Utterance(
        audio=audio,
        synthetic=bool(fmap["synthetic"].int64_list.value[0]),
        **fields,
        verify_score=fmap["verify_score"].float_list.value[0] if verified else None,
        word_times=tuple(fmap["word_times"].float_list.value) if verified else (),
        engine=fmap["engine"].bytes_list.value[0].decode("utf-8") if "engine" in fmap else "",
        media=fmap["media"].bytes_list.value[0].decode("utf-8") if "media" in fmap else "",
        media_span=tuple(fmap["media_span"].float_list.value) if "media" in fmap else (),
        readings=tuple(v.decode("utf-8") for v in fmap["readings"].bytes_list.value)
        if "readings" in fmap
        else (),
        teacher=fmap["teacher"].bytes_list.value[0].decode("utf-8") if "teacher" in fmap else "",
        teacher_cer=fmap["teacher_cer"].float_list.value[0] if "teacher" in fmap else None,
        label_source=fmap["label_source"].bytes_list.value[0].decode("utf-8")
        if "label_source" in fmap
        else "",
        measures=Measures(**{n: fmap[n].float_list.value[0] for n in MEASURES if n in fmap}),
    )


def tf_feature_spec() -> dict:
    """The ``tf.io.parse_example`` spec for a record (imports TensorFlow)."""
    import tensorflow as tf

    spec = {name: tf.io.FixedLenFeature([], tf.string) for name in BYTES_FIELDS}
    spec.update({name: tf.io.FixedLenFeature([], tf.int64) for name in INT_FIELDS})
    # NaN: not verified (every version-2 record, and version-3 ones that make verify did not see)
    spec["verify_score"] = tf.io.FixedLenFeature([], tf.float32, default_value=float("nan"))
    return spec


def parse_example(serialized):
    """TF graph op: serialized record -> dict of tensors; ``audio`` is float32 in [-1, 1).

    Checks at run time that the decoded sample count equals ``num_samples``.
    """
    import tensorflow as tf

    features = tf.io.parse_single_example(serialized, tf_feature_spec())
    pcm = tf.io.decode_raw(features["audio"], tf.int16, little_endian=True)
    check = tf.debugging.assert_equal(
        tf.cast(tf.shape(pcm)[0], tf.int64),
        features["num_samples"],
        message="record audio length differs from num_samples",
    )
    with tf.control_dependencies([check]):
        features["audio"] = tf.cast(pcm, tf.float32) / 32768.0
    return features


# ----------------------------------------------------------------------------- info.json


class CorpusMismatch(UserError, ValueError):
    """A corpus that this reader cannot use (schema version, sample rate, alphabet)."""


def check_info(
    info: Mapping[str, Any],
    *,
    sample_rate: int | None = None,
    alphabet: str | None = None,
    where: str = "corpus",
) -> None:
    """Refuse a corpus whose info.json does not match what the reader expects."""
    version = info.get("schema_version")
    if version not in READABLE_VERSIONS:
        raise CorpusMismatch(
            f"{where}: schema version {version}, this speechmill reads "
            f"{', '.join(map(str, READABLE_VERSIONS))}"
        )
    if sample_rate is not None and info.get("sample_rate") != sample_rate:
        raise CorpusMismatch(
            f"{where}: sample rate {info.get('sample_rate')} Hz, expected {sample_rate} Hz"
        )
    if alphabet is not None and info.get("alphabet") != alphabet:
        raise CorpusMismatch(f"{where}: alphabet {info.get('alphabet')!r}, expected {alphabet!r}")


SHARD_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*\.tfrecord")  # a file in the folder
LEDGER_NAME_RE = re.compile(r"rejects(?:-\d{5}-of-\d{5})?\.jsonl")


def check_layout(info: Mapping[str, Any], where: str = "corpus") -> None:
    """Refuse (CorruptCorpus) an info.json whose parts a reader relies on are not what a build
    writes: splits as tables with counts, hours and shard names that are plain file names in
    the corpus folder (never a path out of it), a positive sample rate, an alphabet, and the
    rejects' counts and ledger piece names. An info.json from someone else is data."""

    def bad(what: str) -> CorruptCorpus:
        return CorruptCorpus(f"{where}: info.json: {what}")

    def count(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    def number(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0

    rate = info.get("sample_rate")
    if not count(rate) or not rate:
        raise bad(f"sample_rate {rate!r} is not a positive whole number")
    if not isinstance(info.get("alphabet"), str):
        raise bad("alphabet is not a string")
    splits = info.get("splits")
    if not isinstance(splits, dict):
        raise bad("splits is not a table of splits")
    for name, split in splits.items():
        if not isinstance(split, dict):
            raise bad(f"split {name!r} is not a table")
        if not count(split.get("examples")) or not number(split.get("hours")):
            raise bad(f"split {name!r}: examples and hours must be numbers, 0 or more")
        shards = split.get("shards")
        if not isinstance(shards, list) or not all(
            isinstance(s, str) and SHARD_NAME_RE.fullmatch(s) for s in shards
        ):
            raise bad(f"split {name!r}: shards must be a list of .tfrecord names in the folder")
    rejects = info.get("rejects", {})
    if not isinstance(rejects, dict) or not count(rejects.get("total", 0)):
        raise bad("rejects.total is not a count")
    by_reason = rejects.get("by_reason", {})
    if not isinstance(by_reason, dict) or not all(count(n) for n in by_reason.values()):
        raise bad("rejects.by_reason is not a table of counts")
    ledger = rejects.get("ledger", [])
    if not isinstance(ledger, list) or not all(
        isinstance(p, str) and LEDGER_NAME_RE.fullmatch(p) for p in ledger
    ):
        raise bad("rejects.ledger must be a list of rejects-*.jsonl names in the folder")


def dumps_info(info: Mapping[str, Any]) -> str:
    """info.json text: stable key order so identical builds give identical files."""
    return json.dumps(info, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
