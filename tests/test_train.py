"""Training side: batches, CTC loss, the train CLI with resume, export round trip, transcribe."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
import soundfile
import tensorflow as tf
from support.jobs import build, write_config
from support.speech import speak
from support.training import TINY

from speechmill.augment.recipe import ON_THE_FLY
from speechmill.corpus.reader import load_info
from speechmill.corpus.schema import ALPHABET, CorpusMismatch
from speechmill.train.data import BUCKET_SECONDS, MAX_LABEL, batches, ids_to_text
from speechmill.train.model import (
    PRESETS,
    build_model,
    config_for,
    ctc_loss,
    output_lengths,
)

TINY_SIZES = {
    "conformer": dict(d_model=32, heads=2, layers=1, kernel_size=7, conv_channels=8),
    "bigru": dict(rnn_units=32, rnn_layers=1, conv_channels=8),
}


def test_batches_have_bounded_shapes_and_true_lengths(librispeech_corpus):
    seen = 0
    for x, y in batches(str(librispeech_corpus), "train", batch_size=4, keep_meta=True):
        width = x["audio"].shape[1]
        assert width in [s * 16000 for s in BUCKET_SECONDS]
        assert y["labels"].shape[1] == MAX_LABEL
        for audio, length, labels, label_length, text in zip(
            x["audio"].numpy(),
            x["audio_length"].numpy(),
            y["labels"].numpy(),
            y["label_length"].numpy(),
            x["text"].numpy(),
        ):
            assert 0 < length <= width and not audio[length:].any()
            assert (
                ids_to_text(labels[:label_length]) == text.decode()
                and not labels[label_length:].any()
            )
            seen += 1
    assert seen == 6


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["small", "bigru"])
def test_ctc_loss_is_finite_and_falls(librispeech_corpus, preset):
    keras.utils.set_random_seed(0)
    model = build_model(
        config_for(preset, **TINY_SIZES["bigru" if preset == "bigru" else "conformer"])
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False)
    data = batches(str(librispeech_corpus), "train", batch_size=6).cache().repeat()
    history = model.fit(data, steps_per_epoch=12, epochs=2, verbose=0).history["loss"]
    assert all(np.isfinite(history)) and history[-1] < history[0]
    x, y = next(iter(batches(str(librispeech_corpus), "train", batch_size=6)))
    per_utterance = ctc_loss(y["labels"], model(x), x["audio_length"], 16000).numpy()
    assert per_utterance.shape == (x["audio"].shape[0],) and np.isfinite(per_utterance).all()


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100])
def test_output_lengths_follow_the_audio_at_any_rate(rate):
    window = round(0.025 * rate)  # one 25 ms window, 1 s and 10 s of audio
    assert output_lengths(tf.constant([window, rate, 10 * rate]), rate).numpy().tolist() == [
        1,
        25,
        250,
    ]


@pytest.mark.parametrize("architecture", ["conformer", "bigru"])
def test_each_encoder_row_builds_a_model_with_the_subsampling_it_declares(architecture):
    """A row of train/encoders.py builds its model, and the model's own logits are as long as
    the row's subsampling says (what CTC lengths, export and verify's word times read)."""
    from speechmill.train.encoders import ENCODERS, subsampling_of

    preset = "bigru" if architecture == "bigru" else "small"
    model = build_model(config_for(preset, **TINY_SIZES[architecture]))
    assert (
        model.name == f"speechmill_{architecture}"
        and subsampling_of(model) == ENCODERS[architecture].subsampling
    )
    for seconds in (0.5, 1.0, 3.3):
        n = int(seconds * 16000)
        logits = model({"audio": tf.zeros([1, n]), "audio_length": tf.constant([n])})
        frames = int(output_lengths(tf.constant([n]), 16000, subsampling_of(model))[0])
        assert logits.shape[1] == frames, (seconds, logits.shape)


@pytest.mark.slow
def test_train_cli_resumes_exports_and_transcribes(
    tmp_path, librispeech_corpus, librispeech, capsys
):
    from speechmill.commands.train import main as train
    from speechmill.commands.transcribe import main as transcribe

    run = tmp_path / "run"
    assert train(["--data", str(librispeech_corpus), "--run", str(run), "--steps", "2", *TINY]) == 0
    first = json.loads((run / "state.json").read_text())
    assert first["steps"] == 2
    capsys.readouterr()
    assert train(["--data", str(librispeech_corpus), "--run", str(run), "--steps", "4", *TINY]) == 0
    second = json.loads((run / "state.json").read_text())
    # resumed, not restarted: it says so, counts on from the first run's epochs and steps, and
    # the history holds both runs' epochs in one sequence (a fresh run would start again at 0)
    out = capsys.readouterr().out
    assert f"resuming {run} after {first['epochs']} epochs / 2 steps" in out
    assert second["steps"] == 4 and second["epochs"] > first["epochs"]
    epochs = [int(row.split(",")[0]) for row in (run / "history.csv").read_text().splitlines()[1:]]
    assert epochs == list(range(second["epochs"])), epochs
    # the curves users expect: per epoch the train and dev loss, dev CER/WER, the learning rate
    # and the throughput, in history.csv and TensorBoard; the console shows the budget as a
    # budget and ends with one line naming the run, its dev CER and its export
    import csv

    history = list(csv.DictReader((run / "history.csv").open()))
    for row in history:
        for key in (
            "loss",
            "val_loss",
            "dev_cer",
            "dev_wer",
            "learning_rate",
            "examples_per_second",
        ):
            assert float(row[key]) >= 0, (key, row)
    assert "step 4/4: loss " in out and "dev CER " in out and "Epoch 1/" not in out
    summary = out.strip().splitlines()[-1]
    cer = json.loads((run / "eval.json").read_text())["dev"]["cer"]
    assert summary.startswith(f"speechmill: trained {run}: ") and f"dev CER {cer:.3f}" in summary
    assert str(run / "export" / "model.tflite") in summary
    tags = {
        value.tag
        for events in (run / "logs").rglob("events.out.tfevents.*")
        for event in tf.compat.v1.train.summary_iterator(str(events))
        for value in event.summary.value
    }
    assert {
        "epoch_loss",
        "epoch_dev_cer",
        "epoch_learning_rate",
        "epoch_examples_per_second",
    } <= tags
    for name in ("config.json", "model.keras", "history.csv", "eval.json", "export/export.json"):
        assert (run / name).exists(), name
    settings = json.loads(
        (run / "config.json").read_text()
    )  # the small preset's schedule, our batch
    assert (settings["batch_size"], settings["learning_rate"], settings["warmup_steps"]) == (
        4,
        2e-3,
        300,
    )
    assert json.loads((run / "eval.json").read_text())["dev"]["examples"] == 3
    loads = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from speechmill.train.model import load_model; load_model(sys.argv[1])",
            str(run / "model.keras"),
        ],
        capture_output=True,
        text=True,
    )
    assert loads.returncode == 0, loads.stderr[-500:]  # a fresh process finds our LR schedule

    folder = tmp_path / "audio"
    folder.mkdir()
    for flac in sorted(librispeech.glob("dev-clean/*/*/*.flac"))[:2]:
        shutil.copy(flac, folder)
    data, _ = soundfile.read(next(folder.glob("*.flac")), dtype="float32")
    soundfile.write(
        folder / "stereo-32k.wav", np.stack([data, data], axis=1).repeat(2, axis=0), 32000
    )
    (folder / "broken.mp3").write_bytes(b"not audio at all")
    capsys.readouterr()
    assert transcribe(["--model", str(run), str(folder)]) == 1  # one unreadable file
    out, err = capsys.readouterr()
    lines = out.rstrip("\n").split("\n")
    assert len(lines) == 3 and all(line.count("\t") == 1 for line in lines)
    assert "broken.mp3" in err and len(err.strip().split("\n")) == 1


@pytest.mark.slow
def test_export_transcribes_exactly_as_the_model_does_on_both_backends(tmp_path, librispeech):
    from speechmill.lm.decode import greedy
    from speechmill.runtime.recognizer import load_recognizer
    from speechmill.train.export import export, log_probs_fn, transcribe_fn

    keras.utils.set_random_seed(1)
    model = build_model(config_for("small", **TINY_SIZES["conformer"]))
    logits = model.get_layer("logits")
    kernel, bias = logits.get_weights()
    logits.set_weights([kernel * 40.0, bias])  # peaky random outputs: non-trivial transcripts
    facts = export(model, str(tmp_path / "export"), 16000)
    assert (
        facts["tflite"] == "model.tflite" and facts["tflite_builtin_only"] is True
    )  # no Flex delegate needed
    lite = load_recognizer(str(tmp_path / "export"))
    saved = load_recognizer(str(tmp_path / "export"), backend="savedmodel")
    assert (lite.backend, saved.backend, lite.sample_rate, lite.frame_seconds) == (
        "tflite",
        "savedmodel",
        16000,
        0.04,
    )
    served = tf.saved_model.load(str(tmp_path / "export"))
    for flac in sorted(librispeech.glob("*/*/*/*.flac"))[:3]:
        audio = soundfile.read(flac, dtype="float32")[0]
        expected = transcribe_fn(model)(tf.constant(audio)).numpy().decode()
        reference = log_probs_fn(model)(tf.constant(audio)).numpy()
        assert expected and served.transcribe(tf.constant(audio)).numpy().decode() == expected
        for recognizer in (lite, saved):
            np.testing.assert_allclose(recognizer.log_probs(audio), reference, rtol=1e-4, atol=1e-3)
            assert greedy(recognizer.log_probs(audio)) == " ".join(expected.split())


def test_a_corpus_with_another_alphabet_or_rate_is_refused(tmp_path, librispeech_corpus, capsys):
    from speechmill.commands.eval import main as evaluate
    from speechmill.commands.train import main as train

    other = tmp_path / "other"
    shutil.copytree(librispeech_corpus, other)
    info = json.loads((other / "info.json").read_text())
    (other / "info.json").write_text(json.dumps({**info, "alphabet": ALPHABET + "-"}))
    assert train(["--data", str(other), "--run", str(tmp_path / "r"), "--steps", "1", *TINY]) == 2
    assert "alphabet" in capsys.readouterr().err
    run = tmp_path / "run8k"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"sample_rate": 8000, "alphabet": ALPHABET}))
    assert evaluate(["--model", str(run), "--data", str(librispeech_corpus)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert (
        line.startswith("speechmill: eval: ") and "sample rate 16000 Hz, expected 8000 Hz" in line
    )
    with pytest.raises(CorpusMismatch, match="sample rate 16000 Hz, expected 8000 Hz"):
        load_info(str(librispeech_corpus), sample_rate=8000)  # the reader's own error


@pytest.mark.slow
def test_no_train_split_and_a_damaged_shard_are_one_line_each(tmp_path, librispeech_corpus, capsys):
    from speechmill.commands.train import main as train

    dev_only = tmp_path / "dev-only"
    shutil.copytree(librispeech_corpus, dev_only)
    info = json.loads((dev_only / "info.json").read_text())
    del info["splits"]["train"]
    (dev_only / "info.json").write_text(json.dumps(info))
    assert (
        train(["--data", str(dev_only), "--run", str(tmp_path / "r1"), "--steps", "1", *TINY]) == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"speechmill: train: {dev_only}: no train split; it has dev"]

    damaged = tmp_path / "damaged"
    shutil.copytree(librispeech_corpus, damaged)
    shard = (
        damaged / json.loads((damaged / "info.json").read_text())["splits"]["train"]["shards"][0]
    )
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte inside a record
    shard.write_bytes(bytes(data))
    assert (
        train(
            [
                "--data",
                str(damaged),
                "--run",
                str(tmp_path / "r2"),
                "--steps",
                "2",
                "--no-augment",
                *TINY,
            ]
        )
        == 1
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(shard) in err[0] and "corrupt" in err[0] and "at byte" in err[0]


def test_long_recordings_are_cut_at_pauses_into_bounded_pieces():

    from speechmill.runtime.transcribe import chunk_bounds, transcribe_long

    rate = 16000
    rng = np.random.default_rng(0)
    pieces, pauses = [], []
    for _i in range(30):  # ~100 s of speech with pauses between
        pieces.append(speak("the keeper climbs the tower every half hour and lights the lamp"))
        gap = np.zeros(int(rate * rng.uniform(0.3, 0.8)), np.int16)
        pauses.append((sum(map(len, pieces)), sum(map(len, pieces)) + len(gap)))
        pieces.append(gap)
    samples = np.concatenate(pieces)
    bounds = chunk_bounds(samples, rate, max_seconds=20, search_seconds=4)
    assert (
        bounds[0][0] == 0
        and bounds[-1][1] == len(samples)
        and len(bounds) >= len(samples) / (20 * rate)
    )
    assert all(b[0] == a[1] for a, b in zip(bounds, bounds[1:]))
    assert all(end - start <= 20 * rate for start, end in bounds)
    for _, cut in bounds[:-1]:  # every cut falls in a pause
        assert (
            any(lo <= cut <= hi for lo, hi in pauses)
            or not np.abs(samples[cut - 800 : cut + 800]).any()
        ), cut / rate

    seen = []
    text = transcribe_long(samples, rate, lambda piece: seen.append(int(piece.shape[0])) or "word")
    assert (
        max(seen) <= 30 * rate
        and sum(seen) == len(samples)
        and text == " ".join(["word"] * len(seen))
    )


def test_batches_hold_only_utterances_ctc_can_align():
    from speechmill.train.data import ctc_frames_needed

    assert int(ctc_frames_needed(tf.constant([3, 4, 4, 5, 5, 5]))) == 6 + 3
    rate, frames = 16000, 25  # one second of audio: 25 logit frames
    assert int(output_lengths(rate, rate)) == frames
    needed = [
        int(ctc_frames_needed(tf.constant(list(ids)))) for ids in ([1] * 13, [1, 2] * 12, [1] * 24)
    ]
    assert needed == [25, 24, 47]  # 13 equal letters need 25 frames: just fits; 24 need 47


def test_ctc_loss_is_finite_on_fast_augmented_speech(tmp_path):

    book = tmp_path / "fast.txt"
    book.write_text(
        "*** START OF THE PROJECT GUTENBERG EBOOK FAST ***\n\n"
        + "\n\n".join(
            "Mississippi bookkeepers keep looking, will Anna see Otto's three little kittens soon"
            for _ in range(6)
        )
        + "\n\n*** END OF THE PROJECT GUTENBERG EBOOK FAST ***\n"
    )
    config = write_config(
        tmp_path / "c.toml",
        f'[[source]]\ntype = "gutenberg"\nbooks = ["{book}"]\nrates = [200, 240, 280]\n'
        f'split = "train"\nmin_words = 4\n'
        "[quality]\ndedupe_sounds = false\n",  # one sentence six times on purpose
        corpus="max_chars_per_second = 60",
    )
    build(config, tmp_path / "corpus")
    model = build_model(config_for("small", **TINY_SIZES["conformer"]))
    seen = 0
    for seed in range(3):
        for x, y in batches(
            str(tmp_path / "corpus"),
            "train",
            batch_size=4,
            augment=ON_THE_FLY,
            shuffle=True,
            seed=seed,
        ):
            losses = ctc_loss(y["labels"], model(x), x["audio_length"], 16000).numpy()
            assert np.isfinite(losses).all()
            seen += len(losses)
    assert seen > 0


@pytest.mark.parametrize("preset", ["small"])
def test_padding_never_changes_what_the_model_says_about_real_frames(preset):
    model = build_model(
        config_for(preset, **TINY_SIZES["bigru" if preset == "bigru" else "conformer"])
    )
    audio = tf.random.stateless_normal([1, 3 * 16000], seed=[3, 4]) * 0.1
    for length in (16000 + 123, 2 * 16000 + 401):
        n = int(output_lengths(length, 16000))
        alone = model({"audio": audio[:, :length], "audio_length": tf.constant([length])}).numpy()[
            0
        ]
        padded = model(
            {
                "audio": tf.pad(audio[:, :length], [[0, 0], [0, 3 * 16000 - length]]),
                "audio_length": tf.constant([length]),
            }
        ).numpy()[0]
        assert alone.shape[0] == n
        np.testing.assert_allclose(padded[:n], alone, atol=1e-4)


@pytest.mark.slow
def test_presets_grow_and_bad_sizes_are_refused(tmp_path, librispeech_corpus, capsys):
    from speechmill.commands.train import main as train
    from speechmill.train.model import ModelConfigError

    sizes = {
        name: build_model(config_for(name)).count_params() for name in ("small", "base", "large")
    }
    assert 1_500_000 < sizes["small"] < 5_000_000
    assert 5e6 < sizes["base"] < 30e6
    assert 30e6 < sizes["large"] < 150e6
    assert set(PRESETS) == {"small", "base", "large", "bigru"}
    with pytest.raises(ModelConfigError, match="unknown model preset"):
        config_for("huge")
    assert (
        train(
            [
                "--data",
                str(librispeech_corpus),
                "--run",
                str(tmp_path / "r"),
                "--steps",
                "1",
                "--preset",
                "base",
                "--d-model",
                "30",
                "--heads",
                "4",
            ]
        )
        == 2
    )
    assert (
        capsys.readouterr().err.strip()
        == "speechmill: train: --d-model 30 is not a multiple of --heads 4"
    )


def test_spec_augment_masks_bands_and_spans_inside_each_utterance():
    from speechmill.train.layers import SpecAugment

    layer = SpecAugment(freq_masks=2, freq_width=10, time_masks=3, time_fraction=0.1, seed=7)
    features = tf.ones([64, 200, 80])
    frames = tf.constant([200, 120, 40, 1] * 16)
    assert np.array_equal(layer(features, frames).numpy(), features.numpy())  # inference: identity
    out = layer(features, frames, training=True).numpy()
    masked_bins = (out == 0).all(axis=1).sum(axis=1)  # mel bins zero over all frames
    masked_frames = (out == 0).all(axis=2)  # frames zero over all bins
    assert masked_bins.max() <= 20 and masked_bins.max() > 0
    for row, n in zip(masked_frames, frames.numpy()):
        assert row.sum() <= 3 * int(0.1 * n)  # spans scale with the utterance
    assert (
        masked_frames[:, 120:].sum() == masked_frames[0::4, 120:].sum()
    )  # only the 200-frame rows go there
    again = SpecAugment(freq_masks=2, freq_width=10, time_masks=3, time_fraction=0.1, seed=7)
    assert np.array_equal(again(features, frames, training=True).numpy(), out)  # seeded


def test_frequency_warp_moves_a_voice_up_or_down_in_training_only():
    from speechmill.train.features import LogMel, warp_frequencies

    power = np.zeros([1, 1, 257], np.float32)
    power[0, 0, 40] = 1.0
    assert warp_frequencies(tf.constant(power), tf.constant([1.25])).numpy()[0, 0].argmax() == 50
    assert np.array_equal(warp_frequencies(tf.constant(power), tf.constant([1.0])).numpy(), power)

    rate = 16000
    t = np.arange(rate) / rate

    def tones(*hz):
        return tf.constant(np.stack([np.sin(2 * np.pi * f * t) for f in hz]).astype(np.float32))

    def peak_bins(layer, audio, training=False):
        return layer.log_mel(audio, training).numpy().mean(axis=1).argmax(axis=1)

    lengths = tf.constant([rate] * 16)
    layer, plain = LogMel(rate, 80, warp=0.2, seed=3), LogMel(rate, 80)
    batch = tones(*[1000] * 16)
    assert np.allclose(
        layer(batch, lengths)[0].numpy(), plain(batch, lengths)[0].numpy()
    )  # inference: no warp
    warped = peak_bins(layer, batch, training=True)
    low, high = peak_bins(plain, tones(780, 1220))
    assert low <= warped.min() and warped.max() <= high  # 1 kHz moved by 0.8 ... 1.2
    assert warped.min() < peak_bins(plain, batch)[0] < warped.max()  # some down, some up
    again = LogMel(rate, 80, warp=0.2, seed=3)
    assert np.array_equal(peak_bins(again, batch, training=True), warped)  # seeded


def test_warmup_then_inverse_square_root_decay():
    from speechmill.train.optim import WarmupDecay

    schedule = WarmupDecay(2e-3, 100)
    rates = [float(schedule(step)) for step in (0, 49, 99, 399, 9999)]
    np.testing.assert_allclose(rates, [2e-5, 1e-3, 2e-3, 1e-3, 2e-4], rtol=1e-5)
    assert float(WarmupDecay(1e-3, 0, "constant")(5000)) == pytest.approx(1e-3)


@pytest.mark.slow
def test_gradient_accumulation_makes_one_update_of_the_whole_batch(librispeech_corpus):
    """--accumulate 3: a step's batch is cut into 3 pieces whose gradients are summed one
    after another; the one update equals the update from the whole batch at once."""
    from speechmill.train.optim import make_optimizer

    sizes = {**TINY_SIZES["conformer"], "dropout": 0.0}
    config = config_for("small", **sizes, freq_warp=0.0, freq_masks=0, time_masks=0)
    data = batches(str(librispeech_corpus), "train", batch_size=6).take(1).cache()
    kernels = []
    for pieces in (1, 3):
        keras.utils.set_random_seed(0)
        model = build_model(config, seed=0)
        model.compile(optimizer=make_optimizer(1e-3, 0, "constant"), jit_compile=False)
        model.micro_batches = pieces
        before = model.get_layer("logits").kernel.numpy().copy()
        model.fit(data, steps_per_epoch=1, epochs=1, verbose=0)
        assert int(model.optimizer.iterations) == 1  # one update per step
        kernels.append(model.get_layer("logits").kernel.numpy())
        assert not np.array_equal(kernels[-1], before)
    moved = np.max(np.abs(kernels[0] - before))
    assert np.max(np.abs(kernels[1] - kernels[0])) < 0.02 * moved


@pytest.mark.slow
def test_log_steps_reports_every_n_updates_within_one_pass(tmp_path, librispeech_corpus, capsys):
    """--log-steps 1: on a split whose pass takes 2 updates, a report line, a history row and
    a checkpoint after every update (a pass that outlasts a budget still shows its curve)."""
    from speechmill.commands.train import main as train

    run = tmp_path / "run"
    args = [
        "--data",
        str(librispeech_corpus),
        "--run",
        str(run),
        "--steps",
        "3",
        "--log-steps",
        "1",
    ]
    assert train([*args, *TINY]) == 0
    out = capsys.readouterr().out
    assert all(f"step {n}/3: loss " in out for n in (1, 2, 3)), out
    rows = (run / "history.csv").read_text().splitlines()[1:]
    assert [int(r.split(",")[0]) for r in rows] == [0, 1, 2]
    assert json.loads((run / "state.json").read_text()) | {"loss": 0} == {
        "epochs": 3,
        "steps": 3,
        "loss": 0,
    }
