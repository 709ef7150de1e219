"""Arithmetic and plain numbers: equations, dimensions, fractions, ranges, ordinals, ellipses
between numbers, and the plain signed numbers the last rule reads."""

from __future__ import annotations

import re

from speechmill.corpus.reject import Reject
from speechmill.corpus.spoken.choices import pick
from speechmill.corpus.spoken.measures import PLURAL_NOUNS
from speechmill.corpus.spoken.numbers import (
    FRACTIONS,
    cardinal,
    cardinal_readings,
    ordinal,
    signed,
    without_and,
    words,
)


def read_fraction(m: re.Match) -> str:
    whole, a, b = m.group("whole"), int(m.group("a")), int(m.group("b"))
    if b == 0:
        raise Reject("text:ambiguous", f"fraction {m.group(0)!r} divides by zero")
    if b in FRACTIONS:
        name = FRACTIONS[b][0] if a == 1 else FRACTIONS[b][1]
    else:
        name = ordinal(b) + ("" if a == 1 else "s")
    count = "a" if a == 1 and whole else words(a)
    spoken = f"{count} {name}" if not (a == 1 and b == 2 and not whole) else "one half"
    if whole:
        spoken = f"{words(int(whole))} and {spoken}"
    elif a == 1 and b in FRACTIONS:  # "1/2": one half, or a half
        spoken = pick([spoken, f"a {name}"])
    return f" {spoken} "


def read_number_range(m: re.Match) -> str:
    a, b = cardinal(m.group("a")), cardinal(m.group("b"))
    return f" {pick([f'{a} to {b}', f'{a} {b}', f'{a} or {b}'])} "


def read_ordinal(m: re.Match) -> str:
    return f" {ordinal(int(m.group('n').replace(',', '')))} "


def read_signed_number(m: re.Match) -> str:
    """A number the rules before did not read; a bare 1100-2099 in running text is read as a
    year ("the 1994 season") unless a plural noun follows ("1500 trees"), the other reading
    offered too."""
    sign, number = m.group("sign"), m.group("num")
    if not sign and re.fullmatch(r"1[1-9][0-9]{2}|20[0-9]{2}", number):  # could be a year
        spoken = words(int(number), "year")
        as_year = [spoken, without_and(spoken)]
        count = cardinal_readings(number)
        if re.match(rf"\s+{PLURAL_NOUNS}", m.string[m.end() :]):
            return f" {pick(count + as_year)} "
        return f" {pick(as_year + count)} "
    return f" {signed(sign, number)} "


def read_ordinal_fraction(m: re.Match) -> str:
    """'1/4th' -> one fourth; '2/3rds' -> two thirds."""
    a, b = int(m.group("a")), int(m.group("b"))
    spoken = f"{words(a)} {ordinal(b)}{'' if a == 1 else 's'}"
    if b == 4:  # "1/4th": one fourth, or one quarter
        spoken = pick([spoken, f"{words(a)} {FRACTIONS[4][0 if a == 1 else 1]}"])
    return f" {spoken} "


OPERATORS = {
    "+": "plus",
    "-": "minus",
    "x": "times",
    "×": "times",
    "*": "times",
    "/": "over",
    "÷": "divided by",
    "=": "equals",
}


def read_equation(m: re.Match) -> str:
    """'2 + 2 = 4', '3 x 4 = 12', '8 / 2 = 4', 'x = 5': operators said, the numbers left for
    the rules after (a '-' here is minus, not a range)."""
    spoken = re.sub(
        r"\s*([-+x×*/÷=])\s*(?=[0-9A-Za-z])|\s*(=)\s*",
        lambda o: f" {OPERATORS[o.group(1) or o.group(2)]} ",
        m.group(0),
    )
    return f" {spoken.replace(' over ', ' divided by ')} "


def read_dimensions(m: re.Match) -> str:
    """'3 x 4 m', 'a 2x4 plank' -> three by four ..."""
    return f"{m.group('a')} by {m.group('b')}"


def read_ellipsis(m: re.Match) -> str:
    """'1...2...3' -> one two three: an ellipsis between numbers is a pause, not a decimal point."""
    return " , "
