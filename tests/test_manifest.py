"""``type = "manifest"``: a NeMo manifest comes in with its audio exactly, its bad lines as
ledger lines."""

from __future__ import annotations

import json

import numpy as np
from support.jobs import build, read_corpus, read_ledger, write_config
from support.speech import speak, write_audio

from speechmill.corpus.text import normalize


def test_a_nemo_manifest_comes_in_sample_for_sample_and_its_bad_lines_are_ledger_lines(tmp_path):
    root = tmp_path / "nemo"
    (root / "audio" / "spk1").mkdir(parents=True)
    first, second = speak("The lamps were lit at six."), speak("Two boats were tied up.")
    whole = speak("Nobody expected the river to rise.")
    write_audio(root / "audio" / "spk1" / "whole.wav", whole)
    gap = np.zeros(4000, first.dtype)
    write_audio(root / "audio" / "long.wav", np.concatenate([first, gap, second]))
    (tmp_path / "secret.wav").write_bytes((root / "audio" / "spk1" / "whole.wav").read_bytes())
    lines = [
        json.dumps({"audio_filepath": "audio/spk1/whole.wav", "duration": 9.9,
                    "text": "Nobody expected the river to rise."}),
        json.dumps({"audio_filepath": "audio/long.wav", "offset": 0.0,
                    "duration": len(first) / 16000, "text": "The lamps were lit at six.", "speaker": 7}),
        json.dumps({"audio_filepath": "audio/long.wav", "offset": (len(first) + 4000) / 16000,
                    "duration": len(second) / 16000, "text": "Two boats were tied up.", "speaker": 7}),
        "{not json",
        json.dumps({"text": "no audio named"}),
        json.dumps({"audio_filepath": "audio/gone.wav", "duration": 1, "text": "gone"}),
        json.dumps({"audio_filepath": str(tmp_path / "secret.wav"), "duration": 1, "text": "out"}),
        json.dumps({"audio_filepath": "audio/long.wav", "offset": 30.0, "duration": 2.0, "text": "x"}),
    ]  # fmt: skip
    (root / "manifest.json").write_text("\n".join(lines) + "\n")
    config = write_config(
        tmp_path / "c.toml",
        f'[[source]]\ntype = "manifest"\npath = "{root / "manifest.json"}"\nsplit = "train"\n',
        corpus="max_reject_fraction = 0.9",
    )
    info = build(config, tmp_path / "out")
    rows = {r["text"]: r for r in read_corpus(tmp_path / "out", "train")}
    assert set(rows) == {
        normalize("Nobody expected the river to rise."),
        normalize("The lamps were lit at six."),
        normalize("Two boats were tied up."),
    }
    # the audio is the recording's samples, the cut lines exactly their spans
    for text, samples in (
        ("Nobody expected the river to rise.", whole),
        ("The lamps were lit at six.", first),
        ("Two boats were tied up.", second),
    ):
        got = np.asarray(rows[normalize(text)]["audio"])
        assert len(got) == len(samples), text
        assert np.abs(got - samples / 32768.0).max() < 1e-3, text
    assert rows[normalize("The lamps were lit at six.")]["speaker"] == "manifest/7"
    assert rows[normalize("Nobody expected the river to rise.")]["speaker"] == "manifest/spk1"
    reasons = sorted(r["reason"] for r in read_ledger(tmp_path / "out"))
    assert reasons == [
        "audio:link-outside",
        "audio:missing",
        "manifest:row",
        "manifest:row",
        "manifest:span",
    ], reasons
    assert info["rejects"]["total"] == 5
