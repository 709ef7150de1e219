"""LibriSpeech builds end to end: the contract test, rejects, archives, splits, determinism."""

from __future__ import annotations

import gzip
import io
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
import soundfile
from support.jobs import IN_PROCESS, build, read_corpus, read_ledger, write_config
from support.speech import SENTENCES, write_librispeech

from speechmill.corpus.schema import SCHEMA_VERSION


def tf_records(path: Path):
    from speechmill.corpus.tfrecord import read_records

    with open(path, "rb") as f:
        yield from read_records(f, str(path))


def published(out: Path) -> list[str]:
    """The corpus files of an output folder (not the job's own .lock and .parts)."""
    return sorted(p.name for p in out.iterdir() if not p.name.startswith("."))


def librispeech_config(tmp_path: Path, path: Path | str, extra: str = "", corpus: str = "") -> Path:
    return write_config(
        tmp_path / "corpus.toml",
        f"""
        [[source]]
        type = "librispeech"
        path = "{path}"
        {extra}
        """,
        corpus=corpus,
    )


def test_contract_every_example_reads_back_through_tf_data(tmp_path, librispeech):
    out = tmp_path / "corpus"
    info = build(librispeech_config(tmp_path, librispeech), out)

    assert info["schema_version"] == SCHEMA_VERSION and info["sample_rate"] == 16000
    assert info["splits"]["dev"]["examples"] == 3 and info["splits"]["train"]["examples"] == 6
    assert "test" not in info["splits"]
    assert info["rejects"]["total"] == 0
    rows = read_corpus(out, "dev") + read_corpus(out, "train")
    assert sorted(r["id"] for r in rows) == sorted(f"librispeech/{u}" for u in SENTENCES)
    for row in rows:
        utt = row["id"].split("/")[1]
        speaker, chapter, _ = utt.split("-")
        assert row["text"] == SENTENCES[utt].lower()
        assert row["text_raw"] == SENTENCES[utt]
        flac = next(librispeech.glob(f"*/{speaker}/{chapter}/{utt}.flac"))
        expected, rate = soundfile.read(flac, dtype="int16")
        assert row["num_samples"] == len(expected) == len(row["audio"])
        np.testing.assert_array_equal(np.rint(row["audio"] * 32768).astype(np.int16), expected)
        assert row["speaker"] == row["group"] == f"librispeech/{speaker}"
        assert row["gender"] == {"84": "f", "19": "f", "26": "m"}[speaker]
        assert row["synthetic"] == 0 and "CC BY 4.0" in row["license"]
    dev_speakers = {r["speaker"] for r in read_corpus(out, "dev")}
    assert dev_speakers == {"librispeech/84"}


@pytest.fixture(scope="module")
def bad_librispeech(tmp_path_factory) -> Path:
    """A LibriSpeech folder with a corrupt FLAC, a FLAC with no transcript line, an empty
    transcript and a line in Cyrillic, beside good utterances."""
    root = tmp_path_factory.mktemp("bad")
    base = write_librispeech(root)
    chapter = base / "train-clean-100" / "19" / "198"
    (chapter / "19-198-0001.flac").write_bytes(b"fLaC" + bytes(range(256)) * 4)  # corrupt audio
    shutil.copy(chapter / "19-198-0000.flac", chapter / "19-198-0009.flac")  # no transcript line
    other = base / "train-clean-100" / "26" / "495"
    shutil.copy(other / "26-495-0000.flac", other / "26-495-0007.flac")
    shutil.copy(other / "26-495-0000.flac", other / "26-495-0008.flac")
    with open(other / "26-495.trans.txt", "a") as f:
        f.write("26-495-0007\n26-495-0008 ПРИВЕТ МИР\n")  # empty, foreign
    return base


def test_bad_items_land_in_the_ledger_and_the_rest_builds(tmp_path, bad_librispeech, caplog):
    out = tmp_path / "corpus"
    info = build(
        librispeech_config(tmp_path, bad_librispeech, corpus="max_reject_fraction = 0.5"), out
    )

    lines = [r.getMessage() for r in caplog.records if r.name == "speechmill.rejects"]
    assert len(lines) == 4 and all("\n" not in line for line in lines)
    corrupt = next(line for line in lines if "19-198-0001" in line)
    assert corrupt.startswith("rejected librispeech/19-198-0001 [audio:decode] at ")
    assert "train-clean-100/19/198/19-198-0001.flac: cannot decode audio" in corrupt

    ledger = {r["id"]: r for r in read_ledger(out)}
    assert ledger["librispeech/19-198-0001"]["reason"] == "audio:decode"
    assert ledger["librispeech/19-198-0009"]["reason"] == "text:missing"
    assert ledger["librispeech/26-495-0007"]["reason"] == "text:empty"
    assert ledger["librispeech/26-495-0008"]["reason"] == "text:oov"
    assert all(r["where"] and r["source"] == "librispeech" for r in ledger.values())
    assert "19-198-0001.flac" in ledger["librispeech/19-198-0001"]["where"]
    assert info["rejects"]["by_reason"] == {
        "audio:decode": 1,
        "text:empty": 1,
        "text:missing": 1,
        "text:oov": 1,
    }
    assert info["sources"][0]["cleaning"] == {
        "spelled_out": 0,
        "rejects": info["rejects"]["by_reason"],
    }
    built = {r["id"] for r in read_corpus(out, "train") + read_corpus(out, "dev")}
    assert built == {f"librispeech/{u}" for u in SENTENCES} - {"librispeech/19-198-0001"}


def test_a_fifo_or_a_link_out_of_the_tree_as_a_flac_is_refused_at_reading(tmp_path, librispeech):
    """The build opens each FLAC itself, when it decodes it (its bytes never copied first):
    a FIFO in a FLAC's place neither hangs the job nor is read, a link out of the tree is
    refused unless follow_links, a link within the tree is read; the ledger says which."""
    import os

    root = tmp_path / "ls"
    shutil.copytree(librispeech, root)
    chapter = root / "train-clean-100" / "19" / "198"
    outside = tmp_path / "elsewhere.flac"
    shutil.move(chapter / "19-198-0001.flac", outside)
    (chapter / "19-198-0001.flac").symlink_to(outside)
    (chapter / "19-198-0002.flac").unlink()
    os.mkfifo(chapter / "19-198-0002.flac")  # would block any reader forever
    within = root / "train-clean-100" / "26" / "495" / "26-495-0000.flac"
    within.rename(within.with_suffix(".kept"))
    within.symlink_to(within.with_suffix(".kept"))
    config = librispeech_config(tmp_path, root, corpus="max_reject_fraction = 0.5")
    build(config, tmp_path / "corpus")
    ledger = {r["id"]: (r["reason"], r["stage"]) for r in read_ledger(tmp_path / "corpus")}
    assert ledger == {
        "librispeech/19-198-0001": ("audio:link-outside", "read"),
        "librispeech/19-198-0002": ("audio:not-a-file", "read"),
    }
    rows = {r["id"]: r for r in read_corpus(tmp_path / "corpus", "train")}
    expected, _ = soundfile.read(within.with_suffix(".kept"), dtype="int16")
    assert np.array_equal(
        np.rint(rows["librispeech/26-495-0000"]["audio"] * 32768).astype(np.int16), expected
    )

    config.write_text(config.read_text().replace('path = "', 'follow_links = true\npath = "'))
    build(config, tmp_path / "followed")
    assert "librispeech/19-198-0001" in {
        r["id"] for r in read_corpus(tmp_path / "followed", "train")
    }


def test_too_many_rejects_fails_the_job_and_publishes_nothing(tmp_path, bad_librispeech, capsys):
    from speechmill.commands.corpus import main

    out = tmp_path / "corpus"
    config = librispeech_config(tmp_path, bad_librispeech, corpus="max_reject_fraction = 0.1")
    assert main(["--config", str(config), "--output", str(out), *IN_PROCESS]) == 1
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert (
        message.startswith("speechmill:")
        and "rejected" in message
        and "max_reject_fraction" in message
    )
    assert not (out / "info.json").exists() and not list(out.glob("*.tfrecord"))


def _add(tar: tarfile.TarFile, name: str, data: bytes = b"", **attrs) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attrs.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data))


@pytest.fixture(scope="module")
def hostile_archive(tmp_path_factory, librispeech) -> Path:
    """dev-clean.tar.gz: the official layout plus members that try to escape or link."""
    path = tmp_path_factory.mktemp("tar") / "dev-clean.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        _add(tar, "../../evil.txt", b"escape")
        _add(tar, "/tmp/speechmill-absolute.txt", b"absolute")
        _add(tar, "LibriSpeech/dev-clean/link.flac", type=tarfile.SYMTYPE, linkname="/etc/passwd")
        _add(
            tar,
            "LibriSpeech/dev-clean/hard.flac",
            type=tarfile.LNKTYPE,
            linkname="../../etc/passwd",
        )
        for f in sorted((librispeech / "dev-clean").rglob("*")):
            tar.add(f, arcname=f"LibriSpeech/{f.relative_to(librispeech)}", recursive=False)
    return path


def test_archive_is_read_as_a_stream_and_hostile_members_are_rejected(tmp_path, hostile_archive):
    out = tmp_path / "corpus"
    info = build(
        librispeech_config(tmp_path, hostile_archive, corpus="max_reject_fraction = 0.6"), out
    )

    assert info["splits"]["dev"]["examples"] == 3
    assert {r["text"] for r in read_corpus(out, "dev")} == {
        SENTENCES[u].lower() for u in SENTENCES if u.startswith("84-")
    }
    reasons = {r["id"]: r["reason"] for r in read_ledger(out)}
    assert reasons == {
        "../../evil.txt": "archive:unsafe-path",
        "/tmp/speechmill-absolute.txt": "archive:unsafe-path",
        "LibriSpeech/dev-clean/link.flac": "archive:link",
        "LibriSpeech/dev-clean/hard.flac": "archive:link",
    }
    assert not Path("/tmp/speechmill-absolute.txt").exists()
    assert not (hostile_archive.parent.parent / "evil.txt").exists()
    assert published(out) == [
        "dev-00000-of-00001.tfrecord",
        "info.json",
        "rejects-00000-of-00001.jsonl",
    ]


def test_truncated_archive_keeps_what_was_read_and_says_so(tmp_path, librispeech):
    plain = io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w") as tar:
        for f in sorted((librispeech / "train-clean-100").rglob("*")):
            if f.name == "26-495.trans.txt":
                damage = plain.tell() + 512 + 40  # inside the last transcript's data
            tar.add(f, arcname=f"LibriSpeech/{f.relative_to(librispeech)}", recursive=False)
    cut = tmp_path / "train-clean-100.tar.gz"
    cut.write_bytes(gzip.compress(plain.getvalue()[:damage]))
    out = tmp_path / "corpus"
    info = build(librispeech_config(tmp_path, cut, corpus="max_reject_fraction = 0.9"), out)

    assert info["splits"]["train"]["examples"] == 3  # the chapter read before the damage
    assert {r["speaker"] for r in read_corpus(out, "train")} == {"librispeech/19"}
    ledger = read_ledger(out)
    unit = [r for r in ledger if r["stage"] == "unit"]
    assert (
        len(unit) == 1
        and unit[0]["reason"] == "archive:truncated"
        and "truncated" in unit[0]["detail"]
    )
    lost = {r["id"] for r in ledger if r["stage"] == "read"}
    assert lost == {"librispeech/26-495-0000", "librispeech/26-495-0001", "librispeech/26-495-0002"}


def test_hash_split_keeps_each_speaker_in_one_split(tmp_path, librispeech):
    sentences = {
        f"{spk}-{ch}-{i:04d}": text
        for spk, ch in [
            ("101", "1"),
            ("102", "2"),
            ("103", "3"),
            ("104", "4"),
            ("105", "5"),
            ("106", "6"),
            ("107", "7"),
            ("108", "8"),
        ]
        for i, text in enumerate(["THE BRIDGE WAS OLD AND NARROW", "THE CHILDREN BROUGHT ADVICE"])
    }
    root = write_librispeech(tmp_path / "src", sentences) / "train-clean-100"
    renamed = tmp_path / "mixed"
    shutil.copytree(root, renamed)  # no subset name in the path: splits come from the speaker hash
    out = tmp_path / "corpus"
    info = build(
        librispeech_config(tmp_path, renamed, corpus="dev_fraction = 0.3\ntest_fraction = 0.3"), out
    )

    speakers = {split: {r["speaker"] for r in read_corpus(out, split)} for split in info["splits"]}
    assert len(speakers) >= 2
    all_speakers = [s for group in speakers.values() for s in group]
    assert len(all_speakers) == len(set(all_speakers)) == 8


@pytest.mark.slow
def test_same_inputs_and_seed_give_identical_shards_and_reruns_replace(tmp_path, librispeech):
    config = librispeech_config(tmp_path, librispeech, corpus="shard_mb = 0.1")
    first, second = tmp_path / "a", tmp_path / "b"
    info_a = build(config, first)
    info_b = build(
        config, second, "--direct_num_workers=2", "--direct_running_mode=multi_processing"
    )
    assert info_a == info_b and len(info_a["splits"]["train"]["shards"]) > 1
    files = published(first)
    assert files == published(second)
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name

    # Re-running into the same folder with fewer shards replaces the corpus: no duplicates, no leftovers.
    rebuilt = build(librispeech_config(tmp_path, librispeech, corpus="shard_mb = 64"), first)
    assert rebuilt["splits"]["train"]["shards"] == ["train-00000-of-00001.tfrecord"]
    assert published(first) == [
        "dev-00000-of-00001.tfrecord",
        "info.json",
        "rejects-00000-of-00001.jsonl",
        "train-00000-of-00001.tfrecord",
    ]
    assert len(read_corpus(first, "train")) == 6

    # A different seed orders the shards differently but keeps the official splits and every utterance.
    def train_order(out):
        return [r["id"] for r in read_corpus(out, "train")]

    orders = [train_order(first)]
    for seed in (99, 100, 101):
        other = build(
            librispeech_config(tmp_path, librispeech, corpus=f"shard_mb = 0.1\nseed = {seed}"),
            tmp_path / f"s{seed}",
        )
        assert other["splits"]["dev"]["examples"] == 3
        orders.append(train_order(tmp_path / f"s{seed}"))
    assert all(sorted(order) == sorted(orders[0]) for order in orders)
    assert len({tuple(order) for order in orders}) > 1


def test_limit_caps_utterances_per_source(tmp_path, librispeech):
    out = tmp_path / "corpus"
    info = build(librispeech_config(tmp_path, librispeech, extra="limit = 4"), out)
    assert sum(s["examples"] for s in info["splits"].values()) == 4


@pytest.mark.parametrize(
    "below", ["train-clean-100", "train-clean-100/19", "train-clean-100/19/198"]
)
def test_path_may_be_a_subset_speaker_or_chapter_folder(tmp_path, librispeech, below):
    out = tmp_path / "corpus"
    info = build(librispeech_config(tmp_path, librispeech / below), out)
    rows = read_corpus(out, "train")
    expected = {
        u
        for u in SENTENCES
        if u.startswith(("19-", "26-") if below == "train-clean-100" else "19-")
    }
    assert {r["id"] for r in rows} == {f"librispeech/{u}" for u in expected}
    assert {r["gender"] for r in rows} >= {"f"} and info["rejects"][
        "total"
    ] == 0  # SPEAKERS.TXT found above


def test_config_split_overrides_the_official_subset(tmp_path, librispeech):
    out = tmp_path / "corpus"
    info = build(librispeech_config(tmp_path, librispeech, extra='split = "test"'), out)
    assert list(info["splits"]) == ["test"] and info["splits"]["test"]["examples"] == 9


def test_transcript_encodings_separators_and_duplicate_ids(tmp_path):
    sentences = {
        "301-1-0000": "THE CAFE OPENED EARLY",
        "301-1-0001": "A NAIVE FIANCE WAITED OUTSIDE",
        "302-2-0000": "THE BELL RANG AT NOON",
        "302-2-0001": "NOBODY ANSWERED THE DOOR",
        "303-3-0000": "THE RIVER ROSE IN THE NIGHT",
        "303-3-0001": "THE BOATS WERE SAFE",
    }
    root = write_librispeech(tmp_path / "src", sentences) / "train-clean-100"
    (root / "301" / "1" / "301-1.trans.txt").write_bytes(  # Latin-1, as some tools write it
        "301-1-0000 THE CAF\u00c9 OPENED EARLY\n301-1-0001 A NA\u00cfVE FIANC\u00c9 WAITED OUTSIDE\n".encode(
            "latin-1"
        )
    )
    (root / "302" / "2" / "302-2.trans.txt").write_bytes(  # UTF-8 BOM, tab after the id
        "\ufeff302-2-0000\tTHE BELL RANG AT NOON\n302-2-0001\tNOBODY ANSWERED THE DOOR\n".encode(
            "utf-8"
        )
    )
    (root / "303" / "3" / "303-3.trans.txt").write_text(  # one id twice: which line is right?
        "303-3-0000 THE RIVER ROSE IN THE NIGHT\n303-3-0001 THE BOATS WERE SAFE\n303-3-0000 THE BOATS WERE SAFE\n"
    )
    out = tmp_path / "corpus"
    build(librispeech_config(tmp_path, root, corpus="max_reject_fraction = 0.5"), out)

    texts = {r["id"]: (r["text"], r["text_raw"]) for r in read_corpus(out, "train")}
    assert texts["librispeech/301-1-0000"] == (
        "the cafe opened early",
        "THE CAF\u00c9 OPENED EARLY",
    )
    assert texts["librispeech/301-1-0001"] == (
        "a naive fiance waited outside",
        "A NA\u00cfVE FIANC\u00c9 WAITED OUTSIDE",
    )
    assert texts["librispeech/302-2-0000"][0] == "the bell rang at noon"
    assert texts["librispeech/302-2-0001"][0] == "nobody answered the door"
    assert texts["librispeech/303-3-0001"][0] == "the boats were safe"
    assert "librispeech/303-3-0000" not in texts
    ledger = read_ledger(out)
    assert [(r["id"], r["reason"]) for r in ledger] == [
        ("librispeech/303-3-0000", "text:duplicate-id")
    ] * 2


def test_duplicate_ids_in_an_archive_are_rejected_too(tmp_path, librispeech):
    plain = io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w") as tar:
        for f in sorted(p for p in (librispeech / "dev-clean").rglob("*") if p.is_file()):
            data = f.read_bytes()
            if f.name.endswith(".trans.txt"):
                data += b"84-121123-0001 A SECOND LINE FOR THIS ID\n"
            info = tar.gettarinfo(str(f), arcname=f"LibriSpeech/{f.relative_to(librispeech)}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    archive = tmp_path / "dev-clean.tar.gz"
    archive.write_bytes(gzip.compress(plain.getvalue()))
    out = tmp_path / "corpus"
    build(librispeech_config(tmp_path, archive, corpus="max_reject_fraction = 0.6"), out)
    assert {r["id"] for r in read_corpus(out, "dev")} == {
        "librispeech/84-121123-0000",
        "librispeech/84-121123-0002",
    }
    assert [(r["id"], r["reason"]) for r in read_ledger(out)] == [
        ("librispeech/84-121123-0001", "text:duplicate-id")
    ] * 2


def test_the_ledger_is_identical_from_run_to_run(tmp_path, bad_librispeech):
    config = librispeech_config(tmp_path, bad_librispeech, corpus="max_reject_fraction = 0.5")
    build(config, tmp_path / "a")
    build(
        config, tmp_path / "b", "--direct_num_workers=2", "--direct_running_mode=multi_processing"
    )
    first = (tmp_path / "a" / "rejects-00000-of-00001.jsonl").read_text()
    assert first == (tmp_path / "b" / "rejects-00000-of-00001.jsonl").read_text()
    assert "0x" not in first and "cannot decode audio: " in first


class Zeros(io.RawIOBase):
    """``size`` zero bytes, read in chunks (never held whole)."""

    def __init__(self, size: int):
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


def test_an_archive_bomb_member_is_rejected_and_bz2_archives_are_read(tmp_path, librispeech):
    path = tmp_path / "dev-clean.tar.bz2"
    with tarfile.open(path, "w:bz2") as tar:
        info = tarfile.TarInfo("LibriSpeech/dev-clean/84/121123/84-121123-9999.flac")
        info.size = 20 << 20
        tar.addfile(info, Zeros(info.size))
        for f in sorted(p for p in (librispeech / "dev-clean").rglob("*") if p.is_file()):
            tar.add(f, arcname=f"LibriSpeech/{f.relative_to(librispeech)}")
    assert path.stat().st_size < 1 << 20
    out = tmp_path / "corpus"
    info = build(
        librispeech_config(
            tmp_path, path, extra="max_member_mb = 4", corpus="max_reject_fraction = 0.5"
        ),
        out,
    )
    assert info["splits"]["dev"]["examples"] == 3
    ledger = read_ledger(out)
    assert [(r["reason"], r["id"]) for r in ledger] == [
        ("archive:too-large", "LibriSpeech/dev-clean/84/121123/84-121123-9999.flac")
    ]
    assert "20 MB, more than max_member_mb 4" in ledger[0]["detail"]


def test_a_zip_is_refused_as_an_unsupported_archive_type(tmp_path):
    from speechmill.corpus.config import ConfigError

    archive = tmp_path / "dev-clean.zip"
    archive.write_bytes(b"PK\x05\x06" + bytes(18))
    with pytest.raises(ConfigError, match="unsupported archive type"):
        build(librispeech_config(tmp_path, archive), tmp_path / "out")


def test_tiny_shards_are_never_empty(tmp_path, librispeech):
    out = tmp_path / "corpus"
    info = build(librispeech_config(tmp_path, librispeech, corpus="shard_mb = 0.01"), out)
    for _split, s in info["splits"].items():
        assert 0 < len(s["shards"]) <= s["examples"]
        counts = [sum(1 for _ in tf_records(out / name)) for name in s["shards"]]
        assert all(counts) and sum(counts) == s["examples"]  # no empty shard
