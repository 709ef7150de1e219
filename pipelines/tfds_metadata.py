"""A finished corpus folder as a TFDS dataset, in place: ``tfds.builder_from_directory(OUT)``.

``write_tfds_metadata(folder)`` writes TFDS's ``dataset_info.json`` and ``features.json``
beside the shards with TFDS's own folder-dataset API (``tfds.folder_dataset.write_metadata``):
the features are the record fields of corpus/schema.py (``audio`` decodes to the stored int16
samples, a field a record may lack is a sequence of 0 or 1 values), the splits and per-shard
counts come from ``info.json`` (the source of truth; a corpus built before it listed
``shard_examples`` is counted from the TFRecord headers), and the file name template is the
corpus's own ``{SPLIT}-{SHARD_X_OF_Y}.tfrecord``, so nothing is copied. A job that
republishes the corpus deletes these two files first (corpus/shards.py), and ``make corpus``,
``make augment`` and ``make verify`` write them again when tensorflow-datasets is installed.

TFDS imports TensorFlow: this runs in the launcher after a job, never on a worker.
"""

from __future__ import annotations

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


def tfds_features(sample_rate: int) -> Any:
    """The record fields (corpus/schema.py's FIELD_TYPES) as a ``tfds.features.FeaturesDict``,
    each with its schema doc."""
    import numpy as np
    import tensorflow_datasets as tfds

    F = tfds.features
    dtypes = {"int16": np.int16, "int64": np.int64, "bool": np.bool_, "float32": np.float32}
    features: dict[str, Any] = {}
    for name, (kind, _shape, dtype) in FIELD_TYPES.items():
        doc = FIELD_DOCS[name]
        if kind == "Text":
            features[name] = F.Text(doc=doc)
        elif kind == "Audio":  # the record's raw little-endian PCM16 bytes
            features[name] = F.Audio(
                shape=(None,), dtype=dtypes[dtype], sample_rate=sample_rate,
                encoding=F.Encoding.BYTES, doc=doc,
            )  # fmt: skip
        elif kind == "Scalar":
            features[name] = F.Scalar(dtype=dtypes[dtype], doc=doc)
        elif kind == "Tensor":
            features[name] = F.Tensor(shape=(None,), dtype=dtypes[dtype], doc=doc)
        else:
            features[name] = F.Sequence(F.Text(), doc=doc)
    return F.FeaturesDict(features)


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


def write_tfds_metadata(folder: str, info: dict[str, Any] | None = None) -> str:
    """Write TFDS's metadata for a finished corpus in ``folder``; returns the dataset name."""
    import tensorflow_datasets as tfds

    folder = folder.rstrip("/")
    info = info or load_info(folder)
    name = dataset_name(folder)
    template = tfds.core.ShardedFileTemplate(
        data_dir=tfds.core.Path(folder),
        template=TEMPLATE,
        dataset_name=name,
        filetype_suffix="tfrecord",
    )
    splits = [
        tfds.core.SplitInfo(
            name=split,
            shard_lengths=shard_lengths(folder, info, split),
            num_bytes=sum(storage.size(p) for p in shard_paths(folder, info, split)),
            filename_template=template,
        )
        for split in sorted(info["splits"])
    ]
    sources = ", ".join(sorted({s["type"] for s in info.get("sources", [])})) or "no sources"
    tfds.folder_dataset.write_metadata(
        data_dir=folder,
        features=tfds_features(int(info["sample_rate"])),
        split_infos=splits,
        filename_template=template,
        version=f"{SCHEMA_VERSION}.0.0",
        check_data=False,
        description=(
            f"A speechmill corpus ({sources}; {info['sample_rate']} Hz PCM16, seed "
            f"{info.get('seed')}). info.json beside the shards is the source of truth: "
            "licences per source, rejects, settings."
        ),
        supervised_keys=("audio", "text"),
    )
    return name


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
