"""Which keys may repeat across a whole job, in a fixed-size sketch (the first of two passes).

A repeated id (``id:...``) or two records that share a fingerprint key (``sound:...``,
corpus/fingerprint.py) can be anywhere in a corpus. Moving every record's keys to one place
to find them would hold the corpus; instead each worker adds the keys of its units to a
:class:`Seen` sketch of the keys seen once and the keys seen twice. The sketches of all
workers merge into one (a Beam combiner: ``twice = twice1 | twice2 | (once1 & once2)``);
the second pass moves only the keys the merged sketch says may have been seen twice.

A key is a 40-bit digest (blake2b, never Python's hash()): keys that share one are only a
false candidate, one key in a million at ``EXACT_MAX``. Until ``EXACT_MAX`` keys a sketch
holds them exactly, as sorted numpy arrays (8 bytes a key in memory: 8 MB at the most, no Python
object per key); past it, two Bloom filters of ``BITS`` bits (16 MB each) with four probes
made from the digest by double hashing. A Bloom filter never forgets a key, so a real repeat
is always a candidate; a false candidate only costs a grouping of one (a key no other record
has is never compared), so what a job drops does not depend on the form of the sketch. At
``BITS`` = 2**27 and 10 million keys seen once (about 300 000 records with their 32 sound
keys), 0.1 % of keys are false candidates, about 3 % of records; at 10 million records the
filters are full and every record is a candidate (BITS is the one constant to raise). Keys
are added in batches (a Python list of ints, folded into the arrays with numpy), so adding
one costs a digest and an append.

A sketch travels packed (``pack``: each key's low 24 bits beside a count of keys per value of
the high 16, 3 bytes a key; the filters zlib-compressed) and is unpacked only when it is used:
on Beam's DirectRunner the launcher holds every worker's sketch for the merge, as it came, so
what a key costs there is its packed size. What the workers read in pass two is only the keys
seen twice (``Seen.repeated_only``).
"""

from __future__ import annotations

import hashlib
import zlib

import numpy as np

PROBES = 4
BITS = 1 << 27
EXACT_MAX = 1 << 20  # keys a sketch holds exactly (8 MB) before it becomes the two filters
_BATCH = 8192  # keys added before a fold (at least; a fold takes up to an eighth of the keys)
KEY_BYTES = 5  # a key's digest: 40 bits
_LOW_BYTES = KEY_BYTES - 2  # pack(): keys counted per value of their high 16 bits, then the rest
_HIGH = 1 << 16
_MIX = 0x9E3779B97F4A7C15  # Knuth's multiplicative hash: a probe step from the digest
_MASK64 = (1 << 64) - 1
_EMPTY = np.zeros(0, dtype=np.uint64)


def digest(key: str) -> int:
    """A key's stable 40-bit digest."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=KEY_BYTES).digest()
    return int.from_bytes(digest, "little")


def places(digests: np.ndarray, bits: int) -> np.ndarray:
    """The filter positions of each digest, ``(PROBES, n)``: ``h1 + i * h2`` with ``h1`` the
    digest and ``h2`` the high half of digest times ``_MIX`` modulo 2**64 (Kirsch and
    Mitzenmacher's double hashing, as good as independent probes for a Bloom filter)."""
    h1 = digests
    h2 = ((digests * np.uint64(_MIX)) >> np.uint64(32)) | np.uint64(1)
    steps = np.arange(PROBES, dtype=np.uint64)[:, None]
    return (h1[None, :] + steps * h2[None, :]) % np.uint64(bits)


def pack(keys: np.ndarray) -> tuple[bytes, bytes]:
    """Sorted distinct keys -> (how many keys have each value of the high 16 bits,
    zlib-compressed; the low 24 bits of each): 3 bytes a key and a few KB."""
    counts = np.bincount((keys >> np.uint64(8 * _LOW_BYTES)).astype(np.intp), minlength=_HIGH)
    lows = keys.astype("<u8").view(np.uint8).reshape(-1, 8)[:, :_LOW_BYTES]
    return zlib.compress(counts.astype("<u4").tobytes(), 1), lows.tobytes()


def unpack(counts: bytes, lows: bytes) -> np.ndarray:
    """``pack``'s inverse: the sorted keys."""
    high = np.repeat(
        np.arange(_HIGH, dtype=np.uint64), np.frombuffer(zlib.decompress(counts), "<u4")
    )
    low = np.zeros((len(high), 8), dtype=np.uint8)
    low[:, :_LOW_BYTES] = np.frombuffer(lows, np.uint8).reshape(-1, _LOW_BYTES)
    return (high << np.uint64(8 * _LOW_BYTES)) | low.view("<u8").ravel().astype(np.uint64)


def _sorted_counts(digests: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct digests of a batch, sorted, and those that came more than once."""
    values, counts = np.unique(np.array(digests, dtype=np.uint64), return_counts=True)
    return values, values[counts > 1]


def _member(sorted_keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Which ``values`` are in the sorted array ``sorted_keys``."""
    if not len(sorted_keys):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, values), len(sorted_keys) - 1)
    return sorted_keys[at] == values


def _union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two sorted arrays of distinct keys -> their sorted union (a merge: timsort on two runs)."""
    both = np.concatenate((a, b))
    both.sort(kind="stable")
    if len(both) < 2:
        return both
    return both[np.concatenate(([True], both[1:] != both[:-1]))]


class Seen:
    """Keys seen once and seen twice: exactly while at most ``exact_max`` keys were seen, then
    two Bloom filters of ``bits`` bits."""

    def __init__(self, bits: int = BITS, exact_max: int = EXACT_MAX):
        self.bits, self.exact_max = bits, exact_max
        self.exact = True
        self.once_keys, self.twice_keys = _EMPTY, _EMPTY  # sorted, while exact
        self.once = self.twice = np.zeros(0, dtype=np.uint8)  # the filters, once not exact
        self.pending: list[int] = []
        self._packed: tuple | None = None  # as it came (__setstate__) until first used

    def _unpack(self) -> None:
        state, self._packed = self._packed or (), None
        if self.exact:
            self.once_keys, self.twice_keys = (unpack(*keys) for keys in state)
        else:
            self.once, self.twice = (
                np.frombuffer(zlib.decompress(b), dtype=np.uint8).copy() for b in state
            )

    @property
    def sparse(self) -> bool:
        """Whether the keys are held exactly (no filters allocated)."""
        return self.exact

    def add(self, key: str) -> None:
        if self._packed is not None:
            self._unpack()
        self.pending.append(digest(key))
        if len(self.pending) >= max(_BATCH, len(self.once_keys) >> 3):
            self._fold()

    def merge(self, other: Seen) -> Seen:
        self._fold()
        other._fold()
        if self.exact and other.exact:
            self.twice_keys = _union(
                _union(self.twice_keys, other.twice_keys),
                self.once_keys[_member(other.once_keys, self.once_keys)],
            )
            self.once_keys = _union(self.once_keys, other.once_keys)
            if len(self.once_keys) > self.exact_max:
                self._to_filters()
            return self
        if self.exact:
            self._to_filters()
        if other.exact:
            other = _copy(other)
            other._to_filters()
        np.bitwise_or(self.twice, other.twice, out=self.twice)
        self.twice |= self.once & other.once
        np.bitwise_or(self.once, other.once, out=self.once)
        return self

    def repeated_only(self) -> Seen:
        """What pass two asks of the sketch: the keys seen twice, without the keys seen once
        (so the side input every worker reads is as small as the repeats; at most one filter).
        The result answers ``maybe_repeated`` only: it is not added to or merged again."""
        self._fold()
        out = Seen(self.bits, self.exact_max)
        out.exact, out.twice_keys, out.twice = self.exact, self.twice_keys, self.twice
        return out

    def maybe_repeated(self, key: str) -> bool:
        self._fold()
        d = digest(key)
        if self.exact:
            at = int(np.searchsorted(self.twice_keys, np.uint64(d)))
            return at < len(self.twice_keys) and int(self.twice_keys[at]) == d
        return self._has_one(self.twice, d)

    def _fold(self) -> None:
        """Add the pending keys: a key seen before, or twice in the batch, is seen twice."""
        if self._packed is not None:
            self._unpack()
        if not self.pending:
            return
        values, repeated = _sorted_counts(self.pending)
        self.pending = []
        if self.exact:
            again = _union(values[_member(self.once_keys, values)], repeated)
            self.twice_keys = _union(self.twice_keys, again)
            self.once_keys = _union(self.once_keys, values)
            if len(self.once_keys) > self.exact_max:
                self._to_filters()
            return
        again = values[self._has(self.once, values)]
        self._set(self.twice, _union(again, repeated))
        self._set(self.once, values)

    def _to_filters(self) -> None:
        self.once = np.zeros(self.bits // 8, dtype=np.uint8)
        self.twice = np.zeros(self.bits // 8, dtype=np.uint8)
        self._set(self.once, self.once_keys)
        self._set(self.twice, self.twice_keys)
        self.once_keys, self.twice_keys, self.exact = _EMPTY, _EMPTY, False

    def _has(self, bitset: np.ndarray, digests: np.ndarray) -> np.ndarray:
        at = places(digests, self.bits)
        return np.all(
            (bitset[at >> np.uint64(3)] >> (at & np.uint64(7)).astype(np.uint8)) & 1, axis=0
        )

    def _has_one(self, bitset: np.ndarray, d: int) -> bool:
        """``_has`` for one digest in Python ints (a record's keys are asked one by one)."""
        h1, h2 = d, (((d * _MIX) & _MASK64) >> 32) | 1
        for step in range(PROBES):
            at = (h1 + step * h2) % self.bits
            if not (int(bitset[at >> 3]) >> (at & 7)) & 1:
                return False
        return True

    def _set(self, bitset: np.ndarray, digests: np.ndarray) -> None:
        at = places(digests, self.bits).ravel()
        np.bitwise_or.at(
            bitset, at >> np.uint64(3), np.left_shift(1, at & np.uint64(7)).astype(np.uint8)
        )

    def __getstate__(self) -> tuple:
        if self._packed is not None:  # passed on unused (the launcher's grouping)
            return self.bits, self.exact_max, self.exact, self._packed
        self._fold()
        packed: tuple
        if self.exact:
            packed = pack(self.once_keys), pack(self.twice_keys)
        else:  # (once is empty in a repeated_only sketch)
            packed = zlib.compress(self.once.tobytes(), 1), zlib.compress(self.twice.tobytes(), 1)
        return self.bits, self.exact_max, self.exact, packed

    def __setstate__(self, state: tuple) -> None:
        self.bits, self.exact_max, self.exact, self._packed = state
        self.pending = []
        self.once_keys, self.twice_keys = _EMPTY, _EMPTY
        self.once = self.twice = np.zeros(0, dtype=np.uint8)


def _copy(seen: Seen) -> Seen:
    out = Seen(seen.bits, seen.exact_max)
    out.__setstate__(seen.__getstate__())
    return out
