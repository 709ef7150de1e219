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


VERIFY_MODEL_ARGS = [
    *("--steps", "600", "--batch-size", "8", "--preset", "bigru", "--rnn-units", "96"),
    *("--learning-rate", "2e-3", "--warmup-steps", "0", "--decay", "constant"),
    *("--weight-decay", "0"),
]
REPO = Path(__file__).resolve().parent.parent


def verify_model_key() -> str:
    """What the verify model is a function of: every product module, the books, the test
    helpers that build its corpus, its training flags and the libraries that train it. Training
    is deterministic (one thread per op pool, deterministic kernels), so the same key gives
    the same model."""
    import hashlib
    from importlib import metadata

    digest = hashlib.sha256()
    folders = ("corpus", "augment", "train", "lm", "runtime", "pipelines", "speechmill")
    files = sorted(p for folder in folders for p in (REPO / folder).rglob("*.py"))
    files += sorted((REPO / "configs" / "books").glob("*.txt"))
    files += [REPO / "tests" / "support" / "jobs.py", Path(__file__)]
    for path in files:
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    for package in ("tensorflow", "keras", "numpy", "apache-beam"):
        digest.update(f"{package}=={metadata.version(package)}".encode())
    digest.update(" ".join(VERIFY_MODEL_ARGS).encode())
    return digest.hexdigest()[:16]


KEEP_VERIFY_MODELS = 3  # each is ~140 MB; every change to the product code makes another


def prune_verify_models(root: Path, keep: int) -> None:
    """Remove all but the ``keep`` newest trained verify models under ``root`` (older code's)."""
    import shutil

    done = sorted(root.glob("verify-model-*/done"), key=lambda p: p.stat().st_mtime)
    for marker in done[:-keep]:
        shutil.rmtree(marker.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def verify_model(tmp_path_factory) -> Path:
    """A small CTC model (600 steps) on the project's own books spoken by the voice the
    verification films use: good enough to tell a right cue from a wrong one (held-out
    sentences: CER about 0.14). Training ends by calibrating it for verify on the dev book
    (``calibration.json``). It is trained once per machine and code: kept under
    ``~/.cache/speechmill-tests`` (SPEECHMILL_TEST_CACHE) by ``verify_model_key``, which any
    change to the code, the books or the libraries changes (the three newest stay); each
    session gets a copy of the run folder (the corpus it names stays in the cache)."""
    import shutil

    from speechmill.commands.train import main as train

    root = Path(
        os.environ.get("SPEECHMILL_TEST_CACHE", Path.home() / ".cache" / "speechmill-tests")
    )
    cached = root / f"verify-model-{verify_model_key()}"
    if not (cached / "done").exists():
        shutil.rmtree(cached, ignore_errors=True)  # an earlier attempt that did not finish
        cached.mkdir(parents=True)
        verify_model_corpus(cached / "corpus")
        args = ["--data", str(cached / "corpus"), "--run", str(cached / "run")]
        assert train([*args, *VERIFY_MODEL_ARGS]) == 0
        (cached / "done").write_text("trained\n")
        prune_verify_models(root, keep=KEEP_VERIFY_MODELS)
    run = tmp_path_factory.mktemp("verify-model") / "run"
    shutil.copytree(cached / "run", run)
    return run
