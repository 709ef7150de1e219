"""Time stretching that keeps pitch: WSOLA (waveform-similarity overlap-add), vectorized.

Output frames are 30 ms Hann windows overlapping by half. Frame k is read from the input near
``k * hop * factor``, shifted by up to ``tol`` so that its first half continues the previous
frame's waveform (maximum correlation with that frame's natural continuation). The search runs
on a 4x decimated copy of the signal, one small matrix-vector product per frame; reading and
overlap-adding the frames is vectorized.
"""

from __future__ import annotations

import numpy as np


def _decimate(x: np.ndarray, q: int) -> np.ndarray:
    n = len(x) // q
    return x[: n * q].reshape(n, q).mean(axis=1)


def time_stretch(
    x: np.ndarray,
    rate: int,
    factor: float,
    *,
    frame_ms: float = 30.0,
    tol_ms: float = 12.0,
    q: int = 4,
) -> np.ndarray:
    """``x`` played ``factor`` times faster at the same pitch: ``len(x) / factor`` samples."""
    x = np.asarray(x, dtype=np.float32)
    n_out = int(round(len(x) / factor))
    if factor == 1.0 or len(x) == 0:
        return x.copy()
    frame = 2 * int(rate * frame_ms / 2000 / q) * q  # even, a multiple of 2q
    hop = frame // 2
    tol = int(rate * tol_ms / 1000 / q) * q
    count = n_out // hop + 3
    nominal = np.round(np.arange(count) * hop * factor).astype(np.int64)
    # frame k covers input [nominal_k - hop, nominal_k + hop) and lands at output k * hop, so
    # output sample hop + j lines up with input sample j * factor
    padded = np.pad(x, (tol + hop, 4 * frame + 4 * tol))
    base = nominal + tol  # frame starts in `padded` at delta 0
    small = _decimate(padded, q)
    half, t_s = hop // q, tol // q
    # every candidate overlap window of the decimated signal, as rows (a view, no copy)
    windows = np.lib.stride_tricks.sliding_window_view(small, half)
    starts, lows = base.tolist(), ((base - tol) // q).tolist()  # python ints: a cheap loop
    span, deltas = 2 * t_s + 1, [0] * count
    position = starts[0]
    for k in range(1, count):  # sequential: each frame continues the one picked before it
        natural = (position + hop) // q  # where the frame before would go on
        scores = windows[lows[k] : lows[k] + span].dot(small[natural : natural + half])
        deltas[k] = int(scores.argmax()) * q - tol
        position = starts[k] + deltas[k]
    delta = np.asarray(deltas, dtype=np.int64)
    window = np.hanning(frame + 1)[:-1].astype(
        np.float32
    )  # periodic Hann: sums to 1 at half overlap
    frames = padded[(base + delta)[:, None] + np.arange(frame)] * window
    out = np.zeros((count + 2) * hop, np.float32)
    even, odd = frames[0::2].reshape(-1), frames[1::2].reshape(-1)
    out[: len(even)] += even
    out[hop : hop + len(odd)] += odd
    return out[hop : hop + n_out]
