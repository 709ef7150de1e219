"""Training beyond one device: MirroredStrategy on two logical CPUs, MultiWorkerMirroredStrategy
on two worker processes on 127.0.0.1 (kill one, restart, resume), the input each worker reads,
and how the reader mixes units into batches."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import tensorflow as tf
from support.training import TINY

from speechmill.corpus.schema import (
    ALPHABET,
    SCHEMA_VERSION,
    Utterance,
    dumps_info,
    encode_utterance,
)

ROOT = Path(__file__).resolve().parent.parent
# the random layers off: one device and several must draw nothing different to be compared
EXACT = [
    *TINY,  # the tiny Conformer, batch 4
    *("--dropout", "0", "--freq-warp", "0", "--freq-masks", "0", "--time-masks", "0"),
    "--no-augment",
    *("--learning-rate", "2e-3", "--warmup-steps", "2", "--decay", "constant"),
]


@pytest.mark.slow
def test_one_device_and_two_give_the_same_loss_gradients_and_weights(tmp_path, sharded_corpus):
    """The CPU split into two logical devices (a fresh process: tests/replicas.py): the same
    global batch gives the same loss and gradients on one device and on two, evenly split or
    not; ``fit`` with gradient accumulation reaches the same weights, updates and learning
    rate; the two-device checkpoint loads and predicts the same on one device."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "replicas.py"), str(sharded_corpus), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["replicas"] == 2 and found["global_batch"] == 4
    assert found["even"]["per_replica"] == [2, 2]  # each replica: half the global batch
    assert found["uneven"]["per_replica"] == [2, 1]
    for case in ("even", "uneven"):
        one, two = found[case]["loss"]
        assert two == pytest.approx(one, rel=1e-5), case  # the mean over the global batch
        # gradients agree to 1e-5 of the largest (float32 sums in another order)
        assert found[case]["gradient_max_diff"] <= 1e-5 * found[case]["gradient_max_abs"], case
    fit = found["fit"]
    # 6 updates of 2 accumulated batches each, on the same schedule (warm-up 2, rsqrt decay)
    assert fit["one"]["iterations"] == fit["two"]["iterations"] == 6
    assert fit["one"]["steps"] == fit["two"]["steps"] == 6
    assert fit["two"]["learning_rate"] == pytest.approx(fit["one"]["learning_rate"], rel=1e-6)
    # the schedule's rate for the 7th update (WarmupDecay counts from 1): peak x sqrt(2 / 7)
    assert fit["one"]["learning_rate"] == pytest.approx(2e-3 * (2 / 7) ** 0.5, rel=1e-5)
    # the weights moved, and moved the same: the difference is under 2 % of the change
    assert fit["weight_max_change"] > 1e-3
    assert fit["weight_max_diff"] < 0.02 * fit["weight_max_change"]
    assert found["checkpoint_max_diff"] < 1e-6 and found["loaded_on"].endswith("CPU:0")


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start_workers(corpus: Path, run: Path, steps: int, workers: str, log: str) -> list:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return [
        subprocess.Popen(
            [sys.executable, "-m", "speechmill.cli", "train", "--data", str(corpus), "--run",
             str(run), "--steps", str(steps), "--workers", workers, "--task", str(task), *EXACT],
            stdout=open(run.parent / f"{log}-{task}.out", "w"),
            stderr=subprocess.STDOUT,
            env=env,
        )
        for task in (0, 1)
    ]  # fmt: skip


def finish(workers: list, timeout: float = 240) -> list[int]:
    deadline = time.time() + timeout
    codes = []
    for worker in workers:
        try:
            codes.append(worker.wait(max(1, deadline - time.time())))
        except subprocess.TimeoutExpired:
            worker.kill()
            raise
    return codes


def weights_in(path: Path) -> dict[str, np.ndarray]:
    """Every array of a Keras weights file (.weights.h5), or of the model in a .keras zip."""
    if path.suffix == ".keras":
        import zipfile

        with zipfile.ZipFile(path) as z:
            (path.parent / "unzipped.weights.h5").write_bytes(z.read("model.weights.h5"))
        path = path.parent / "unzipped.weights.h5"
    found: dict[str, np.ndarray] = {}
    with h5py.File(path) as f:
        f.visititems(
            lambda name, item: (
                found.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset) else None
            )
        )
    return found


def single_process_reference(corpus: Path, steps: int, folder: Path) -> tuple[dict, dict]:
    """What one process reaches on the same global batches: each step the two workers'
    batches together (the same seed, model, schedule); its weights by name before and after."""
    import keras

    from speechmill.train.data import batches
    from speechmill.train.model import build_model, config_for
    from speechmill.train.optim import make_optimizer

    keras.utils.set_random_seed(0)  # as fit does before it reads (shuffles use both seeds)
    per_worker = [
        batches(str(corpus), "train", batch_size=2, shuffle=True, seed=0, repeat=True,
                workers=2, worker=i)
        for i in (0, 1)
    ]  # fmt: skip

    def together(a, b):
        width = tf.maximum(tf.shape(a[0]["audio"])[1], tf.shape(b[0]["audio"])[1])

        def pad(audio):
            return tf.pad(audio, [[0, 0], [0, width - tf.shape(audio)[1]]])

        x = {
            "audio": tf.concat([pad(a[0]["audio"]), pad(b[0]["audio"])], 0),
            "audio_length": tf.concat([a[0]["audio_length"], b[0]["audio_length"]], 0),
        }
        y = {k: tf.concat([a[1][k], b[1][k]], 0) for k in a[1]}
        return x, y

    data = tf.data.Dataset.zip(tuple(per_worker)).map(together)
    keras.utils.set_random_seed(0)
    sizes = dict(d_model=32, heads=2, layers=1, kernel_size=7, conv_channels=8, dropout=0.0)
    model = build_model(
        config_for("small", **sizes, freq_warp=0.0, freq_masks=0, time_masks=0), seed=0
    )
    model.compile(optimizer=make_optimizer(2e-3, 2, "constant"), jit_compile=False)
    model.save_weights(str(folder / "start.weights.h5"))
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    model.save_weights(str(folder / "end.weights.h5"))
    return weights_in(folder / "start.weights.h5"), weights_in(folder / "end.weights.h5")


@pytest.mark.slow
def test_two_workers_train_as_one_and_a_killed_worker_resumes(tmp_path, sharded_corpus):
    """Two worker processes on 127.0.0.1 (MultiWorkerMirroredStrategy, CPU): both finish with
    identical weights, only the chief writes the run, and its checkpoint is what one process
    reaches on the same global batches; re-run with a larger budget and one worker killed
    mid-run, the other stops with one line, and both restarted continue from their backups."""
    run = tmp_path / "run"
    workers = ",".join(f"127.0.0.1:{p}" for p in free_ports(2))
    assert finish(start_workers(sharded_corpus, run, 8, workers, "first")) == [0, 0]
    chief = (tmp_path / "first-0.out").read_text()
    other = (tmp_path / "first-1.out").read_text()
    assert "2 workers, 2 replicas (MultiWorkerMirroredStrategy)" in chief
    assert f"speechmill: trained {run}: 4 epochs, 8 steps" in chief
    assert "worker 1 of 2 done: 8 steps" in other and "step 8/8" not in other  # one story
    backups = [weights_in(run / "backup" / f"worker-{i}" / "latest.weights.h5") for i in (0, 1)]
    assert backups[0].keys() == backups[1].keys() and len(backups[0]) > 20
    for name in backups[0]:  # the same weights and optimizer state, bit for bit
        assert np.array_equal(backups[0][name], backups[1][name]), name
    saved = weights_in(run / "model.keras")
    layers = sorted(name for name in saved if name.startswith("layers/"))
    assert all(np.array_equal(saved[n], backups[0][n]) for n in layers)  # its last epoch
    start, reference = single_process_reference(sharded_corpus, 8, tmp_path)
    assert set(layers) <= set(reference)
    moved = max(float(np.max(np.abs(reference[n] - start[n]))) for n in layers)
    differs = max(float(np.max(np.abs(saved[n] - reference[n]))) for n in layers)
    assert moved > 1e-3 and differs < 0.02 * moved, (moved, differs)  # the same run
    for name in ("history.csv", "model.keras", "export/model.tflite", "eval.json"):
        assert (run / name).exists(), name

    # a larger budget: both continue from their backups; kill worker 1 after two more epochs
    started = start_workers(sharded_corpus, run, 24, workers, "second")
    metadata = run / "backup" / "worker-1" / "training_metadata.json"
    deadline = time.time() + 180
    while time.time() < deadline:
        if metadata.exists() and json.loads(metadata.read_text() or "{}").get("epoch", 0) >= 6:
            break
        time.sleep(0.05)
    started[1].send_signal(signal.SIGKILL)
    code = started[0].wait(120)
    started[1].wait(10)
    said = (tmp_path / "second-0.out").read_text()
    assert "worker restored from" in said and "(epoch 4, step 8)" in said
    assert code == 1
    lines = [line for line in said.splitlines() if "a worker is gone" in line]
    assert len(lines) == 1 and "start every worker again with the same command" in lines[0]
    assert "Traceback" not in said
    epoch_then = json.loads(metadata.read_text())["epoch"]
    assert epoch_then >= 6

    assert finish(start_workers(sharded_corpus, run, 24, workers, "third")) == [0, 0]
    for task in (0, 1):
        out = (tmp_path / f"third-{task}.out").read_text()
        restored = [line for line in out.splitlines() if "worker restored from" in line]
        assert len(restored) == 1 and f"worker-{task}" in restored[0], out[-2000:]
        epoch = int(restored[0].split("(epoch ")[1].split(",")[0])
        assert epoch >= epoch_then  # from the backup, not from the start
    assert "step 24/24" in (tmp_path / "third-0.out").read_text()
    assert "worker 1 of 2 done: 24 steps" in (tmp_path / "third-1.out").read_text()
    finals = [weights_in(run / "backup" / f"worker-{i}" / "latest.weights.h5") for i in (0, 1)]
    for name in finals[0]:
        assert np.array_equal(finals[0][name], finals[1][name]), name
    epochs = [int(r.split(",")[0]) for r in (run / "history.csv").read_text().splitlines()[1:]]
    assert epochs == sorted(set(epochs)) and epochs[-1] == 11  # one history, 12 epochs


def test_a_cluster_that_cannot_train_is_one_line(tmp_path, librispeech_corpus, capsys):
    """Before any worker waits for another: a split with fewer shard files than workers, a
    global batch the workers cannot share, a bad --workers/--task and a TF_CONFIG that is not
    a worker cluster each end in one line, exit status 2."""
    from speechmill.commands.train import main as train

    base = ["--data", str(librispeech_corpus), "--run", str(tmp_path / "run"), "--steps", "1"]
    cases = [
        (["--workers", "127.0.0.1:1,127.0.0.1:2", "--task", "0"], "split train has 1 shard files for 2 workers"),
        (
            ["--workers", "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3", "--task", "0", "--batch-size", "4"],
            "does not split evenly over 3 workers",
        ),
        (["--workers", "127.0.0.1:1,127.0.0.1:2", "--task", "2"], "--task 2 is not one of the 2 workers"),
        (["--workers", "127.0.0.1,127.0.0.1:2", "--task", "0"], "'127.0.0.1' is not host:port"),
    ]  # fmt: skip
    for extra, expected in cases:
        assert train([*base, *extra]) == 2, extra
        err = capsys.readouterr().err
        assert expected in err and len(err.strip().splitlines()) == 1, err
    for config, expected in (
        ("{not json", "TF_CONFIG is not a worker cluster"),
        (
            '{"cluster": {"chief": ["a:1"], "worker": ["b:2"]}, "task": {"type": "chief", "index": 0}}',
            "trains on workers only",
        ),
    ):  # fmt: skip
        os.environ["TF_CONFIG"] = config
        try:
            assert train(base) == 2
        finally:
            del os.environ["TF_CONFIG"]
        err = capsys.readouterr().err
        assert expected in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "run").exists()  # refused before anything was written


def many_unit_corpus(folder: Path, units: int = 64, per_unit: int = 64) -> dict:
    """A corpus as a build writes one from many units: each shard holds one speaker's run of
    records (as a unit's records stay together), 3/4 of the units from source ``a``."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    shards = []
    for unit in range(units):
        source = "b" if unit % 4 == 3 else "a"
        name = f"train-{unit:05d}-of-{units:05d}.tfrecord"
        with tf.io.TFRecordWriter(str(folder / name)) as writer:
            for i in range(per_unit):
                utt = Utterance(
                    id=f"{source}/s{unit:02d}-{i}",
                    source=source,
                    speaker=f"{source}/s{unit:02d}",
                    group=f"{source}/s{unit:02d}",
                    text="cat",
                    text_raw="cat",
                    audio=(rng.standard_normal(4000) * 1000).astype(np.int16),
                )
                writer.write(encode_utterance(utt))
        shards.append(name)
    info = {
        "schema_version": SCHEMA_VERSION,
        "sample_rate": 16000,
        "alphabet": ALPHABET,
        "splits": {"train": {"examples": units * per_unit, "hours": 0.1, "shards": shards}},
        "rejects": {"total": 0, "by_reason": {}, "ledger": []},
    }
    (folder / "info.json").write_text(dumps_info(info))
    return info


def test_training_batches_mix_units_and_sources_as_the_split_does(tmp_path):
    """On a corpus of 64 units of 64 records (a speaker each, records kept together in a
    shard, more records than the shuffle buffer holds) the training reader interleaves as many
    shards as it needs and shuffles across them: a batch of 16 holds about as many speakers as
    16 random draws from the split would (14.2 on average), where 4 interleaved shards gave 9.5
    (at least 6), and each source's share of batches is its share of the split (a quarter for
    ``b``; with 4 shards 0.19)."""
    from speechmill.train.data import batches

    corpus = tmp_path / "corpus"
    many_unit_corpus(corpus)
    speakers, shares = [], []
    data = batches(str(corpus), "train", batch_size=16, shuffle=True, seed=3, repeat=True,
                   keep_meta=True)  # fmt: skip
    for x, _ in data.take(40):
        ids = [i.decode() for i in x["id"].numpy()]
        speakers.append(len({i.split("-")[0] for i in ids}))
        shares.append(sum(i.startswith("b/") for i in ids) / len(ids))
    assert np.mean(speakers) >= 13, speakers
    assert min(speakers) >= 10, speakers
    assert abs(np.mean(shares) - 0.25) < 0.05 and np.mean(np.abs(np.array(shares) - 0.25)) < 0.12
