"""The sound dedupe's comparison of two fingerprints in one compiled pass (corpus/compiled.py):
``fingerprint.bit_errors`` without numpy's temporaries. Equal words vote for their shift, the
three best-voted shifts and their neighbours are tried, the least share of differing bits
wins; each step is the numpy version's, in its order, so the result is the same number (a test
compares them over many pairs). A pair costs microseconds here, about 100 in numpy: the dedupe
compares each record with up to 64 earlier ones."""

from __future__ import annotations

import numpy as np


def best_shift_errors(
    a_words: np.ndarray,
    a_order: np.ndarray,
    a_values: np.ndarray,
    a_starts: np.ndarray,
    a_counts: np.ndarray,
    b: np.ndarray,
    reach: int,
    least: int,
) -> tuple[float, int]:
    """(share of differing bits, shared frames) at the best of the voted shifts of ``b``
    against ``a`` (``a`` indexed as fingerprint.Indexed), (1.0, 0) when none is tried."""
    width = 2 * reach + 1
    votes = np.zeros(width, np.int64)
    n_values = a_values.shape[0]
    for j in range(b.shape[0]):
        word = b[j]
        if word == 0:  # digital silence agrees everywhere
            continue
        lo, hi = 0, n_values  # the first of a's distinct words not below it
        while lo < hi:
            mid = (lo + hi) >> 1
            if a_values[mid] < word:
                lo = mid + 1
            else:
                hi = mid
        k = lo
        if k == n_values or a_values[k] != word:
            continue
        for t in range(a_starts[k], a_starts[k] + a_counts[k]):
            at = a_order[t] - j + reach
            if 0 <= at < width:
                votes[at] += 1
    top = np.full(3, -1, np.int64)  # most votes, then the smaller shift, then the negative one
    for at in range(width):
        count, shift = votes[at], at - reach
        if count == 0:
            continue
        for r in range(3):
            if top[r] >= 0:
                other_count, other = votes[top[r]], top[r] - reach
                if count < other_count or (
                    count == other_count
                    and (abs(shift) > abs(other) or (abs(shift) == abs(other) and shift > other))
                ):
                    continue
            for q in range(2, r, -1):
                top[q] = top[q - 1]
            top[r] = at
            break
    tried = np.zeros(width, np.bool_)
    for r in range(3):
        if top[r] >= 0:
            for at in range(max(0, top[r] - 1), min(width, top[r] + 2)):
                tried[at] = True
    best_share, best_n = 1.0, 0
    for at in range(width):
        if not tried[at]:
            continue
        shift = at - reach
        lo_a, lo_b = max(0, shift), max(0, -shift)
        n = min(a_words.shape[0] - lo_a, b.shape[0] - lo_b)
        if n < least:
            continue
        errors = 0
        for i in range(n):  # the set bits of each pair's XOR
            x = np.int64(a_words[lo_a + i] ^ b[lo_b + i])
            x = x - ((x >> 1) & 0x55555555)
            x = (x & 0x33333333) + ((x >> 2) & 0x33333333)
            x = (x + (x >> 4)) & 0x0F0F0F0F
            errors += ((x * 0x01010101) & 0xFFFFFFFF) >> 24
        share = errors / (32 * n)
        if share < best_share or (share == best_share and n > best_n):
            best_share, best_n = share, n
    return best_share, best_n
