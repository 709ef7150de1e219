"""The corpus rate is a parameter: build, sync subtitles and train at 8 kHz and 22.05 kHz."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile
import tensorflow as tf
from support.jobs import build, read_corpus, write_config

from speechmill.train.features import LogMel, frames_for

TINY = [
    "--preset",
    "small",
    "--d-model",
    "16",
    "--heads",
    "2",
    "--layers",
    "1",
    "--conv-channels",
    "4",
    "--batch-size",
    "4",
]


@pytest.mark.slow
@pytest.mark.parametrize("rate", [8000, 22050])
def test_build_and_train_at_another_rate(tmp_path, librispeech, rate):
    from speechmill.commands.train import main as train
    from speechmill.runtime.recognizer import load_recognizer

    config = write_config(
        tmp_path / "c.toml",
        f'[[source]]\ntype = "librispeech"\npath = "{librispeech}"\n',
        corpus=f"sample_rate = {rate}",
    )
    out = tmp_path / "corpus"
    info = build(config, out)
    assert info["sample_rate"] == rate
    for row in read_corpus(out, "dev"):
        flac = next(librispeech.glob(f"*/*/*/{row['id'].split('/')[1]}.flac"))
        original = soundfile.info(flac)
        assert abs(row["num_samples"] - original.frames * rate / original.samplerate) <= 1

    # 25 ms windows every 10 ms whatever the rate: one second of audio gives ~100 frames.
    features, frames = LogMel(rate)(tf.zeros([1, 3 * rate]), tf.constant([2 * rate]))
    assert 197 <= int(frames[0]) <= 199 and 297 <= features.shape[1] <= 299
    assert features.shape[1] == int(frames_for(3 * rate, rate))

    run = tmp_path / "run"
    assert train(["--data", str(out), "--run", str(run), "--steps", "2", *TINY]) == 0
    assert json.loads((run / "config.json").read_text())["sample_rate"] == rate
    report = json.loads((run / "eval.json").read_text())
    assert report["dev"]["examples"] == 3 and np.isfinite(report["dev"]["cer"])
    recognizer = load_recognizer(str(run / "export"))  # LiteRT, builtin ops, at this rate too
    assert recognizer.backend == "tflite" and recognizer.sample_rate == rate
    assert recognizer.log_probs(np.zeros(rate, np.float32)).shape == (
        25,
        29,
    )  # 1 s: 25 frames, blank + 28


@pytest.mark.parametrize("rate", [8000, 22050])
def test_movies_decode_and_sync_at_the_corpus_rate(tmp_path, rate):
    from support.speech import LINES, make_movie, srt

    placed = make_movie(tmp_path, "harbour", LINES[:5], first=2.0)
    (tmp_path / "harbour.srt").write_text(srt(placed, offset=1.3, ratio=1.0))
    config = write_config(
        tmp_path / "m.toml",
        f'[[source]]\ntype = "movies"\npath = "{tmp_path}"\nsplit = "train"\n',
        corpus=f"sample_rate = {rate}",
    )
    out = tmp_path / "corpus"
    info = build(config, out)
    assert abs(info["alignment"][0]["offset"] - 1.3) <= 0.05
    rows = sorted(read_corpus(out, "train"), key=lambda r: r["id"])
    assert len(rows) == 5
    for row, (start, end, _) in zip(rows, placed):
        t0, t1 = (float(x) for x in row["origin"].split("#t=")[1].split(","))
        assert row["num_samples"] == pytest.approx((t1 - t0) * rate, abs=2)
        assert abs(t0 - start) < 0.3 and abs(t1 - end) < 0.5

    # The source hands over audio already at the corpus rate (no detour through 16 kHz).
    from speechmill.corpus.sources import SourceContext, make_source
    from speechmill.corpus.types import Segment

    source = make_source({"type": "movies", "path": str(tmp_path)}, SourceContext(sample_rate=rate))
    segments = [s for s in source.read(source.units()[0]) if isinstance(s, Segment)]
    assert segments and all(s.sample_rate == rate for s in segments)
