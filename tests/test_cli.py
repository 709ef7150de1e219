"""The `speechmill` command: --help everywhere, a quiet console, live progress, one-line failures."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import with_corrupt_flac, write_config

REPO = Path(__file__).resolve().parent.parent
SPEECHMILL = str(Path(sys.executable).parent / "speechmill")
NOISE_WORDS = (
    "apitools",
    "semi_persistent_directory",
    "Discarding unparseable",
    "absl::InitializeLog",
    "cuInit",
    "oneDNN",
    "Traceback",
)


def speechmill(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SPEECHMILL, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


def test_every_command_has_help_with_every_default():
    from speechmill.cli import COMMANDS

    top = speechmill("--help")
    assert top.returncode == 0 and all(name in top.stdout for name in COMMANDS)
    for name in COMMANDS:
        done = speechmill(name, "--help")
        assert done.returncode == 0, (name, done.stderr)
        assert f"usage: speechmill {name}" in done.stdout
        options = [line for line in done.stdout.splitlines() if line.strip().startswith("--")]
        assert options and "(default:" in done.stdout, name


@pytest.fixture(scope="module")
def small_config(tmp_path_factory, librispeech) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    return write_config(
        folder / "c.toml", f'[[source]]\ntype = "librispeech"\npath = "{librispeech}"\n'
    )


def test_a_build_prints_its_summary_and_no_library_noise(tmp_path, small_config):
    done = speechmill("corpus", "--config", str(small_config), "--output", str(tmp_path / "corpus"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("speechmill: corpus built: dev 3 utt")
    assert not [w for w in NOISE_WORDS if w in done.stderr], done.stderr
    loud = speechmill(
        "--verbose",
        "corpus",
        "--config",
        str(small_config),
        "--output",
        str(tmp_path / "loud"),
        "--fresh",
    )
    assert loud.returncode == 0 and "apitools" in loud.stderr  # --verbose brings everything back


def test_a_terminal_gets_a_live_bar(tmp_path, small_config):
    log = (
        tmp_path / "tty.log"
    )  # `script` (Debian's bsdutils, installed by make) gives the job a terminal
    command = (
        f"{SPEECHMILL} corpus --config {small_config} --output {tmp_path / 'corpus'} --progress bar"
    )
    subprocess.run(
        ["script", "-qec", command, str(log)],
        cwd=REPO,
        capture_output=True,
        timeout=300,
        check=True,
    )
    screen = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", log.read_text(errors="replace")).replace(
        "\r", "\n"
    )
    bars = [line for line in screen.splitlines() if line.startswith("speechmill: corpus:")]
    assert bars and all(re.search(r"\d+/3 \[", line) for line in bars), (
        screen
    )  # 3 units: 2 chapters + 1
    assert any("utt" in line for line in bars) and "speechmill: corpus built" in screen


def test_plain_progress_lines_when_not_a_terminal(tmp_path):
    from speechmill.corpus.progress import JobProgress, describe

    notes = tmp_path / "progress"
    notes.mkdir()
    lines = tmp_path / "lines.txt"
    import speechmill.corpus.progress as progress

    with open(lines, "w") as f:
        progress.use_stderr_fd(f.fileno())
        try:
            with JobProgress(str(notes), 4, "corpus", mode="lines", interval=0.3):
                for i in range(3):
                    (notes / f"u{i}.json").write_text(
                        json.dumps({"utterances": 10, "seconds": 36.0, "rejects": i})
                    )
                    time.sleep(0.5)
        finally:
            progress.use_stderr_fd(None)
    text = lines.read_text()
    assert "speechmill: corpus: " in text and "/4 units" in text and "x realtime" in text
    assert (
        describe({"units": 2, "utterances": 20, "seconds": 7200.0, "rejects": 1}, 4, 10.0)
        == "2/4 units, 20 utt, 2.00 h, 720x realtime, ETA 0:10, 1 rejects"
    )


@pytest.fixture(scope="module")
def broken_librispeech(tmp_path_factory, librispeech) -> Path:
    return with_corrupt_flac(librispeech, tmp_path_factory.mktemp("broken"), "19-198-0001")


def test_failures_end_in_one_line_with_the_right_status(tmp_path, small_config, broken_librispeech):
    strict = write_config(
        tmp_path / "strict.toml",
        f'[[source]]\ntype = "librispeech"\npath = "{broken_librispeech}"\n',
        corpus="max_reject_fraction = 0.01",
    )
    built = tmp_path / "built"
    assert (
        speechmill("corpus", "--config", str(small_config), "--output", str(built)).returncode == 0
    )
    cases = [
        (["corpus", "--config", str(tmp_path / "missing.toml")], 2, "config file not found"),
        (
            ["corpus", "--config", str(strict), "--output", str(tmp_path / "o1")],
            1,
            "of the input was rejected",
        ),
        (
            ["augment", "--input", str(tmp_path / "nothing"), "--output", str(tmp_path / "o2")],
            2,
            "not a finished",
        ),
        (
            [
                "augment",
                "--input",
                str(built),
                "--output",
                str(tmp_path / "o3"),
                "--recipe",
                "speed=9",
            ],
            2,
            "speed=9",
        ),
        (
            ["train", "--data", str(tmp_path / "nothing"), "--run", str(tmp_path / "r")],
            2,
            "not a finished",
        ),
        (
            ["eval", "--model", str(tmp_path / "nothing"), "--data", str(built)],
            2,
            "not a training run",
        ),
        (
            ["transcribe", "--model", str(tmp_path / "nothing"), str(tmp_path / "a.wav")],
            2,
            "no exported model",
        ),
        (["report", str(tmp_path / "nothing")], 2, "neither a corpus"),
        (["inspect", str(built), "--id", "librispeech/no-such-id"], 2, "no record"),
    ]
    for args, status, words in cases:
        done = speechmill(*args)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == status and lines and words in lines[-1], (
            args,
            done.returncode,
            done.stderr,
        )
        assert lines[-1].startswith("speechmill:") and "Traceback" not in done.stderr
        assert all(line.startswith("speechmill: rejected ") for line in lines[:-1]), (
            lines
        )  # the ledger's lines


def test_a_busy_output_folder_is_one_line(tmp_path, small_config):
    from speechmill.corpus.workdir import output_lock

    with output_lock(str(tmp_path / "busy")):
        done = speechmill(
            "corpus", "--config", str(small_config), "--output", str(tmp_path / "busy")
        )
    assert done.returncode == 1 and done.stderr.strip().count("\n") == 0
    assert "is being written by another job" in done.stderr


def test_which_errors_are_one_line_and_which_are_bugs():
    from speechmill.cli import one_line
    from speechmill.corpus.config import ConfigError
    from speechmill.corpus.shards import TooManyRejects

    assert one_line(
        OSError(errno.ENOSPC, "No space left on device", "/data/out/train-00000.tfrecord")
    ) == ("speechmill: the disk is full writing /data/out/train-00000.tfrecord", 1)
    assert (
        one_line(
            RuntimeError(
                "Traceback ...\nOSError: [Errno 28] No space left on device [while running 'x']"
            )
        )[1]
        == 1
    )
    assert one_line(ConfigError("[corpus] seed must be a whole number")) == (
        "speechmill: config error: [corpus] seed must be a whole number",
        2,
    )
    wrapped = RuntimeError(
        "Traceback (most recent call last):\n  ...\ncorpus.shards.TooManyRejects: speechmill: 40% "
        "of the input was rejected [while running 'Write corpus/Publish']"
    )
    assert one_line(wrapped) == ("speechmill: 40% of the input was rejected", 1)
    assert one_line(TooManyRejects("speechmill: 40% of the input was rejected"))[1] == 1
    assert (
        one_line(KeyError("train")) is None and one_line(ZeroDivisionError()) is None
    )  # bugs keep tracebacks


def test_inspect_prints_records_and_writes_them_as_wav(tmp_path, librispeech_corpus):
    import numpy as np
    import soundfile

    from speechmill.corpus.reader import load_info, utterances

    done = speechmill(
        "inspect", str(librispeech_corpus), "--split", "dev", "-n", "2", "--dump-wav", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    first = next(utterances(str(librispeech_corpus), load_info(str(librispeech_corpus)), "dev"))
    assert f"[dev] {first.id}\t{first.speaker}\t" in done.stdout and first.text in done.stdout
    wavs = sorted(tmp_path.glob("*.wav"))
    assert len(wavs) == 2
    audio, rate = soundfile.read(wavs[0], dtype="int16")
    assert rate == 16000 and np.array_equal(audio, first.audio)
    assert os.path.getsize(wavs[0]) > 44
