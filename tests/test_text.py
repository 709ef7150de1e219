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


def _found(text: str) -> bool:
    """Whether spell_out's first look finds ``text`` in any case."""
    from speechmill.corpus.spoken import MAY_BE_WRITTEN

    return all(MAY_BE_WRITTEN.search(t) for t in (text, text.lower(), text.upper()))


def _chars(items) -> list[str] | None:
    """The characters a parsed class ``[...]`` matches, or None for a negated or category one."""
    from re import _constants as c

    chars: list[str] = []
    for op, av in items:
        if op is c.LITERAL:
            chars.append(chr(av))
        elif op is c.RANGE:
            chars += [chr(x) for x in range(av[0], av[1] + 1)]
        else:
            return None
    return chars


def _word(items) -> str | None:
    from re import _constants as c

    ops = list(items)
    return "".join(chr(av) for _, av in ops) if all(op is c.LITERAL for op, _ in ops) else None


def _every_match_is_found(items) -> bool:
    """Whether every match of a parsed sequence holds a character, or a ``.`` and one of the
    words of the alternation after it, that spell_out's first look finds."""
    from re import _constants as c

    items = list(items)
    for i, (op, av) in enumerate(items):
        if op is c.LITERAL and chr(av) == "." and i + 1 < len(items):
            after_op, after = items[i + 1]
            if after_op is c.BRANCH:
                words = [_word(alt) for alt in after[1]]
                if all(w is not None and _found("." + w) for w in words):
                    return True
        if op is c.LITERAL and _found(chr(av)):
            return True
        if op is c.IN:
            chars = _chars(av)
            if chars is not None and all(_found(ch) for ch in chars):
                return True
        if op is c.SUBPATTERN and _every_match_is_found(av[3]):
            return True
        if op is c.BRANCH and all(_every_match_is_found(alt) for alt in av[1]):
            return True
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            if av[0] >= 1 and _every_match_is_found(av[2]):
                return True
        if op is c.ASSERT and _every_match_is_found(av[1]):  # the text holds what it looks at
            return True
    return False


def test_text_that_no_rule_can_match_is_passed_over_and_the_proof_covers_every_rule():
    """spell_out skips the rules for text its first look finds nothing in (most transcripts).
    Proved here from each rule's parsed pattern: every match of every rule holds something
    that first look finds (a digit, an ``@``, a ``.com`` ...); a new rule that could match
    without one fails here by name."""
    from re import _parser

    from speechmill.corpus.spoken import RULES, spell_out

    unproved = [
        p.pattern for p, _ in RULES if not _every_match_is_found(_parser.parse(p.pattern, p.flags))
    ]
    assert not unproved
    plain = "HE SAID THAT THE MILL. WOULD STAND, AND SHE WENT TO THE CO-OP; DR WHO"
    assert not _found(plain) and spell_out(plain) == plain
    # and each kind of thing the first look finds is still read
    said = {
        "mail ann@example.org": "mail ann at example dot org",
        "see example.com now": "see example dot com now",
        "forty dollars/month": "forty dollars per month",
        "x = 3": "x equals three",
        "m^2 of it": "square meters of it",
        "at 5": "at five",
    }
    assert {written: " ".join(spell_out(written).split()) for written in said} == said
