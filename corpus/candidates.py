"""Which keys may repeat across a whole job, in a fixed-size sketch (the first of two passes).

A repeated id (``id:...``) or two records that share a fingerprint key (``sound:...``,
corpus/fingerprint.py) can be anywhere in a corpus. Moving every record's keys to one place
to find them would hold the corpus; instead each worker adds the keys of its units to a
:class:`Seen` sketch, two Bloom filters of ``BITS`` bits each: ``once`` (a key was seen) and
``twice`` (it was seen again, in this sketch or in one merged with it). The sketches of all
workers merge into one (a Beam combiner: ``twice = twice1 | twice2 | (once1 & once2)``);
the second pass moves only the keys the merged sketch says may have been seen twice. Until
``SPARSE_MAX`` keys the sketch is two exact sets (a small job never allocates the filters). A Bloom
filter never forgets a key, so a real repeat is always a candidate; a false candidate only
costs a comparison. At ``BITS`` = 2**27 (16 MB a filter) and four probes, a job with 10
million keys seen once (about 300 000 records with their 32 sound keys) has 0.1 % false
candidates per key, about 3 % of records; at 10 million records the sketch is full and every
record is a candidate (BITS is the one constant to raise). A sketch travels zlib-compressed
(a sparse filter is a few KB).
"""

from __future__ import annotations

import hashlib
import zlib

import numpy as np

PROBES = 4
BITS = 1 << 27


SPARSE_MAX = 20_000  # keys a sketch holds as a set before it becomes the two filters


def digest(key: str) -> bytes:
    """A key's stable digest (blake2b, never Python's hash()): its filter positions."""
    return hashlib.blake2b(key.encode("utf-8"), digest_size=8 * PROBES).digest()


def places(key_digest: bytes, bits: int) -> list[int]:
    return [int.from_bytes(key_digest[8 * i : 8 * i + 8], "little") % bits for i in range(PROBES)]


class Seen:
    """Keys seen once and seen twice: exact sets while small (a small job never allocates the
    filters), two Bloom filters of ``bits`` bits once ``SPARSE_MAX`` keys were seen."""

    def __init__(self, bits: int = BITS):
        self.bits = bits
        self.once_keys: set[bytes] | None = set()
        self.twice_keys: set[bytes] = set()
        self.once = self.twice = np.zeros(0, dtype=np.uint8)

    @property
    def sparse(self) -> bool:
        return self.once_keys is not None

    def add(self, key: str) -> None:
        d = digest(key)
        if self.once_keys is not None:
            (self.twice_keys if d in self.once_keys else self.once_keys).add(d)
            if len(self.once_keys) > SPARSE_MAX:
                self._to_filters()
            return
        at = places(d, self.bits)
        if self._has(self.once, at):
            self._set(self.twice, at)
        else:
            self._set(self.once, at)

    def merge(self, other: Seen) -> Seen:
        if self.once_keys is not None and other.once_keys is not None:
            self.twice_keys |= other.twice_keys | (self.once_keys & other.once_keys)
            self.once_keys |= other.once_keys
            if len(self.once_keys) > SPARSE_MAX:
                self._to_filters()
            return self
        if self.once_keys is not None:
            self._to_filters()
        if other.once_keys is not None:
            other = _copy(other)
            other._to_filters()
        self.twice |= other.twice | (self.once & other.once)
        self.once |= other.once
        return self

    def maybe_repeated(self, key: str) -> bool:
        d = digest(key)
        if self.once_keys is not None:
            return d in self.twice_keys
        return self._has(self.twice, places(d, self.bits))

    def _to_filters(self) -> None:
        assert self.once_keys is not None
        self.once = np.zeros(self.bits // 8, dtype=np.uint8)
        self.twice = np.zeros(self.bits // 8, dtype=np.uint8)
        for keys, bitset in ((self.once_keys, self.once), (self.twice_keys, self.twice)):
            for d in keys:
                self._set(bitset, places(d, self.bits))
        self.once_keys, self.twice_keys = None, set()

    def __getstate__(self) -> tuple:
        if self.once_keys is not None:
            return self.bits, self.once_keys, self.twice_keys
        return (
            self.bits,
            zlib.compress(self.once.tobytes(), 1),
            zlib.compress(self.twice.tobytes(), 1),
        )

    def __setstate__(self, state: tuple) -> None:
        self.bits = state[0]
        if isinstance(state[1], set):
            self.once_keys, self.twice_keys = state[1], state[2]
            self.once = self.twice = np.zeros(0, dtype=np.uint8)
            return
        self.once_keys, self.twice_keys = None, set()
        self.once, self.twice = (
            np.frombuffer(zlib.decompress(b), dtype=np.uint8).copy() for b in state[1:]
        )

    @staticmethod
    def _has(bitset: np.ndarray, at: list[int]) -> bool:
        return all(bitset[p >> 3] >> (p & 7) & 1 for p in at)

    @staticmethod
    def _set(bitset: np.ndarray, at: list[int]) -> None:
        for p in at:
            bitset[p >> 3] |= np.uint8(1 << (p & 7))


def _copy(seen: Seen) -> Seen:
    out = Seen(seen.bits)
    out.__setstate__(seen.__getstate__())
    return out
