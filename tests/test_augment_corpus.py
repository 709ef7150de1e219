"""`make augment`'s job: a corpus in, a corpus out with augmented train copies."""

from __future__ import annotations

import pytest
from support.jobs import IN_PROCESS, read_corpus


def augment(source, out, *args):
    from speechmill.commands.augment import run

    return run(["--input", str(source), "--output", str(out), *args, *IN_PROCESS])


def test_default_recipe_copies_train_only_and_records_the_recipe(tmp_path, librispeech_corpus):
    info = augment(librispeech_corpus, tmp_path / "a")
    assert info["augment"]["recipe"] == "speed=0.9,1.1;noise=5..20dB@0.5;pitch=-2..2@0.3"
    assert info["splits"]["train"]["examples"] == 6 * 3 and info["splits"]["dev"]["examples"] == 3
    originals = {r["id"]: r for r in read_corpus(librispeech_corpus, "train")}
    rows = read_corpus(tmp_path / "a", "train")
    for row in rows:
        base, _, suffix = row["id"].partition("~")
        source = originals[base]
        assert row["text"] == source["text"] and row["speaker"] == source["speaker"]
        if not suffix:
            assert (row["audio"] == source["audio"]).all() and row["augment"] == ""
            continue
        factor = float(suffix.split("+")[0][len("speed") :])
        assert row["augment"].startswith(f"speed={factor:g}")
        assert row["num_samples"] == pytest.approx(source["num_samples"] / factor, rel=0.01)
    dev_in, dev_out = read_corpus(librispeech_corpus, "dev"), read_corpus(tmp_path / "a", "dev")
    assert [r["id"] for r in dev_in] == [r["id"] for r in dev_out]
    assert all((a["audio"] == b["audio"]).all() for a, b in zip(dev_in, dev_out))

    again = augment(librispeech_corpus, tmp_path / "b")
    for name in info["splits"]["train"]["shards"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert again == {**info, "augment": {**info["augment"]}}


def test_a_fixed_effect_makes_exactly_one_copy(tmp_path, librispeech_corpus):
    info = augment(librispeech_corpus, tmp_path / "p", "--recipe", "pitch=2")
    rows = read_corpus(tmp_path / "p", "train")
    copies = [r for r in rows if "~" in r["id"]]
    assert len(copies) == 6 and info["splits"]["train"]["examples"] == 12
    assert {r["augment"] for r in copies} == {"pitch=2st"} and all(
        r["id"].endswith("~pitch2st") for r in copies
    )


def test_bad_recipe_is_refused_before_any_work(tmp_path, librispeech_corpus, capsys):
    from speechmill.commands.augment import main

    assert (
        main(
            [
                "--input",
                str(librispeech_corpus),
                "--output",
                str(tmp_path / "x"),
                "--recipe",
                "speed=5",
            ]
        )
        == 2
    )
    assert "speed=5 is outside 0.5..2" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_room_impulse_responses_and_noise_recordings_from_folders(tmp_path, librispeech_corpus):
    import numpy as np
    import soundfile

    from speechmill.augment.effects import EffectError

    rirs, noises = tmp_path / "rirs", tmp_path / "noises"
    rirs.mkdir()
    noises.mkdir()
    rir = np.zeros(4000, np.float32)
    rir[0], rir[1600], rir[3999] = 1.0, 0.5, 0.1  # 0.25 s long at 16 kHz
    soundfile.write(rirs / "room.wav", rir, 16000)
    soundfile.write(
        noises / "hum.flac", 0.1 * np.sin(np.arange(48000) / 48000 * 2 * np.pi * 50), 48000
    )
    augment(librispeech_corpus, tmp_path / "r", "--recipe", "reverb=0.5", "--rir-dir", str(rirs))
    originals = {r["id"]: r for r in read_corpus(librispeech_corpus, "train")}
    copies = [r for r in read_corpus(tmp_path / "r", "train") if "~" in r["id"]]
    assert len(copies) == 6
    for row in copies:  # the folder's 0.25 s response, not a synthetic one: exactly its tail longer
        assert row["num_samples"] == originals[row["id"].split("~")[0]]["num_samples"] + 4000 - 1

    # Noise copies draw from white/pink/brown/babble and the folder's recordings: some carry the 50 Hz hum.
    augment(
        librispeech_corpus,
        tmp_path / "n",
        "--recipe",
        "noise=0,1,2,3,4dB",
        "--noise-dir",
        str(noises),
    )
    hum_copies = 0
    for row in (r for r in read_corpus(tmp_path / "n", "train") if "~" in r["id"]):
        added = row["audio"] - originals[row["id"].split("~")[0]]["audio"]
        power = np.abs(np.fft.rfft(added)) ** 2
        hz = np.fft.rfftfreq(len(added), 1 / 16000)
        hum_copies += power[(hz > 45) & (hz < 55)].sum() > 0.9 * power.sum()
    assert hum_copies >= 1
    with pytest.raises(EffectError, match="no audio files"):
        augment(
            librispeech_corpus,
            tmp_path / "x",
            "--rir-dir",
            str(tmp_path / "empty-folder-that-is-missing"),
        )


def test_augmenting_a_corpus_into_itself_is_refused_in_one_line(
    tmp_path, librispeech_corpus, capsys
):
    import shutil

    from speechmill.commands.augment import main

    corpus = tmp_path / "corpus"
    shutil.copytree(librispeech_corpus, corpus)
    before = {p.name: p.read_bytes() for p in corpus.iterdir() if p.is_file()}
    assert (
        main(["--input", str(corpus), "--output", str(corpus) + "/", "--recipe", "speed=1.1"]) == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is the input corpus" in err[0]
    assert {p.name: p.read_bytes() for p in corpus.iterdir() if p.is_file()} == before


@pytest.mark.slow
def test_the_command_line_job_runs_on_worker_processes(tmp_path, librispeech_corpus):
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path / "aug"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "speechmill.cli",
            "augment",
            "--input",
            str(librispeech_corpus),
            "--output",
            str(out),
            "--recipe",
            "speed=1.1",
            "--direct_num_workers=2",
        ],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "speechmill: augmented corpus built" in done.stdout
    assert "speechmill: TFDS: tfds.builder_from_directory(" in done.stdout  # a TFDS dataset too
    assert (out / "dataset_info.json").exists() and (out / "features.json").exists()
    assert len([r for r in read_corpus(out, "train") if "~speed1.1" in r["id"]]) == 6
