"""A part's fingerprints beside it (``PART.prints``): the frame words of each of its records,
written while the build has the audio in hand, so the sound dedupe compares candidates without
reading, decoding or transforming their audio again (a re-run after a kill reads 400 bytes a
second of speech instead of 32 000).

Layout: the records' words (little-endian uint32) one after another, then the end of each
record's words (little-endian uint64 word offsets), then the record count (uint64). A part
without the file (one written before it, or without the sound dedupe) is fingerprinted from
its audio (corpus/repeats.py).
"""

from __future__ import annotations

import functools

import numpy as np

from speechmill.corpus import storage

SUFFIX = ".prints"


class PrintWriter:
    """Streams each record's words to ``PART.prints``; the ends are written at ``close``."""

    def __init__(self, part_path: str):
        self.file = storage.create(part_path + SUFFIX)
        self.ends: list[int] = []
        self.words = 0

    def add(self, words: np.ndarray) -> None:
        self.file.write(np.asarray(words, dtype="<u4").tobytes())
        self.words += len(words)
        self.ends.append(self.words)

    def close(self) -> None:
        self.file.write(np.asarray(self.ends, dtype="<u8").tobytes())
        self.file.write(np.uint64(len(self.ends)).astype("<u8").tobytes())
        self.file.close()


def record_words(part_path: str, record: int) -> np.ndarray | None:
    """The frame words of record ``record`` of a part, or None when the part has no prints."""
    found, part = storage.match(part_path + SUFFIX), storage.match(part_path)
    if not found or not part or found[0].mtime < part[0].mtime:
        return None  # none, or left from before the part was written again (closed after it)
    ends = _ends(part_path, found[0].size, found[0].mtime)  # a part written again: read again
    if ends is None or record >= len(ends):
        return None
    start = int(ends[record - 1]) if record else 0
    with storage.open_read(part_path + SUFFIX) as f:
        f.seek(4 * start)
        data = f.read(4 * (int(ends[record]) - start))
    return np.frombuffer(data, dtype="<u4").astype(np.uint32)


@functools.lru_cache(maxsize=64)
def _ends(part_path: str, size: int, mtime: float) -> np.ndarray | None:
    path = part_path + SUFFIX
    try:
        with storage.open_read(path) as f:
            f.seek(size - 8)
            count = int(np.frombuffer(f.read(8), dtype="<u8")[0])
            f.seek(size - 8 - 8 * count)
            return np.frombuffer(f.read(8 * count), dtype="<u8")
    except (OSError, ValueError, IndexError):
        return None
