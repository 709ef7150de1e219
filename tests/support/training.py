"""Model sizes small enough for a test to train in seconds."""

from __future__ import annotations

TINY = [
    "--preset",
    "small",
    "--d-model",
    "32",
    "--heads",
    "2",
    "--layers",
    "1",
    "--kernel-size",
    "7",
    "--conv-channels",
    "8",
    "--batch-size",
    "4",
]
