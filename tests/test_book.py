"""Project Gutenberg layout: boilerplate, contents, notes and illustrations never get spoken."""
from corpus.inputs.book import book_pieces, sentences

BOOK = """\ufeffThe Project Gutenberg eBook of A Test\r
\r
Licence text that must not be spoken.\r
\r
*** START OF THE PROJECT GUTENBERG EBOOK A TEST ***\r
\r
CONTENTS\r
\r
 CHAPTER I. The First Part\r
 CHAPTER II. The Second Part\r
\r
\r
CHAPTER I. The First Part\r
\r
Mr. Brown opened the door. The room was dark and smelled of old paper and\r
candle wax, and nobody had been inside it for many years.\r
\r
[Illustration: A dark room with a single candle.]\r
\r
[Transcriber's Note: spelling has been kept as printed.]\r
\r
Transcriber's Notes: Obvious printing errors were silently corrected.\r
\r
CHAPTER II. The Second Part\r
\r
She laughed. "Is that all?" she asked, and she walked on along the _very_ long road.[1]\r
\r
*** END OF THE PROJECT GUTENBERG EBOOK A TEST ***\r
\r
Footer licence text that must not be spoken.\r
"""


def test_only_the_body_is_spoken():
    pieces = book_pieces(BOOK.encode("utf-8"), min_words=4, max_words=30)
    text = " ".join(pieces)
    for unwanted in ("Licence", "licence", "CONTENTS", "Illustration", "Transcriber", "START OF", "END OF", "[1]", "_"):
        assert unwanted not in text
    assert text.count("The First Part") == 1 and text.count("The Second Part") == 1
    assert text.startswith("CHAPTER I. The First Part Mr. Brown opened the door.")
    assert text.endswith("she walked on along the very long road.")
    assert all(len(p.split()) <= 30 for p in pieces)


def test_older_marker_and_cp1252_encoding():
    raw = ("*** START OF THIS PROJECT GUTENBERG EBOOK OLD ***\n\nA caf\u00e9 stood by the road "
           "and its owner served coffee to everyone who passed.\n\n"
           "*** END OF THIS PROJECT GUTENBERG EBOOK OLD ***\n").encode("cp1252")
    assert book_pieces(raw) == ["A caf\u00e9 stood by the road and its owner served coffee to everyone who passed."]


def test_sentences_do_not_split_after_abbreviations():
    assert sentences("Mr. Brown met Dr. Grey at St. Paul's. They talked. Then he left!") == [
        "Mr. Brown met Dr. Grey at St. Paul's.", "They talked.", "Then he left!"]


def test_long_sentences_are_cut_into_pieces():
    sentence = ", ".join(["the wind blew over the hills and the trees"] * 12) + "."
    pieces = book_pieces(f"{sentence}\n".encode(), min_words=5, max_words=25)
    assert len(pieces) > 3 and all(len(p.split()) <= 25 for p in pieces)
    assert " ".join(pieces).split() == sentence.split()
