"""What a recording of a book says, found in the book: a recognizer's words aligned to the
book's words, and for each piece of the recording the book's own words where it says them.

The method is the one long-audio aligners use (Moreno et al. 1998, "A recursive algorithm for
the forced alignment of very long audio segments"; LibriSpeech and Multilingual LibriSpeech
align LibriVox chapters to their books the same way, first locating the recording in the book,
then aligning between islands of agreement):

1. **anchors**: every run of ``ANCHOR_WORDS`` words the recognizer heard that occurs exactly
   once in the book is a candidate (so the recording is found anywhere in the book, not only at
   its start); the longest chain of candidates in the same order in both (a longest increasing
   subsequence) are the anchors;
2. **between anchors** the words are aligned by edit operations (difflib's matcher, no junk
   heuristic), and before the first and after the last anchor within a bounded stretch of the
   book; words of the recording with no anchor anywhere are in no part of the book;
3. **each piece** (an utterance cut at a pause) is judged on its own words (``judge_piece``):
   its span of the book runs from its first to its last word found there, widened by the
   words heard before and after them, and the piece is compared with that span word by word
   again. The book's words are its label when every word heard is the book's word, or a single
   word heard as one that sounds like it (character error rate at most ``SOUND_ALIKE``: the
   recognizer's error, "flour" heard for "flower"; the book's word stands), or the same
   letters spaced otherwise ("blue bells" for "bluebells"), within whole written forms and the
   teacher's own CER threshold. Its edges must be edges in the book too: the book word before
   the span ends a sentence or clause (punctuation) or was heard in another piece, and so does
   the span's last word or the one after it; otherwise a word at the edge that the teacher
   missed (it says nothing there) could be in the audio and not in the label. Those, and
   words heard in another order, added or left out (the reader's doing), are
   ``align:mismatch`` with both texts. A piece none of whose words are matched in the
   book is ``align:not-in-text`` (a LibriVox preamble, a reader's note). Book text no piece
   claims (what the reader skipped) is never a label.

Words are compared in our normalized form (``corpus/text.py``), each book token normalized on
its own (a token's words stay together: a span must start and end at whole tokens). Memory:
the book's words and one 8-byte hash per word; the book itself is bounded by its source.
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import difflib
import functools
import hashlib

import numpy as np

from speechmill.corpus.reject import Reject

ANCHOR_WORDS = 4
EDGE_WORDS = 10  # extra book words searched before the first and after the last anchor
CLAUSE_ENDS = (".", ",", ";", ":", "!", "?", "-", "\u2014")
SOUND_ALIKE = 0.5  # a single word heard otherwise is the teacher's error up to this CER


@functools.lru_cache(maxsize=1 << 16)
def token_words(token: str) -> tuple[str, ...]:
    """One written token -> its spoken words in our normalized form (() for punctuation)."""
    from speechmill.corpus.text import normalize

    try:
        return tuple(normalize(token).split())
    except Reject:
        return ()


@dataclasses.dataclass
class Words:
    """A text as normalized words, each knowing the written token it came from."""

    tokens: list[str]  # as written
    words: list[str]  # normalized
    owner: list[int]  # word index -> token index
    breaks: frozenset[int] = frozenset()  # tokens that end a sentence or paragraph

    @classmethod
    def of(cls, tokens: list[str], breaks: frozenset[int] = frozenset()) -> Words:
        words, owner = [], []
        for t, token in enumerate(tokens):
            for word in token_words(token):
                words.append(word)
                owner.append(t)
        return cls(tokens, words, owner, breaks)

    @classmethod
    def of_sentences(cls, sentences: list[str]) -> Words:
        """A text given as sentences (a paragraph's last sentence ends it too)."""
        tokens: list[str] = []
        breaks = set()
        for sentence in sentences:
            tokens += sentence.split()
            breaks.add(len(tokens) - 1)
        return cls.of(tokens, frozenset(breaks))

    def whole(self, first: int, last: int) -> bool:
        """Whether words first..last (inclusive) are whole tokens."""
        return (first == 0 or self.owner[first - 1] != self.owner[first]) and (
            last == len(self.words) - 1 or self.owner[last + 1] != self.owner[last]
        )

    def ends_clause(self, token: int) -> bool:
        """Whether a written token ends a sentence or clause (a reader pauses after it)."""
        return token in self.breaks or self.tokens[token].rstrip("\"')]\u201d\u2019").endswith(
            CLAUSE_ENDS
        )

    def written(self, first: int, last: int) -> str:
        return " ".join(self.tokens[self.owner[first] : self.owner[last] + 1])


def _gram_hash(words: list[str], k: int) -> int:
    text = "\x1f".join(words[k : k + ANCHOR_WORDS]).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") >> 1


def unique_grams(book: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted hashes of the book's ``ANCHOR_WORDS``-word runs that occur once, and where."""
    n = max(0, len(book) - ANCHOR_WORDS + 1)
    hashes = np.fromiter((_gram_hash(book, k) for k in range(n)), dtype=np.int64, count=n)
    order = np.argsort(hashes, kind="stable")
    hashes, where = hashes[order], order
    once = np.ones(len(hashes), bool)
    if len(hashes) > 1:
        same = hashes[1:] == hashes[:-1]
        once[1:] &= ~same
        once[:-1] &= ~same
    return hashes[once], where[once]


def anchors(
    heard: list[str], book: list[str], grams: tuple[np.ndarray, np.ndarray] | None = None
) -> list[tuple[int, int]]:
    """(heard index, book index) pairs of the longest chain of unique runs in the same order
    (``grams``: the book's ``unique_grams`` when the caller keeps them)."""
    hashes, where = grams if grams is not None else unique_grams(book)
    pairs = []
    for k in range(max(0, len(heard) - ANCHOR_WORDS + 1)):
        h = _gram_hash(heard, k)
        i = int(np.searchsorted(hashes, h))
        if i < len(hashes) and hashes[i] == h:
            b = int(where[i])
            if book[b : b + ANCHOR_WORDS] == heard[k : k + ANCHOR_WORDS]:
                pairs.append((k, b))
    return longest_chain(pairs)


def longest_chain(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of (i, j) pairs (in i order) whose j strictly increase."""
    tails: list[int] = []  # smallest j ending a chain of each length
    ends: list[int] = []  # index of that pair
    previous = [-1] * len(pairs)
    for n, (_, j) in enumerate(pairs):
        k = bisect.bisect_left(tails, j)
        previous[n] = ends[k - 1] if k else -1
        if k == len(tails):
            tails.append(j)
            ends.append(n)
        else:
            tails[k], ends[k] = j, n
    chain, n = [], ends[-1] if ends else -1
    while n >= 0:
        chain.append(pairs[n])
        n = previous[n]
    return chain[::-1]


@dataclasses.dataclass
class Alignment:
    """For each heard word, its book word (or -1: added) and whether it is the same word;
    ``found``: whether the recording was found in the book at all."""

    book_of: list[int]
    same: list[bool]
    found: bool

    def heard_elsewhere(self, book_word: int, first: int, last: int) -> bool:
        """Whether a heard word outside first..last (another piece) stands for this book word."""
        if not hasattr(self, "_counts"):
            self._counts = collections.Counter(b for b in self.book_of if b >= 0)
        own = sum(1 for k in range(first, last + 1) if self.book_of[k] == book_word)
        return self._counts[book_word] > own


def align(
    heard: list[str], book: list[str], grams: tuple[np.ndarray, np.ndarray] | None = None
) -> Alignment:
    """Heard words -> their places in the book (the module docstring's steps 1 and 2)."""
    book_of, same = [-1] * len(heard), [False] * len(heard)
    chain = anchors(heard, book, grams)
    if not chain:
        return Alignment(book_of, same, False)
    # islands: each anchor's run, then the stretches between them
    stretches = []
    first_h, first_b = chain[0]
    stretches.append((0, first_h, max(0, first_b - first_h - EDGE_WORDS), first_b))
    for (h0, b0), (h1, b1) in zip(chain, chain[1:]):
        stretches.append((h0, h1, b0, b1))
    last_h, last_b = chain[-1]
    tail = len(heard) - last_h
    stretches.append((last_h, len(heard), last_b, min(len(book), last_b + tail + EDGE_WORDS)))
    for h0, h1, b0, b1 in stretches:
        matcher = difflib.SequenceMatcher(None, heard[h0:h1], book[b0:b1], autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                for d in range(i2 - i1):
                    book_of[h0 + i1 + d], same[h0 + i1 + d] = b0 + j1 + d, True
            elif op == "replace" and i2 - i1 == j2 - j1:
                for d in range(i2 - i1):
                    book_of[h0 + i1 + d] = b0 + j1 + d
    return Alignment(book_of, same, True)


@dataclasses.dataclass(frozen=True)
class PieceVerdict:
    reason: str = ""  # "" : labelled
    detail: str = ""
    label: str = ""  # the book's words for the piece, as written


def judge_piece(
    a: Alignment, first: int, last: int, heard: list[str], book: Words, max_cer: float
) -> PieceVerdict:
    """Heard words first..last (one piece) -> the book's words for them, or why not: the
    piece's span of the book runs from its first to its last word found in the book, widened by
    up to as many words as were heard before and after them (the widening that leaves the
    fewest differences), and the piece is compared with it word by word again (step 3 of the
    module docstring)."""
    said = heard[first : last + 1]
    matched = [(k, a.book_of[k]) for k in range(first, last + 1) if a.same[k]]
    if not matched:
        return PieceVerdict("align:not-in-text", f"the teacher heard {' '.join(said)[:160]!r}")
    (k0, b0), (k1, b1) = matched[0], matched[-1]
    spans = [
        (lo, hi)
        for lo in range(max(0, b0 - (k0 - first)), b0 + 1)
        for hi in range(b1, min(len(book.words) - 1, b1 + (last - k1)) + 1)
    ]
    problems, lo, hi = min(
        (differences(said, book.words, lo, hi) for lo, hi in spans),
        key=lambda found: (len(found[0]), found[1] - found[2]),
    )
    text = " ".join(book.words[lo : hi + 1])
    if not problems and not book.whole(lo, hi):
        problems.append("a written form cut in the middle")
    before = lo == 0 or a.heard_elsewhere(lo - 1, first, last)
    if not problems and not (before or book.ends_clause(book.owner[lo] - 1)):
        problems.append(f"unheard book words before it ({book.tokens[book.owner[lo] - 1]!r})")
    last_word = len(book.words) - 1
    after = hi == last_word or a.heard_elsewhere(hi + 1, first, last)
    if not problems and not (after or book.ends_clause(book.owner[hi])):
        problems.append(f"unheard book words after it ({book.tokens[book.owner[hi] + 1]!r})")
    if not problems:
        import jiwer

        error = float(jiwer.cer(text, " ".join(said)))
        if error > max_cer:
            problems.append(f"CER {error:.2f} > {max_cer}")
    if problems:
        return PieceVerdict(
            "align:mismatch",
            f"{'; '.join(problems)[:160]}: the teacher heard {' '.join(said)[:120]!r}, the book "
            f"says {text[:120]!r}",
        )
    return PieceVerdict(label=book.written(lo, hi))


def differences(said: list[str], words: list[str], lo: int, hi: int) -> tuple[list[str], int, int]:
    """What differs between the heard words and book words lo..hi that is not the teacher's
    error, and the span with book words nobody heard at its edges left out."""
    codes = difflib.SequenceMatcher(None, said, words[lo : hi + 1], autojunk=False).get_opcodes()
    # difflib turns the heard words into the book's: "delete" is heard words the book does not
    # have there, "insert" book words nobody heard. Book words not heard at the span's edges
    # are not this piece's (the edge rule in judge_piece checks what lies beyond)
    if len(codes) > 1 and codes[0][0] == "insert":
        lo += codes[0][4] - codes[0][3]
        codes = [
            (op, i1, i2, j1 - codes[0][4], j2 - codes[0][4]) for op, i1, i2, j1, j2 in codes[1:]
        ]
    if len(codes) > 1 and codes[-1][0] == "insert":
        hi -= codes[-1][4] - codes[-1][3]
        codes = codes[:-1]
    problems = []
    for op, i1, i2, j1, j2 in codes:
        ours, theirs = " ".join(said[i1:i2]), " ".join(words[lo + j1 : lo + j2])
        if op == "equal":
            continue
        if op == "replace" and i2 - i1 == j2 - j1 == 1 and _letters_apart(theirs, ours):
            continue  # a word heard as one that sounds like it, on its own: the teacher's error
        if op == "replace" and ours.replace(" ", "") == theirs.replace(" ", ""):
            continue  # the same letters spaced otherwise ("blue bells", "bluebells")
        if op == "replace":
            problems.append(f"heard otherwise: {ours!r} for {theirs!r}")
        else:
            problems.append(f"{'added' if op == 'delete' else 'left out'}: {ours or theirs!r}")
    return problems, lo, hi


def _letters_apart(book_word: str, heard_word: str) -> bool:
    """Whether a heard word is near enough the book's in spelling to be the teacher mishearing
    it ("flour" for "flower", "drought" for "trout"): character error rate at most
    ``SOUND_ALIKE``."""
    import jiwer

    return float(jiwer.cer(book_word, heard_word)) <= SOUND_ALIKE
