"""Transcript normalization: what a recognizer's alphabet can hold, and clear rejects."""

import pytest

from speechmill.corpus.reject import Reject
from speechmill.corpus.schema import ALPHABET
from speechmill.corpus.text import normalize, roman_to_int


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Mr. Smith met Dr. Jones.", "mister smith met doctor jones"),
        ("St. Mary's Street, not Baker St. and", "saint mary's street not baker street and"),
        ("CHAPTER IV. The Long Night", "chapter four the long night"),
        ("Book XII", "book twelve"),
        ("The war ending in 1945 was long.", "the war ending in nineteen forty five was long"),
        ("PHP 8 and TOP 10 are not money.", "php eight and top ten are not money"),
        ("In 1847 there were 63 pupils.", "in eighteen forty seven there were sixty three pupils"),
        ("the 2nd and the 23rd lamp", "the second and the twenty third lamp"),
        (
            "It cost $1.50, then £3 and €2.05.",
            "it cost one dollar and fifty cents then three pounds and two euros and five cents",
        ),
        ("$3 million", "three million dollars"),
        ("at 7:30 p.m. or 10:00 or 9:05", "at seven thirty p m or ten o'clock or nine oh five"),
        ("It rose 25% and 2.5 per cent", "it rose twenty five percent and two point five percent"),
        ("1,000,000 people; pi is 3.14", "one million people pi is three point one four"),
        ("in the 1990s", "in the nineteen nineties"),
        ("\u201cDon\u2019t\u201d \u2014 she said\u2026 \u2018yes\u2019", "don't she said yes"),
        ("Caf\u00e9 na\u00efve \u00e6ther Stra\u00dfe", "cafe naive aether strasse"),
        ("rock-and-roll, (etc.) & co.", "rock and roll et cetera and co"),
        ("No. 5 e.g. this", "number five for example this"),
    ],
)
def test_normalize(raw, expected):
    text = normalize(raw)
    assert text == expected
    assert set(text) <= set(ALPHABET)


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440", "text:oov"),
        ("\u4e2d\u6587", "text:oov"),
        ("hello \u0661\u0662", "text:oov"),
        ("  ... --  ", "text:empty"),
        ("", "text:empty"),
        ("the \x1b[31mred\x1b[0m door", "text:control"),  # would be read "x thirty one m"
        ("nul \x00 byte", "text:control"),
        ("c1 \x9b control", "text:control"),
        ("<svg onload=alert(1)> hello", "text:markup"),  # would be "svg onload alert one"
        ("Tom &amp; Jerry", "text:markup"),  # would be "tom and amp jerry"
        ("caf&#233; open", "text:markup"),
    ],
)
def test_unusable_text_is_rejected_with_a_reason(raw, reason):
    with pytest.raises(Reject) as caught:
        normalize(raw, where="book.txt")
    assert caught.value.reason == reason and caught.value.where == "book.txt"
    assert all(ch.isprintable() for ch in caught.value.detail)  # escaped, never raw


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("tabs\tand\nnew lines", "tabs and new lines"),
        ("AT&T and R&D", "at and t and r and d"),
    ],
)
def test_text_that_only_looks_like_markup_is_read(raw, expected):
    assert normalize(raw) == expected


def test_roman_numerals():
    assert [roman_to_int(r) for r in ["I", "IV", "IX", "XIV", "XL", "MCMXCIX"]] == [
        1,
        4,
        9,
        14,
        40,
        1999,
    ]
    with pytest.raises(ValueError):
        roman_to_int("IIII")
