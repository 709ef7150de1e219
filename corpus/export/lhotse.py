"""lhotse / k2: ``speechmill_recordings_<split>.jsonl.gz``,
``speechmill_supervisions_<split>.jsonl.gz`` and ``speechmill_cuts_<split>.jsonl.gz`` (both
joined in MonoCuts), the fields of lhotse's ``Recording``
(``id``, ``sources`` of ``{type: file, channels, source}``, ``sampling_rate``, ``num_samples``,
``duration``, ``channel_ids``) and ``SupervisionSegment`` (``id``, ``recording_id``, ``start``,
``duration``, ``channel``, ``text``, ``language``, ``speaker``, ``gender``, ``custom``,
``alignment``), one recording per utterance.

Audio paths are relative to the export folder, so the folder can move: load from anywhere with
``CutSet.from_file(OUT/speechmill_cuts_train.jsonl.gz).with_recording_path_prefix(OUT)``
(``load_hint``). Provenance goes in the
supervision's ``custom``; make verify's word times in ``alignment["word"]`` as lhotse's
``AlignmentItem`` lists ``[symbol, start, duration, score]`` (score: None).
A file of gzip members, one per work unit, is one gzip stream to every reader.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from typing import Any

from speechmill.corpus.export import provenance, seconds
from speechmill.corpus.schema import Utterance

LANGUAGE = "English"


KINDS = ("supervisions", "recordings", "cuts")


def manifest_name(kind: str, split: str) -> str:
    """``speechmill_<kind>_<split>.jsonl.gz``, as lhotse's recipes name them."""
    return f"speechmill_{kind}_{split}.jsonl.gz"


def load_hint(out_dir: str) -> str:
    """The line that loads the train cuts from any working folder (paths are relative to OUT)."""
    cuts = f"{out_dir}/{manifest_name('cuts', 'train')}"
    return f"lhotse.CutSet.from_file({cuts!r}).with_recording_path_prefix({out_dir!r})"


def recording(utt: Utterance, audio_path: str, sample_rate: int) -> dict[str, Any]:
    """A lhotse Recording of an utterance's FLAC file (its id is the utterance id)."""
    return {
        "id": utt.id,
        "sources": [{"type": "file", "channels": [0], "source": audio_path}],
        "sampling_rate": sample_rate,
        "num_samples": utt.num_samples,
        "duration": seconds(utt.num_samples, sample_rate),
        "channel_ids": [0],
    }


def supervision(utt: Utterance, sample_rate: int) -> dict[str, Any]:
    """A lhotse SupervisionSegment spanning the whole recording."""
    custom = {k: v for k, v in provenance(utt).items() if k not in ("id", "speaker", "gender")}
    segment: dict[str, Any] = {
        "id": utt.id,
        "recording_id": utt.id,
        "start": 0.0,
        "duration": seconds(utt.num_samples, sample_rate),
        "channel": 0,
        "text": utt.text,
        "language": LANGUAGE,
        "speaker": utt.speaker,
        "custom": custom,
    }
    if utt.gender:
        segment["gender"] = utt.gender
    if utt.words:
        segment["alignment"] = {
            "word": [
                [w, round(start, 3), round(end - start, 3), None] for w, start, end in utt.words
            ]
        }
    return segment


def cut(utt: Utterance, audio_path: str, sample_rate: int) -> dict[str, Any]:
    """A lhotse MonoCut of the whole recording with its one supervision: a self-contained
    line (what ``type = "manifest"`` with ``format = "lhotse"`` reads back)."""
    return {
        "id": utt.id,
        "start": 0.0,
        "duration": seconds(utt.num_samples, sample_rate),
        "channel": 0,
        "supervisions": [supervision(utt, sample_rate)],
        "recording": recording(utt, audio_path, sample_rate),
        "type": "MonoCut",
    }


def gzip_lines(rows: Iterable[dict[str, Any]]) -> bytes:
    """JSON lines as one gzip member (mtime 0: the same bytes on every run)."""
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return gzip.compress(text.encode("utf-8"), mtime=0)
