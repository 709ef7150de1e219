"""Byte ranges of a line-oriented file, so a file of millions of lines is read by many workers.

A file is cut into ranges from its size alone (``byte_ranges``); a worker reads the lines that
*start* within its range (``lines_in_range``), as Beam's text IO splits a file: every line is
read exactly once, whatever the range size, and no worker reads more than its range and one line.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import BinaryIO


def byte_ranges(size: int, step: int) -> list[tuple[int, int]]:
    """[start, end) ranges of ``step`` bytes covering a file of ``size`` bytes (at least one)."""
    step = max(1, step)
    return [(i * step, (i + 1) * step) for i in range(max(1, math.ceil(size / step)))]


def lines_in_range(
    f: BinaryIO, start: int, end: int, header: bool = False
) -> Iterator[tuple[int, bytes]]:
    """(offset, line) of every line that starts within [start, end); with ``header`` the
    file's first line is not a row and is never yielded."""
    first = 0
    if header:
        f.seek(0)
        first = len(f.readline())
    if start <= first:
        offset = first
        f.seek(offset)
    else:
        f.seek(start - 1)  # a line starting exactly at `start` is ours
        offset = start - 1 + len(f.readline())
    while offset < end:
        line = f.readline()
        if not line:
            return
        yield offset, line
        offset += len(line)
