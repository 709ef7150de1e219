"""CTC decoding of one utterance's frame log-probabilities, without TensorFlow: greedy, and a
prefix beam search (Hannun et al. 2014) that adds a word n-gram language model by shallow
fusion.

``greedy(log_probs) -> str``; ``beam_search(log_probs, beam=32, lm=None) -> str``, where
``log_probs`` is [T, 1 + len(ALPHABET)] natural-log probabilities (token 0 the blank, token i
the alphabet's character i - 1) of the real frames only. A hypothesis is ranked by

    log P_ctc(prefix) + alpha * ln P_lm(its completed words) + beta * (number of words)

and a word is scored by the LM when the space after it (or the end) completes it. A partial
word that begins no word of the LM's vocabulary costs ``alpha * OOV_PREFIX_LOG`` at once, so
beams do not drift into letter strings no word continues. :class:`WordLM` wraps a KenLM model
(ARPA or KenLM binary; the vocabulary for the partial-word check is read from an ARPA file).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re

import numpy as np

from speechmill.corpus.errors import DataError
from speechmill.corpus.schema import ALPHABET

LN10 = math.log(10.0)
NEG_INF = -math.inf
OOV_PREFIX_LOG = -10.0  # natural log, times alpha: a partial word no vocabulary word starts with
TOKEN_MIN_LOG = -5.0  # characters below this log-probability (0.7 %) in a frame are not tried there


def greedy(log_probs: np.ndarray) -> str:
    """Best path, repeats merged, blanks dropped, spaces collapsed."""
    best = np.argmax(log_probs, axis=1)
    keep = best[(best != 0) & np.concatenate([[True], best[1:] != best[:-1]])]
    return " ".join("".join(ALPHABET[i - 1] for i in keep).split())


def _add(a: float, b: float) -> float:
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


def arpa_vocabulary(path: str) -> set[str] | None:
    """The unigrams of an ARPA file (None for a binary model)."""
    with open(path, "rb") as f:
        if not f.read(64).lstrip().startswith(b"\\data\\"):
            return None
    words, inside = set(), False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("\\1-grams:"):
                inside = True
            elif inside and line.startswith("\\"):
                break
            elif inside and line.strip():
                words.add(line.split("\t")[1].strip())
    return words


class DamagedLM(DataError):
    """A language model file that KenLM cannot load (truncated, damaged, not a model)."""

    def __init__(self, path: str, error: Exception):
        found = re.search(r"threw (\w+)\.? ?([^\n]*)", str(error))
        why = (
            f"{found.group(1)}: {found.group(2).rstrip(')')}"
            if found
            else "neither an ARPA file nor a KenLM binary"
        )
        super().__init__(
            f"speechmill: {path}: not a language model KenLM can load ({why.strip()[:160]}); "
            "rebuild it with make lm"
        )


class WordLM:
    """A KenLM word model with the fusion weights: ``alpha`` scales its log-probabilities,
    ``beta`` is added per word."""

    def __init__(self, path: str, alpha: float = 0.5, beta: float = 1.0):
        try:
            import kenlm
        except ImportError:
            from speechmill.corpus.errors import MissingExtra

            raise MissingExtra("kenlm", "runtime", "decoding with a language model") from None
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no language model (make lm builds one)")
        self.path, self.alpha, self.beta = path, alpha, beta
        try:
            self.model = kenlm.Model(path)
            vocabulary = arpa_vocabulary(path)
        except (OSError, RuntimeError, ValueError) as error:  # ValueError: a binary's bytes
            raise DamagedLM(path, error) from None
        self.prefixes = (
            None
            if vocabulary is None
            else {w[:i] for w in vocabulary for i in range(1, len(w) + 1)}
        )
        # (id of the state, word) -> (score, next state, the state itself: an id can be reused)
        self._cache: dict[tuple[int, str], tuple[float, object, object]] = {}

    def start(self):
        """The state at the start of a sentence (and a fresh score cache)."""
        import kenlm

        self._cache.clear()
        state = kenlm.State()
        self.model.BeginSentenceWrite(state)
        return state

    def score(self, state, word: str) -> tuple[float, object]:
        """(alpha * ln p(word | state) + beta, next state); ``</s>`` gets no beta."""
        import kenlm

        key = (id(state), word)
        hit = self._cache.get(key)
        if hit is not None and hit[2] is state:
            return hit[0], hit[1]
        following = kenlm.State()
        log10p = self.model.BaseScore(state, word, following)
        value = self.alpha * log10p * LN10 + (0.0 if word == "</s>" else self.beta)
        self._cache[key] = (value, following, state)
        return value, following

    def partial_penalty(self, partial: str) -> float:
        if self.prefixes is None or not partial or partial in self.prefixes:
            return 0.0
        return self.alpha * OOV_PREFIX_LOG


@dataclasses.dataclass
class _Beam:
    blank: float = NEG_INF  # log P(prefix, path ends in blank)
    label: float = NEG_INF  # log P(prefix, path ends in its last character)
    lm: float = 0.0  # fused LM score of the completed words (+ partial-word penalty)
    state: object = None  # LM state after the completed words

    @property
    def total(self) -> float:
        return _add(self.blank, self.label)


def beam_search(log_probs: np.ndarray, beam: int = 32, lm: WordLM | None = None) -> str:
    """The best transcript by CTC prefix beam search with optional word-LM fusion."""
    space = ALPHABET.index(" ") + 1
    beams = {"": _Beam(blank=0.0, state=lm.start() if lm else None)}
    for frame in np.asarray(log_probs, dtype=np.float64):
        candidates = [int(c) for c in np.nonzero(frame >= TOKEN_MIN_LOG)[0] if c != 0]
        if not candidates:
            candidates = [int(np.argmax(frame[1:])) + 1]
        fresh: dict[str, _Beam] = {}

        def stay(prefix: str, parent: _Beam) -> _Beam:
            if prefix not in fresh:
                fresh[prefix] = _Beam(lm=parent.lm, state=parent.state)
            return fresh[prefix]

        def extend(prefix: str, char: str, parent: _Beam) -> _Beam:
            longer = prefix + char
            if longer not in fresh:
                lm_score, state = parent.lm, parent.state
                if lm is not None:
                    word = _done_word(prefix, char)
                    if word is not None:
                        gain, state = lm.score(parent.state, word)
                        lm_score += gain - lm.partial_penalty(word)
                    else:
                        partial = longer.rsplit(" ", 1)[-1]
                        lm_score += lm.partial_penalty(partial) - lm.partial_penalty(partial[:-1])
                fresh[longer] = _Beam(lm=lm_score, state=state)
            return fresh[longer]

        for prefix, b in beams.items():
            total = b.total
            here = stay(prefix, b)
            here.blank = _add(here.blank, total + frame[0])
            last = prefix[-1] if prefix else ""
            for c in candidates:
                p = float(frame[c])
                char = ALPHABET[c - 1]
                if c == space and (not prefix or last == " "):
                    here.label = _add(here.label, total + p)  # no leading or double spaces
                elif char == last:
                    here.label = _add(here.label, b.label + p)  # the same character, held
                    extended = extend(prefix, char, b)
                    extended.label = _add(extended.label, b.blank + p)
                else:
                    extended = extend(prefix, char, b)
                    extended.label = _add(extended.label, total + p)
        beams = dict(
            sorted(fresh.items(), key=lambda kv: kv[1].total + kv[1].lm, reverse=True)[:beam]
        )

    def final(prefix: str, b: _Beam) -> float:
        score = b.total + b.lm
        if lm is not None:
            state = b.state
            partial = prefix.rsplit(" ", 1)[-1] if prefix and prefix[-1] != " " else ""
            if partial:
                score -= lm.partial_penalty(partial)
                gain, state = lm.score(state, partial)
                score += gain
            score += lm.score(state, "</s>")[0]
        return score

    best = max(beams.items(), key=lambda kv: final(*kv))[0]
    return " ".join(best.split())


def _done_word(prefix: str, char: str) -> str | None:
    """The word a space completes (None for other characters or a space after a space)."""
    if char != " " or not prefix or prefix[-1] == " ":
        return None
    return prefix.rsplit(" ", 1)[-1]
