"""A folder of one's own recordings: speakers from folder levels, any audio format, what is
missing goes to the ledger."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.jobs import build, read_corpus, read_ledger, write_config
from support.speech import speak, write_audio

from speechmill.corpus.sources import SourceContext, make_source


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("rec") / "my-voice"
    takes = {
        "alice/monday/t1.wav": "The kettle began to sing.",
        "alice/tuesday/t2.ogg": "She closed the window.",
        "bob/t3.m4a": "A dog barked twice in the yard.",
        "bob/t4.mp3": "Rain fell on the roof all night.",
        "t5.flac": "The bell rang at noon.",
    }
    for name, line in takes.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_audio(path, speak(line))
        path.with_suffix(".txt").write_text(line)
    (root / "bob" / "t4.txt").write_bytes(
        "Rain fell on the caf\u00e9 roof all night.".encode("latin-1")
    )
    write_audio(root / "bob" / "untranscribed.wav", speak("Nobody wrote this down."))
    (root / "bob" / "lost.lab").write_text("A take whose audio was deleted.")
    (root / "README.txt").write_text("Recorded in my kitchen, 2026.")
    return root


def test_folder_builds_with_speakers_from_the_first_level_and_ledger_lines(tmp_path, recordings):
    config = write_config(
        tmp_path / "f.toml",
        f'[[source]]\ntype = "folder"\npath = "{recordings}"\nsplit = "train"\n'
        'license = "CC BY 4.0 (my own voice)"\n',
        corpus="max_reject_fraction = 0.5",
    )
    out = tmp_path / "corpus"
    info = build(config, out)

    rows = {r["id"]: r for r in read_corpus(out, "train")}
    assert set(rows) == {
        "folder/alice/monday/t1",
        "folder/alice/tuesday/t2",
        "folder/bob/t3",
        "folder/bob/t4",
        "folder/t5",
    }
    assert {i: r["speaker"] for i, r in rows.items()} == {
        "folder/alice/monday/t1": "folder/alice",
        "folder/alice/tuesday/t2": "folder/alice",
        "folder/bob/t3": "folder/bob",
        "folder/bob/t4": "folder/bob",
        "folder/t5": "folder/my-voice",
    }
    assert (
        rows["folder/bob/t4"]["text"] == "rain fell on the cafe roof all night"
    )  # latin-1 decoded, not dropped
    assert rows["folder/bob/t3"]["text"] == "a dog barked twice in the yard"  # m4a through ffmpeg
    assert all(r["license"] == "CC BY 4.0 (my own voice)" for r in rows.values())
    ledger = {r["id"]: r["reason"] for r in read_ledger(out)}
    assert ledger == {
        "folder/bob/untranscribed": "text:missing",
        "folder/bob/lost": "audio:missing",
    }
    assert info["sources"][0]["license"] == "CC BY 4.0 (my own voice)"


@pytest.mark.parametrize(
    "level, expected",
    [
        (0, {"my-voice"}),
        (1, {"alice", "bob", "my-voice"}),
        (2, {"monday", "tuesday", "bob", "my-voice"}),
    ],
)
def test_speaker_level_picks_the_folder_that_names_the_speaker(recordings, level, expected):
    source = make_source(
        {"type": "folder", "path": str(recordings), "speaker_level": level}, SourceContext()
    )
    speakers = {
        source.speaker_of(pair[0]) for unit in source.units() for pair in unit.payload.pairs
    }
    assert speakers == expected


def test_big_folders_are_cut_into_units(recordings):
    source = make_source(
        {"type": "folder", "path": str(recordings), "files_per_unit": 1}, SourceContext()
    )
    units = source.units()
    assert len(units) == 6 and all(len(u.payload.pairs) == 1 for u in units)
