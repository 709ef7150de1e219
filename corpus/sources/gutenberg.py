"""Project Gutenberg books spoken by pyttsx3 on espeak-ng over a voice x rate x pitch matrix.

Books are local ``.txt`` files in Project Gutenberg layout, or book ids fetched from a
configurable mirror into the local cache. One work unit is one book spoken by one voice
setting; each voice setting is a ``speaker``, the book is the ``group``, and every utterance
is marked ``synthetic``. The engine speaks each piece's normalized transcript, not the raw
text (espeak-ng would read ``1847`` as "one thousand eight hundred forty seven" under a label
"eighteen forty seven"); the raw piece is kept as ``text_raw``.
"""
from __future__ import annotations

import dataclasses
import itertools
import posixpath
from typing import Any, Iterator

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from corpus.inputs.book import book_pieces
from corpus.config import ConfigError, resolve_path
from corpus.inputs.fetch import fetch
from corpus.inputs.tts import Synthesizer, unknown_voices
from corpus.reject import Reject
from corpus.sources.base import Source, SourceContext
from corpus.text import normalize
from corpus.types import Segment, Unit, slug

LICENSE = "Public domain in the USA (Project Gutenberg text); speech synthesized by espeak-ng"
DEFAULT_MIRROR = "https://www.gutenberg.org/cache/epub/{id}/pg{id}.txt"


def book_key(book: str) -> str:
    """A short stable name for a book: ``pg<id>`` for an id, the file stem for a path."""
    if book.isdigit():
        return f"pg{book}"
    return slug(posixpath.basename(book).rsplit(".", 1)[0])


def speaker_name(voice: str, rate: int, pitch: int) -> str:
    return f"{slug(voice)}@{rate}wpm-p{pitch}"


@dataclasses.dataclass(frozen=True)
class SpokenBook:
    """One book (a path or a Project Gutenberg id) spoken by one voice setting."""

    book: str
    voice: str
    rate: int
    pitch: int


@dataclasses.dataclass
class GutenbergSource(Source):
    """``[[source]] type = "gutenberg"``; see the README for every key."""

    books: list[str]
    voices: list[str] = dataclasses.field(default_factory=lambda: ["en-us"])
    rates: list[int] = dataclasses.field(default_factory=lambda: [160])
    pitches: list[int] = dataclasses.field(default_factory=lambda: [50])
    split: str | None = None
    limit: int | None = None
    mirror: str = DEFAULT_MIRROR
    timeout_seconds: float = 30.0
    min_words: int = 8
    max_words: int = 40
    cache_dir: str = ""

    name = "gutenberg"
    LICENSE = LICENSE
    KEYS = frozenset({"books", "voices", "rates", "pitches", "mirror", "timeout_seconds", "min_words", "max_words"})

    @classmethod
    def from_config(cls, table: dict[str, Any], context: SourceContext) -> "GutenbergSource":
        where = cls.where()
        common = cls.common_keys(table)
        base_dir = context.base_dir
        books = cls.option(table, "books", list, None, (str, int))
        if not books:
            raise ConfigError(f"{where}: needs books = [...] (paths to .txt files or Gutenberg ids)")
        resolved = []
        for book in books:
            book = str(book)
            if not book.isdigit():
                book = resolve_path(book, base_dir)
                if not FileSystems.exists(book):
                    raise ConfigError(f"{where}: book {book} does not exist")
            resolved.append(book)
        fields = cls.options(table, {"voices": (list, None, str), "rates": (list, None, int), "pitches": (list, None, int),
                                     "mirror": (str,), "timeout_seconds": ((int, float),), "min_words": (int,),
                                     "max_words": (int,)})
        source = cls(books=resolved, cache_dir=context.cache_dir, **common, **fields)
        for rate in source.rates:
            if not 80 <= int(rate) <= 450:
                raise ConfigError(f"{where}: rate {rate} outside espeak-ng's 80..450 words per minute")
        for pitch in source.pitches:
            if not 0 <= int(pitch) <= 100:
                raise ConfigError(f"{where}: pitch {pitch} outside 0..100")
        bad = unknown_voices(source.voices)
        if bad:
            raise ConfigError(f"{where}: espeak-ng has no voice {', '.join(bad)}; voices are espeak-ng voice "
                              "files such as en-us, en, en-gb-scotland, en-gb-x-rp, en-029, optionally with "
                              "a variant such as +f3 or +m3 (list them with `espeak-ng --voices=en`)")
        if not 0 < source.min_words <= source.max_words:
            raise ConfigError(f"{where}: need 0 < min_words <= max_words")
        return source

    def units(self) -> list[Unit]:
        keys = [book_key(b) for b in self.books]
        if len(set(keys)) != len(keys):
            raise ConfigError(f"[[source]] gutenberg: two books share a name: {sorted(keys)}")
        return [Unit(self.name, f"{book_key(book)}/{speaker_name(v, r, p)}", SpokenBook(book, v, int(r), int(p)))
                for book in self.books for v, r, p in itertools.product(self.voices, self.rates, self.pitches)]

    # ---------------------------------------------------------------- worker state

    def setup(self) -> None:
        if getattr(self, "_synth", None) is None:
            self._synth = Synthesizer(timeout=self.timeout_seconds)

    def close(self) -> None:
        synth = getattr(self, "_synth", None)
        if synth is not None:
            synth.close()
            self._synth = None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_synth", None)
        return state

    # ---------------------------------------------------------------- reading

    def _load_book(self, book: str) -> tuple[bytes, str]:
        if book.isdigit():
            url = self.mirror.format(id=book)
            path = fetch(url, self.cache_dir)
            with open(path, "rb") as f:
                return f.read(), url
        with FileSystems.open(book, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            return f.read(), book

    def read(self, unit: Unit) -> Iterator[Segment | Reject]:
        p: SpokenBook = unit.payload
        raw, origin = self._load_book(p.book)
        pieces = book_pieces(raw, min_words=self.min_words, max_words=self.max_words, where=origin)
        self.setup()
        self._synth.restart()
        voice_setting = speaker_name(p.voice, p.rate, p.pitch)
        speaker = f"{self.name}/{voice_setting}"
        group = f"{self.name}/{book_key(p.book)}"
        for index, text in enumerate(pieces):
            item_id = f"{group}/{voice_setting}/{index:05d}"
            try:   # speak the transcript itself: espeak-ng reads digits and symbols its own way
                wav = self._synth.speak(normalize(text, where=f"{origin} piece {index}"), p.voice, p.rate, p.pitch)
            except Reject as reject:
                reject.item_id, reject.where = item_id, f"{origin} piece {index}"
                yield reject
                continue
            yield Segment(id=item_id, speaker=speaker, group=group, text_raw=text, audio=wav,
                          origin=f"{origin}#piece={index}", license=self.license, synthetic=True)
