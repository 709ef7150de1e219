"""The audiobook source: long recordings aligned to their book, labelled with the book's words
where the recording says them, and nothing else.

What each piece of a recording says is known from how it was made (the sentence given to the
TTS engine, the prompt the speaker read), never read back from the pipeline's output."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from support.jobs import IN_PROCESS, build, read_ledger, write_config
from support.prompts import every_nth, load16k, records

from speechmill.corpus.text import normalize

RATE = 16000
HEADER = (
    "The Project Gutenberg eBook of The Lamplighter\n\n"
    "*** START OF THE PROJECT GUTENBERG EBOOK THE LAMPLIGHTER ***\n\n"
)
FOOTER = "\n\n*** END OF THE PROJECT GUTENBERG EBOOK THE LAMPLIGHTER ***\n"
PARAGRAPHS = [
    [
        "The lamps were lit at six every evening.",
        "Martha carried the ladder from post to post.",
    ],
    [
        "Nobody in the village remembered a night when she had missed one of them.",
        "Even in the great storm the lamps had burned until morning.",
    ],
    [
        "Her brother mended the glass when the boys broke it with stones.",
        "He kept a box of small panes under the bench in his workshop.",
    ],
    [
        "In the spring the council bought a new kind of lamp from the city.",
        "It burned brighter and needed less oil than the old ones.",
    ],
    [
        "Martha did not trust the new lamps at first.",
        "By the end of the summer she would not have gone back to the old ones.",
    ],
]
PREAMBLE = "This is a recording made for this test. It is in the public domain."
ADDED = "I must say that I find this part rather charming."
SWAPPED = (2, 0)  # this sentence is read with two of its words swapped
SKIPPED = 1  # this paragraph is not read


def flite(text: str, out: Path) -> np.ndarray:
    """``text`` spoken by flite's slt voice at 16 kHz (Whisper tiny.en hears it at a CER of
    about 0.03; espeak-ng's voices at about 0.15, too far to label from)."""
    import soxr

    subprocess.run(["flite", "-voice", "slt", "-t", text, "-o", str(out)], check=True)
    audio, rate = sf.read(out, dtype="float32")
    return soxr.resample(audio, rate, RATE).astype(np.float32)


def swap_two_words(sentence: str) -> str:
    words = sentence.rstrip(".").split()
    words[3], words[4] = words[4], words[3]
    return " ".join(words) + "."


@pytest.fixture(scope="module")
def read_book(tmp_path_factory):
    """The book, and one recording of it: a preamble, paragraph 0, paragraph 2 with a sentence
    read with two words swapped, paragraph 3 with a sentence the reader added, paragraph 4;
    paragraph 1 skipped. Returns (folder, book, [(start, end, what was said, kind)])."""
    root = tmp_path_factory.mktemp("audiobook")
    book = root / "lamplighter.txt"
    book.write_text(HEADER + "\n\n".join(" ".join(p) for p in PARAGRAPHS) + FOOTER)
    said = [(PREAMBLE, "preamble")]
    for p, paragraph in enumerate(PARAGRAPHS):
        if p == SKIPPED:
            continue
        for s, sentence in enumerate(paragraph):
            swapped = (p, s) == SWAPPED
            said.append((swap_two_words(sentence), "swapped") if swapped else (sentence, "book"))
            if (p, s) == (3, 0):
                said.append((ADDED, "added"))
    gap = np.zeros(int(1.2 * RATE), np.float32)
    pieces, placed, t = [gap], [], len(gap) / RATE
    for text, kind in said:
        audio = flite(text, root / "piece.wav")
        loud = np.flatnonzero(np.abs(audio) > 0.01)
        placed.append((t + loud[0] / RATE, t + loud[-1] / RATE, text, kind))
        pieces += [audio, gap]
        t += len(audio) / RATE + len(gap) / RATE
    (root / "reader").mkdir()
    sf.write(root / "reader" / "chapter01.wav", np.concatenate(pieces), RATE)
    return root, book, placed


def config(tmp_path: Path, audio: Path, book: Path, extra: str = "") -> Path:
    return write_config(
        tmp_path / "book.toml",
        f'[[source]]\ntype = "audiobook"\naudio = "{audio}"\ntext = "{book}"\n'
        f'speaker = "tester"\n{extra}',
        corpus="max_reject_fraction = 0.9\nmin_seconds = 0.5",
    )


def placed_at(utt, placed) -> tuple:
    """What was said in the span a record was cut from (the one spoken thing it overlaps)."""
    a, b = utt.media_span
    hits = [p for p in placed if min(b, p[1]) - max(a, p[0]) > 0]
    assert len(hits) == 1, (utt.id, a, b, hits)
    return hits[0]


@pytest.mark.slow
def test_a_chapter_is_labelled_with_the_books_words_only_where_it_says_them(tmp_path, read_book):
    root, book, placed = read_book
    out = tmp_path / "corpus"
    info = build(config(tmp_path, root / "reader", book), out)
    kept = records(out)
    ledger = read_ledger(out)
    plain = [p for p in placed if p[3] == "book"]
    labelled = []
    for utt in kept.values():
        start, end, text, kind = placed_at(utt, placed)
        assert kind == "book", (utt.id, utt.text, text)  # never the book over other words
        assert utt.text == normalize(text), (utt.id, utt.text, text)  # exactly what was said
        assert utt.media_span[0] <= start + 0.05 and utt.media_span[1] >= end - 0.05
        assert utt.label_source == "book:teacher:whisper" and utt.speaker == "audiobook/tester"
        assert utt.group == "audiobook/lamplighter"
        labelled.append(text)
    assert len(labelled) >= 0.6 * len(plain), (labelled, [r["detail"] for r in ledger])
    skipped = {normalize(s) for s in PARAGRAPHS[SKIPPED]}
    assert not any(u.text in skipped for u in kept.values())

    def reason_at(kind: str) -> str:
        start, end, _, _ = next(p for p in placed if p[3] == kind)
        hits = [
            r
            for r in ledger
            if (t := r["where"].rsplit("#t=", 1)[-1].split(","))
            and min(end, float(t[1])) - max(start, float(t[0])) > 0
        ]
        assert len(hits) == 1, (kind, hits)
        return hits[0]["reason"]

    assert reason_at("preamble") == "align:not-in-text"
    assert reason_at("swapped") == "align:mismatch"
    assert reason_at("added") in ("align:not-in-text", "align:mismatch")
    assert info["labels"]["audiobook"]["recordings"] == 1


@pytest.mark.slow
def test_real_speech_read_from_a_text_with_lines_between_is_labelled_with_its_prompts(tmp_path):
    """Prompts read one after another in two recordings (two units of one book); the "book"
    holds the same prompts in the same order with other prompt lines between them, which the
    reader skipped. Every label is its prompt's text; no skipped line is a label; the same
    shards from two workers and from one."""
    chosen = [p for p in every_nth(7, min_words=4) if not any(c.isdigit() for c in p[2])][:20]
    read, between = chosen[0::2], chosen[1::2]
    lines = [t for pair in zip(read, between) for t in (pair[0][2], pair[1][2])]
    book = tmp_path / "prompts.txt"
    book.write_text(HEADER + "\n\n".join(lines) + FOOTER)
    gap = np.zeros(int(1.5 * RATE), np.float32)
    (tmp_path / "reader").mkdir()
    placed = []
    for chapter, part in (("01", read[:5]), ("02", read[5:])):
        pieces, t = [gap], len(gap) / RATE
        for _, wav, text in part:
            audio = load16k(wav)
            placed.append((chapter, t, t + len(audio) / RATE, text))
            pieces += [audio, gap]
            t += len(audio) / RATE + len(gap) / RATE
        sf.write(tmp_path / "reader" / f"chapter{chapter}.wav", np.concatenate(pieces), RATE)
    out = tmp_path / "corpus"
    build(config(tmp_path, tmp_path / "reader", book), out, "--direct_num_workers=2")
    kept = records(out)
    for utt in kept.values():
        chapter = utt.media.rsplit("chapter", 1)[1][:2]
        hits = [
            p
            for p in placed
            if p[0] == chapter and min(utt.media_span[1], p[2]) > max(utt.media_span[0], p[1])
        ]
        assert len(hits) == 1 and utt.text == normalize(hits[0][3]), (utt.id, utt.text, hits)
    assert len(kept) >= 0.8 * len(read), [r["detail"] for r in read_ledger(out)]
    assert not {u.text for u in kept.values()} & {normalize(t) for _, _, t in between}
    again = tmp_path / "again"
    build(config(tmp_path, tmp_path / "reader", book), again, *IN_PROCESS)
    shards = sorted(p.name for p in out.glob("*.tfrecord"))
    assert shards == sorted(p.name for p in again.glob("*.tfrecord"))
    for name in shards:
        assert (out / name).read_bytes() == (again / name).read_bytes(), name


def test_a_recording_of_another_book_is_in_no_part_of_it(tmp_path, read_book, caplog):
    """A wrong book: every piece align:not-in-text, and one line says the recording was not
    found in the text."""
    root, _, placed = read_book
    other = tmp_path / "other.txt"
    other.write_text(HEADER + "A wholly different story about ships and the sea." * 3 + FOOTER)
    out = tmp_path / "corpus"
    with pytest.raises(Exception, match="rejected"):
        build(config(tmp_path, root / "reader", other), out)
    reasons = {r["reason"] for r in read_ledger_staged(out)}
    assert reasons == {"align:not-in-text"}
    assert any("not found in" in m for m in caplog.messages)


def read_ledger_staged(out: Path) -> list[dict]:
    import json

    return [
        json.loads(line)
        for path in sorted((out / ".staging").glob("rejects-*.jsonl"))
        for line in path.read_text().splitlines()
    ]


def test_book_alignment_keeps_only_words_said_in_order():
    from speechmill.corpus.book_align import Words, align, judge_piece

    book = Words.of_sentences(
        ["It was late.", "The lamps were lit at six every evening, and the town slept."]
    )
    heard = "hello there the lamps were lit at six every evening and the town slept".split()
    found = align(heard, book.words)
    assert found.found
    # "hello there" is in no part of the book; the rest is, word for word
    assert judge_piece(found, 0, 1, heard, book, 0.25).reason == "align:not-in-text"
    ok = judge_piece(found, 2, len(heard) - 1, heard, book, 0.25)
    assert ok.label == "The lamps were lit at six every evening, and the town slept."
    one_wrong = "the lamp were lit at six every evening".split()
    v = judge_piece(align(one_wrong, book.words), 0, 7, one_wrong, book, 0.25)
    assert v.label == "The lamps were lit at six every evening,"  # the book's word stands
    other_word = "the lamps were lit at ten every evening".split()  # not a mishearing of six
    v = judge_piece(align(other_word, book.words), 0, 7, other_word, book, 0.25)
    assert v.reason == "align:mismatch" and "'ten' for 'six'" in v.detail
    spaced = "the lamps were lit at six every eve ning".split()
    v = judge_piece(align(spaced, book.words), 0, 8, spaced, book, 0.25)
    assert v.label == "The lamps were lit at six every evening,"
    for front in ("well then the", "it sleeves air"):  # said before the book's words there
        heard_more = f"late {front} lamps were lit at six every evening".split()
        found = align(heard_more, book.words)
        v = judge_piece(found, 1, len(heard_more) - 1, heard_more, book, 0.25)
        assert v.reason == "align:mismatch", (front, v)
    missed = "lamps were lit at six every evening".split()  # "The" said, not heard
    v = judge_piece(align(missed, book.words), 0, 6, missed, book, 0.25)
    assert v.reason == "align:mismatch" and "unheard book words before it" in v.detail
    swapped = "the lamps were lit six at every evening".split()
    v = judge_piece(align(swapped, book.words), 0, 7, swapped, book, 0.25)
    assert v.reason == "align:mismatch" and "the book says" in v.detail
    left_out = "the lamps were lit at every evening and".split()
    v = judge_piece(align(left_out, book.words), 0, 7, left_out, book, 0.25)
    assert v.reason == "align:mismatch"
    added = "the lamps were lit at six o'clock every evening".split()
    v = judge_piece(align(added, book.words), 0, 8, added, book, 0.25)
    assert v.reason == "align:mismatch"
    assert not align("ships sail on the grey sea".split(), book.words).found


def test_a_book_too_large_is_refused_unread_and_the_reader_comes_from_the_file(tmp_path):
    from speechmill.corpus.reject import Reject
    from speechmill.corpus.sources import SourceContext, make_source
    from speechmill.teachers.book import MAX_BOOK_BYTES, load_book

    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as f:  # one line, no paragraphs: never split, never indexed
        f.truncate(MAX_BOOK_BYTES + 1)
    with pytest.raises(Reject) as caught:
        load_book(str(huge))
    assert caught.value.reason == "book:too-large"

    folder = tmp_path / "mp3s"
    folder.mkdir()
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "1",
         "-metadata", "artist=Jane Q. Reader\x1b[31m", str(folder / "chapter01.mp3")],
        check=True,
    )  # fmt: skip
    book = tmp_path / "book.txt"
    book.write_text(HEADER + " ".join(PARAGRAPHS[0]) + FOOTER)
    context = SourceContext(base_dir=str(tmp_path))
    source = make_source({"type": "audiobook", "audio": str(folder), "text": str(book)}, context)
    (unit,) = source.units()
    (recording,) = source.read(unit)
    assert recording.speaker.startswith("audiobook/Jane_Q._Reader")  # the tag, as a name
    assert recording.speaker.isprintable() and "[" not in recording.speaker  # no control codes
    assert recording.group == "audiobook/book" and recording.text == str(book)
