"""The teacher: pretrained recognizers that hear real people judge transcripts of real speech.

Real human speech: the asterisk prompts (one professional speaker, 568 prompts and their texts,
installed by make setup; tests/support/prompts.py). Every expectation about what a clip says
comes from the prompt list, never from our own output."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from support.jobs import IN_PROCESS, build, read_ledger, write_config
from support.prompts import (
    MUSIC,
    NOISE,
    SOUNDS,
    every_nth,
    load16k,
    not_speech,
    prompt_folder,
    records,
    wrong_text,
)

RATE = 16000


def spoken(*digits: str) -> np.ndarray:
    """Prompts of the digits folder said one after another, 50 ms apart: a number read one way."""
    gap = np.zeros(int(0.05 * RATE), np.float32)
    return np.concatenate(
        [p for d in digits for p in (load16k(SOUNDS / "digits" / f"{d}.wav"), gap)]
    )


@pytest.fixture(scope="module")
def whisper():
    from speechmill.teachers.table import load_teacher

    return load_teacher("whisper")


@pytest.fixture(scope="module")
def heard_prompts(whisper):
    """Every 12th prompt, its 16 kHz audio and what Whisper heard in it, in one batch."""
    chosen = every_nth(12)
    waves = [load16k(wav) for _, wav, _ in chosen]
    return chosen, waves, whisper.hear(waves)


@pytest.mark.slow  # Whisper hears 21 prompts: about 12 s
def test_whisper_hears_what_the_prompts_say_with_word_times(whisper, heard_prompts):
    """tiny.en on 21 real prompts: the CER against the prompt list's own texts (both through
    our normalizer) is low, every word has a time inside its clip, in order."""
    from speechmill.corpus.text import readings
    from speechmill.teachers.judge import cer
    from speechmill.teachers.judge import spoken as as_spoken

    chosen, waves, heard = heard_prompts
    errors = [
        min(cer(r, t) for r in readings(text) for t in (as_spoken(h.text) or ("",)))
        for (_, _, text), h in zip(chosen, heard)
    ]
    assert np.median(errors) <= 0.05 and np.mean(errors) <= 0.12, errors
    for wave, h in zip(waves, heard):
        starts = [w.start for w in h.words]
        assert h.words and starts == sorted(starts)
        assert all(0 <= w.start <= w.end <= len(wave) / RATE + 0.05 for w in h.words)
    facts = whisper.facts()
    assert facts["compute_type"] == "int8" and facts["device"] == "cpu"
    assert len(facts["sha256"]) == 64


@pytest.mark.slow  # Whisper hears 21 prompts: about 12 s
def test_the_same_clips_give_the_same_words_in_any_order_and_batch(whisper, heard_prompts):
    """A quarter of the clips heard again, backwards and apart from the rest: the same words,
    times and signals, to the bit (what makes a teacher's verify the same on any worker count)."""
    _, waves, heard = heard_prompts
    picked = list(range(0, len(waves), 4))  # every fourth
    again = whisper.hear([waves[i] for i in picked][::-1])[::-1]
    assert again == [heard[i] for i in picked]


def test_pocketsphinx_chooses_the_reading_the_audio_says():
    """A grammar of the candidate readings: "1994" said as "nineteen ninety four" and as "one
    thousand nine hundred ninety four" (the digits prompts, read one after another)."""
    from speechmill.corpus.text import readings
    from speechmill.teachers.sphinx import SphinxTeacher

    sphinx = SphinxTeacher()
    options = readings("1994")
    short = options.index("nineteen ninety four")
    long = options.index("one thousand nine hundred ninety four")
    assert sphinx.choose(spoken("19", "90", "4"), options) == short
    assert sphinx.choose(spoken("1", "thousand", "9", "hundred", "90", "4"), options) == long


def test_where_the_teacher_writes_digits_pocketsphinx_chooses_the_reading(whisper):
    """Whisper writes "1994" for either reading: every reading of ours matches it, and the
    check asks pocketsphinx (a grammar of those readings) which one the audio says."""
    from speechmill.corpus.text import readings
    from speechmill.teachers.base import Heard
    from speechmill.teachers.check import TeacherCheck
    from speechmill.teachers.judge import judge_heard

    options = readings("1994")
    verdict = judge_heard(Heard("1994"), options, speech_share=0.9, max_cer=0.25)
    assert verdict.kept and verdict.candidates == tuple(range(len(options)))
    check = TeacherCheck("whisper", RATE, 0.15, 0.25)
    long = spoken("1", "thousand", "9", "hundred", "90", "4")
    assert options[check.choose(long, options, verdict.candidates)] == (
        "one thousand nine hundred ninety four"
    )
    assert options[check.choose(spoken("19", "90", "4"), options, verdict.candidates)] == (
        "nineteen ninety four"
    )


def test_a_teacher_spec_that_cannot_load_is_one_line(tmp_path, monkeypatch):
    import huggingface_hub.constants

    from speechmill.teachers.base import TeacherError

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # tests stay offline
    from speechmill.teachers.table import load_teacher

    (tmp_path / "model.bin").write_bytes(b"\0" * 100)
    (tmp_path / "config.json").write_text("{not json")
    (tmp_path / "vocabulary.txt").write_text("a\nb\n")
    cases = {
        "nonesuch": "unknown teacher",
        f"whisper:{tmp_path}": "not a model config",
        f"whisper:{tmp_path / 'missing'}": "no such model folder",
        "whisper:tiny-nonesuch": "not a faster-whisper model",
        "whisper:small.en": "cannot list Systran/faster-whisper-small.en on the model hub",
        "pocketsphinx:big": "takes no argument",
        "run:": "needs the run",
    }
    for spec, said in cases.items():
        with pytest.raises(TeacherError, match=said):
            load_teacher(spec)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(TeacherError, match="cannot load") as e:
        load_teacher(f"whisper:{tmp_path}")  # a damaged model.bin: CTranslate2's error, one line
    assert "\n" not in str(e.value)


def test_a_model_from_the_hub_is_refused_before_download_when_its_files_are_too_big():
    from huggingface_hub.file_download import DryRunFileInfo

    from speechmill.teachers.base import TeacherError
    from speechmill.teachers.hub import check_listing

    def listed(**sizes) -> list:
        return [
            DryRunFileInfo(
                commit_hash="0" * 40,
                file_size=size,
                filename=name.replace("_", "."),
                local_path="",
                is_cached=False,
                will_download=True,
            )
            for name, size in sizes.items()
        ]

    check_listing("large-v3", listed(model_bin=3_087_284_237, config_json=2_394))  # real sizes
    for files, said in (
        (listed(model_bin=5 << 30, config_json=2_394), "model.bin is 5,120 MiB"),
        (listed(model_bin=75 << 20, tokenizer_json=900 << 20), "tokenizer.json is 900 MiB"),
        (listed(model_bin=None), "model.bin is of unknown size"),
        (listed(config_json=2_394), "no model.bin"),
    ):
        with pytest.raises(TeacherError, match=said) as e:
            check_listing("x", files)
        assert "\n" not in str(e.value)


def test_hallucinations_are_unsure_not_kept_or_rejected():
    from speechmill.teachers.base import Heard
    from speechmill.teachers.judge import judge_heard

    right = ("thank you for calling",)
    for heard in (
        Heard("thank you thank you thank you thank you", avg_logprob=-0.3, compression_ratio=1.5),
        Heard("thank you for calling", avg_logprob=-1.6, compression_ratio=1.0),
        Heard("thank you for calling", avg_logprob=-0.2, compression_ratio=2.9),
        Heard("thank you " + "x" * 26, avg_logprob=-0.2, compression_ratio=1.0),
    ):
        verdict = judge_heard(heard, right, speech_share=0.8, max_cer=0.25)
        assert verdict.reason == "verify:teacher-unsure", heard
    assert (
        judge_heard(Heard(""), right, speech_share=0.8, max_cer=0.25).reason == "verify:no-speech"
    )
    quiet = judge_heard(Heard("thank you for calling"), right, speech_share=0.02, max_cer=0.25)
    assert quiet.reason == "verify:no-speech"
    said = judge_heard(Heard("Thank you for calling."), right, speech_share=0.8, max_cer=0.25)
    assert said.kept and said.cer == 0.0


@pytest.mark.slow
def test_verify_with_the_teacher_alone_rejects_every_wrong_transcript(tmp_path, capsys):
    """A folder corpus of real prompts: 36 with their own texts, 18 with another prompt's text,
    "1994" said two ways, noise and music with a prompt's text. ``speechmill verify --teacher
    whisper`` (no run of ours) rejects every wrong transcript, keeps at least 95 % of the right
    ones, picks the reading that was said, and keeps nothing of the noise or the music."""
    from speechmill.commands.verify import run

    chosen = every_nth(4)[:54]
    right, wrong = chosen[:36], chosen[36:]
    assert len(right) == 36 and len(wrong) == 18
    items = [(n, wav, text) for n, wav, text in right]
    items += [(n, wav, wrong_text(i, chosen)) for i, (n, wav, _) in enumerate(chosen) if i >= 36]
    folder = prompt_folder(tmp_path / "prompts", items)
    speaker = folder / "allison"
    sf.write(speaker / "year.wav", spoken("19", "90", "4"), RATE)
    (speaker / "year.txt").write_text("1994\n")
    sf.write(speaker / "room.wav", spoken("2", "thousand", "5"), RATE)
    (speaker / "room.txt").write_text("2005\n")
    not_speech(speaker / "noise.wav", NOISE)
    not_speech(speaker / "music.wav", MUSIC)
    for name in ("noise", "music"):
        (speaker / f"{name}.txt").write_text("Please press one to continue.\n")
    config = write_config(
        tmp_path / "prompts.toml",
        f'[[source]]\ntype = "folder"\npath = "{folder}"\nlicense = "CC-BY-SA-3.0"\n',
        corpus="min_seconds = 0.5\nmax_reject_fraction = 0.9",
    )
    corpus = tmp_path / "corpus"
    build(config, corpus)
    out = tmp_path / "verified"
    info = run(["--input", str(corpus), "--output", str(out), "--teacher", "whisper"])
    kept = records(out)
    ledger = {r["id"]: r for r in read_ledger(out)}
    slug = lambda name: "folder/allison/" + name.replace("/", "-")  # noqa: E731
    for name, _, _ in wrong:
        assert ledger[slug(name)]["reason"] == "verify:teacher-disagrees", name
        assert "the teacher heard" in ledger[slug(name)]["detail"]
    kept_right = [n for n, _, _ in right if slug(n) in kept]
    assert len(kept_right) >= 0.95 * len(right), sorted(
        set(n for n, _, _ in right) - set(kept_right)
    )
    for name in ("noise", "music"):
        assert slug(name) not in kept
        assert ledger[slug(name)]["reason"] in ("verify:no-speech", "verify:teacher-unsure")
    # the teacher wrote these in words ("19. 90. 4.", "2,000, five."): its words choose
    assert kept[slug("year")].readings and kept[slug("year")].text == "nineteen ninety four"
    assert kept[slug("room")].readings and kept[slug("room")].text == "two thousand five"
    for utt in kept.values():
        assert (
            utt.teacher == "whisper"
            and 0 <= utt.teacher_cer <= info["verify"]["teacher"]["max_cer"]
        )
    teacher = info["verify"]["teacher"]
    assert teacher["backend"] == "whisper" and teacher["compute_type"] == "int8"
    assert len(teacher["sha256"]) == 64
    # the same shards and ledger from one in-process worker as from the default runner's two
    again = tmp_path / "again"
    run(["--input", str(corpus), "--output", str(again), "--teacher", "whisper", *IN_PROCESS])
    shards = sorted(p.name for p in out.glob("*.tfrecord"))
    assert shards and shards == sorted(p.name for p in again.glob("*.tfrecord"))
    for name in shards + sorted(p.name for p in out.glob("rejects-*.jsonl")):
        assert (out / name).read_bytes() == (again / name).read_bytes(), name
    from speechmill.commands.describe import main as describe

    capsys.readouterr()
    assert describe([str(out)]) == 0
    said = capsys.readouterr().out
    rejected = sum(1 for r in ledger.values() if r["reason"].startswith("verify:"))
    assert "verified by teacher whisper (max CER 0.25, cpu int8)" in said
    assert f"kept {len(kept)} (" in said and f"rejected {rejected}," in said


@pytest.mark.slow
def test_eval_prints_the_teachers_error_beside_the_runs(tmp_path, verify_model, capsys):
    """``speechmill eval --teacher whisper`` on 12 real prompts: the teacher's WER/CER on the
    same split, beside our TTS-trained run's (which has never heard a person)."""
    from speechmill.commands.eval import main

    chosen = every_nth(20)[:12]
    folder = prompt_folder(tmp_path / "prompts", chosen)
    config = write_config(
        tmp_path / "dev.toml",
        f'[[source]]\ntype = "folder"\npath = "{folder}"\nsplit = "dev"\n',
        corpus="min_seconds = 0.5",
    )
    build(config, tmp_path / "corpus")
    argv = ["--model", str(verify_model), "--data", str(tmp_path / "corpus"), "--splits", "dev"]
    assert main([*argv, "--teacher", "whisper"]) == 0
    lines = capsys.readouterr().out.splitlines()
    ours = next(line for line in lines if line.startswith("dev    greedy"))
    teacher = next(line for line in lines if "teacher whisper" in line)
    cer = lambda line: float(line.split("CER")[1].split()[0])  # noqa: E731
    assert "(12 utterances)" in teacher and cer(teacher) <= 0.1 < cer(ours)
    # our own run as a teacher (its exported model.tflite on LiteRT) hears what the run hears
    assert main([*argv, "--teacher", f"run:{verify_model}"]) == 0
    lines = capsys.readouterr().out.splitlines()
    ours = next(line for line in lines if line.startswith("dev    greedy"))
    itself = next(line for line in lines if "teacher run:" in line)
    assert abs(cer(itself) - cer(ours)) <= 0.03, (itself, ours)
