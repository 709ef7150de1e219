"""The source registry: ``type`` in a ``[[source]]`` table -> the class that reads it.

Adding a corpus is one new module here (a :class:`Source` subclass), one line in ``REGISTRY``
and one fixture row in ``tests/test_sources.py``. Code outside this package imports the
contract from here, never from the modules inside it.
"""
from __future__ import annotations

from typing import Any

from corpus.config import ConfigError
from corpus.sources.base import COMMON_KEYS, Source, SourceContext
from corpus.sources.commonvoice import CommonVoiceSource
from corpus.sources.folder import FolderSource
from corpus.sources.gutenberg import GutenbergSource
from corpus.sources.librispeech import LibriSpeechSource
from corpus.sources.movies import MoviesSource
from corpus.sources.youtube import YouTubeSource

REGISTRY: dict[str, type[Source]] = {
    "librispeech": LibriSpeechSource,
    "gutenberg": GutenbergSource,
    "movies": MoviesSource,
    "youtube": YouTubeSource,
    "folder": FolderSource,
    "commonvoice": CommonVoiceSource,
}


def make_source(table: dict[str, Any], context: SourceContext) -> Source:
    """A ``[[source]]`` table -> a configured source; unknown types list the known ones."""
    kind = table.get("type")
    if kind not in REGISTRY:
        raise ConfigError(f"[[source]]: unknown type {kind!r}; known types: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[kind].from_config(table, context)


__all__ = ["COMMON_KEYS", "REGISTRY", "Source", "SourceContext", "make_source"]
