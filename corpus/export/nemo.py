"""NeMo: one JSONL manifest per split (``train_manifest.json``: ``audio_filepath``,
``duration``, ``text``), audio paths relative to the manifest's folder as NeMo resolves them.

Verified utterances add ``words`` (``word``, ``start``, ``duration`` in seconds: CTM's columns,
as NeMo's forced aligner writes them) and ``verify_score``; speaker and provenance are extra
keys NeMo's loaders ignore. ``type = "manifest"`` reads these manifests back.
"""

from __future__ import annotations

import json
from typing import Any

from speechmill.corpus.export import provenance, seconds
from speechmill.corpus.schema import Utterance


def manifest_name(split: str) -> str:
    return f"{split}_manifest.json"


def nemo_line(utt: Utterance, audio_path: str, sample_rate: int) -> dict[str, Any]:
    """One manifest line of an utterance whose FLAC is at ``audio_path`` (relative)."""
    line: dict[str, Any] = {
        "audio_filepath": audio_path,
        "duration": seconds(utt.num_samples, sample_rate),
        "text": utt.text,
        **provenance(utt),
    }
    if utt.words:
        line["words"] = [
            {"word": w, "start": round(start, 3), "duration": round(end - start, 3)}
            for w, start, end in utt.words
        ]
    return line


def dumps_line(line: dict[str, Any]) -> bytes:
    """A manifest line as NeMo reads it: one JSON object, UTF-8, newline-terminated."""
    return (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
