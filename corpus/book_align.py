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
   the book's words for its span are its label when every word the recognizer heard there is
   the book's word, or an isolated single-word substitution (the recognizer's error: "flour"
   heard for "flower"; the book's word stands), and their character error rate is within the
   teacher's own threshold. Words heard in another order, added or left out are the reader's
   doing: ``align:mismatch`` with both texts. A piece none of whose words are matched in the
   book is ``align:not-in-text`` (a LibriVox preamble, a reader's note). Book text no piece
   claims (what the reader skipped) is never a label.

Words are compared in our normalized form (``corpus/text.py``), each book token normalized on
its own (a token's words stay together: a span must start and end at whole tokens). Memory:
the book's words and one 8-byte hash per word; the book itself is bounded by its source.
"""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import functools
import hashlib

import numpy as np

from speechmill.corpus.reject import Reject

ANCHOR_WORDS = 4
EDGE_WORDS = 10  # extra book words searched before the first and after the last anchor


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

    @classmethod
    def of(cls, tokens: list[str]) -> Words:
        words, owner = [], []
        for t, token in enumerate(tokens):
            for word in token_words(token):
                words.append(word)
                owner.append(t)
        return cls(tokens, words, owner)

    def whole(self, first: int, last: int) -> bool:
        """Whether words first..last (inclusive) are whole tokens."""
        return (first == 0 or self.owner[first - 1] != self.owner[first]) and (
            last == len(self.words) - 1 or self.owner[last + 1] != self.owner[last]
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
    """Heard words first..last (one piece) -> the book's words for them, or why not."""
    said = " ".join(heard[first : last + 1])
    places = [a.book_of[k] for k in range(first, last + 1)]
    matched = [p for k, p in zip(range(first, last + 1), places) if p >= 0 and a.same[k]]
    if not matched:
        return PieceVerdict("align:not-in-text", f"the teacher heard {said[:160]!r}")
    placed = [p for p in places if p >= 0]
    lo, hi = min(placed), max(placed)
    text = " ".join(book.words[lo : hi + 1])
    problems = []
    if -1 in places:
        problems.append("words the book does not have there")
    if placed != sorted(placed) or len(set(placed)) != len(placed):
        problems.append("words in another order")
    if len(placed) != hi - lo + 1:
        problems.append("book words left out")
    wrong = [k for k in range(first, last + 1) if a.book_of[k] >= 0 and not a.same[k]]
    if any(k + 1 in wrong for k in wrong):
        problems.append("several words in a row heard otherwise")
    if not problems and not book.whole(lo, hi):
        problems.append("a written form cut in the middle")
    if not problems:
        import jiwer

        error = float(jiwer.cer(text, said))
        if error > max_cer:
            problems.append(f"CER {error:.2f} > {max_cer}")
    if problems:
        return PieceVerdict(
            "align:mismatch",
            f"{'; '.join(problems)}: the teacher heard {said[:120]!r}, the book says "
            f"{text[:120]!r}",
        )
    return PieceVerdict(label=book.written(lo, hi))
