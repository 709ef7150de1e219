"""Hugging Face ``datasets``: Parquet shards per split with an ``Audio`` column and a dataset
card (``README.md`` with the YAML header the Hub reads).

The ``audio`` column is the Hub's ``{bytes, path}`` struct (FLAC bytes); each file's Arrow
schema carries ``datasets``' feature metadata (the ``huggingface`` key), so
``load_dataset("parquet", data_files=...)`` and ``load_dataset(OUT)`` give typed columns with
no ``datasets`` or torch needed here: the export writes with pyarrow alone.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from speechmill.corpus.export import flac_bytes, markdown_cell, provenance, seconds
from speechmill.corpus.schema import FIELD_DOCS, Utterance

DATA_DIR = "data"
ROW_GROUP = 64  # rows per Parquet row group (audio rows are large; the Hub's viewer pages by group)
CARD = "README.md"


def _value(dtype: str) -> dict[str, str]:
    return {"dtype": dtype, "_type": "Value"}


def hf_features(sample_rate: int) -> dict[str, Any]:
    """The columns as ``datasets.Features.to_dict()`` writes them (column order kept)."""
    word = {"word": _value("string"), "start": _value("float32"), "end": _value("float32")}
    return {
        "id": _value("string"),
        "audio": {"sampling_rate": sample_rate, "_type": "Audio"},
        "text": _value("string"),
        "duration": _value("float64"),
        "speaker": _value("string"),
        "gender": _value("string"),
        "source": _value("string"),
        "group": _value("string"),
        "license": _value("string"),
        "origin": _value("string"),
        "synthetic": _value("bool"),
        "engine": _value("string"),
        "captions": _value("string"),
        "augment": _value("string"),
        "text_raw": _value("string"),
        "readings": {"feature": _value("string"), "_type": "List"},
        "verify_score": _value("float32"),
        "media": _value("string"),
        "media_span": {"feature": _value("float32"), "_type": "List"},
        "words": {"feature": word, "_type": "List"},
    }


FIELD_NOTES = {
    **FIELD_DOCS,
    "audio": "FLAC bytes of the utterance (decodes to the corpus's PCM16 samples)",
    "duration": "seconds",
    "words": "make verify's word times (start, end in seconds); empty when not verified",
}


def hf_row(utt: Utterance, sample_rate: int) -> dict[str, Any]:
    """One table row: FLAC audio as ``{bytes, path}``, text, duration, provenance, words."""
    return {
        "audio": {"bytes": flac_bytes(utt.audio, sample_rate), "path": f"{utt.id}.flac"},
        "text": utt.text,
        "duration": seconds(utt.num_samples, sample_rate),
        **provenance(utt),
        "words": [{"word": w, "start": s, "end": e} for w, s, e in utt.words],
    }


def arrow_type(feature: Mapping[str, Any]) -> Any:
    """The Arrow type ``datasets`` stores a feature (``hf_features``' form) as."""
    import pyarrow as pa

    kind = feature["_type"]
    if kind == "Audio":  # the Hub's {bytes, path} struct
        return pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    if kind == "List":
        inner = feature["feature"]
        if "_type" in inner:
            return pa.list_(arrow_type(inner))
        return pa.list_(pa.struct([(k, arrow_type(v)) for k, v in inner.items()]))
    return pa.type_for_alias(feature["dtype"])


def arrow_schema(sample_rate: int) -> Any:
    """The Parquet schema: each feature's Arrow type plus ``datasets``' metadata."""
    import pyarrow as pa

    features = hf_features(sample_rate)
    fields = [pa.field(name, arrow_type(f)) for name, f in features.items()]
    metadata = {"huggingface": json.dumps({"info": {"features": features}})}
    return pa.schema(fields, metadata=metadata)


def parquet_bytes(rows: list[dict[str, Any]], sample_rate: int) -> bytes:
    """Rows -> one Parquet file's bytes (the same bytes for the same rows)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema(sample_rate)
    table = pa.Table.from_pylist(rows, schema=schema)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=ROW_GROUP, compression="zstd")
    return buffer.getvalue()


def shard_name(split: str, index: int, count: int) -> str:
    return f"{DATA_DIR}/{split}-{index:05d}-of-{count:05d}.parquet"


def size_category(examples: int) -> str:
    """The Hub's size_categories tag for a number of rows."""
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")]
    bounds += [(1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M")]
    return next((tag for limit, tag in bounds if examples < limit), "100M<n<1B")


def dataset_card(
    info: Mapping[str, Any], splits: Mapping[str, Mapping[str, Any]], sample_rate: int
) -> str:
    """The ``README.md`` of an hf export: YAML header (licences, splits, sizes, features,
    data files) and a short body. ``splits``: per split ``examples``, ``bytes``, ``seconds``
    and ``files``; ``info``: the input corpus's info.json (its sources and licences)."""
    import yaml

    sources = info.get("sources", [])
    header = {
        "pretty_name": "speechmill corpus",
        "language": ["en"],
        "license": "other",
        "license_name": "per-source",
        "license_details": "; ".join(
            f"{s.get('type')}: {s.get('license') or 'unknown'}" for s in sources
        ),
        "task_categories": ["automatic-speech-recognition"],
        "tags": ["speechmill", "audio"],
        "size_categories": [size_category(sum(s["examples"] for s in splits.values()))],
        "configs": [
            {
                "config_name": "default",
                "data_files": [
                    {"split": name, "path": f"{DATA_DIR}/{name}-*.parquet"} for name in splits
                ],
            }
        ],
        "dataset_info": {
            "features": _yaml_features(hf_features(sample_rate)),
            "splits": [
                {"name": name, "num_bytes": s["bytes"], "num_examples": s["examples"]}
                for name, s in splits.items()
            ],
            "download_size": sum(s["bytes"] for s in splits.values()),
            "dataset_size": sum(s["bytes"] for s in splits.values()),
        },
    }
    lines = [
        "---",
        yaml.safe_dump(header, sort_keys=False, allow_unicode=True).rstrip("\n"),
        "---",
        "",
        "# speechmill corpus",
        "",
        "Exported by `speechmill export --format hf` from a speechmill corpus "
        f"(schema {markdown_cell(info.get('schema_version'))}, {sample_rate} Hz, "
        f"seed {markdown_cell(info.get('seed'))}).",
        "",
        "```python",
        "from datasets import load_dataset",
        'ds = load_dataset("path/to/this/folder")  # or load_dataset("parquet", data_dir=".../data")',
        "```",
        "",
        "| split | examples | hours |",
        "|---|---|---|",
        *(
            f"| {markdown_cell(n)} | {s['examples']} | {s['seconds'] / 3600:.3f} |"
            for n, s in splits.items()
        ),
        "",
        "## Licences",
        "",
        "| source | examples | licence |",
        "|---|---|---|",
        *(
            f"| {markdown_cell(s.get('type'))} | {markdown_cell(s.get('examples', ''))} | "
            f"{markdown_cell(s.get('license'))} |"
            for s in sources
        ),
        "",
        "## Columns",
        "",
        "| column | meaning |",
        "|---|---|",
        *(
            f"| {markdown_cell(name)} | {markdown_cell(FIELD_NOTES.get(name, ''))} |"
            for name in hf_features(sample_rate)
        ),
        "",
    ]
    return "\n".join(lines)


def _yaml_features(features: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``datasets``' YAML form of features (``DatasetInfo._to_yaml_dict``)."""

    def dtype(feature: Mapping[str, Any]) -> Any:
        kind = feature["_type"]
        if kind == "Value":
            return {"dtype": feature["dtype"]}
        if kind == "Audio":
            return {"dtype": {"audio": {"sampling_rate": feature["sampling_rate"]}}}
        inner = feature["feature"]
        if "_type" in inner:
            return {"list": dtype(inner)["dtype"]}
        return {"list": [{"name": k, **dtype(v)} for k, v in inner.items()]}

    return [{"name": name, **dtype(f)} for name, f in features.items()]
