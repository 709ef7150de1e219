"""The record format: written without TensorFlow, read by TensorFlow, checked on read."""

import json

import numpy as np
import pytest
import tensorflow as tf

from speechmill.corpus.schema import (
    ALPHABET,
    SCHEMA_VERSION,
    CorpusMismatch,
    Utterance,
    check_info,
    decode_utterance,
    encode_utterance,
    parse_example,
)
from speechmill.corpus.tfrecord import frame, read_records


def utterance(**overrides):
    values = dict(
        id="librispeech/1-2-0003",
        source="librispeech",
        speaker="librispeech/1",
        group="librispeech/1",
        text="it's a test",
        text_raw="It's a TEST!",
        audio=np.array([0, 1, -1, 32767, -32768], np.int16),
        license="CC BY 4.0",
        origin="/data/1-2-0003.flac",
        synthetic=True,
        gender="f",
        augment="speed=1.1",
        captions="auto",
    )
    values.update(overrides)
    return Utterance(**values)


def test_protobuf_written_record_parses_in_tensorflow(tmp_path):
    utt = utterance()
    path = tmp_path / "x.tfrecord"
    path.write_bytes(frame(encode_utterance(utt)) + frame(encode_utterance(utterance(id="b"))))
    parsed = [parse_example(r) for r in tf.data.TFRecordDataset(str(path))]
    assert len(parsed) == 2
    first = parsed[0]
    for name in (
        "id",
        "source",
        "speaker",
        "group",
        "text",
        "text_raw",
        "license",
        "origin",
        "gender",
        "augment",
        "captions",
    ):
        assert first[name].numpy().decode() == getattr(utt, name)
    assert first["num_samples"].numpy() == 5 and first["synthetic"].numpy() == 1
    np.testing.assert_array_equal(first["audio"].numpy(), utt.audio / 32768.0)
    assert [bytes(r) for r in read_records(open(path, "rb"))][0] == encode_utterance(utt)
    assert decode_utterance(encode_utterance(utt)).text_raw == utt.text_raw


def test_reader_checks_num_samples():
    from speechmill.corpus.schema import _Example

    example = _Example.FromString(encode_utterance(utterance()))
    example.features.feature["num_samples"].int64_list.value[0] = 6  # audio holds 5
    bad = example.SerializeToString()
    with pytest.raises(ValueError):
        decode_utterance(bad)
    with pytest.raises(tf.errors.InvalidArgumentError):
        parse_example(tf.constant(bad))


def test_info_mismatch_is_refused_with_a_clear_message():
    info = {"schema_version": SCHEMA_VERSION, "sample_rate": 16000, "alphabet": ALPHABET}
    check_info(info, sample_rate=16000, alphabet=ALPHABET)
    with pytest.raises(CorpusMismatch, match="sample rate 16000 Hz, expected 8000 Hz"):
        check_info(info, sample_rate=8000)
    with pytest.raises(CorpusMismatch, match="alphabet"):
        check_info(info, alphabet="abc")
    with pytest.raises(CorpusMismatch, match="schema version 99"):
        check_info(json.loads('{"schema_version": 99}'))


def test_corpus_reader_refuses_before_reading(tmp_path):
    from speechmill.train.data import split_dataset

    (tmp_path / "info.json").write_text(
        json.dumps(
            {
                "schema_version": SCHEMA_VERSION,
                "sample_rate": 8000,
                "alphabet": ALPHABET,
                "splits": {"train": {"shards": ["missing.tfrecord"]}},
            }
        )
    )
    with pytest.raises(CorpusMismatch, match="8000 Hz"):
        split_dataset(str(tmp_path), "train", sample_rate=16000)
    with pytest.raises(FileNotFoundError, match="not a finished speechmill corpus"):
        split_dataset(str(tmp_path / "nowhere"), "train")


def test_records_written_in_pieces_are_what_protobuf_and_tensorflow_serialize():
    """The writer builds each record's bytes itself (the audio copied once); they must be the
    bytes of protobuf's deterministic serialization, and of TensorFlow's own Example."""
    from speechmill.corpus.measures import MEASURES, NONE, Measures
    from speechmill.corpus.schema import encode_utterance_protobuf, record_chunks
    from speechmill.corpus.tfrecord import frame_chunks

    rng = np.random.default_rng(1)
    for i in range(60):
        words = " ".join(["word"] * int(rng.integers(1, 6)))
        verified = i % 2 == 0
        utt = utterance(
            id=f"x/{i}-é",
            text=words,
            text_raw="ünïcode 12 " * (i % 40),  # lengths across the one-byte varint limit
            audio=(rng.standard_normal(int(rng.integers(0, 40000))) * 9000).astype(np.int16),
            license="" if i % 3 else "CC0",
            synthetic=bool(i % 2),
            verify_score=float(-rng.random() * 9) if verified else None,
            word_times=tuple(float(t) for t in rng.random(2 * len(words.split())))
            if verified
            else (),
            readings=(words, "a reading " * (i % 30), "é") if i % 3 == 1 else (),
            measures=Measures(snr_db=float(rng.normal(20, 9)), clipped=0.0)
            if i % 4 == 0
            else Measures(**{n: float(rng.random()) for n in MEASURES})
            if i % 4 == 1
            else NONE,
        )
        ours = encode_utterance(utt)
        assert ours == encode_utterance_protobuf(utt)
        example = tf.train.Example.FromString(ours)
        assert example.SerializeToString(deterministic=True) == ours
        assert example.features.feature["audio"].bytes_list.value[0] == utt.audio.tobytes()
        assert b"".join(frame_chunks(record_chunks(utt))) == frame(ours)
        back = decode_utterance(ours)
        assert (back.id, back.text_raw, back.synthetic) == (utt.id, utt.text_raw, utt.synthetic)
        assert np.array_equal(back.audio, utt.audio) and len(back.word_times) == len(utt.word_times)
        assert back.readings == utt.readings
        assert [n for n, _ in back.measures.items()] == [n for n, _ in utt.measures.items()]
        assert all(
            abs(v - getattr(utt.measures, n)) < 1e-5 * max(1, abs(v))
            for n, v in back.measures.items()
        )  # float32 in the record
