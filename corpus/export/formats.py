"""The export formats, one row each: what ``speechmill export --format NAME`` writes.

A row says whether the format has FLAC files beside its tables (``audio_files``), which kinds
of piece one work unit writes (the first carries the unit's counts), how one utterance becomes a
row of each kind (``rows``) and a unit's rows one piece's bytes (``piece``), whether a split's
pieces of a kind are joined into one file (manifests) or published one file each (Parquet), the
published file names, the README, and the line that tells a user how to load the export.
pipelines/export_corpus.py reads nothing else about a format; the front door lists the rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from speechmill.corpus.export import files_readme, hf, lhotse, nemo
from speechmill.corpus.schema import Utterance

Rows = Callable[[Utterance, str, int], dict[str, Any]]  # (utt, audio path, rate) -> kind: row


@dataclasses.dataclass(frozen=True)
class ExportFormat:
    name: str
    help: str  # one line for --help
    audio_files: bool  # FLAC files under OUT/audio/ that the rows point to
    kinds: tuple[str, ...]  # pieces a unit writes; the first one carries the unit's counts
    rows: Rows
    piece: Callable[[str, list[Any], int], bytes]  # (kind, a unit's rows, rate) -> bytes
    joined: bool  # a split's pieces of a kind are one file (else one file per piece)
    file_name: Callable[[str, str, int, int], str]  # (kind, split, piece index, pieces)
    readme: Callable[[Mapping[str, Any], Mapping[str, Any], int], str]
    load_hint: Callable[[str], str]  # the export folder -> how to load it, as code
    files_dir: str = ""  # the folder of unjoined files (stale ones are removed on publish)


def _lhotse_rows(utt: Utterance, path: str, rate: int) -> dict[str, Any]:
    return {
        "supervisions": lhotse.supervision(utt, rate),
        "recordings": lhotse.recording(utt, path, rate),
        "cuts": lhotse.cut(utt, path, rate),
    }


FORMATS: dict[str, ExportFormat] = {
    "hf": ExportFormat(
        name="hf",
        help="Hugging Face datasets: Parquet with an Audio column + dataset card",
        audio_files=False,
        kinds=("parquet",),
        rows=lambda utt, _path, rate: {"parquet": hf.hf_row(utt, rate)},
        piece=lambda _kind, rows, rate: hf.parquet_bytes(rows, rate),
        joined=False,
        file_name=lambda _kind, split, i, n: hf.shard_name(split, i, n),
        readme=hf.dataset_card,
        load_hint=lambda out: f"datasets.load_dataset({out!r})",
        files_dir=hf.DATA_DIR,
    ),
    "nemo": ExportFormat(
        name="nemo",
        help="NeMo: FLAC + <split>_manifest.json",
        audio_files=True,
        kinds=("nemo",),
        rows=lambda utt, path, rate: {"nemo": nemo.dumps_line(nemo.nemo_line(utt, path, rate))},
        piece=lambda _kind, rows, _rate: b"".join(rows),
        joined=True,
        file_name=lambda _kind, split, _i, _n: nemo.manifest_name(split),
        readme=files_readme,
        load_hint=lambda out: f"{out}/{nemo.manifest_name('train')}",
    ),
    "lhotse": ExportFormat(
        name="lhotse",
        help="lhotse: FLAC + recordings, supervisions and cuts (jsonl.gz)",
        audio_files=True,
        kinds=lhotse.KINDS,
        rows=_lhotse_rows,
        piece=lambda _kind, rows, _rate: lhotse.gzip_lines(rows),
        joined=True,
        file_name=lambda kind, split, _i, _n: lhotse.manifest_name(kind, split),
        readme=files_readme,
        load_hint=lhotse.load_hint,
    ),
}
