"""Transcript normalization shared by every source.

``normalize(raw) -> text`` maps a transcript as found (cased, punctuated, with digits) onto
the corpus alphabet (lower-case a-z, apostrophe, space): numbers, ordinals, years, money,
times and percentages spelled out with num2words, common abbreviations expanded, roman
numerals in headings read out, unicode quotes and dashes folded, accents removed and other
punctuation dropped. Text in another script raises ``Reject("text:oov")``; text that
normalizes to nothing raises ``Reject("text:empty")``.
"""
from __future__ import annotations

import re
import unicodedata

from num2words import num2words

from corpus.reject import Reject
from corpus.schema import ALPHABET

_FOLD = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": " - ", "\u2013": " - ", "\u2014": " - ", "\u2015": " - ",
    "\u2212": "-", "\u2026": "...", "\u00a0": " ", "\u00bd": " and a half", "\u00bc": " and a quarter",
})
_LIGATURES = {"æ": "ae", "œ": "oe", "ß": "ss", "ø": "o", "ł": "l", "đ": "d", "þ": "th", "ð": "d", "ı": "i"}

# Abbreviations that end in a period: read out in full (case-sensitive, word-initial).
ABBREVIATIONS = {
    "Mr.": "mister", "Mrs.": "missus", "Ms.": "miss", "Dr.": "doctor", "Prof.": "professor",
    "Jr.": "junior", "Sr.": "senior", "Capt.": "captain", "Col.": "colonel", "Gen.": "general",
    "Lt.": "lieutenant", "Sgt.": "sergeant", "Rev.": "reverend", "Hon.": "honorable",
    "Gov.": "governor", "Mt.": "mount", "Ave.": "avenue", "Rd.": "road", "Co.": "company",
    "Bros.": "brothers", "vs.": "versus", "etc.": "et cetera", "e.g.": "for example",
    "i.e.": "that is", "approx.": "approximately", "Jan.": "january", "Feb.": "february",
    "Aug.": "august", "Sept.": "september", "Oct.": "october", "Nov.": "november", "Dec.": "december",
}
_ABBREV_RE = re.compile(r"(?<![\w.])(" + "|".join(re.escape(a) for a in sorted(ABBREVIATIONS, key=len, reverse=True)) + r")")
_SAINT_STREET_RE = re.compile(r"(?<![\w.])St\.(\s+)(?=([A-Z])?)")
_NUMBER_SIGN_RE = re.compile(r"(?<![\w.])No\.(?=\s*[0-9])")

_HEADING_RE = re.compile(r"\b(chapter|book|part|volume|act|scene|section|canto|letter|stave)\s+([IVXLCDM]+)\b(\.?)",
                         re.IGNORECASE)
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_MONEY_RE = re.compile(r"([$£€])\s?([0-9][0-9,]*)(?:\.([0-9]{1,2}))?(?:\s+(thousand|million|billion|trillion)\b)?")
_CURRENCY = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
             "€": ("euro", "euros", "cent", "cents")}
_TIME_RE = re.compile(r"\b([0-9]{1,2}):([0-5][0-9])(?:\s*([ap])\.?\s?m\b\.?)?", re.IGNORECASE)
_PERCENT_RE = re.compile(r"([0-9][0-9,]*(?:\.[0-9]+)?)\s?(%|per\s?cent\b)")
_ORDINAL_RE = re.compile(r"\b([0-9][0-9,]*)(st|nd|rd|th)\b", re.IGNORECASE)
_YEAR_RE = re.compile(r"(?<![0-9.,])(1[1-9][0-9]{2}|20[0-9]{2})(s?)(?![0-9]|[.,][0-9])")
_DECIMAL_RE = re.compile(r"(?<![0-9])([0-9]+)\.([0-9]+)(?![0-9])")
_NUMBER_RE = re.compile(r"(?<![0-9])[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+")
_APOSTROPHE_RE = re.compile(r"(?<![a-z])'|'(?![a-z])")


def roman_to_int(numeral: str) -> int:
    """'XIV' -> 14. Raises ValueError for something that is not a well-formed numeral."""
    values = [_ROMAN[c] for c in numeral.upper()]
    total = sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))
    if total <= 0 or _int_to_roman(total) != numeral.upper():
        raise ValueError(f"not a roman numeral: {numeral!r}")
    return total


def _int_to_roman(n: int) -> str:
    out = []
    for value, letters in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                           (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)


def _words(n: int | float | str, to: str = "cardinal") -> str:
    return f" {num2words(n, lang='en', to=to)} "


def _heading(m: re.Match) -> str:
    try:
        return f"{m.group(1)}{_words(roman_to_int(m.group(2)))}{m.group(3)}"
    except ValueError:
        return m.group(0)


def _money(m: re.Match) -> str:
    one, many, sub_one, sub_many = _CURRENCY[m.group(1)]
    whole = int(m.group(2).replace(",", ""))
    if m.group(4):  # "$3 million" -> "three million dollars"
        return f"{_words(whole)}{m.group(4)} {many} "
    text = _words(whole) + (one if whole == 1 else many)
    if m.group(3):
        cents = int(m.group(3).ljust(2, "0"))
        if cents:
            text += " and" + _words(cents) + (sub_one if cents == 1 else sub_many)
    return f" {text} "


def _time(m: re.Match) -> str:
    hours, minutes, half = int(m.group(1)), int(m.group(2)), m.group(3)
    if minutes == 0:
        text = _words(hours) + ("" if half else "o'clock")
    elif minutes < 10:
        text = _words(hours) + "oh" + _words(minutes)
    else:
        text = _words(hours) + _words(minutes)
    return f" {text} {half.lower() + ' m' if half else ''} "


def _year(m: re.Match) -> str:
    spoken = num2words(int(m.group(1)), lang="en", to="year")
    if m.group(2):  # 1990s -> nineteen nineties
        spoken = spoken[:-1] + "ies" if spoken.endswith("y") else spoken + "s"
    return f" {spoken} "


def spell_numbers(text: str) -> str:
    """Replace money, times, percentages, ordinals, years, decimals and numbers with words."""
    text = _MONEY_RE.sub(_money, text)
    text = _TIME_RE.sub(_time, text)
    text = _PERCENT_RE.sub(lambda m: _words(_number(m.group(1))) + "percent ", text)
    text = _ORDINAL_RE.sub(lambda m: _words(int(m.group(1).replace(",", "")), "ordinal"), text)
    text = _YEAR_RE.sub(_year, text)
    text = _DECIMAL_RE.sub(lambda m: _words(int(m.group(1))) + "point " +
                           " ".join(num2words(int(d), lang="en") for d in m.group(2)) + " ", text)
    return _NUMBER_RE.sub(lambda m: _words(int(m.group(0).replace(",", ""))), text)


def _number(s: str) -> int | float:
    s = s.replace(",", "")
    return float(s) if "." in s else int(s)


def expand_abbreviations(text: str) -> str:
    """Mr. -> mister, St. -> saint (before a name) or street, No. 5 -> number 5, ..."""
    text = _NUMBER_SIGN_RE.sub("number", text)
    text = _SAINT_STREET_RE.sub(lambda m: ("saint" if m.group(2) else "street") + m.group(1), text)
    return _ABBREV_RE.sub(lambda m: ABBREVIATIONS[m.group(1)], text)


def fold_to_alphabet(text: str, *, where: str = "") -> str:
    """Lower-case, strip accents, drop punctuation; letters of another script -> Reject."""
    out = []
    for ch in text.lower():
        if ch in ALPHABET:
            out.append(ch)
        elif ch in _LIGATURES:
            out.append(_LIGATURES[ch])
        elif unicodedata.category(ch).startswith("L"):
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if c in ALPHABET)
            if not base:
                raise Reject("text:oov", f"character {ch!r} (U+{ord(ch):04X}, "
                             f"{unicodedata.name(ch, 'unnamed')}) is outside the alphabet", where=where)
            out.append(base)
        elif unicodedata.category(ch).startswith("N"):
            raise Reject("text:oov", f"unspoken number symbol {ch!r}", where=where)
        else:
            out.append(" ")
    return "".join(out)


def normalize(raw: str, *, where: str = "") -> str:
    """A transcript as found -> the normalized transcript (see the module docstring)."""
    text = unicodedata.normalize("NFKC", raw.translate(_FOLD))
    text = _HEADING_RE.sub(_heading, text)
    text = expand_abbreviations(text)
    text = text.replace("&", " and ").replace("@", " at ").replace("+", " plus ")
    text = spell_numbers(text)
    text = fold_to_alphabet(text, where=where)
    text = _APOSTROPHE_RE.sub(" ", text)
    text = " ".join(text.split())
    if not text:
        raise Reject("text:empty", f"transcript {raw[:60]!r} has no speakable words", where=where)
    return text
