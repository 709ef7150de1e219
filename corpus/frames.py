"""Short-time power of audio in 10 ms frames, for speech/pause decisions (subtitle sync, the
runtime's sentence cuts). numpy only."""

from __future__ import annotations

import numpy as np

FRAME = 0.01  # seconds


def frame_power(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mean power of each whole 10 ms frame; frames start at round(i * rate * FRAME), so a rate
    whose frame is not a whole number of samples (22050, 11025 Hz) does not drift."""
    hop = rate * FRAME
    n = int(len(samples) // hop)
    if n == 0:
        return np.zeros(0, np.float32)
    if float(hop).is_integer():
        frames = samples[: n * int(hop)].astype(np.float32).reshape(n, int(hop))
        return np.einsum("ij,ij->i", frames, frames) / hop
    bounds = np.rint(np.arange(n + 1) * hop).astype(np.int64)
    power = np.concatenate(([0.0], np.cumsum(np.square(samples[: bounds[-1]], dtype=np.float64))))
    return ((power[bounds[1:]] - power[bounds[:-1]]) / np.diff(bounds)).astype(np.float32)
