"""Project Gutenberg layout: boilerplate, contents, notes and illustrations never get spoken."""

from speechmill.corpus.inputs.book import book_pieces, sentences

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
    for unwanted in (
        "Licence",
        "licence",
        "CONTENTS",
        "Illustration",
        "Transcriber",
        "START OF",
        "END OF",
        "[1]",
        "_",
    ):
        assert unwanted not in text
    assert (
        "The First Part" not in text and "CHAPTER" not in text
    )  # headings are not glued to sentences
    assert text.startswith("Mr. Brown opened the door.")
    assert text.endswith("she walked on along the very long road.")
    assert all(len(p.split()) <= 30 for p in pieces)


def test_older_marker_and_cp1252_encoding():
    raw = (
        "*** START OF THIS PROJECT GUTENBERG EBOOK OLD ***\n\nA caf\u00e9 stood by the road "
        "and its owner served coffee to everyone who passed.\n\n"
        "*** END OF THIS PROJECT GUTENBERG EBOOK OLD ***\n"
    ).encode("cp1252")
    assert book_pieces(raw) == [
        "A caf\u00e9 stood by the road and its owner served coffee to everyone who passed."
    ]


def test_sentences_do_not_split_after_abbreviations():
    assert sentences("Mr. Brown met Dr. Grey at St. Paul's. They talked. Then he left!") == [
        "Mr. Brown met Dr. Grey at St. Paul's.",
        "They talked.",
        "Then he left!",
    ]


def test_long_sentences_are_cut_into_pieces():
    sentence = ", ".join(["the wind blew over the hills and the trees"] * 12) + "."
    pieces = book_pieces(f"{sentence}\n".encode(), min_words=5, max_words=25)
    assert len(pieces) > 3 and all(len(p.split()) <= 25 for p in pieces)
    assert " ".join(pieces).split() == sentence.split()


OLD_LAYOUT = """The Project Gutenberg EBook of Harbour Lights, by A. Writer

This eBook is for the use of anyone anywhere at no cost.

*** START OF THIS PROJECT GUTENBERG EBOOK HARBOUR LIGHTS ***




Produced by Jane Doe and the Online Distributed Proofreading Team.




[Copyright 1894 by the Harbour Press]

CONTENTS CHAPTER I The Lamp CHAPTER II The Storm CHAPTER III The Morning

LIST OF ILLUSTRATIONS

    The keeper at his lamp . . . . . . 12
    The storm breaks . . . . . . 40

Frontispiece

CHAPTER I

THE LAMP

The keeper climbed the stairs at dusk and trimmed the wick before the light was lit.

[Illustration: The keeper at his lamp.

Drawn by the author.]

He watched the sea until the morning came, and then he slept until noon.

CHAPTER II. The Storm

The storm came from the north and the ships stayed in the harbour all week.

THE END

Printed by the Harbour Press, Falmouth.

End of the Project Gutenberg EBook of Harbour Lights, by A. Writer

*** END OF THIS PROJECT GUTENBERG EBOOK HARBOUR LIGHTS ***
"""


def test_old_layout_credits_contents_illustrations_headings_and_colophon_are_not_spoken():
    for end_line in (
        "End of the Project Gutenberg EBook of Harbour Lights",
        "End of Project Gutenberg\u2019s Harbour Lights, by A. Writer",
    ):
        book = OLD_LAYOUT.replace("End of the Project Gutenberg EBook of Harbour Lights", end_line)
        pieces = book_pieces(book.encode("utf-8"), min_words=4, max_words=40)
        assert pieces == [
            "The keeper climbed the stairs at dusk and trimmed the wick before the light was lit.",
            "He watched the sea until the morning came, and then he slept until noon.",
            "The storm came from the north and the ships stayed in the harbour all week.",
        ]


HELD_OUT_KINDS = """*** START OF THE PROJECT GUTENBERG EBOOK THE MILL ***

I. THE MILL
II. THE FLOOD
III. THE MORNING AFTER

CHAPTER I
CHAPTER II

The author thanks the miller of Hollow End for his patience with a stranger's questions.

List of Illustrations
The miller at the gate
The spring flood
A map of the valley

I. THE MILL

The miller opened the gate before dawn and the carts came slowly down the lane.

The printers of the town went on strike, and the newspaper did not appear for a week.

II. THE FLOOD

The river rose in the night and by morning the lower field was under water.

PRINTED BY WILLIAM CLOWES AND SONS, LIMITED, LONDON AND BECCLES.

Richard Clay & Sons, Limited, London and Bungay.

THE RIVERSIDE PRESS, CAMBRIDGE, MASSACHUSETTS, U.S.A.

*** END OF THE PROJECT GUTENBERG EBOOK THE MILL ***
"""


def test_colophons_illustration_headings_and_heading_only_contents_are_not_spoken():
    """The kinds still spoken in held-out books: a printer's imprint in capitals or as a firm's
    name, a "List of Illustrations" line above its entries, a contents list of bare chapter
    headings or numbered titles without a CONTENTS heading; a sentence about printers stays."""
    pieces = book_pieces(HELD_OUT_KINDS.encode("utf-8"), min_words=4, max_words=40)
    assert pieces == [
        "The author thanks the miller of Hollow End for his patience with a stranger's questions.",
        "The miller opened the gate before dawn and the carts came slowly down the lane.",
        "The printers of the town went on strike, and the newspaper did not appear for a week.",
        "The river rose in the night and by morning the lower field was under water.",
    ]
