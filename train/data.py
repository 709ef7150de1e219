"""tf.data input over a speechmill corpus folder.

``load_info(corpus_dir)`` reads and checks ``info.json``; ``utterances(corpus_dir, split)``
gives a ``tf.data.Dataset`` of decoded records (dicts of tensors: ``id``, ``text``, ``audio``
as float32, ``num_samples``, ``speaker``, ...). The corpus's schema version, sample rate and
alphabet are checked before any shard is opened.
"""
from __future__ import annotations

import json

import tensorflow as tf

from corpus.schema import INFO_FILE, check_info, parse_example


def load_info(corpus_dir: str, *, sample_rate: int | None = None, alphabet: str | None = None) -> dict:
    """Read ``info.json`` and check it; raises CorpusMismatch or FileNotFoundError."""
    path = f"{corpus_dir.rstrip('/')}/{INFO_FILE}"
    if not tf.io.gfile.exists(path):
        raise FileNotFoundError(f"{corpus_dir}: no {INFO_FILE}; not a finished speechmill corpus")
    with tf.io.gfile.GFile(path, "r") as f:
        info = json.loads(f.read())
    check_info(info, sample_rate=sample_rate, alphabet=alphabet, where=corpus_dir)
    return info


def shard_paths(corpus_dir: str, split: str, info: dict | None = None) -> list[str]:
    """The shard files of one split, as listed in info.json."""
    info = info or load_info(corpus_dir)
    if split not in info["splits"]:
        raise KeyError(f"{corpus_dir}: no split {split!r}; it has {', '.join(info['splits']) or 'none'}")
    return [f"{corpus_dir.rstrip('/')}/{name}" for name in info["splits"][split]["shards"]]


def utterances(corpus_dir: str, split: str, *, sample_rate: int | None = None, alphabet: str | None = None,
               shuffle: bool = False, seed: int = 0, cycle_length: int = 4) -> tf.data.Dataset:
    """Decoded utterances of one split; with ``shuffle``, shards are read interleaved in a
    seeded order (records keep their order within a shard)."""
    info = load_info(corpus_dir, sample_rate=sample_rate, alphabet=alphabet)
    files = tf.data.Dataset.from_tensor_slices(shard_paths(corpus_dir, split, info))
    if shuffle:
        files = files.shuffle(len(info["splits"][split]["shards"]), seed=seed)
    records = files.interleave(tf.data.TFRecordDataset, cycle_length=cycle_length,
                               num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return records.map(parse_example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
