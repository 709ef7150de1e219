"""The `speechmill` command: --help everywhere, a quiet console, live progress, one-line failures."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.jobs import write_config
from support.speech import with_corrupt_flac

from speechmill.corpus.schema import ALPHABET

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


# What a user reads in each command's --help: defaults they rely on, typed here from the docs
# (README, docs/*.md), and the one name per concept: a corpus is --input (--data still works),
# a trained run is --model (--run still works).
HELP_SAYS = {
    "corpus": ["(default: configs/default.toml)", "(default: build/corpus)", "--dask DASK"],
    "augment": ["--input INPUT, --data INPUT", "(default: speed=0.9,1.1;noise=5..20dB@0.5;"],
    "measure": ["--input INPUT, --data INPUT", "(default: all of them)"],
    "verify": ["--input INPUT, --data INPUT", "--model MODEL, --run MODEL", "(default: 0.15)"],
    "export": ["{hf,nemo,lhotse,tfds}", "--input INPUT, --data INPUT", "lhotse:"],
    "train": ["--input INPUT, --data INPUT", "--model MODEL, --run MODEL", "small: 8"],
    "eval": ["--input INPUT, --data INPUT", "--model MODEL, --run MODEL", "(default: dev,test)"],
    "lm": ["--input INPUT, --data INPUT", "(default: 3)"],
    "transcribe": ["--model MODEL, --run MODEL", "(default: auto)"],
    "listen": ["--model MODEL, --run MODEL", "(default: 0.5)", "(default: 15.0)"],
    "report": ["-o OUTPUT, --output OUTPUT", "(default: 12)"],
    "inspect": ["(default: 5)", "--dump-wav DIR"],
    "describe": ["corpus"],
}


def test_every_command_has_help_that_names_its_defaults(capsys):
    """`speechmill --help` lists every command with its one line; `speechmill COMMAND --help`
    starts with the same line, shows the defaults a user relies on, never a meaningless
    "(default: None)" or "(default: False)", and `--version` names the installed version."""
    from importlib import metadata

    from speechmill.cli import COMMANDS, main

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"speechmill {metadata.version('speechmill')}"
    with pytest.raises(SystemExit):
        main(["--help"])
    top = capsys.readouterr().out
    assert set(HELP_SAYS) == set(COMMANDS)
    for name, says in HELP_SAYS.items():
        line = COMMANDS[name][1]
        assert f"{name:<11} {line}" in top, name
        with pytest.raises(SystemExit) as done:
            main([name, "--help"])
        text = " ".join(capsys.readouterr().out.split())  # argparse wraps at the terminal width
        assert done.value.code == 0 and text.startswith(f"usage: speechmill {name}"), name
        assert f"{line[0].upper()}{line[1:]}." in text, name  # one description, said once
        assert "(default: None)" not in text and "(default: False)" not in text, name
        for said in says:
            assert said in text, (name, said)


@pytest.fixture(scope="module")
def small_config(tmp_path_factory, librispeech) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    return write_config(
        folder / "c.toml", f'[[source]]\ntype = "librispeech"\npath = "{librispeech}"\n'
    )


@pytest.mark.slow
def test_the_launcher_of_a_build_never_imports_tensorflow(tmp_path, small_config):
    """The TFDS files are plain JSON: a build's launcher (the speechmill process) writes them
    without TensorFlow's import (about 4 s) or its memory (about 600 MB)."""
    import sys

    probe = (
        "import sys\n"
        "from speechmill.cli import main\n"
        f"rc = main(['corpus', '--config', {str(small_config)!r}, '--output', "
        f"{str(tmp_path / 'corpus')!r}])\n"
        "print(rc, 'tensorflow' in sys.modules, 'tensorflow_datasets' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.stdout.strip().splitlines()[-1] == "0 False False", done.stderr
    assert (tmp_path / "corpus" / "dataset_info.json").exists()


@pytest.mark.slow
def test_a_build_prints_its_summary_and_no_library_noise(tmp_path, small_config):
    done = speechmill("corpus", "--config", str(small_config), "--output", str(tmp_path / "corpus"))
    assert done.returncode == 0, done.stderr
    line, tfds_line = done.stdout.strip().splitlines()
    assert re.fullmatch(
        r"speechmill: corpus built: dev 3 utt / \d+\.\d s in 1 shard\(s\), train 6 utt / \d+\.\d s in 1 shard\(s\); "
        r"rejects 0",
        line,
    ), line  # a tiny corpus in seconds, not "0.00 h"; no Python dict in the line
    # the folder is a TFDS dataset too (tests/test_export.py loads one)
    corpus = str(tmp_path / "corpus")
    assert (
        tfds_line
        == f"speechmill: TFDS: tfds.builder_from_directory({corpus!r}).as_dataset(split='train')"
    )
    assert (tmp_path / "corpus" / "dataset_info.json").exists()
    assert not [w for w in NOISE_WORDS if w in done.stderr], done.stderr
    again = speechmill(
        "corpus", "--config", str(small_config), "--output", str(tmp_path / "corpus"), "--json"
    )
    assert again.returncode == 0 and json.loads(again.stdout) == json.loads(
        (tmp_path / "corpus" / "info.json").read_text()
    )
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


@pytest.mark.slow  # a whole build under a pseudo-terminal: about 13 s
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
    # 3 units: 2 chapters + 1; the workers find the chapters, so the bar learns the total as
    # they announce it: every bar that shows a total shows 3, and the last one 3 of 3
    totals = [m[1] for line in bars if (m := re.search(r"\d+/(\d+) \[", line))]
    assert bars and totals and set(totals) == {"3"}, screen
    assert re.search(r"3/3 \[", bars[-1]), screen
    assert any("utt" in line for line in bars) and "speechmill: corpus built" in screen


def test_plain_progress_lines_when_not_a_terminal(tmp_path):
    from speechmill.console.progress import JobProgress, describe

    notes = tmp_path / "progress"
    notes.mkdir()
    lines = tmp_path / "lines.txt"
    import speechmill.console.progress as progress

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


@pytest.mark.slow
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
    fake_run = tmp_path / "run"
    fake_run.mkdir()
    (fake_run / "config.json").write_text(json.dumps({"sample_rate": 16000, "alphabet": ALPHABET}))
    train_only = tmp_path / "train-only"
    shutil.copytree(built, train_only)
    info = json.loads((train_only / "info.json").read_text())
    del info["splits"]["dev"]
    (train_only / "info.json").write_text(json.dumps(info))
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
            ["transcribe", "--model", str(tmp_path / "nothing"), str(strict)],
            2,
            "no exported model",
        ),
        (
            ["transcribe", "--model", str(tmp_path / "nothing"), str(tmp_path / "a.wav")],
            2,
            "a.wav: no such file or folder",
        ),
        (
            ["eval", "--model", str(fake_run), "--data", str(train_only)],
            2,
            "no dev or test split to evaluate on; it has train",
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
        progress = re.compile(r"speechmill: \w+: \d+(/\d+)? units, ")  # every 10 s, off a terminal
        assert all(
            line.startswith("speechmill: rejected ") or progress.match(line) for line in lines[:-1]
        ), lines  # the ledger's lines (and, on a slow machine, the job's progress lines)


NO_TENSORFLOW = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {"tensorflow", "keras"}:
            raise ImportError(f"{name} is blocked in this test")
sys.meta_path.insert(0, Block())
from speechmill.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize(
    "argv, status, said",
    [
        (["train", "--help"], 0, "--preset"),
        (["eval", "--help"], 0, "--beam"),
        (["train", "--data", "{tmp}/none", "--run", "{tmp}/run"], 2, "not a finished"),
        (["eval", "--model", "{tmp}/none", "--data", "{tmp}/none"], 2, "not a training run"),
    ],
)
def test_help_and_wrong_inputs_of_train_and_eval_answer_before_tensorflow_loads(
    tmp_path, argv, status, said
):
    """TensorFlow takes seconds to import: a user asking for help or naming a wrong folder
    gets the answer without it (a blocked import would fail the command)."""
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    done = subprocess.run(
        [sys.executable, "-c", NO_TENSORFLOW, *argv], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == status, done.stderr[-2000:]
    assert said in done.stdout + done.stderr
    assert "blocked" not in done.stdout + done.stderr


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
        "inspect",
        str(librispeech_corpus),
        "--splits",
        "dev",
        "-n",
        "2",
        "--dump-wav",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    first = next(utterances(str(librispeech_corpus), load_info(str(librispeech_corpus)), "dev"))
    assert f"[dev] {first.id}\t{first.speaker}\t" in done.stdout and first.text in done.stdout
    wavs = sorted(tmp_path.glob("*.wav"))
    assert len(wavs) == 2
    audio, rate = soundfile.read(wavs[0], dtype="int16")
    assert rate == 16000 and np.array_equal(audio, first.audio)
    assert os.path.getsize(wavs[0]) > 44
    for suffix in (".txt", ".lab"):  # the transcript beside each WAV, as aligners read it
        assert wavs[0].with_suffix(suffix).read_text() == first.text + "\n"


def test_inspect_counts_pipes_and_old_flags(librispeech_corpus):
    """`--samples 0` shows no record, `inspect | head` ends quietly, `--split` still works."""
    none = speechmill("inspect", str(librispeech_corpus), "--samples", "0")
    assert none.returncode == 0 and "[dev]" not in none.stdout and "[train]" not in none.stdout
    old = speechmill("inspect", str(librispeech_corpus), "--split", "dev", "-n", "1")
    assert old.returncode == 0 and old.stdout.count("[dev]") == 1 and "[train]" not in old.stdout
    assert "--split is deprecated; use --splits" in old.stderr
    piped = subprocess.run(
        f"{SPEECHMILL} inspect {librispeech_corpus} --samples 50 | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
    )
    assert piped.returncode == 0 and piped.stderr == "", piped.stderr
    assert len(piped.stdout.splitlines()) == 1


def test_library_notices_do_not_reach_the_quiet_console(tmp_path):
    """mpg123's resync notes on a damaged MP3, KenLM's banner and progress bar on an ARPA file
    and LiteRT's XNNPACK line are dropped by the console filter; a real line still shows."""
    import numpy as np
    import soundfile

    mp3 = tmp_path / "damaged.mp3"
    soundfile.write(mp3, (np.random.default_rng(0).normal(0, 3000, 48000)).astype(np.int16), 16000)
    data = bytearray(mp3.read_bytes())
    for i in range(2000, len(data), 700):
        data[i : i + 40] = b"\xff\xfb" * 20
    mp3.write_bytes(bytes(data))
    arpa = tmp_path / "lm.arpa"
    arpa.write_text(
        "\\data\\\nngram 1=3\nngram 2=1\n\n\\1-grams:\n-1.0\t<s>\t-0.3\n-1.0\t</s>\n-0.5\tlamp\t-0.3\n"
        "\n\\2-grams:\n-0.2\t<s> lamp\n\n\\end\\\n"
    )
    script = f"""
import os, soundfile, kenlm
from speechmill.console.quiet import filtered_stderr
with filtered_stderr():
    soundfile.read({str(mp3)!r})
    kenlm.Model({str(arpa)!r})
    os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n")
    os.write(2, b"speechmill: a line the user needs\\n")
"""
    bare = subprocess.run(
        [sys.executable, "-c", script.replace("with filtered_stderr():", "if True:")],
        capture_output=True,
        text=True,
    )
    assert "Illegal Audio-MPEG-Header" in bare.stderr and "Loading the LM" in bare.stderr
    quiet = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr.strip() == "speechmill: a line the user needs", quiet.stderr
