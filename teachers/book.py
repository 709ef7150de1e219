"""A long recording of a book, labelled with the book's own words (the audiobook source).

The teacher hears the recording as for an untranscribed one (teachers/label.py: bounded
windows, utterances cut at pauses, one batch per window), keeping only its words, not the
audio; those words are aligned to the book's (corpus/book_align.py: anchors of unique word
runs, edit operations between them); each utterance whose words the book has, in that order,
gets the book's words for its span as its transcript, read again from the file (ffmpeg seeks
to it), and the rest go to the ledger (``align:mismatch``, ``align:not-in-text``). Words never
straddle a window edge: an utterance that reaches a window's end is heard whole from the next.

Memory holds the book's words (a book is at most ``MAX_BOOK_BYTES``: ``book:too-large``
otherwise, read no further) and the words heard in one recording, never its audio.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import numpy as np

from speechmill.corpus.book_align import ANCHOR_WORDS, Words, align, judge_piece, token_words
from speechmill.corpus.errors import printable
from speechmill.corpus.reject import Reject
from speechmill.corpus.types import Note, Recording, Segment
from speechmill.teachers.base import SAMPLE_RATE
from speechmill.teachers.pieces import piece_id, segment
from speechmill.teachers.table import row_of

log = logging.getLogger("speechmill.align")
MAX_BOOK_BYTES = 16 << 20  # the longest Gutenberg books are under 6 MB
_BOOKS: dict[tuple, tuple] = {}  # (path, size, mtime) -> (Words, grams): one book per worker


def load_book(path: str) -> tuple[Words, tuple]:
    """The book's words (Gutenberg boilerplate, contents, headings and notes removed by the
    book cleaner) and its unique anchor runs; Reject for a book too large, empty or unreadable."""
    from speechmill.corpus.book_align import unique_grams
    from speechmill.corpus.inputs.book import book_paragraphs

    try:
        stat = os.stat(path)
        key = (path, stat.st_size, stat.st_mtime_ns)
        if key in _BOOKS:
            return _BOOKS[key]
        with open(path, "rb") as f:
            raw = f.read(MAX_BOOK_BYTES + 1)
    except OSError as e:
        raise Reject("book:unreadable", f"cannot read the book: {e.strerror}", where=path) from None
    if len(raw) > MAX_BOOK_BYTES:
        raise Reject(
            "book:too-large", f"over {MAX_BOOK_BYTES >> 20} MB; a book is smaller", where=path
        )
    paragraphs = book_paragraphs(raw, where=path)
    words = Words.of_sentences([sentence for para in paragraphs for sentence in para])
    _BOOKS.clear()
    _BOOKS[key] = words, unique_grams(words.words)
    return _BOOKS[key]


def aligned(labeller, rec: Recording, counts: dict) -> Iterator[Segment | Reject | Note]:
    """The recording's utterances labelled with the book's words, or rejected with why."""
    from speechmill.corpus.inputs.media import load_window

    try:
        book, grams = load_book(rec.text)
    except Reject as reject:
        reject.item_id = rec.id
        yield reject
        return
    heard: list[str] = []
    pieces = []  # (start, end, first word, last word, what the teacher wrote)
    for a, b, _audio, h, _ in labeller.heard(rec, counts):
        written = [w.text for w in h.words] or h.text.split()
        words = [w for token in written for w in token_words(token)]
        pieces.append((a, b, len(heard), len(heard) + len(words) - 1, h.text))
        heard += words
    found = align(heard, book.words, grams)
    if heard and not found.found:
        log.warning(
            "%s: not found in %s: no %d words in a row of what the teacher heard are in it",
            printable(rec.media or rec.path),
            printable(rec.text),
            ANCHOR_WORDS,
        )
    max_cer = row_of(labeller.spec).max_cer
    for a, b, first, last, said in pieces:
        where = f"{rec.media or rec.path}#t={a:.2f},{b:.2f}"
        if last < first:
            yield Reject(
                "label:no-speech",
                f"the teacher heard {said[:80]!r}",
                item_id=piece_id(rec, a),
                where=where,
            )
            continue
        verdict = judge_piece(found, first, last, heard, book, max_cer)
        if verdict.reason:
            yield Reject(verdict.reason, verdict.detail, item_id=piece_id(rec, a), where=where)
            continue
        counts["aligned"] = counts.get("aligned", 0) + 1
        audio = load_window(rec.path, SAMPLE_RATE, a, b - a).astype(np.float32) / 32768.0
        yield segment(rec, a, b, audio, verdict.label, f"book:teacher:{labeller.spec}")
