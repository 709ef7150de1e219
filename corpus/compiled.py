"""Inner loops compiled by numba (which librosa brings), where numpy would pass over memory
several times or build large temporaries; each caller keeps a numpy way that gives the same
result, used where numba cannot be imported or compile.

    kernel = compiled(loop)     # the compiled loop, or None
"""

from __future__ import annotations

import functools
from collections.abc import Callable


@functools.cache
def compiled(loop: Callable) -> Callable | None:
    """``loop`` compiled once a process and cached on disk (beside its module, else in the
    user's cache; compiled afresh in a process that can write neither), or None without
    numba. Compiled without ``fastmath``: the same arithmetic in the same order as written."""
    try:
        import numba
    except ImportError:
        return None
    try:
        return numba.njit(cache=True, nogil=True)(loop)
    except RuntimeError:  # no writable cache folder
        return numba.njit(nogil=True)(loop)
