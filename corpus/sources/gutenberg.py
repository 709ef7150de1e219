"""Project Gutenberg books spoken by TTS engines over a voice x rate x pitch matrix: espeak-ng
through pyttsx3, Debian's flite and festival voices (``voices = ["en-us", "flite:slt",
"festival:kal_diphone"]``; pitch applies to espeak-ng voices only).

Books are local ``.txt`` files in Project Gutenberg layout, or book ids fetched from a
configurable mirror into the local cache. One work unit is one book spoken by one voice
setting; each voice setting is a ``speaker``, the book is the ``group``, and every utterance
is marked ``synthetic``. By default every setting speaks every piece; with
``voices_per_piece = N`` each piece is spoken by N settings chosen by a stable hash of the
book, the piece and the setting (more distinct sentences for the same hours of audio, and the
same choice on any runner). The engine speaks each piece's normalized transcript, not the raw
text (espeak-ng would read ``1847`` as "one thousand eight hundred forty seven" under a label
"eighteen forty seven"); the raw piece is kept as ``text_raw``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import posixpath
import tempfile
from collections.abc import Iterator
from typing import Any

from speechmill.corpus import storage
from speechmill.corpus.config import ConfigError, resolve_path
from speechmill.corpus.inputs.book import book_pieces
from speechmill.corpus.inputs.fetch import fetch
from speechmill.corpus.inputs.tts import (
    Synthesizer,
    speak_with_program,
    split_voice,
    unknown_voices,
    voice_facts,
)
from speechmill.corpus.reject import Reject
from speechmill.corpus.sources.base import Source, SourceContext
from speechmill.corpus.text import normalize
from speechmill.corpus.types import Segment, Unit, slug

LICENSE = "Public domain in the USA (Project Gutenberg text); speech synthesized by espeak-ng, flite or festival"
DEFAULT_MIRROR = "https://www.gutenberg.org/cache/epub/{id}/pg{id}.txt"


def book_key(book: str) -> str:
    """A short stable name for a book: ``pg<id>`` for an id, the file stem for a path."""
    if book.isdigit():
        return f"pg{book}"
    return slug(posixpath.basename(book).rsplit(".", 1)[0])


def speaker_name(voice: str, rate: int, pitch: int | None) -> str:
    return f"{slug(voice)}@{rate}wpm" + (f"-p{pitch}" if pitch is not None else "")


def voice_settings(
    voices: list[str], rates: list[int], pitches: list[int]
) -> list[tuple[str, int, int | None]]:
    """(voice, rate, pitch) of every setting; voices of flite and festival get pitch None."""
    out = []
    for voice, rate in itertools.product(voices, rates):
        if split_voice(voice)[0] == "espeak":
            out += [(voice, int(rate), int(p)) for p in pitches]
        else:
            out.append((voice, int(rate), None))
    return out


def speaks_piece(book: str, index: int, setting: str, settings: list[str], per_piece: int) -> bool:
    """Whether ``setting`` is one of the ``per_piece`` settings that speak piece ``index``."""
    if not per_piece or per_piece >= len(settings):
        return True
    rank = sorted(
        settings, key=lambda s: hashlib.sha256(f"{book}/{index}/{s}".encode()).hexdigest()
    )
    return setting in rank[:per_piece]


@dataclasses.dataclass(frozen=True)
class SpokenBook:
    """One book (a path or a Project Gutenberg id) spoken by one voice setting."""

    book: str
    voice: str
    rate: int
    pitch: int | None


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
    voices_per_piece: int = 0
    cache_dir: str = ""

    name = "gutenberg"
    LICENSE = LICENSE
    KEYS = frozenset(
        {
            "books",
            "voices",
            "rates",
            "pitches",
            "mirror",
            "timeout_seconds",
            "min_words",
            "max_words",
            "voices_per_piece",
        }
    )

    @classmethod
    def from_config(cls, table: dict[str, Any], context: SourceContext) -> GutenbergSource:
        where = cls.where()
        common = cls.common_keys(table)
        base_dir = context.base_dir
        books = cls.option(table, "books", list, None, (str, int))
        if not books:
            raise ConfigError(
                f"{where}: needs books = [...] (paths to .txt files or Gutenberg ids)"
            )
        resolved = []
        for book in books:
            book = str(book)
            if not book.isdigit():
                book = resolve_path(book, base_dir)
                if not storage.exists(book):
                    raise ConfigError(f"{where}: book {book} does not exist")
            resolved.append(book)
        fields = cls.options(
            table,
            {
                "voices": (list, None, str),
                "rates": (list, None, int),
                "pitches": (list, None, int),
                "mirror": (str,),
                "timeout_seconds": ((int, float),),
                "min_words": (int,),
                "max_words": (int,),
                "voices_per_piece": (int,),
            },
        )
        source = cls(books=resolved, cache_dir=context.cache_dir, **common, **fields)
        for rate in source.rates:
            if not 80 <= int(rate) <= 450:
                raise ConfigError(
                    f"{where}: rate {rate} outside espeak-ng's 80..450 words per minute"
                )
        for pitch in source.pitches:
            if not 0 <= int(pitch) <= 100:
                raise ConfigError(f"{where}: pitch {pitch} outside 0..100")
        bad = unknown_voices(source.voices)
        if bad:
            raise ConfigError(
                f"{where}: no voice {', '.join(bad)}; voices are espeak-ng voice files such as en-us, "
                "en-gb-x-rp, en-029, optionally with a variant such as +f3 (`espeak-ng --voices=en`), "
                "flite:NAME (`flite -lv`) or festival:NAME (`festival -b '(print (voice.list))'`)"
            )
        if source.voices_per_piece < 0:
            raise ConfigError(
                f"{where}: voices_per_piece must be >= 0 (0: every voice speaks every piece)"
            )
        if not 0 < source.min_words <= source.max_words:
            raise ConfigError(f"{where}: need 0 < min_words <= max_words")
        return source

    def units(self) -> list[Unit]:
        keys = [book_key(b) for b in self.books]
        if len(set(keys)) != len(keys):
            raise ConfigError(f"[[source]] gutenberg: two books share a name: {sorted(keys)}")
        return [
            Unit(self.name, f"{book_key(book)}/{speaker_name(v, r, p)}", SpokenBook(book, v, r, p))
            for book in self.books
            for v, r, p in voice_settings(self.voices, self.rates, self.pitches)
        ]

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
        with storage.open_read(book) as f:
            return f.read(), book

    def read(self, unit: Unit) -> Iterator[Segment | Reject]:
        p: SpokenBook = unit.payload
        raw, origin = self._load_book(p.book)
        pieces = book_pieces(raw, min_words=self.min_words, max_words=self.max_words, where=origin)
        voice_setting = speaker_name(p.voice, p.rate, p.pitch)
        settings = [speaker_name(*s) for s in voice_settings(self.voices, self.rates, self.pitches)]
        speaker = f"{self.name}/{voice_setting}"
        engine, gender = voice_facts(p.voice)
        group = f"{self.name}/{book_key(p.book)}"
        chosen: list[tuple[int, str, str]] = []  # (index, item id, transcript)
        for index, text in enumerate(pieces):
            if not speaks_piece(
                book_key(p.book), index, voice_setting, settings, self.voices_per_piece
            ):
                continue
            item_id = f"{group}/{voice_setting}/{index:05d}"
            try:  # speak the transcript itself: an engine reads digits and symbols its own way
                chosen.append((index, item_id, normalize(text, where=f"{origin} piece {index}")))
            except Reject as reject:
                reject.item_id, reject.where = item_id, f"{origin} piece {index}"
                yield reject
        for (index, item_id, _), wav in zip(chosen, self._speak(p, [t for _, _, t in chosen])):
            if isinstance(wav, Reject):
                wav.item_id, wav.where = item_id, f"{origin} piece {index}"
                yield wav
                continue
            yield Segment(
                id=item_id,
                speaker=speaker,
                group=group,
                text_raw=pieces[index],
                audio=wav,
                origin=f"{origin}#piece={index}",
                license=self.license,
                synthetic=True,
                gender=gender,
                engine=engine,
            )

    def _speak(self, p: SpokenBook, texts: list[str]) -> Iterator[bytes | Reject]:
        """WAV bytes or a Reject per text, in order."""
        engine, voice = split_voice(p.voice)
        if engine != "espeak":
            with tempfile.TemporaryDirectory(prefix="speechmill-tts-") as workdir:
                yield from speak_with_program(
                    engine, texts, voice, p.rate, self.timeout_seconds, workdir
                )
            return
        self.setup()
        self._synth.restart()
        for text in texts:
            try:
                yield self._synth.speak(text, voice, p.rate, p.pitch)
            except Reject as reject:
                yield reject
