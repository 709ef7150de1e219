"""How a job or a long loop tells whoever runs it how far it is: a ``Progress`` object passed in.

The default, ``SILENT``, shows nothing; the front door passes one that draws on the terminal
(speechmill/console/progress.py). A corpus job's workers leave notes in a folder
(corpus/workdir.py ``note_progress``); ``job(folder, total, label)`` is a context manager that
watches them while the job runs. ``items(iterable, total, label, unit)`` passes a loop's items
through, counting them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any, TypeVar

T = TypeVar("T")


class Progress:
    """Shows nothing; a front door's subclass shows it."""

    def job(self, folder: str, total_units: int | None, label: str) -> AbstractContextManager[Any]:
        """Watch a corpus job's progress notes in ``folder`` while the block runs."""
        return contextlib.nullcontext()

    def watches(self) -> bool:
        """Whether ``job`` reads the notes: where nothing does, the workers leave none (a file
        a unit, created and deleted)."""
        return False

    def items(
        self, items: Iterable[T], total: int | None, label: str, unit: str = "item"
    ) -> Iterator[T]:
        """``items``, unchanged, counted as they pass."""
        return iter(items)


SILENT = Progress()
