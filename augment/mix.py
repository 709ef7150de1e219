"""``x + scale * piece`` in one pass over memory, the noise mix's inner loop.

numpy's ``piece * scale`` then ``+= x`` reads and writes the output twice; the loop here, compiled
by numba (which librosa brings) once a process and cached on disk, reads each input once and
writes the output once. The sum is the same float32 arithmetic in the same order, with no fused
multiply-add (numba contracts only under ``fastmath``), so the bytes equal numpy's; where numba
cannot be imported or compiled, numpy does it.
"""

from __future__ import annotations

import numpy as np

from speechmill.corpus.compiled import compiled


def _mix_loop(x: np.ndarray, piece: np.ndarray, scale: np.float32) -> np.ndarray:
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = x[i] + scale * piece[i]
    return out


def mix(x: np.ndarray, piece: np.ndarray, scale: float) -> np.ndarray:
    """A new float32 array ``x + float32(scale) * piece`` (both float32, of one length)."""
    factor = np.float32(scale)
    kernel = compiled(_mix_loop)
    if kernel is None or x.dtype != np.float32 or piece.dtype != np.float32:
        out = np.asarray(piece, dtype=np.float32) * factor
        out += x
        return out
    return kernel(x, piece, factor)
