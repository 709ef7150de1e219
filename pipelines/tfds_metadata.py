"""A finished corpus folder as a TFDS dataset, in place: ``tfds.builder_from_directory(OUT)``.

``write_tfds_metadata(folder)`` writes TFDS's ``dataset_info.json`` and ``features.json``
beside the shards as the JSON that TFDS's own folder-dataset API
(``tfds.folder_dataset.write_metadata``) writes, without importing TFDS or TensorFlow (a test
compares the two files with TFDS's, and loads the folder with ``tfds.builder_from_directory``):
the features are the record fields of corpus/schema.py (``audio`` decodes to the stored int16
samples, a field a record may lack is a sequence of 0 or 1 values), the splits and per-shard
counts come from ``info.json`` (the source of truth; a corpus built before it listed
``shard_examples`` is counted from the TFRecord headers), and the file name template is the
corpus's own ``{SPLIT}-{SHARD_X_OF_Y}.tfrecord``, so nothing is copied. A job that
republishes the corpus deletes these two files first (corpus/shards.py), and ``make corpus``,
``make augment`` and ``make verify`` write them again when tensorflow-datasets is installed
(the files are only of use to it). Writing them costs the launcher neither TensorFlow's import
(about 4 s) nor its memory (about 600 MB).
"""

from __future__ import annotations

import json
import re
from typing import Any

from speechmill.corpus import storage
from speechmill.corpus.reader import load_info, shard_paths
from speechmill.corpus.schema import FIELD_DOCS, FIELD_TYPES, SCHEMA_VERSION
from speechmill.corpus.tfrecord import record_offsets

TEMPLATE = "{SPLIT}-{SHARD_X_OF_Y}.tfrecord"  # corpus/plan.py's shard names


def available() -> bool:
    """Is tensorflow-datasets installed?"""
    import importlib.util

    return importlib.util.find_spec("tensorflow_datasets") is not None


def dataset_name(folder: str) -> str:
    """A TFDS dataset name (snake_case) for a corpus folder: its base name."""
    base = folder.rstrip("/").rsplit("/", 1)[-1].lower()
    name = re.sub(r"[^a-z0-9]+", "_", base).strip("_")
    return name if name and name[0].isalpha() else f"speechmill_{name or 'corpus'}"


CLASSES = "tensorflow_datasets.core.features."
DIMENSIONS = {"()": {}, "(None,)": {"dimensions": ["-1"]}}


def feature_json(kind: str, shape: str, dtype: str, sample_rate: int) -> dict[str, Any]:
    """One record field as TFDS's ``features.json`` describes it (the JSON of its feature
    proto: what ``tfds.features.Text()``, ``Audio``, ``Scalar``, ``Tensor`` and
    ``Sequence(Text())`` write; a test compares the whole file with TFDS's own)."""
    text = {"pythonClassName": CLASSES + "text_feature.Text", "text": {}}
    if kind == "Text":
        return text
    if kind == "Audio":  # the record's raw little-endian PCM16 bytes
        return {
            "audio": {
                "dtype": dtype,
                "encoding": "BYTES",
                "sampleRate": str(sample_rate),
                "shape": DIMENSIONS[shape],
            },
            "pythonClassName": CLASSES + "audio_feature.Audio",
        }
    if kind in ("Scalar", "Tensor"):
        module = "scalar.Scalar" if kind == "Scalar" else "tensor_feature.Tensor"
        return {
            "pythonClassName": CLASSES + module,
            "tensor": {"dtype": dtype, "encoding": "none", "shape": DIMENSIONS[shape]},
        }
    return {  # Sequence(Text)
        "pythonClassName": CLASSES + "sequence_feature.Sequence",
        "sequence": {"feature": text, "length": "-1"},
    }


def features_json(sample_rate: int) -> dict[str, Any]:
    """TFDS's ``features.json`` for the record fields (corpus/schema.py's FIELD_TYPES), each
    with its schema doc."""
    features = {
        name: {"description": FIELD_DOCS[name], **feature_json(*FIELD_TYPES[name], sample_rate)}
        for name in sorted(FIELD_TYPES)
    }
    return {
        "featuresDict": {"features": features},
        "pythonClassName": CLASSES + "features_dict.FeaturesDict",
    }


def shard_lengths(folder: str, info: dict[str, Any], split: str) -> list[int]:
    """Records per shard of a split: info.json's ``shard_examples``, else the TFRecord headers."""
    listed = info["splits"][split].get("shard_examples")
    if isinstance(listed, list) and len(listed) == len(info["splits"][split]["shards"]):
        return [int(n) for n in listed]
    lengths = []
    for path in shard_paths(folder, info, split):
        with storage.open_read(path) as f:
            lengths.append(len(record_offsets(f, storage.size(path), path)) - 1)
    return lengths


def dataset_info_json(folder: str, info: dict[str, Any]) -> dict[str, Any]:
    """TFDS's ``dataset_info.json`` for a finished corpus: its splits and shards from info.json,
    the corpus's own shard names as the file template, the schema version as the version."""
    sources = ", ".join(sorted({s["type"] for s in info.get("sources", [])})) or "no sources"
    return {
        "description": (
            f"A speechmill corpus ({sources}; {info['sample_rate']} Hz PCM16, seed "
            f"{info.get('seed')}). info.json beside the shards is the source of truth: "
            "licences per source, rejects, settings."
        ),
        "fileFormat": "tfrecord",
        "name": dataset_name(folder),
        "splits": [
            {
                "filepathTemplate": TEMPLATE,
                "name": split,
                "numBytes": str(sum(storage.size(p) for p in shard_paths(folder, info, split))),
                "shardLengths": [str(n) for n in shard_lengths(folder, info, split)],
            }
            for split in sorted(info["splits"])
        ],
        "supervisedKeys": {"tuple": {"items": [{"featureKey": "audio"}, {"featureKey": "text"}]}},
        "version": f"{SCHEMA_VERSION}.0.0",
    }


def write_tfds_metadata(folder: str, info: dict[str, Any] | None = None) -> str:
    """Write TFDS's metadata for a finished corpus in ``folder`` (plain JSON: neither TFDS nor
    TensorFlow is imported); returns the dataset name."""
    folder = folder.rstrip("/")
    info = info or load_info(folder)
    files = {
        "dataset_info.json": dataset_info_json(folder, info),
        "features.json": features_json(int(info["sample_rate"])),
    }
    for name, content in files.items():
        with storage.create(f"{folder}/{name}", mime_type="application/json") as f:
            f.write((json.dumps(content, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return dataset_name(folder)


def tfds_line(folder: str, info: dict[str, Any]) -> str:
    """After a job: write the TFDS metadata when tensorflow-datasets is installed; one line
    saying how to load the corpus (or how to get there)."""
    if not available():
        return (
            f"speechmill: {folder} is not described for TFDS (tensorflow-datasets is not installed; "
            f"pip install tensorflow-datasets, then speechmill export --format tfds --input {folder})"
        )
    write_tfds_metadata(folder, info)
    return f"speechmill: TFDS: tfds.builder_from_directory({folder!r}).as_dataset(split='train')"
