"""Artefacts from someone else (issue: hostile data and shared artefacts): a shared model folder
is loaded as data, never run as a program, unless the user asks for that."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile


def crafted_export(folder: Path, target: Path, facts: dict) -> Path:
    """An export folder whose SavedModel's ``log_probs`` writes ``target`` when it runs (what a
    stranger's graph can do), with ``facts`` as its export.json."""
    import tensorflow as tf

    class Crafted(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def log_probs(self, audio):
            tf.io.write_file(str(target), "written by a model's graph")
            return tf.zeros([tf.shape(audio)[0] // 640, 29])

    export = folder / "export"
    tf.saved_model.save(Crafted(), str(export))
    (export / "export.json").write_text(
        json.dumps({"sample_rate": 16000, "endpoints": ["log_probs"], **facts})
    )
    return export


@pytest.mark.parametrize(
    "facts",
    [
        {"tflite": None, "tflite_builtin_only": None, "tflite_error": "conversion failed"},
        {"tflite": "model.tflite", "tflite_builtin_only": False},
        {"tflite": "../../model.tflite", "tflite_builtin_only": True},
    ],
    ids=["no-tflite", "flex-ops", "path-outside"],
)
def test_a_shared_savedmodel_is_not_run_unless_asked_for(tmp_path, capsys, facts):
    from speechmill.commands.transcribe import main as transcribe
    from speechmill.runtime.recognizer import load_recognizer

    target = tmp_path / "pwned.txt"
    export = crafted_export(tmp_path / "shared", target, facts)
    wav = tmp_path / "a.wav"
    soundfile.write(wav, np.zeros(16000, np.int16), 16000)

    assert transcribe(["--model", str(export.parent), str(wav)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(export) in err[0], err
    assert ("TensorFlow program" in err[0]) or ("not a file of the export" in err[0]), err
    assert not target.exists()  # nothing of the stranger's graph ran
    assert transcribe(["--model", str(export), "--backend", "tflite", str(wav)]) == 2
    assert not target.exists()

    # asked for by name, the SavedModel is what it is: a program (here it writes its file)
    recognizer = load_recognizer(str(export), backend="savedmodel")
    recognizer.log_probs(np.zeros(16000, np.float32))
    assert target.read_text() == "written by a model's graph"


MARKUP = "<script>alert(1)</script>"
TAGS = ("<script>alert", "<img", "<b>", "<i>", "<u>")


def injected(page: str) -> list[str]:
    """The hostile markup that reached the page as markup (an empty list: all of it escaped)."""
    return [tag for tag in TAGS if tag in page]


def test_a_corpus_from_someone_else_cannot_put_markup_into_its_report(tmp_path, librispeech_corpus):
    import shutil

    from speechmill.commands.report import main as report

    corpus = tmp_path / "<img src=x onerror=alert(1)>"
    shutil.copytree(librispeech_corpus, corpus)
    info = json.loads((corpus / "info.json").read_text())
    info["sources"][0]["cleaning"] = {"spelled_out": MARKUP, "rejects": {"<b>why</b>": 1}}
    info["alignment"] = [
        {
            "item": "<u>film</u>",
            "subtitles": MARKUP,
            "offset": MARKUP,
            "ratio": 1.0,
            "score": "<i>",
            "cues": MARKUP,
        }
    ]
    info["augment"] = {"recipe": MARKUP, "seed": MARKUP, "input": "<b>in</b>"}
    (corpus / "info.json").write_text(json.dumps(info))
    page = tmp_path / "report.html"
    assert report([str(corpus), "-o", str(page)]) == 0
    text = page.read_text()
    assert injected(text) == [] and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "Content-Security-Policy" in text and "script-src 'none'" in text
    assert "<script" not in text  # the self-test script is only in the tests' pages


def test_a_run_folder_from_someone_else_cannot_put_markup_into_its_report(tmp_path):
    from speechmill.commands.report import main as report

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(
        json.dumps({"data": MARKUP, "sample_rate": "<b>16000</b>", "model": {"x": MARKUP}})
    )
    row = {"decoder": MARKUP, "wer": "<i>0.1</i>", "cer": 0.2, "examples": MARKUP}
    (run / "eval-<img src=x onerror=alert(1)>.json").write_text(json.dumps({"<u>dev</u>": row}))
    (run / "calibration.json").write_text(
        json.dumps(
            {
                "threshold": MARKUP,
                "separable": True,
                "false_reject": "<b>",
                "false_accept": 0.0,
                "rule": MARKUP,
                "right": {"count": MARKUP, "quantiles": {"<i>q</i>": MARKUP}},
                "wrong": {"count": 3, "quantiles": {"<i>q</i>": MARKUP}},
            }
        )
    )
    page = tmp_path / "run.html"
    assert report([str(run), "-o", str(page)]) == 0
    text = page.read_text()
    assert injected(text) == [] and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "eval-&lt;img src=x onerror=alert(1)&gt;.json" in text and "<script" not in text


HOSTILE_NAME = "clip\n\x1b[2Jrejected nothing [all fine]\x1b[0m.wav"


def test_control_codes_in_names_never_reach_the_terminal(tmp_path, capsys, caplog):
    from speechmill.console.errors import command
    from speechmill.corpus.errors import printable
    from speechmill.corpus.reject import Reject, record_reject

    assert printable("plain words") == "plain words"
    assert printable(HOSTILE_NAME) == "clip\\n\\x1b[2Jrejected nothing [all fine]\\x1b[0m.wav"
    assert printable("bidi \u202e override") == "bidi \\u202e override"

    record = record_reject(
        Reject("audio:decode", f"cannot decode {HOSTILE_NAME}"),
        source="folder",
        stage="read",
        item_id=HOSTILE_NAME,
        where=str(tmp_path / HOSTILE_NAME),
    )
    line = next(r.getMessage() for r in caplog.records if r.name == "speechmill.rejects")
    assert line.isprintable() and "\\x1b[2J" in line  # one line, the escape shown, not sent
    assert record.id == HOSTILE_NAME  # the ledger keeps the name as it is (JSON escapes it)

    @command("demo")
    def main(argv=None):
        raise FileNotFoundError(f"{tmp_path / HOSTILE_NAME}: no such file")

    assert main() == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err and err.startswith("speechmill: demo: ")


def test_inspect_shows_a_hostile_record_escaped(librispeech_corpus):
    import dataclasses

    from speechmill.commands.inspect import describe
    from speechmill.corpus.reader import load_info, utterances

    info = load_info(str(librispeech_corpus))
    utt = next(utterances(str(librispeech_corpus), info, "train"))
    hostile = dataclasses.replace(utt, origin=HOSTILE_NAME, speaker="\x1b]0;title\x07")
    lines = describe(hostile, 16000).split("\n")
    assert len(lines) == len(describe(utt, 16000).split("\n"))  # no forged lines
    assert all(line.replace("\t", " ").isprintable() for line in lines)
    assert "\\x1b]0;title\\x07" in lines[0]


@pytest.mark.parametrize(
    "command, argv, flag",
    [
        ("transcribe", ["--beam", "-1"], "--beam"),  # hung in the beam search
        ("transcribe", ["--threads", "-5"], "--threads"),  # a traceback from LiteRT
        ("listen", ["--step", "0"], "--step"),  # spun at 100 % CPU
        ("listen", ["--rate", "5"], "--rate"),  # dropped every sample, exit 0
        ("listen", ["--rate", "-16000"], "--rate"),
        ("listen", ["--window", "0.1"], "--window"),
    ],
)
def test_numbers_out_of_range_are_one_line_before_any_work(tmp_path, capsys, command, argv, flag):
    from speechmill.commands.listen import main as listen
    from speechmill.commands.transcribe import main as transcribe

    wav = tmp_path / "a.wav"
    soundfile.write(wav, np.zeros(1600, np.int16), 16000)
    no_model = str(tmp_path / "no-model")  # checked before the model is looked for
    if command == "transcribe":
        status = transcribe(["--model", no_model, *argv, str(wav)])
    else:
        status = listen(["--model", no_model, "--input", "-", *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and flag in err[0], err


def test_an_edited_unit_cache_manifest_is_rebuilt_not_trusted(tmp_path, librispeech):
    from support.jobs import build, write_config
    from support.speech import with_corrupt_flac

    source = with_corrupt_flac(librispeech, tmp_path, "19-198-0001")
    config = write_config(
        tmp_path / "c.toml", f'[[source]]\ntype = "librispeech"\npath = "{source}"\n'
    )
    out = tmp_path / "corpus"
    info = build(config, out)
    published = {p.name: p.read_bytes() for p in out.glob("[!.]*") if p.is_file()}
    manifests = {p: json.loads(p.read_text()) for p in sorted((out / ".parts").glob("*.json"))}
    assert len(manifests) == 3 and info["rejects"]["total"] == 1
    ledger_unit = next(p for p, m in manifests.items() if m["rejects"])
    others = [p for p in manifests if p != ledger_unit]

    manifests[ledger_unit]["rejects"] = []  # the ledger line lost
    manifests[others[0]]["parts"][0]["index"]["ends"][0] += 7  # a record cut in the wrong place
    manifests[others[1]]["parts"][0]["index"]["samples"][0] *= 3  # hours that are not there
    del manifests[others[1]]["notes"]  # and a key missing
    for path, manifest in manifests.items():
        path.write_text(json.dumps(manifest))

    assert build(config, out) == info  # no traceback: the same hours, counts and ledger
    assert {p.name: p.read_bytes() for p in out.glob("[!.]*") if p.is_file()} == published


def test_odd_files_in_a_folder_source_are_ledger_lines_not_hangs_or_crashes(tmp_path, capsys):
    import os

    from support.jobs import build, read_corpus, read_ledger, write_config
    from support.speech import speak, write_audio

    root = tmp_path / "voice"
    speaker = root / "ann"
    speaker.mkdir(parents=True)
    for stem, line in (("good", "The kettle began to sing."), ("other", "She closed the door.")):
        write_audio(speaker / f"{stem}.wav", speak(line))
        (speaker / f"{stem}.txt").write_text(line)
    odd = os.fsencode(speaker) + b"/caf\xe9.wav"  # a Latin-1 name from an old disk
    write_audio(tmp_path / "odd.wav", speak("A name from an old disk."))
    os.rename(tmp_path / "odd.wav", odd)
    Path(os.fsdecode(odd[:-4] + b".txt")).write_text("A name from an old disk.")
    os.mkfifo(speaker / "pipe.wav")  # would block any reader forever
    (speaker / "pipe.txt").write_text("Nobody is speaking.")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    write_audio(outside / "secret.wav", speak("Not part of this folder."))
    (outside / "secret.txt").write_text("Not part of this folder.")
    (speaker / "link.wav").symlink_to(outside / "secret.wav")
    (speaker / "link.txt").symlink_to(outside / "secret.txt")
    (speaker / "inside.wav").symlink_to(speaker / "good.wav")  # a link within the tree is read
    (speaker / "inside.txt").write_text("The kettle began to sing.")
    config = write_config(
        tmp_path / "f.toml",
        f'[[source]]\ntype = "folder"\npath = "{root}"\nsplit = "train"\n',
        corpus="max_reject_fraction = 0.5",
    )
    build(config, tmp_path / "corpus")
    rows = {r["id"]: r for r in read_corpus(tmp_path / "corpus", "train")}
    assert set(rows) == {"folder/ann/good", "folder/ann/other", "folder/ann/caf_xe9"}
    assert rows["folder/ann/caf_xe9"]["origin"].endswith("ann/caf\\xe9.wav")  # shown escaped
    ledger = {r["id"]: r for r in read_ledger(tmp_path / "corpus")}
    assert {i: r["reason"] for i, r in ledger.items()} == {
        "folder/ann/pipe": "audio:not-a-file",
        "folder/ann/link": "audio:link-outside",
        "folder/ann/inside": "audio:duplicate",  # read, and found to be good.wav's sound
    }
    assert str(outside / "secret.wav") in ledger["folder/ann/link"]["detail"]

    config.write_text(config.read_text() + "follow_links = true\n")  # the user says so
    build(config, tmp_path / "followed")
    assert "folder/ann/link" in {r["id"] for r in read_corpus(tmp_path / "followed", "train")}


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("fifo", "not a regular file"),  # hung the command, waiting for a writer
        ("deep", "nested too deep"),  # RecursionError traceback from tomllib
        ("deep-inline", "nested too deep"),
        ("type-list", "type must be a string"),  # TypeError: unhashable list
    ],
)
def test_a_hostile_config_is_one_line(tmp_path, capsys, kind, expected):
    import os

    from speechmill.commands.corpus import main

    config = tmp_path / "c.toml"
    if kind == "fifo":
        os.mkfifo(config)
    elif kind == "deep":
        config.write_text('[[source]]\ntype = "folder"\nx = ' + "[" * 3000 + "]" * 3000 + "\n")
    elif kind == "deep-inline":
        config.write_text("[corpus]\nseed = {" + "a = {" * 3000 + "}" * 3000 + "}\n")
    else:
        config.write_text(f'[[source]]\ntype = ["folder"]\npath = "{tmp_path}"\n')
    status = main(["--config", str(config), "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and expected in err[0] and str(config) in err[0], err


@pytest.mark.parametrize(
    "damage",
    [
        b"\\data\\\nngram 1=3\n\n\\1-grams:\n-1.0\tthe\nbro",  # a truncated ARPA file
        bytes(range(256)) * 12,  # bytes that are no model at all
    ],
)
def test_a_damaged_language_model_is_one_line(tmp_path, damage):
    from speechmill.console.errors import one_line
    from speechmill.lm.decode import WordLM

    lm = tmp_path / "lm.arpa"
    lm.write_bytes(damage)
    with pytest.raises(Exception) as caught:
        WordLM(str(lm))
    line, status = one_line(caught.value)
    assert status == 1 and line.startswith(f"speechmill: {lm}: not a language model KenLM")
    assert "\n" not in line and "lm::ngram" not in line  # no C++ signature in the line


@pytest.mark.parametrize(
    "damage",
    [
        "truncated",
        "flipped",
        "info-not-json",
        "info-wrong-types",
        "info-not-a-dict",
        "info-shard-outside",
    ],
)
def test_a_damaged_corpus_under_inspect_and_report_is_one_line(
    tmp_path, capsys, librispeech_corpus, damage
):
    import shutil

    from speechmill.commands.inspect import main as inspect
    from speechmill.commands.report import main as report

    corpus = tmp_path / "corpus"
    shutil.copytree(librispeech_corpus, corpus)
    shard = next(corpus.glob("train-*.tfrecord"))
    data = shard.read_bytes()
    info = json.loads((corpus / "info.json").read_text())
    if damage == "truncated":
        shard.write_bytes(data[: len(data) * 2 // 3])
    elif damage == "flipped":
        shard.write_bytes(data[:5000] + bytes(b ^ 0xFF for b in data[5000:5100]) + data[5100:])
    elif damage == "info-not-json":
        (corpus / "info.json").write_text('{"schema_version": 3, "splits": {')
    elif damage == "info-wrong-types":
        info["splits"] = {"train": {"examples": "many", "shards": "train-*.tfrecord"}}
        (corpus / "info.json").write_text(json.dumps(info))
    elif damage == "info-shard-outside":  # a shard "name" that leads out of the folder
        info["splits"]["train"]["shards"] = ["../../../../etc/x.tfrecord"]
        (corpus / "info.json").write_text(json.dumps(info))
    else:
        (corpus / "info.json").write_text(json.dumps([info]))
    for command, argv in (
        (inspect, [str(corpus), "--splits", "train", "--samples", "50"]),
        (report, [str(corpus), "--output", str(tmp_path / "report.html")]),
    ):
        status = command(argv)
        err = capsys.readouterr().err.strip().splitlines()
        assert status in (1, 2) and len(err) == 1 and err[0].startswith("speechmill: "), err
        assert str(corpus) in err[0], err
