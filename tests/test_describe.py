"""``speechmill describe``: per-split durations, speakers, vocabulary, held-out words and texts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from speechmill.corpus.schema import (
    ALPHABET,
    SCHEMA_VERSION,
    Utterance,
    dumps_info,
    encode_utterance,
)

TRAIN = [  # (seconds, text, speaker, gender, engine)
    (1.0, "the cat sat", "a/1", "f", ""),
    (2.5, "the dog ran", "a/1", "f", ""),
    (4.0, "a cat ran home", "a/2", "m", ""),
    (7.25, "the end", "tts/x", "m", "espeak-ng"),
]
DEV = [
    (3.0, "the cat sat", "a/3", "f", ""),  # also in train
    (5.5, "a bird sang", "a/3", "f", ""),  # bird, sang: not in train
]


def write_corpus(folder: Path) -> None:
    folder.mkdir()
    splits = {}
    for split, rows in (("train", TRAIN), ("dev", DEV)):
        name = f"{split}-00000-of-00001.tfrecord"
        with tf.io.TFRecordWriter(str(folder / name)) as writer:
            for i, (seconds, text, speaker, gender, engine) in enumerate(rows):
                utt = Utterance(
                    id=f"{split}/{i}",
                    source=speaker.split("/")[0],
                    speaker=speaker,
                    group=speaker,
                    text=text,
                    text_raw=text,
                    audio=np.zeros(int(seconds * 16000), np.int16),
                    gender=gender,
                    engine=engine,
                    synthetic=bool(engine),
                )
                writer.write(encode_utterance(utt))
        hours = sum(r[0] for r in rows) / 3600
        splits[split] = {"examples": len(rows), "hours": hours, "shards": [name]}
    info = {
        "schema_version": SCHEMA_VERSION,
        "sample_rate": 16000,
        "alphabet": ALPHABET,
        "splits": splits,
        "rejects": {"total": 0, "by_reason": {}, "ledger": []},
    }
    (folder / "info.json").write_text(dumps_info(info))


def test_describe_gives_durations_speakers_vocabulary_and_held_out_overlap(tmp_path, capsys):
    from speechmill.commands.describe import main
    from speechmill.corpus.describe import describe_corpus

    write_corpus(tmp_path / "corpus")
    found = describe_corpus(str(tmp_path / "corpus"))
    train, dev = found["train"], found["dev"]
    seconds = np.array([r[0] for r in TRAIN])
    assert train["utterances"] == 4 and train["hours"] == pytest.approx(seconds.sum() / 3600)
    assert train["mean"] == pytest.approx(seconds.mean())
    assert train["std"] == pytest.approx(seconds.std())
    assert (train["min"], train["max"]) == (1.0, 7.25)
    for q in (25, 50, 75, 99):  # to the 10 ms of the histogram
        assert train[f"{q}%"] == pytest.approx(
            np.percentile(seconds, q, method="inverted_cdf"), abs=0.011
        )
    assert train["speakers"] == 3 and train["by_gender"] == {"f": 1, "m": 2}
    assert train["by_engine"] == {"espeak-ng": 1, "human": 2}
    assert train["vocabulary"] == len({"the", "cat", "sat", "dog", "ran", "a", "home", "end"})
    # dev: 2 of its 6 words (bird, sang) are not in train; 1 of 2 transcripts is
    assert dev["oov_rate"] == pytest.approx(2 / 6) and dev["texts_in_train"] == 1
    assert dev["speakers"] == 1 and dev["by_gender"] == {"f": 1}

    assert main([str(tmp_path / "corpus")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == ["split", *"utterances hours mean std min 25% 50% 75% 99% max".split()]
    assert out[3].split()[:3] == ["train", "4", "0.00"] and out[3].split()[-1] == "7.25s"
    dev_line = next(line for line in out if line.startswith("dev ") and "speakers" in line)
    assert "out of train's vocabulary 33.3% of words" in dev_line
    assert "1 of 2 transcripts also in train" in dev_line


def test_describe_of_a_folder_that_is_not_a_corpus_is_one_line(tmp_path, capsys):
    from speechmill.commands.describe import main

    assert main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no info.json" in err and len(err.strip().splitlines()) == 1
