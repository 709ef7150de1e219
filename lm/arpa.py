"""Word n-gram language models with interpolated modified Kneser–Ney smoothing, written as
ARPA text (the format KenLM, SRILM and every CTC decoder read).

The estimate follows Chen & Goodman (1998) as KenLM's ``lmplz`` does it (Heafield et al.
2013), so a user can swap in an lmplz-built model:

- the highest order keeps raw counts; a lower-order n-gram ``v`` counts the distinct words
  seen before it (its continuation count, N1+(. v)), except n-grams that start with ``<s>``,
  which nothing can precede and which keep raw counts;
- each order n has three discounts from its count-of-counts t1..t4 of those counts:
  Y = t1 / (t1 + 2 t2), D1 = 1 - 2Y t2/t1, D2 = 2 - 3Y t3/t2, D3+ = 3 - 4Y t4/t3;
- p(w | h) = (a(hw) - D(a(hw))) / a(h.) + gamma(h) p(w | h'), with
  gamma(h) = (D1 N1(h.) + D2 N2(h.) + D3+ N3+(h.)) / a(h.), down to unigrams, which are
  interpolated with the uniform distribution over the vocabulary (``<unk>`` included, so
  ``<unk>`` gets gamma(empty) / |V|);
- the ARPA backoff weight of a context is its gamma (the stored probabilities are already
  interpolated, so backing off multiplies by gamma exactly).

``count_ngrams(sentences, order)`` -> counts; ``estimate(counts, order)`` -> a :class:`Model`
(probabilities and backoffs per order, the discounts); ``write_arpa(model, file)``.
Orders whose count-of-counts cannot give discounts (t1..t4 not all > 0, typical of tiny
texts) fall back to the discounts D1 = 0.5, D2 = 1.0, D3+ = 1.5 and say so in ``Model.notes``.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from collections.abc import Iterable
from typing import TextIO

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)

Ngram = tuple[str, ...]


def count_ngrams(sentences: Iterable[str], order: int) -> dict[Ngram, int]:
    """Raw counts of every n-gram (n = 1..order) of ``<s> words </s>``, sentence by sentence.
    ``<s>`` alone is not counted (it is never predicted)."""
    counts: dict[Ngram, int] = collections.Counter()
    for sentence in sentences:
        words = [BOS, *sentence.split(), EOS]
        for n in range(1, order + 1):
            for i in range(len(words) - n + 1):
                gram = tuple(words[i : i + n])
                if gram != (BOS,):
                    counts[gram] += 1
    return dict(counts)


def adjusted_counts(raw: dict[Ngram, int], order: int) -> dict[Ngram, int]:
    """Kneser–Ney counts: raw for the highest order and for n-grams starting with <s>,
    otherwise the number of distinct words seen before the n-gram."""
    left: dict[Ngram, int] = collections.Counter()
    for gram in raw:
        if len(gram) >= 2:
            left[gram[1:]] += 1
    return {
        gram: count if len(gram) == order or gram[0] == BOS else left[gram]
        for gram, count in raw.items()
        if len(gram) == order or gram[0] == BOS or left[gram] > 0
    }


def discounts(counts: Iterable[int]) -> tuple[float, float, float] | None:
    """(D1, D2, D3+) from one order's counts, or None when count-of-counts 1..4 are not all
    present or give a discount outside [0, k]."""
    t = collections.Counter(c for c in counts if c <= 4)
    if not all(t[k] > 0 for k in (1, 2, 3, 4)):
        return None
    y = t[1] / (t[1] + 2 * t[2])
    d = (1 - 2 * y * t[2] / t[1], 2 - 3 * y * t[3] / t[2], 3 - 4 * y * t[4] / t[3])
    return d if all(0 < di < k for di, k in zip(d, (1, 2, 3))) else None


@dataclasses.dataclass
class Model:
    order: int
    vocabulary: list[str]
    probability: list[
        dict[Ngram, float]
    ]  # per order (index n - 1): n-gram -> p(w | h), interpolated
    backoff: list[dict[Ngram, float]]  # per order: context n-gram -> gamma
    discounts: list[tuple[float, float, float]]
    notes: list[str]


def estimate(raw: dict[Ngram, int], order: int) -> Model:
    """Raw counts (``count_ngrams``) -> an interpolated modified Kneser–Ney model."""
    counts = adjusted_counts(raw, order)
    by_order: list[dict[Ngram, int]] = [{} for _ in range(order)]
    for gram, count in counts.items():
        by_order[len(gram) - 1][gram] = count
    notes, ds = [], []
    for n in range(1, order + 1):
        d = discounts(by_order[n - 1].values())
        if d is None:
            notes.append(
                f"order {n}: too few n-grams for estimated discounts; using {FALLBACK_DISCOUNTS}"
            )
            d = FALLBACK_DISCOUNTS
        ds.append(d)

    def discount(n: int, count: int) -> float:
        return ds[n - 1][min(count, 3) - 1]

    vocabulary = sorted({w for gram in by_order[0] for w in gram} | {UNK, BOS})
    probability: list[dict[Ngram, float]] = [{} for _ in range(order)]
    backoff: list[dict[Ngram, float]] = [{} for _ in range(order)]
    for n in range(1, order + 1):
        totals: dict[Ngram, int] = collections.Counter()
        kinds: dict[Ngram, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
        for gram, count in by_order[n - 1].items():
            totals[gram[:-1]] += count
            kinds[gram[:-1]][min(count, 3) - 1] += 1
        gamma = {h: sum(ds[n - 1][k] * kinds[h][k] for k in range(3)) / totals[h] for h in totals}
        for gram, count in by_order[n - 1].items():
            h = gram[:-1]
            lower = (
                probability[n - 2][gram[1:]] if n > 1 else 1.0 / (len(vocabulary) - 1)
            )  # <s> is never predicted
            probability[n - 1][gram] = (count - discount(n, count)) / totals[h] + gamma[h] * lower
        if n == 1:
            probability[0][(UNK,)] = gamma[()] / (len(vocabulary) - 1)
        else:
            for h, g in gamma.items():
                backoff[n - 2][h] = g
    return Model(order, vocabulary, probability, backoff, ds, notes)


def write_arpa(model: Model, out: TextIO) -> None:
    """The model as ARPA text; <s> gets probability -99 (never predicted), n-grams in sorted order."""
    grams = [dict(p) for p in model.probability]
    grams[0][(BOS,)] = 0.0
    out.write("\\data\\\n")
    for n, table in enumerate(grams, 1):
        out.write(f"ngram {n}={len(table)}\n")
    for n, table in enumerate(grams, 1):
        out.write(f"\n\\{n}-grams:\n")
        for gram in sorted(table):
            logp = -99.0 if gram == (BOS,) else math.log10(table[gram])
            line = f"{logp:.6f}\t{' '.join(gram)}"
            if n < model.order and gram in model.backoff[n - 1]:
                line += f"\t{math.log10(model.backoff[n - 1][gram]):.6f}"
            out.write(line + "\n")
    out.write("\n\\end\\\n")
