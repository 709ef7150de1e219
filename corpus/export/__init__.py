"""A corpus in the formats other speech stacks read: Hugging Face ``datasets`` (Parquet with an
``Audio`` column), NeMo (JSONL manifests) and lhotse (recordings, supervisions, cuts).

Pure functions from one :class:`~speechmill.corpus.schema.Utterance` to that stack's row
(``nemo.py``, ``lhotse.py``, ``hf.py``), one row per format in ``formats.FORMATS``;
pipelines/export_corpus.py wires them into a Beam job. What every format carries beside audio
and text is ``provenance(utt)``; audio files are FLAC (lossless: they decode to exactly the stored samples).
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import soundfile

from speechmill.corpus.schema import Utterance
from speechmill.corpus.types import slug

AUDIO_DIR = "audio"  # nemo, lhotse: OUT/audio/<split>/<shard>/<first record>/<file>.flac


def flac_bytes(audio: np.ndarray, sample_rate: int) -> bytes:
    """int16 samples -> a FLAC file's bytes (16-bit, mono; the same bytes on every run)."""
    buffer = io.BytesIO()
    soundfile.write(buffer, audio, sample_rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def audio_name(utt: Utterance, index: int) -> str:
    """A file-safe, unique name for the ``index``-th record of a shard."""
    return f"{index:07d}_{slug(utt.id.split('/', 1)[-1])[:80]}.flac"


def provenance(utt: Utterance) -> dict[str, Any]:
    """The record's fields beside audio and text, by their schema names (empty ones too, so
    every row of a table has the same keys; ``verify_score`` is None when not verified)."""
    return {
        "id": utt.id,
        "speaker": utt.speaker,
        "gender": utt.gender,
        "source": utt.source,
        "group": utt.group,
        "license": utt.license,
        "origin": utt.origin,
        "synthetic": utt.synthetic,
        "engine": utt.engine,
        "captions": utt.captions,
        "augment": utt.augment,
        "text_raw": utt.text_raw,
        "readings": list(utt.readings),
        "verify_score": utt.verify_score,
        "media": utt.media,
        "media_span": list(utt.media_span),
    }


def markdown_cell(value: Any) -> str:
    """A value from a corpus (a licence, a source name) for a Markdown README: HTML-escaped,
    pipes and line breaks neutralized, so it can neither add markup nor break a table."""
    return html.escape(str(value)).replace("|", "&#124;").replace("\n", " ").replace("\r", " ")


def seconds(num_samples: int, sample_rate: int) -> float:
    """Duration in seconds, exact to the sample (as lhotse checks it)."""
    return num_samples / sample_rate


def files_readme(info: Mapping[str, Any], splits: Mapping[str, Any], rate: int) -> str:
    """README.md of a nemo or lhotse export: what is where and how to load it."""
    rows = "\n".join(
        f"| {markdown_cell(name)} | {s['examples']} | {s['seconds'] / 3600:.3f} | "
        f"{', '.join(markdown_cell(f) for f in s['files'])} |"
        for name, s in splits.items()
    )
    licences = "\n".join(
        f"| {markdown_cell(s.get('type'))} | {markdown_cell(s.get('license'))} |"
        for s in info.get("sources", [])
    )
    return (
        "# speechmill corpus export\n\n"
        f"FLAC audio at {rate} Hz under `{AUDIO_DIR}/`, paths relative to this folder.\n\n"
        "| split | examples | hours | files |\n|---|---|---|---|\n"
        f"{rows}\n\n## Licences\n\n| source | licence |\n|---|---|\n{licences}\n"
    )
