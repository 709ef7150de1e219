"""`[quality]` in a real build: the filters keep what the noise a test mixed in says they should,
speaking-rate outliers leave per speaker, the same sound is published once across folders,
sources and splits (the held-out copy kept), two readings of one sentence both stay, and
`speechmill measure` gives an unmeasured corpus its measures without a rebuild."""

from __future__ import annotations

import json

import numpy as np
import pytest
from support.jobs import IN_PROCESS, build, read_ledger, write_config
from support.noise import floor_db, mix, noise
from support.prompts import every_nth, load16k, records
from support.speech import rate_outlier_config, speak, write_audio
from test_quality import LEVELS, mp3, pcm

pytestmark = pytest.mark.slow


def test_filters_keep_the_20_and_30_db_copies_and_reject_noise_with_its_value(tmp_path):
    folder = tmp_path / "noisy" / "allison"
    folder.mkdir(parents=True)
    chosen = [  # recordings whose own floor is far below the noise mixed in (as in test_quality)
        p
        for p in every_nth(5)
        if 2.0 < len(load16k(p[1])) / 16000 < 6 and floor_db(pcm(load16k(p[1]))) >= 50
    ][:3]
    for i, (_, wav, text) in enumerate(chosen):
        clean = pcm(load16k(wav))
        for snr in LEVELS:
            write_audio(folder / f"p{i}-{snr:02d}db.wav", mix(clean, "white", snr, seed=i))
            (folder / f"p{i}-{snr:02d}db.txt").write_text(text)
    write_audio(folder / "hiss.wav", pcm(noise("pink", 3 * 16000, 7) * 0.1))
    (folder / "hiss.txt").write_text("Nothing but the hiss of the tape.")
    config = write_config(
        tmp_path / "q.toml",
        f'[[source]]\ntype = "folder"\npath = "{folder.parent}"\nsplit = "train"\n'
        "[quality]\nmin_snr_db = 15\nmin_speech_ratio = 0.2\n"
        'measures = ["snr_db", "speech_ratio", "dnsmos", "clipped", "chars_per_second"]\n'
        "dedupe_sounds = false\n",  # copies of one recording on purpose
        corpus="max_reject_fraction = 0.9",
    )
    out = tmp_path / "corpus"
    info = build(config, out)
    kept = {u.id.rsplit("/", 1)[-1] for u in records(out).values()}
    assert kept == {f"p{i}-{snr:02d}db" for i in range(3) for snr in (20, 30)}
    ledger = {r["id"].rsplit("/", 1)[-1]: r for r in read_ledger(out)}
    assert {k: r["reason"] for k, r in ledger.items()} == {
        **{f"p{i}-{snr:02d}db": "quality:snr" for i in range(3) for snr in (0, 5, 10)},
        "hiss": "quality:speech",
    }
    assert ledger["p0-00db"]["detail"].startswith("snr_db ")  # the measured value
    hiss = float(ledger["hiss"]["detail"].split()[1])
    assert hiss < 0.05
    for u in records(out).values():
        assert u.measures.snr_db >= 15 and u.measures.speech_ratio > 0.5
        assert u.measures.dnsmos is not None and u.measures.clipped == 0.0
    table = info["measures"]["train"]["folder"]
    assert table["snr_db"]["count"] == 6 and 15 <= table["snr_db"]["median"] <= 35


def test_rate_outliers_leave_per_speaker(tmp_path):
    config = rate_outlier_config(
        tmp_path, [("many", "en-us", 12), ("few", "en-gb", 3)], min_clips=10
    )
    out = tmp_path / "corpus"
    build(config, out)
    ledger = read_ledger(out)
    assert [(r["id"], r["reason"]) for r in ledger] == [("folder/many/00", "quality:rate")]
    assert "speaker folder/many, 12 clips" in ledger[0]["detail"]
    assert "folder/few/00" in records(out)  # 3 clips: no quartiles, no fences


def test_the_same_sound_is_published_once_and_two_readings_stay(tmp_path):
    (_, x_wav, x_text), *others = [p for p in every_nth(30) if len(load16k(p[1])) > 2 * 16000][:4]
    x = load16k(x_wav)
    a = tmp_path / "a" / "allison"
    a.mkdir(parents=True)
    write_audio(a / "x.wav", pcm(x))
    (a / "x.txt").write_text(x_text)
    for name, wav, text in others:
        name = name.replace("/", "-")
        write_audio(a / f"{name}.wav", pcm(load16k(wav)))
        (a / f"{name}.txt").write_text(text)
    line = "Please enter the number of the conference you wish to join."
    for rate in (160, 185):  # one voice, one sentence, two readings
        write_audio(a / f"read{rate}.wav", speak(line, rate=rate))
        (a / f"read{rate}.txt").write_text(line)
    b = tmp_path / "b" / "someone"
    b.mkdir(parents=True)
    copy = mp3(pcm(x * 0.5))[int(0.15 * 16000) :]  # re-encoded, quieter, its start trimmed
    (b / "x-copy.mp3").write_bytes(encode_mp3(copy))
    (b / "x-copy.txt").write_text(x_text)
    m = tmp_path / "m"
    m.mkdir()
    write_audio(
        m / "x44k.wav",
        pcm(np.interp(np.arange(0, len(x), 16000 / 44100), np.arange(len(x)), x)),
        rate=44100,
    )
    (m / "manifest.json").write_text(
        json.dumps({"audio_filepath": "x44k.wav", "text": x_text, "duration": len(x) / 16000})
        + "\n"
    )
    config = write_config(
        tmp_path / "d.toml",
        f'[[source]]\ntype = "folder"\npath = "{a.parent}"\nsplit = "train"\n'
        f'[[source]]\ntype = "folder"\npath = "{b.parent}"\nsplit = "train"\n'
        f'[[source]]\ntype = "manifest"\npath = "{m / "manifest.json"}"\nsplit = "test"\n',
        corpus="max_reject_fraction = 0.5",
    )
    out = tmp_path / "corpus"
    info = build(config, out, "--direct_num_workers=2", "--direct_running_mode=multi_processing")
    kept = records(out)
    ledger = {r["id"]: r for r in read_ledger(out)}
    assert {i: r["reason"] for i, r in ledger.items()} == {
        "folder/allison/x": "audio:duplicate",
        "folder/someone/x-copy": "audio:duplicate",
    }
    kept_copy = next(i for i in kept if i.startswith("manifest/"))  # the test split's copy
    assert all(kept_copy in r["detail"] and "(test)" in r["detail"] for r in ledger.values())
    assert {"folder/allison/read160", "folder/allison/read185"} <= set(kept)
    assert len(kept) == 1 + len(others) + 2
    assert info["rejects"]["by_reason"] == {"audio:duplicate": 2}
    # the prints the dedupe compared are those of the audio each part holds, record by record
    from speechmill.corpus import fingerprint
    from speechmill.corpus.print_files import record_words
    from speechmill.corpus.schema import decode_utterance
    from speechmill.corpus.tfrecord import read_records

    parts = sorted((out / ".parts").glob("*.tfrecord"))
    assert parts and all(p.with_name(p.name + ".prints").exists() for p in parts)
    for part in parts:
        with open(part, "rb") as f:
            held = list(read_records(f))
        for i, record in enumerate(held):
            words = record_words(str(part), i)
            assert np.array_equal(words, fingerprint.prints(decode_utterance(record).audio, 16000))


def encode_mp3(samples: np.ndarray) -> bytes:
    import io
    import subprocess

    import soundfile

    wav = io.BytesIO()
    soundfile.write(wav, samples, 16000, format="WAV", subtype="PCM_16")
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "wav", "-i", "-", "-b:a", "64k", "-f", "mp3", "-"],
        input=wav.getvalue(),
        capture_output=True,
        check=True,
    ).stdout


def test_measure_gives_an_unmeasured_corpus_its_measures(tmp_path, capsys):
    from speechmill.commands.describe import main as describe
    from speechmill.commands.measure import run as measure

    folder = tmp_path / "rec" / "allison"
    folder.mkdir(parents=True)
    for name, wav, text in every_nth(60)[:4]:
        name = name.replace("/", "-")
        write_audio(folder / f"{name}.wav", pcm(load16k(wav)))
        (folder / f"{name}.txt").write_text(text)
    config = write_config(
        tmp_path / "m.toml",
        f'[[source]]\ntype = "folder"\npath = "{folder.parent}"\nsplit = "train"\n'
        "[quality]\nmeasures = []\n",  # as a corpus built before the measures
    )
    old = tmp_path / "old"
    build(config, old)
    before = records(old)
    assert all(not u.measures.items() for u in before.values())
    new = tmp_path / "measured"
    info = measure(["--input", str(old), "--output", str(new), *IN_PROCESS])
    after = records(new)
    assert set(after) == set(before)
    for key, u in after.items():
        assert np.array_equal(u.audio, before[key].audio) and u.text == before[key].text
        assert [n for n, _ in u.measures.items()] == [
            "snr_db",
            "speech_ratio",
            "dnsmos",
            "clipped",
            "chars_per_second",
        ]
    assert info["measured"]["measures"][0] == "snr_db" and info["measures"]["train"]
    capsys.readouterr()
    assert describe([str(old)]) == 0 and "audio measures" not in capsys.readouterr().out
    assert describe([str(new)]) == 0
    shown = capsys.readouterr().out.splitlines()
    row = next(r for r in shown if r.strip().startswith("speech_ratio"))
    median = float(row.split()[1])
    values = sorted(u.measures.speech_ratio for u in after.values())
    assert values[0] - 0.1 <= median <= values[-1] + 0.1  # the histogram's median, within a bin
    from speechmill.report import corpus_report

    page = corpus_report(str(new))
    assert "Audio measures" in page and "data-measure='snr_db'" in page
    assert "Audio measures" not in corpus_report(str(old))
