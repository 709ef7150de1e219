"""Shared fixtures: small corpora made on the spot with espeak-ng, and a build helper."""

from __future__ import annotations

import os
from pathlib import Path

# Training in the tests is reproducible: one thread per TensorFlow op pool and deterministic
# kernels, so the session's trained model (and every verdict made with it) is the same on
# every run and under pytest-xdist (each worker is one process on its own core anyway).
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")

import pytest
from support.jobs import build, verify_model_corpus, write_config
from support.site import serving
from support.speech import write_librispeech

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def librispeech(tmp_path_factory) -> Path:
    """A clean LibriSpeech-layout folder: 9 utterances, 3 speakers, dev-clean + train-clean-100."""
    return write_librispeech(tmp_path_factory.mktemp("ls"))


@pytest.fixture
def loopback_site():
    """A LoopbackSite running for one test."""
    with serving() as site:
        yield site


@pytest.fixture(scope="session")
def librispeech_corpus(tmp_path_factory, librispeech) -> Path:
    """The `librispeech` folder built into a corpus (dev 3, train 6 utterances)."""
    folder = tmp_path_factory.mktemp("built")
    config = write_config(
        folder / "c.toml", f'[[source]]\ntype = "librispeech"\npath = "{librispeech}"\n'
    )
    build(config, folder / "corpus")
    return folder / "corpus"


@pytest.fixture(scope="session")
def sharded_corpus(tmp_path_factory, librispeech) -> Path:
    """The `librispeech` folder built into a corpus of many small shards (train: 6 utterances
    in 5 shards, dev: 3 in 2), so that two workers each read shards of their own."""
    folder = tmp_path_factory.mktemp("sharded")
    config = write_config(
        folder / "c.toml",
        f'[[source]]\ntype = "librispeech"\npath = "{librispeech}"\n',
        corpus="shard_mb = 0.001",
    )
    build(config, folder / "corpus")
    return folder / "corpus"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (`make test` runs two workers), the tests of the session's trained
    model run on one worker, so the model is trained once."""
    for item in items:
        if "verify_model" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("trained-model"))


@pytest.fixture(scope="session")
def verify_model(tmp_path_factory) -> Path:
    """A small CTC model trained once per test session (600 steps, about 3 minutes on 2 cores) on the project's own
    books spoken by the voice the verification films use: good enough to tell a right cue from a
    wrong one (held-out sentences: CER about 0.14). Training ends by calibrating it for verify
    on the dev book (``calibration.json``)."""
    from speechmill.commands.train import main as train

    folder = tmp_path_factory.mktemp("verify-model")
    verify_model_corpus(folder / "corpus")
    run = folder / "run"
    assert (
        train(
            [
                "--data",
                str(folder / "corpus"),
                "--run",
                str(run),
                "--steps",
                "600",
                "--batch-size",
                "8",
                "--preset",
                "bigru",
                "--rnn-units",
                "96",
                "--learning-rate",
                "2e-3",
                "--warmup-steps",
                "0",
                "--decay",
                "constant",
                "--weight-decay",
                "0",
            ]
        )
        == 0
    )
    return run
