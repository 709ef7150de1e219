"""The exports, loaded by the real libraries of the stacks they are for (the ``interop`` group).

lhotse needs torch, which the project's own environment does not carry: ``make test`` keeps a
second environment, ``.venv-interop`` (torch 2.13.0 CPU, lhotse, urllib3), and these tests run a
script inside it (tests/interop/). A machine where that environment could not be installed
fails here with one line saying what is missing; nothing is skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from support.jobs import IN_PROCESS

from speechmill.corpus.reader import load_info, utterances

REPO = Path(__file__).resolve().parent.parent
INTEROP = Path(os.environ.get("SPEECHMILL_INTEROP_VENV", REPO / ".venv-interop"))

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def interop_python() -> Path:
    python = INTEROP / "bin" / "python"
    failed = INTEROP / "FAILED"
    if failed.exists():
        pytest.fail(f"interop: {failed.read_text().strip()}", pytrace=False)
    if not python.exists():
        pytest.fail(
            f"interop: {INTEROP} is missing: `make interop` installs torch 2.13.0 (CPU) and "
            "lhotse into it (make test does it first)",
            pytrace=False,
        )
    return python


def read_elsewhere(python: Path, script: str, tmp_path: Path, *args: str):
    """What a tests/interop/ script printed (JSON), run by the interop environment from a
    working folder unrelated to the export."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        [str(python), str(REPO / "tests" / "interop" / script), *args],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_lhotse_loads_the_export_from_another_folder_through_the_printed_line(
    interop_python, sharded_corpus, tmp_path, capsys
):
    """`speechmill export --format lhotse`, then, from an unrelated working folder, lhotse
    itself: the printed load line, `validate` reading every file, `load_audio` of every cut,
    and a sampler + K2SpeechRecognitionDataset batch. Every utterance's samples, text and
    speaker are those the corpus reader reads from the shards."""
    from speechmill.commands.export import main as export

    out = tmp_path / "export"
    assert (
        export(
            [
                "--format",
                "lhotse",
                "--input",
                str(sharded_corpus),
                "--output",
                str(out),
                *IN_PROCESS,
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    hint = printed.split(" -> ", 1)[1]
    lhotse_read = read_elsewhere(interop_python, "check_lhotse.py", tmp_path, str(out), hint)

    info = load_info(str(sharded_corpus))
    assert set(lhotse_read["splits"]) == set(info["splits"])
    for split in info["splits"]:
        ours = {
            u.id: {
                "text": u.text,
                "speaker": u.speaker,
                "samples": int(u.audio.size),
                "sha1": hashlib.sha1(u.audio.tobytes()).hexdigest(),
            }
            for u in utterances(str(sharded_corpus), info, split)
        }
        theirs = {
            k: {f: v[f] for f in ("text", "speaker", "samples", "sha1")}
            for k, v in lhotse_read["splits"][split].items()
        }
        assert theirs == ours, split
        for row in lhotse_read["splits"][split].values():
            assert row["duration"] == pytest.approx(row["samples"] / info["sample_rate"], abs=1e-6)
    assert lhotse_read["hint_cuts"] == info["splits"]["train"]["examples"]
    batch = lhotse_read["batch"]
    train = lhotse_read["splits"]["train"]
    assert batch["ids"] and batch["texts"] == [train[i]["text"] for i in batch["ids"]]
    assert batch["inputs"][0] == len(batch["ids"])
    assert batch["inputs"][1] == max(train[i]["samples"] for i in batch["ids"])


def test_nemos_own_manifest_reader_finds_every_utterance_of_the_export(
    interop_python, sharded_corpus, tmp_path
):
    """`speechmill export --format nemo`, read by NeMo's manifest reader (item_iter) from an
    unrelated working folder: every line resolves to a FLAC file whose samples, text and
    duration are the corpus's."""
    from speechmill.commands.export import main as export

    out = tmp_path / "export"
    args = ["--format", "nemo", "--input", str(sharded_corpus), "--output", str(out)]
    assert export([*args, *IN_PROCESS]) == 0
    nemo_read = read_elsewhere(interop_python, "check_nemo.py", tmp_path, str(out))
    info = load_info(str(sharded_corpus))
    assert set(nemo_read) == set(info["splits"])
    for split in info["splits"]:
        ours = sorted(
            (u.text, int(u.audio.size), hashlib.sha1(u.audio.tobytes()).hexdigest())
            for u in utterances(str(sharded_corpus), info, split)
        )
        rows = nemo_read[split].values()
        theirs = sorted((r["text"], r["samples"], r["sha1"]) for r in rows)
        assert theirs == ours, split
        assert all(r["duration"] == pytest.approx(r["samples"] / r["rate"]) for r in rows)
        assert all(Path(f).is_absolute() for f in nemo_read[split])  # resolved by NeMo
