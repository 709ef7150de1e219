"""The source registry: ``type`` in a ``[[source]]`` table -> the class that reads it.

Adding a corpus is one new module here (a :class:`Source` subclass), one line in ``REGISTRY``
and one fixture row in ``tests/test_sources.py``. Code outside this package imports the
contract from here, never from the modules inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from speechmill.corpus.config import ConfigError, did_you_mean
from speechmill.corpus.sources.audiobook import AudiobookSource
from speechmill.corpus.sources.base import COMMON_KEYS, Source, SourceContext
from speechmill.corpus.sources.commonvoice import CommonVoiceSource
from speechmill.corpus.sources.folder import FolderSource
from speechmill.corpus.sources.gutenberg import GutenbergSource
from speechmill.corpus.sources.librispeech import LibriSpeechSource
from speechmill.corpus.sources.manifest import ManifestSource
from speechmill.corpus.sources.movies import MoviesSource
from speechmill.corpus.sources.youtube import YouTubeSource

REGISTRY: dict[str, type[Source]] = {
    "librispeech": LibriSpeechSource,
    "gutenberg": GutenbergSource,
    "movies": MoviesSource,
    "youtube": YouTubeSource,
    "folder": FolderSource,
    "commonvoice": CommonVoiceSource,
    "manifest": ManifestSource,
    "audiobook": AudiobookSource,
}


def make_source(table: dict[str, Any], context: SourceContext) -> Source:
    """A ``[[source]]`` table -> a configured source; unknown types list the known ones."""
    kind = table.get("type")
    if not isinstance(kind, str):
        raise ConfigError(
            f"[[source]]: type must be a string, one of {', '.join(sorted(REGISTRY))}; got {kind!r}"
        )
    if kind not in REGISTRY:
        raise ConfigError(
            f"[[source]]: unknown type {kind!r}{did_you_mean(kind, REGISTRY)}; "
            f"known types: {', '.join(sorted(REGISTRY))}"
        )
    return REGISTRY[kind].from_config(table, context)


def make_sources(
    tables: Sequence[dict[str, Any]], context: SourceContext, where: str
) -> list[Source]:
    """Every ``[[source]]`` table of a config file -> its source; an error names the file and
    the table's number ("configs/x.toml: [[source]] #2 librispeech: needs path ...")."""
    sources = []
    for number, table in enumerate(tables, start=1):
        try:
            sources.append(make_source(table, context))
        except ConfigError as error:
            text = str(error).replace("[[source]]", f"[[source]] #{number}", 1)
            raise ConfigError(f"{where}: {text}") from None
    return sources


def sources_markdown() -> str:
    """docs/sources.md: each registered source's layout and licence (its module docstring), its
    licence string and its config keys, generated from the registry (``make docs`` writes it;
    a test checks the file is up to date)."""
    import inspect

    out = [
        "# Sources",
        "",
        "Generated from the source registry (`corpus/sources/`) by `make docs`; do not edit by hand.",
        f"Every `[[source]]` table also takes {', '.join(f'`{k}`' for k in sorted(COMMON_KEYS))}.",
        "",
    ]
    for name, cls in REGISTRY.items():
        doc = inspect.getdoc(inspect.getmodule(cls)) or ""
        out += [
            f'## `type = "{name}"`',
            "",
            doc,
            "",
            f"Keys: {', '.join(f'`{k}`' for k in sorted(cls.KEYS))}.",
            "",
            f"Licence recorded in `info.json`: {cls.LICENSE}",
            "",
        ]
    return "\n".join(out).rstrip() + "\n"


__all__ = [
    "COMMON_KEYS",
    "REGISTRY",
    "Source",
    "SourceContext",
    "make_source",
    "make_sources",
    "sources_markdown",
]
