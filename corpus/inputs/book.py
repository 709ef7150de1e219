"""Project Gutenberg plain-text books -> utterance-sized pieces of text.

``book_pieces(raw_bytes) -> list[str]``: decode (BOM, CRLF), strip the licence header and
footer (``*** START OF THE/THIS PROJECT GUTENBERG EBOOK ... ***`` and the matching END line,
and the old-style ``End of (the) Project Gutenberg's ...`` line before it), drop production
credits (``Produced by ...``), the table of contents (also when it is one long paragraph),
lists of illustrations (a heading in its own block or above its entries), contents lists
printed as bare chapter headings or numbered titles, ``[Illustration: ...]``/``[Copyright ...]``
tags (also across blank lines), transcriber's notes, footnotes, chapter headings and printers'
and publishers' colophons; split into sentences and pack them into pieces of
``min_words``..``max_words`` words.
"""

from __future__ import annotations

import re

from speechmill.corpus.inputs.textfile import decode_text
from speechmill.corpus.reject import Reject
from speechmill.corpus.text import ABBREVIATIONS

_START_RE = re.compile(
    r"^\s*\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK.*$", re.I | re.M
)
_END_RE = re.compile(r"^\s*\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK.*$", re.I | re.M)
_OLD_END_RE = re.compile(
    r"^\s*End of (?:the |this )?Project Gutenberg(?:['\u2019]s)?\b.*$", re.I | re.M
)
_CONTENTS_RE = re.compile(r"^\s*(?:TABLE OF )?CONTENTS\.?\s*$", re.I)
_BRACKET_BLOCK_RE = re.compile(
    r"\[(?:Illustration|Footnote|Transcriber['\u2019]?s? Note|Sidenote|Copyright|"
    r"Frontispiece|Decoration)[^\]]*\]",
    re.I | re.S,
)
_CREDITS_RE = re.compile(
    r"^\s*(?:Produced by|E-?text prepared by|This e-?(?:text|book) was (?:produced|prepared)|"
    r"Transcribed from|Scanned by|Proofread by|HTML version by)\b",
    re.I,
)
_HEADING_START_RE = re.compile(
    r"^(?:CHAPTER|BOOK|PART|VOLUME|ACT|SCENE|SECTION|CANTO|STAVE|LETTER)\s+"
    r"(?:[IVXLCDM]+|[0-9]+|[A-Z]+)\b\.?",
    re.I,
)
_ILLUSTRATIONS_RE = re.compile(
    r"^\s*(?:(?:LIST|TABLE) OF |FULL[- ]PAGE )?(?:ILLUSTRATIONS|PLATES|MAPS|ENGRAVINGS)"
    r"(?: IN (?:COLOU?RS?|THE TEXT|BLACK AND WHITE))?[.:]?\s*$",
    re.I,
)
_PAGE_ENTRY_RE = re.compile(
    r"(?:\.\s*){2,}\s*[0-9ivxlc]+\s*$|\s{2,}[0-9ivxlc]+\s*$|^\s*(?:Frontispiece|Page)\b",
    re.I | re.M,
)
_COLOPHON_RE = re.compile(
    r"^\s*(?:THE END|FINIS|(?:Printed|Published|Made) (?:in|by) .*|.*\b(?:Press|Printers?),? "
    r"[A-Z][a-z]+\.?)\s*$"
)
_PRINTING_RE = re.compile(
    r"\b(?:printed|printers?|press|typographers?|electrotyped|stereotyped|bookbinders?)\b"
    r"|\b(?:sons|co\.?),? (?:limited|ltd\.?|ld\.?)(?:\W|$)",
    re.I,
)
_SMALL_WORDS = {"and", "&", "of", "the", "by", "at", "in", "for", "on", "to"}
_LIST_LINE_RE = re.compile(r"^(?:[IVXLC]+|[0-9]+)[.:]?\s+\S")  # "IV. THE FLOOD", "12 The Mill"
_NOTE_HEADING_RE = re.compile(r"^\s*Transcriber'?s? Notes?\b", re.I)
_FOOTNOTE_MARK_RE = re.compile(r"\[(?:\d+|[A-Z]|\*)\]")
_ITALICS_RE = re.compile(r"(?<!\w)_([^_]+)_(?!\w)")
_SENTENCE_END_RE = re.compile(r"""([.!?]+["')\]]*)\s+(?=["'(\[]?[A-Z0-9])""")
_CLAUSE_RE = re.compile(r"(?<=[,;:])\s+")
_PROTECTED = sorted((a for a in ABBREVIATIONS if a[0].isupper()), key=len, reverse=True) + [
    "St.",
    "No.",
]


def strip_boilerplate(text: str) -> str:
    """Keep what lies between the START and END markers (the whole text if there are none)."""
    start = _START_RE.search(text)
    if start:
        text = text[start.end() :]
    ends = [m.start() for m in (_END_RE.search(text), _OLD_END_RE.search(text)) if m]
    if ends:
        text = text[: min(ends)]
    return text


def raw_paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks with their line ends kept (so the lines of a page-numbered
    list can be told from prose); ``book_pieces`` joins each onto one line afterwards."""
    return [block.strip("\n") for block in re.split(r"\n\s*\n", text) if block.strip()]


def is_colophon(block: str) -> bool:
    """A printer's or publisher's imprint ("PRINTED BY WILLIAM CLOWES AND SONS, LIMITED, LONDON
    AND BECCLES.", "Richard Clay & Sons, Limited, London and Bungay.", "THE RIVERSIDE PRESS,
    CAMBRIDGE, MASSACHUSETTS"): short, names printing or a firm, and nearly every word is a
    name (capitalized), unlike a sentence about printers."""
    if _COLOPHON_RE.match(block):
        return True
    words = [w for w in re.findall(r"[A-Za-z&][\w.&']*", block)]
    if not words or len(words) > 25 or not _PRINTING_RE.search(block):
        return False
    named = [w for w in words if w[0].isupper() or w[0] == "&" or w.lower() in _SMALL_WORDS]
    return len(named) >= 0.85 * len(words)


def is_heading_list(raw_block: str) -> bool:
    """A block of two or more lines that are each a chapter heading or a numbered title line
    ("CHAPTER I", "II. THE FLOOD"): a contents list printed without its CONTENTS heading, or
    only of headings."""
    lines = [line.strip() for line in raw_block.splitlines() if line.strip()]
    return len(lines) >= 2 and all(
        is_heading(line)
        or _LIST_LINE_RE.match(line)
        and len(line.split()) <= 8
        and not re.search(r"[.!?][\"')]*\s+\S+\s+\S+", line)
        for line in lines
    )


def drop_heading_lists(blocks: list[str]) -> list[str]:
    """Remove blocks that are only headings (``is_heading_list``), except right after a CONTENTS
    heading, where ``drop_front_matter`` finds the contents' end by them."""
    return [
        block
        for i, block in enumerate(blocks)
        if not is_heading_list(block) or i and _CONTENTS_RE.match(blocks[i - 1])
    ]


def drop_front_matter(blocks: list[str]) -> list[str]:
    """Remove a table of contents and transcriber's-note paragraphs.

    A contents list runs from a CONTENTS heading to the point where the body repeats its first
    entry (the first chapter heading); without such a repeat, up to the first long paragraph.
    """
    out = [
        b
        for b in blocks
        if not (_NOTE_HEADING_RE.match(b) or _CREDITS_RE.match(b) or is_colophon(b))
    ]
    out = [b for b in out if not is_contents_paragraph(b)]
    for i, block in enumerate(out):
        if not _CONTENTS_RE.match(block):
            continue
        entries = out[i + 1 :]
        first = _heading_words(entries[0]) if entries else []
        for j, later in enumerate(entries[1:], start=i + 2):
            if first and _heading_words(later)[: len(first)] == first and len(later.split()) < 12:
                return out[:i] + out[j:]
        for j, later in enumerate(entries, start=i + 1):
            if len(later) > 200:
                return out[:i] + out[j:]
        return out[:i]
    return out


def is_contents_paragraph(block: str) -> bool:
    """A contents list printed as one paragraph: "CONTENTS CHAPTER I ... CHAPTER II ..."."""
    return (
        bool(re.match(r"^(?:TABLE OF )?CONTENTS\b", block, re.I))
        and len(re.findall(r"\b(?:CHAPTER|BOOK|PART|ACT)\s+[IVXLCDM0-9]+\b", block, re.I)) >= 2
    )


def is_heading(block: str) -> bool:
    """A chapter heading ("CHAPTER I. Loomings", "BOOK II"), or a short all-capitals title line."""
    words = block.split()
    if (
        _HEADING_START_RE.match(block)
        and len(words) <= 12
        and not re.search(r"[.!?]\W*\S+\s+\S+.*[.!?]", block)
    ):
        return True
    letters = [c for c in block if c.isalpha()]
    return len(words) <= 8 and bool(letters) and all(c.isupper() for c in letters)


def drop_illustration_lists(blocks: list[str]) -> list[str]:
    """Remove an ILLUSTRATIONS (or PLATES, MAPS ...) heading, in a block of its own or as the
    first line of its entries, and the entries that follow it."""
    out, skipping = [], False
    for block in blocks:
        if _ILLUSTRATIONS_RE.match(block.splitlines()[0]):
            skipping = True
            continue
        if skipping and (
            _PAGE_ENTRY_RE.search(block)
            or len(block.split()) <= 10
            and not block.rstrip().endswith(".")
        ):
            continue
        skipping = False
        out.append(block)
    return out


def _heading_words(block: str) -> list[str]:
    """The words of a block's first heading-like phrase ("CHAPTER I. The Start" -> [chapter, i])."""
    return re.sub(r"[^\w\s]", " ", block.split(".")[0]).lower().split()


def clean_block(block: str) -> str:
    block = _BRACKET_BLOCK_RE.sub(" ", block)
    block = _FOOTNOTE_MARK_RE.sub("", block)
    block = _ITALICS_RE.sub(r"\1", block)
    return " ".join(block.split())


def sentences(block: str) -> list[str]:
    """Split a paragraph after . ! ? followed by a capital, not after a known abbreviation."""
    guarded = block
    for i, abbrev in enumerate(_PROTECTED):
        guarded = guarded.replace(abbrev, abbrev[:-1] + f"\x00{i}\x00")
    parts = _SENTENCE_END_RE.split(guarded)
    out, current = [], ""
    for k, part in enumerate(parts):
        current += part
        if k % 2 == 1:
            out.append(current)
            current = ""
    if current.strip():
        out.append(current)
    restored = []
    for s in out:
        for i, abbrev in enumerate(_PROTECTED):
            s = s.replace(abbrev[:-1] + f"\x00{i}\x00", abbrev)
        if s.strip():
            restored.append(s.strip())
    return restored


def _split_long(sentence: str, max_words: int) -> list[str]:
    """Break a sentence longer than max_words at clause marks, then at word counts."""
    pieces, current = [], []
    for clause in _CLAUSE_RE.split(sentence):
        words = clause.split()
        if current and len(current) + len(words) > max_words:
            pieces.append(" ".join(current))
            current = []
        while len(words) > max_words:
            pieces.append(" ".join(words[:max_words]))
            words = words[max_words:]
        current += words
    if current:
        pieces.append(" ".join(current))
    return pieces


def pack(blocks: list[list[str]], min_words: int, max_words: int) -> list[str]:
    """Sentences grouped by paragraph -> pieces of min..max words (a piece never spans a
    paragraph unless it would be shorter than min_words)."""
    pieces: list[str] = []
    current: list[str] = []
    for block in blocks:
        for sentence in block:
            for part in _split_long(sentence, max_words):
                n = len(part.split())
                if current and sum(len(c.split()) for c in current) + n > max_words:
                    pieces.append(" ".join(current))
                    current = []
                current.append(part)
        if current and sum(len(c.split()) for c in current) >= min_words:
            pieces.append(" ".join(current))
            current = []
    if current:
        tail = " ".join(current)
        if (
            pieces
            and len(tail.split()) < min_words
            and len(pieces[-1].split()) + len(tail.split()) <= max_words
        ):
            pieces[-1] = f"{pieces[-1]} {tail}"
        else:
            pieces.append(tail)
    return pieces


def book_paragraphs(raw: bytes, *, where: str = "") -> list[list[str]]:
    """Book file bytes -> its prose paragraphs as lists of sentences, in reading order."""
    text = strip_boilerplate(decode_text(raw, where, reason="book:encoding"))
    text = _BRACKET_BLOCK_RE.sub(" ", text)  # tags may run across blank lines
    listed = drop_heading_lists(drop_illustration_lists(raw_paragraphs(text)))
    blocks = [clean_block(b) for b in drop_front_matter([" ".join(b.split()) for b in listed])]
    blocks = [b for b in blocks if b and not is_heading(b)]
    paragraphs = [sentences(b) for b in blocks if b]
    if not any(paragraphs):
        raise Reject("book:empty", "no text between the Project Gutenberg markers", where=where)
    return paragraphs


def book_pieces(
    raw: bytes, *, min_words: int = 8, max_words: int = 40, where: str = ""
) -> list[str]:
    """Book file bytes -> the pieces of text to speak, in reading order."""
    pieces = pack(book_paragraphs(raw, where=where), min_words, max_words)
    if not pieces:
        raise Reject("book:empty", "no text between the Project Gutenberg markers", where=where)
    return pieces
