"""A corpus every stack loads: TFDS in place, Hugging Face ``datasets`` Parquet, NeMo and lhotse
manifests, each loaded by the real library where it installs here (lhotse needs torch: its
documented schema and a round trip through our own manifest source), every utterance's samples
and text compared with the corpus; a NeMo -> speechmill -> NeMo round trip is identical."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile
import yaml
from support.jobs import IN_PROCESS, build, write_config

from speechmill.commands.export import run as export
from speechmill.corpus.errors import UsageError
from speechmill.corpus.export import hf, lhotse, nemo
from speechmill.corpus.reader import load_info, utterances
from speechmill.corpus.schema import Utterance

RATE = 16000


def corpus_utterances(folder: Path) -> dict[str, Utterance]:
    info = load_info(str(folder))
    return {u.id: u for split in info["splits"] for u in utterances(str(folder), info, split)}


def split_of(folder: Path) -> dict[str, str]:
    info = load_info(str(folder))
    return {u.id: s for s in info["splits"] for u in utterances(str(folder), info, s)}


def flac_samples(data: bytes | Path) -> np.ndarray:
    samples, rate = soundfile.read(
        io.BytesIO(data) if isinstance(data, bytes) else data, dtype="int16"
    )
    assert rate == RATE
    return samples


def jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="module")
def exports(sharded_corpus, tmp_path_factory) -> dict[str, Path]:
    """The sharded corpus (7 shards: 7 work units) exported in each format."""
    root = tmp_path_factory.mktemp("exports")
    for fmt in ("hf", "nemo", "lhotse"):
        export(
            [
                "--format",
                fmt,
                "--input",
                str(sharded_corpus),
                "--output",
                str(root / fmt),
                *IN_PROCESS,
            ]
        )
    return {fmt: root / fmt for fmt in ("hf", "nemo", "lhotse")}


def tfds_own_metadata(folder: Path, into: Path) -> None:
    """TFDS's own folder-dataset writer on a corpus's shards: the reference for ours."""
    import numpy as np
    import tensorflow_datasets as tfds

    from speechmill.corpus.schema import FIELD_DOCS, FIELD_TYPES, SCHEMA_VERSION
    from speechmill.pipelines.tfds_metadata import (
        TEMPLATE,
        dataset_info_json,
        dataset_name,
        shard_lengths,
    )

    info = load_info(str(folder))
    F = tfds.features
    dtypes = {"int16": np.int16, "int64": np.int64, "bool": np.bool_, "float32": np.float32}
    features = {}
    for name, (kind, _, dtype) in FIELD_TYPES.items():
        doc = FIELD_DOCS[name]
        if kind == "Text":
            features[name] = F.Text(doc=doc)
        elif kind == "Audio":
            features[name] = F.Audio(
                shape=(None,), dtype=dtypes[dtype], sample_rate=info["sample_rate"],
                encoding=F.Encoding.BYTES, doc=doc,
            )  # fmt: skip
        elif kind == "Scalar":
            features[name] = F.Scalar(dtype=dtypes[dtype], doc=doc)
        elif kind == "Tensor":
            features[name] = F.Tensor(shape=(None,), dtype=dtypes[dtype], doc=doc)
        else:
            features[name] = F.Sequence(F.Text(), doc=doc)
    template = tfds.core.ShardedFileTemplate(
        data_dir=tfds.core.Path(str(folder)), template=TEMPLATE,
        dataset_name=dataset_name(str(folder)), filetype_suffix="tfrecord",
    )  # fmt: skip
    splits = [
        tfds.core.SplitInfo(
            name=split,
            shard_lengths=shard_lengths(str(folder), info, split),
            num_bytes=int(dataset_info_json(str(folder), info)["splits"][i]["numBytes"]),
            filename_template=template,
        )  # fmt: skip
        for i, split in enumerate(sorted(info["splits"]))
    ]
    tfds.folder_dataset.write_metadata(
        data_dir=str(into), features=F.FeaturesDict(features), split_infos=splits,
        filename_template=template, version=f"{SCHEMA_VERSION}.0.0", check_data=False,
        description=dataset_info_json(str(folder), info)["description"],
        supervised_keys=("audio", "text"),
    )  # fmt: skip


@pytest.mark.slow  # TFDS's Audio feature imports TensorFlow (~4 s)
def test_our_tfds_files_are_the_ones_tfds_writes(sharded_corpus, tmp_path):
    """The launcher writes TFDS's two files as JSON without importing TFDS or TensorFlow; they
    must be what TFDS's own writer makes of the same corpus."""
    import json
    import shutil

    folder = tmp_path / "corpus"
    shutil.copytree(sharded_corpus, folder)
    export(["--format", "tfds", "--input", str(folder)])
    reference = tmp_path / "reference" / "corpus"  # the same name: the dataset's name
    shutil.copytree(sharded_corpus, reference)
    tfds_own_metadata(reference, reference)
    for name in ("dataset_info.json", "features.json"):
        ours = json.loads((folder / name).read_text())
        assert ours == json.loads((reference / name).read_text()), name


@pytest.mark.slow  # TFDS's Audio feature imports TensorFlow (~4 s)
def test_the_corpus_folder_is_a_tfds_dataset_whose_audio_decodes_to_the_stored_samples(
    sharded_corpus, tmp_path
):
    import shutil

    import tensorflow_datasets as tfds

    folder = tmp_path / "corpus"
    shutil.copytree(sharded_corpus, folder)
    shards_before = {p.name: p.read_bytes() for p in folder.glob("*.tfrecord")}
    export(["--format", "tfds", "--input", str(folder)])
    builder = tfds.builder_from_directory(str(folder))
    info = load_info(str(folder))
    assert set(builder.info.splits) == set(info["splits"])
    ours = corpus_utterances(folder)
    seen = set()
    for split in info["splits"]:
        assert builder.info.splits[split].num_examples == info["splits"][split]["examples"]
        assert builder.info.splits[split].num_shards == len(info["splits"][split]["shards"])
        for ex in tfds.as_numpy(builder.as_dataset(split=split, shuffle_files=False)):
            utt = ours[ex["id"].decode()]
            assert np.array_equal(ex["audio"], utt.audio) and ex["audio"].dtype == np.int16
            assert ex["text"].decode() == utt.text and ex["speaker"].decode() == utt.speaker
            assert ex["source"].decode() == utt.source and ex["license"].decode() == utt.license
            assert ex["num_samples"] == utt.num_samples and bool(ex["synthetic"]) == utt.synthetic
            assert list(ex["verify_score"]) == [] and list(ex["engine"]) == []  # unverified, spoken
            seen.add(utt.id)
    assert seen == set(ours)
    assert builder.info.features["audio"].sample_rate == RATE
    from speechmill.corpus import schema

    every_field = {*schema.BYTES_FIELDS, *schema.INT_FIELDS, *schema.FLOAT_FIELDS}
    every_field |= {*schema.MEDIA_FIELDS, *schema.TEACHER_FIELDS}
    every_field |= {*schema.LIST_FIELDS, *schema.OPTIONAL_BYTES_FIELDS}
    every_field |= set(schema.MEASURES)  # the audio measures, each only when taken
    assert (
        set(builder.info.features)
        == set(schema.FIELD_TYPES)
        == every_field
        == set(schema.FIELD_DOCS)
    )
    # nothing was copied: the shards are the TFDS data files, untouched
    assert {p.name: p.read_bytes() for p in folder.glob("*.tfrecord")} == shards_before
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".json") == [
        "dataset_info.json", "features.json", "info.json",
    ]  # fmt: skip


def test_a_rebuilt_corpus_drops_the_tfds_files_that_described_its_old_shards(tmp_path, librispeech):
    config = write_config(
        tmp_path / "c.toml", f'[[source]]\ntype = "librispeech"\npath = "{librispeech}"\n'
    )
    build(config, tmp_path / "corpus")
    (tmp_path / "corpus" / "dataset_info.json").write_text("{}")
    (tmp_path / "corpus" / "features.json").write_text("{}")
    build(config, tmp_path / "corpus")  # the same corpus published again
    assert not (tmp_path / "corpus" / "dataset_info.json").exists()
    assert not (tmp_path / "corpus" / "features.json").exists()


def test_the_hf_export_loads_with_datasets_and_every_row_is_the_corpus_utterance(
    sharded_corpus, exports, tmp_path, monkeypatch
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    import datasets

    out = exports["hf"]
    loaded = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "cache"))
    info = load_info(str(sharded_corpus))
    assert set(loaded) == set(info["splits"])
    features = loaded["train"].features
    assert isinstance(features["audio"], datasets.Audio) and features["audio"].sampling_rate == RATE
    assert features["synthetic"].dtype == "bool" and features["verify_score"].dtype == "float32"
    ours, splits = corpus_utterances(sharded_corpus), split_of(sharded_corpus)
    seen = set()
    for split, table in loaded.items():
        # datasets 4+ decodes audio through torch: read the stored FLAC bytes ourselves
        for row in table.cast_column("audio", datasets.Audio(decode=False)):
            utt = ours[row["id"]]
            assert splits[utt.id] == split
            assert np.array_equal(flac_samples(row["audio"]["bytes"]), utt.audio)
            assert row["text"] == utt.text and row["speaker"] == utt.speaker
            assert row["duration"] == utt.num_samples / RATE
            assert row["license"] == utt.license and row["origin"] == utt.origin
            seen.add(utt.id)
    assert seen == set(ours)
    # the same files through the generic Parquet loader
    generic = datasets.load_dataset(
        "parquet",
        data_files={"dev": str(out / "data" / "dev-*.parquet")},
        cache_dir=str(tmp_path / "c2"),
    )
    assert generic["dev"].num_rows == info["splits"]["dev"]["examples"]
    assert isinstance(generic["dev"].features["audio"], datasets.Audio)
    # the dataset card: the Hub's YAML header with splits, sizes, licences and data files
    card = (out / "README.md").read_text()
    header = yaml.safe_load(card.split("---\n")[1])
    assert {s["split"]: s["path"] for s in header["configs"][0]["data_files"]} == {
        s: f"data/{s}-*.parquet" for s in info["splits"]
    }
    assert {s["name"]: s["num_examples"] for s in header["dataset_info"]["splits"]} == {
        s: v["examples"] for s, v in info["splits"].items()
    }
    assert header["license"] == "other" and "librispeech: CC BY 4.0" in header["license_details"]
    assert header["size_categories"] == ["n<1K"]
    assert datasets.DatasetInfo._from_yaml_dict(header["dataset_info"]).features == features
    assert sorted(p.name for p in (out / "data").iterdir()) == sorted(
        f"{s}-{i:05d}-of-{len(v['shards']):05d}.parquet"
        for s, v in info["splits"].items()
        for i in range(len(v["shards"]))
    )  # one Parquet file per work unit, numbered per split
    assert not (out / ".parts").exists()


def test_the_nemo_export_is_flac_and_one_manifest_per_split_in_nemo_field_names(
    sharded_corpus, exports
):
    out = exports["nemo"]
    info = load_info(str(sharded_corpus))
    ours = corpus_utterances(sharded_corpus)
    seen = set()
    for split in info["splits"]:
        lines = jsonl(out / f"{split}_manifest.json")
        assert len(lines) == info["splits"][split]["examples"]
        for line in lines:
            utt = ours[line["id"]]
            assert not os.path.isabs(
                line["audio_filepath"]
            )  # relative to the manifest, as NeMo reads
            assert np.array_equal(flac_samples(out / line["audio_filepath"]), utt.audio)
            assert line["text"] == utt.text and line["duration"] == utt.num_samples / RATE
            assert line["speaker"] == utt.speaker and line["verify_score"] is None
            seen.add(utt.id)
    assert seen == set(ours)


LHOTSE_RECORDING = {
    "id",
    "sources",
    "sampling_rate",
    "num_samples",
    "duration",
    "channel_ids",
    "transforms",
}
LHOTSE_SOURCE = {"type", "channels", "source", "video"}
LHOTSE_SUPERVISION = {
    "id", "recording_id", "start", "duration", "channel", "text", "language", "speaker", "gender",
    "custom", "alignment",
}  # fmt: skip
LHOTSE_CUT = {
    "id",
    "start",
    "duration",
    "channel",
    "supervisions",
    "features",
    "recording",
    "custom",
    "type",
}


def check_lhotse_recording(rec: dict) -> None:
    assert set(rec) <= LHOTSE_RECORDING and {
        "id",
        "sources",
        "sampling_rate",
        "num_samples",
        "duration",
    } <= set(rec)
    (source,) = rec["sources"]
    assert set(source) <= LHOTSE_SOURCE and source["type"] == "file" and source["channels"] == [0]
    # lhotse checks that duration and num_samples agree at the sampling rate
    assert round(rec["duration"] * rec["sampling_rate"]) == rec["num_samples"]


def check_lhotse_supervision(sup: dict) -> None:
    assert set(sup) <= LHOTSE_SUPERVISION and {"id", "recording_id", "start", "duration"} <= set(
        sup
    )
    assert isinstance(sup["custom"], dict) and "license" in sup["custom"]


def test_the_lhotse_export_follows_lhotses_schema_and_comes_back_through_the_manifest_source(
    sharded_corpus, exports, tmp_path
):
    out = exports["lhotse"]
    info = load_info(str(sharded_corpus))
    ours = corpus_utterances(sharded_corpus)
    seen = set()
    for split in info["splits"]:
        recordings = {r["id"]: r for r in jsonl(out / f"speechmill_recordings_{split}.jsonl.gz")}
        supervisions = jsonl(out / f"speechmill_supervisions_{split}.jsonl.gz")
        cuts = jsonl(out / f"speechmill_cuts_{split}.jsonl.gz")
        assert (
            len(supervisions) == len(recordings) == len(cuts) == info["splits"][split]["examples"]
        )
        for sup, cut in zip(supervisions, cuts):
            check_lhotse_supervision(sup)
            rec = recordings[sup["recording_id"]]
            check_lhotse_recording(rec)
            assert set(cut) <= LHOTSE_CUT and cut["type"] == "MonoCut"
            assert cut["recording"] == rec and cut["supervisions"] == [sup]
            utt = ours[sup["id"]]
            audio = flac_samples(out / rec["sources"][0]["source"])
            assert np.array_equal(audio, utt.audio) and sup["text"] == utt.text
            assert sup["speaker"] == utt.speaker and sup["custom"]["source"] == utt.source
            seen.add(utt.id)
    assert seen == set(ours)
    # round trip: the cuts as a speechmill source give every utterance back, sample for sample
    tables = "".join(
        f'[[source]]\ntype = "manifest"\nformat = "lhotse"\nsplit = "{s}"\n'
        f'path = "{out / f"speechmill_cuts_{s}.jsonl.gz"}"\n'
        for s in info["splits"]
    )
    back = tmp_path / "back"
    build(write_config(tmp_path / "c.toml", tables), back)
    again = corpus_utterances(back)
    assert sorted((u.text, u.audio.tobytes()) for u in again.values()) == sorted(
        (u.text, u.audio.tobytes()) for u in ours.values()
    )
    assert sorted(split_of(back).values()) == sorted(split_of(sharded_corpus).values())
    assert {u.gender for u in again.values()} == {u.gender for u in ours.values()}


def test_nemo_to_speechmill_to_nemo_is_identical(sharded_corpus, exports, tmp_path):
    """A NeMo corpus (the nemo export) built into a speechmill corpus with type = "manifest"
    and exported again: the same utterances, text, durations and samples, split for split."""
    original = exports["nemo"]
    info = load_info(str(sharded_corpus))
    tables = "".join(
        f'[[source]]\ntype = "manifest"\nsplit = "{s}"\npath = "{original / f"{s}_manifest.json"}"\n'
        for s in info["splits"]
    )
    built = tmp_path / "built"
    build(write_config(tmp_path / "c.toml", tables), built)
    export(
        [
            "--format",
            "nemo",
            "--input",
            str(built),
            "--output",
            str(tmp_path / "again"),
            *IN_PROCESS,
        ]
    )

    def utterances_of(folder: Path) -> dict[str, list]:
        out = {}
        for split in info["splits"]:
            out[split] = sorted(
                (line["text"], line["duration"], line["gender"],
                 hashlib.sha256(flac_samples(folder / line["audio_filepath"]).tobytes()).hexdigest())
                for line in jsonl(folder / f"{split}_manifest.json")
            )  # fmt: skip
        return out

    assert utterances_of(tmp_path / "again") == utterances_of(original)


def test_an_export_is_the_same_bytes_on_one_or_two_workers_and_a_rerun_changes_nothing(
    sharded_corpus, exports, tmp_path
):
    two = tmp_path / "two"
    args = ["--format", "lhotse", "--input", str(sharded_corpus), "--output", str(two)]
    export([*args, "--direct_num_workers=2", "--direct_running_mode=multi_threading"])

    def files(folder: Path) -> dict[str, str]:
        return {
            str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".lock"
        }

    assert files(two) == files(exports["lhotse"])
    before = files(two)
    export([*args, *IN_PROCESS])  # a re-run into the same folder: no duplicates, same bytes
    assert files(two) == before


def test_a_finished_unit_is_reused_and_a_damaged_one_done_again(sharded_corpus, tmp_path):
    from speechmill.corpus.reader import all_shards, shard_ranges
    from speechmill.pipelines.export_corpus import ExportRanges

    info = load_info(str(sharded_corpus))
    split, path = all_shards(str(sharded_corpus), info)[0]
    (work,) = shard_ranges(split, path, 256)
    out = tmp_path / "out"
    out.mkdir()
    fn = ExportRanges("nemo", str(out), RATE, "job")
    (first,) = fn.process(work)
    piece = Path(first.parts[0].path)
    stamp = piece.stat().st_mtime_ns
    (again,) = fn.process(work)
    assert again == first and piece.stat().st_mtime_ns == stamp  # reused, not rewritten
    piece.write_bytes(piece.read_bytes()[:-3])  # a piece cut short (a killed job)
    (redone,) = fn.process(work)
    assert redone == first and piece.read_bytes().endswith(b"}\n")


def test_an_export_refuses_the_input_a_foreign_folder_and_another_corpus_without_fresh(
    sharded_corpus, librispeech_corpus, exports, tmp_path
):
    with pytest.raises(UsageError, match="is the input corpus"):
        export(
            ["--format", "nemo", "--input", str(sharded_corpus), "--output", str(sharded_corpus)]
        )
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("years of work")
    with pytest.raises(UsageError, match="not a speechmill export"):
        export(
            ["--format", "nemo", "--input", str(sharded_corpus), "--output", str(tmp_path / "mine")]
        )
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "years of work"
    with pytest.raises(UsageError, match="needs --output"):
        export(["--format", "hf", "--input", str(sharded_corpus)])
    out = tmp_path / "nemo"
    import shutil

    shutil.copytree(exports["nemo"], out)
    other = [
        "--format",
        "nemo",
        "--input",
        str(librispeech_corpus),
        "--output",
        str(out),
        *IN_PROCESS,
    ]
    with pytest.raises(UsageError, match="another corpus"):
        export(other)
    export([*other, "--fresh"])
    lines = jsonl(out / "train_manifest.json") + jsonl(out / "dev_manifest.json")
    assert len(lines) == len(corpus_utterances(librispeech_corpus))
    flacs = list((out / "audio").rglob("*.flac"))
    assert len(flacs) == len(lines)  # the other corpus's files are gone


def verified_utterance() -> Utterance:
    return Utterance(
        id="youtube/abc/00001", source="youtube", speaker="youtube/chan", group="youtube/chan",
        text="hello world", text_raw="Hello, world!", audio=np.arange(-800, 800, dtype=np.int16) * 20,
        license="CC BY 3.0", origin="https://example.org/v?id=abc", captions="manual",
        verify_score=-0.25, word_times=(0.1, 0.4, 0.5, 0.9), gender="f",
    )  # fmt: skip


def test_make_verify_word_times_go_where_each_format_keeps_alignments():
    utt = verified_utterance()
    line = nemo.nemo_line(utt, "audio/x.flac", RATE)
    assert line["words"] == [
        {"word": "hello", "start": 0.1, "duration": 0.3},
        {"word": "world", "start": 0.5, "duration": 0.4},
    ]
    assert line["verify_score"] == -0.25 and line["captions"] == "manual"
    sup = lhotse.supervision(utt, RATE)
    check_lhotse_supervision(sup)
    assert sup["alignment"] == {"word": [["hello", 0.1, 0.3, None], ["world", 0.5, 0.4, None]]}
    assert sup["custom"]["verify_score"] == -0.25 and sup["gender"] == "f"
    row = hf.hf_row(utt, RATE)
    assert row["words"] == [
        {"word": "hello", "start": 0.1, "end": 0.4},
        {"word": "world", "start": 0.5, "end": 0.9},
    ]
    assert np.array_equal(flac_samples(row["audio"]["bytes"]), utt.audio)
    table = hf.parquet_bytes([row], RATE)
    import pyarrow.parquet as pq

    back = pq.read_table(io.BytesIO(table)).to_pylist()[0]
    assert back["words"][1]["word"] == "world" and abs(back["verify_score"] + 0.25) < 1e-6


def test_the_dataset_card_escapes_what_the_corpus_says():
    info = {
        "schema_version": 4,
        "seed": 1,
        "sources": [
            {"type": "movies", "examples": 3, "license": "<script>alert(1)</script> | x\n# y"}
        ],
    }
    splits = {
        "train": {
            "examples": 3,
            "bytes": 10,
            "seconds": 3.0,
            "files": ["data/train-00000-of-00001.parquet"],
        }
    }
    card = hf.dataset_card(info, splits, RATE)
    header = yaml.safe_load(card.split("---\n")[1])
    assert (
        header["license_details"] == "movies: <script>alert(1)</script> | x\n# y"
    )  # YAML-quoted, intact
    body = card.split("---\n", 2)[2]
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert "\n# y" not in body  # a line break in a cell does not start a heading
    licence_row = next(line for line in body.splitlines() if line.startswith("| movies"))
    assert licence_row.count("|") == 4  # the pipe in the licence does not add a column
