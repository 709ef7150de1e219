"""tf.data input over a speechmill corpus folder.

``split_dataset(corpus_dir, split)`` gives a ``tf.data.Dataset`` of decoded records (dicts of
tensors: ``id``, ``text``, ``audio`` as float32, ``num_samples``, ``speaker``, ...);
``batches`` pads and buckets them for a CTC model. ``info.json`` is read and checked (schema
version, sample rate, alphabet) by the corpus reader (corpus/reader.py) before any shard is
opened; TensorFlow reads the shard files themselves.
"""

from __future__ import annotations

import tensorflow as tf

from speechmill.corpus.errors import UsageError
from speechmill.corpus.reader import load_info, shard_paths
from speechmill.corpus.schema import ALPHABET, parse_example

INTERLEAVE = 64  # shards read at once (block of one record each): a batch draws on many units


class TooFewShards(UsageError):
    """A split with fewer shard files than workers: a worker would read nothing."""


def worker_shards(paths: list[str], workers: int, worker: int, split: str) -> list[str]:
    """The shard files worker ``worker`` of ``workers`` reads: every ``workers``-th in
    info.json's order, so the workers' files are disjoint and together the whole split."""
    if len(paths) < workers:
        raise TooFewShards(
            f"split {split} has {len(paths)} shard files for {workers} workers (each worker "
            "reads its own files): rebuild the corpus with a smaller [corpus] shard_mb, "
            "or train on fewer workers"
        )
    return paths[worker::workers]


def split_dataset(
    corpus_dir: str,
    split: str,
    *,
    sample_rate: int | None = None,
    alphabet: str | None = None,
    shuffle: bool = False,
    seed: int = 0,
    cycle_length: int = INTERLEAVE,
    workers: int = 1,
    worker: int = 0,
) -> tf.data.Dataset:
    """Decoded utterances of one split (of worker ``worker``'s shards when ``workers`` > 1).

    Up to ``cycle_length`` shards are read at once, a record from each in turn (in parallel,
    order kept), so consecutive records come from different units; with ``shuffle`` the shards
    are taken in a seeded order, a new one each time the dataset is repeated."""
    info = load_info(corpus_dir, sample_rate=sample_rate, alphabet=alphabet)
    paths = worker_shards(shard_paths(corpus_dir, info, split), workers, worker, split)
    files = tf.data.Dataset.from_tensor_slices(paths)
    if shuffle:
        files = files.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    records = files.interleave(
        tf.data.TFRecordDataset,
        cycle_length=min(cycle_length, len(paths)),
        block_length=1,
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    return records.map(parse_example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


# ----------------------------------------------------------------------------- training input

BUCKET_SECONDS = (3, 5, 7, 9, 12, 16, 21, 31)  # audio is padded up to one of these lengths
MAX_LABEL = 600  # characters; labels are padded to this width


def text_to_ids(text: tf.Tensor) -> tf.Tensor:
    """A normalized transcript (tf.string) -> int32 token ids; character i of ALPHABET -> i + 1."""
    table = [0] * 128
    for i, ch in enumerate(ALPHABET):
        table[ord(ch)] = i + 1
    codes = tf.strings.unicode_decode(text, "UTF-8")
    return tf.gather(tf.constant(table, tf.int32), tf.minimum(codes, 127))


def ids_to_text(ids) -> str:
    """Token ids (blank 0 and padding -1 skipped) -> text."""
    return "".join(ALPHABET[i - 1] for i in ids if 0 < i <= len(ALPHABET))


def _to_model_inputs(example):
    labels = text_to_ids(example["text"])
    return (
        {"audio": example["audio"], "audio_length": tf.cast(example["num_samples"], tf.int32)},
        {"labels": labels, "label_length": tf.shape(labels)[0]},
    )


def batches(
    corpus_dir: str,
    split: str,
    *,
    batch_size: int = 16,
    sample_rate: int = 16000,
    shuffle: bool = False,
    seed: int = 0,
    augment: str | None = None,
    repeat: bool = False,
    keep_meta: bool = False,
    workers: int = 1,
    worker: int = 0,
    subsampling: int = 4,
) -> tf.data.Dataset:
    """Padded batches for a CTC model: ``({"audio", "audio_length"}, {"labels", "label_length"})``.

    Utterances are bucketed by length and padded to the bucket's bound, so a batch has one of
    len(BUCKET_SECONDS) audio shapes (a compiled model never retraces per batch); labels are
    padded to MAX_LABEL. With ``keep_meta`` the first dict also carries id, text and source.
    ``workers``/``worker``: this worker's shards only (see :func:`worker_shards`);
    ``subsampling``: the encoder's (train/encoders.py), for the CTC length filter.
    """
    from speechmill.augment.tf_ops import augment_dataset
    from speechmill.train.model import output_lengths

    dataset = split_dataset(
        corpus_dir,
        split,
        sample_rate=sample_rate,
        alphabet=ALPHABET,
        shuffle=shuffle,
        seed=seed,
        workers=workers,
        worker=worker,
    )
    limit = BUCKET_SECONDS[-1] * sample_rate
    dataset = dataset.filter(lambda ex: ex["num_samples"] < int(limit * 0.9))
    if repeat:
        dataset = dataset.repeat()
    if shuffle:
        dataset = dataset.shuffle(512, seed=seed)
    if augment:
        dataset = augment_dataset(dataset, seed, augment)

    def to_inputs(example):
        x, y = _to_model_inputs(example)
        if keep_meta:
            x.update(id=example["id"], text=example["text"], source=example["source"])
        return x, y

    dataset = dataset.map(to_inputs, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    # CTC needs a logit frame per label plus one between repeated letters (see train/model.py
    # output_lengths); fast speech sped up by augmentation can fall short, and one impossible
    # utterance makes the batch loss infinite.
    dataset = dataset.filter(
        lambda x, y: tf.logical_and(
            y["label_length"] <= MAX_LABEL,
            ctc_frames_needed(y["labels"])
            <= output_lengths(x["audio_length"], sample_rate, subsampling),
        )
    )
    bounds = [s * sample_rate for s in BUCKET_SECONDS]
    padded = (
        {
            "audio": [None],
            "audio_length": [],
            **({"id": [], "text": [], "source": []} if keep_meta else {}),
        },
        {"labels": [MAX_LABEL], "label_length": []},
    )
    dataset = dataset.bucket_by_sequence_length(
        lambda x, y: x["audio_length"],
        bucket_boundaries=bounds[:-1],
        bucket_batch_sizes=[batch_size] * len(bounds),
        padded_shapes=padded,
        pad_to_bucket_boundary=False,
        drop_remainder=False,
    )
    dataset = dataset.map(lambda x, y: (_pad_audio(x, bounds), y))
    return dataset.prefetch(tf.data.AUTOTUNE)


def ctc_frames_needed(labels: tf.Tensor) -> tf.Tensor:
    """The fewest logit frames a CTC path for ``labels`` (unpadded ids) needs: one per label and
    one blank between each pair of equal neighbours."""
    repeats = tf.reduce_sum(tf.cast(tf.equal(labels[1:], labels[:-1]), tf.int32))
    return tf.shape(labels)[0] + repeats


def _pad_audio(x, bounds):
    """Pad a batch's audio up to the smallest bucket bound that holds it."""
    n = tf.shape(x["audio"])[1]
    target = tf.reduce_min(tf.boolean_mask(tf.constant(bounds), tf.constant(bounds) >= n))
    return {**x, "audio": tf.pad(x["audio"], [[0, 0], [0, target - n]])}
