"""The source registry: ``type`` in a ``[[source]]`` table -> the class that reads it.

Adding a corpus touches one new module here and one line in ``REGISTRY``.
"""
from __future__ import annotations

from typing import Any

from corpus.config import ConfigError
from corpus.sources.base import Segment, Source, Unit
from corpus.sources.gutenberg import GutenbergSource
from corpus.sources.librispeech import LibriSpeechSource
from corpus.sources.movies import MoviesSource
from corpus.sources.youtube import YouTubeSource

REGISTRY: dict[str, type] = {
    "librispeech": LibriSpeechSource,
    "gutenberg": GutenbergSource,
    "movies": MoviesSource,
    "youtube": YouTubeSource,
}


def make_source(table: dict[str, Any], base_dir: str, cache_dir: str) -> Source:
    """A ``[[source]]`` table -> a configured source; unknown types list the known ones."""
    kind = table.get("type")
    if kind not in REGISTRY:
        raise ConfigError(f"[[source]]: unknown type {kind!r}; known types: {', '.join(sorted(REGISTRY))}")
    source = REGISTRY[kind].from_config(table, base_dir, cache_dir)
    if source.limit is not None and (not isinstance(source.limit, int) or source.limit < 1):
        raise ConfigError(f"[[source]] {kind}: limit must be a positive integer")
    return source


__all__ = ["REGISTRY", "Segment", "Source", "Unit", "make_source"]
