"""Build a word language model for CTC decoding: ``make lm [DATA=build/corpus] [TEXT='a.txt b.txt']``.

    python -m speechmill.lm.build --data build/corpus --text book.txt ... --output build/lm [--order 3]

Sentences come from the corpus's train split (its distinct transcripts, already normalized:
a text read by several voices counts once) and from
any text files: a Project Gutenberg book (its START/END markers) is cleaned as the gutenberg
source cleans it and cut at sentence ends, any other file gives one sentence per non-empty
line. Every sentence goes through the corpus's text normalization (numbers spelled out,
punctuation dropped), so the LM's words are the transcripts' words; a line that normalizes to
nothing or holds letters outside the alphabet is skipped and counted. The dev and test
splits are never read into the model; held-out transcripts that appear inside the text files
are counted (``held_out_in_text``) and warned about, because an LM that has seen the test
sentences makes a WER without meaning.

Writes ``OUTPUT/lm.arpa`` (interpolated modified Kneser–Ney, lm/arpa.py) and ``OUTPUT/lm.json``
(order, sentences, words, vocabulary, discounts, sources, the decoder's alpha/beta), each
through a temporary file and a rename.
"""

from __future__ import annotations

import os

from speechmill.corpus.errors import UsageError
from speechmill.corpus.inputs.book import book_paragraphs
from speechmill.corpus.inputs.textfile import decode_text
from speechmill.corpus.reader import load_info, utterances
from speechmill.corpus.reject import Reject
from speechmill.corpus.text import normalize
from speechmill.lm.arpa import count_ngrams, estimate, write_arpa
from speechmill.lm.files import (
    ARPA,
    DEFAULT_ALPHA,
    DEFAULT_BETA,
    read_facts,
    write_facts,
)


def corpus_transcripts(folder: str, splits: tuple[str, ...]) -> list[str]:
    """The transcripts of ``splits`` of a finished corpus (missing splits give none)."""
    info = load_info(folder)
    return [utt.text for split in splits for utt in utterances(folder, info, split)]


def text_sentences(path: str) -> tuple[list[str], int]:
    """(normalized sentences, lines skipped) of a text file or Project Gutenberg book."""
    with open(path, "rb") as f:
        raw = f.read()
    if b"PROJECT GUTENBERG" in raw.upper()[:200_000]:
        pieces = [
            sentence for paragraph in book_paragraphs(raw, where=path) for sentence in paragraph
        ]
    else:
        pieces = [line for line in decode_text(raw, path).split("\n") if line.strip()]
    sentences, skipped = [], 0
    for piece in pieces:
        try:
            sentences.append(normalize(piece, where=path))
        except Reject:
            skipped += 1
    return sentences, skipped


def build_lm(data: str | None, texts: list[str], output: str, order: int = 3) -> dict:
    """Estimate the model from the corpus's train transcripts and the text files; -> lm.json facts."""
    if order < 1:
        raise UsageError("--order must be >= 1")
    for path in texts:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: no such text file")
    sentences, sources, skipped = [], {}, 0
    if data:
        train = sorted(
            set(corpus_transcripts(data, ("train",)))
        )  # one text read by many voices counts once
        sentences += train
        sources[f"{data} (train split)"] = len(train)
    for path in texts:
        found, dropped = text_sentences(path)
        sentences += found
        sources[path] = len(found)
        skipped += dropped
    if not sentences:
        raise FileNotFoundError(
            "no sentences for a language model: give a corpus with a train split or text files"
        )
    held_out = corpus_transcripts(data, ("dev", "test")) if data else []
    text_only = "\n".join(sentences[sources.get(f"{data} (train split)", 0) :])
    overlap = sum(1 for t in set(held_out) if t in text_only)
    model = estimate(count_ngrams(sentences, order), order)
    os.makedirs(output, exist_ok=True)
    with open(os.path.join(output, ARPA + ".tmp"), "w", encoding="utf-8") as f:
        write_arpa(model, f)
    os.replace(os.path.join(output, ARPA + ".tmp"), os.path.join(output, ARPA))
    previous = read_facts(output)
    facts = {
        "order": order,
        "sentences": len(sentences),
        "words": sum(len(s.split()) for s in sentences),
        "vocabulary": len(model.vocabulary) - 2,
        "discounts": [list(map(lambda d: round(d, 4), d)) for d in model.discounts],
        "notes": model.notes,
        "sources": sources,
        "skipped_lines": skipped,
        "held_out_in_text": overlap,
        "held_out": len(set(held_out)),
        "alpha": previous.get("alpha", DEFAULT_ALPHA),
        "beta": previous.get("beta", DEFAULT_BETA),
    }
    write_facts(output, facts)
    return facts
