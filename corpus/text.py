"""Transcript normalization shared by every source.

``normalize(raw) -> text`` maps a transcript as found (cased, punctuated, with digits) onto
the corpus alphabet (lower-case a-z, apostrophe, space): roman numerals in headings and after
rulers' names read out, common abbreviations expanded, every written number form spoken as a
careful reader would (``corpus/spoken/``, one module per category: e-mail and web addresses, telephone numbers,
dates, times, money, measures, fractions, ranges, decades, ordinals, years, signed and decimal
numbers), unicode quotes and dashes folded, accents removed and other punctuation dropped.
Text in another script raises ``Reject("text:oov")``; a form that cannot be read without
guessing ``Reject("text:ambiguous")``; text that normalizes to nothing ``Reject("text:empty")``.
A control character (a terminal escape sequence, a NUL: never part of what someone said)
raises ``Reject("text:control")`` and a markup tag or character entity (``<svg onload=…>``,
``&amp;``) ``Reject("text:markup")``, before any of it could be read out as words; sources
whose format carries markup by construction (subtitle tags) strip it before this.

``readings(raw) -> (default, other readings ...)`` lists every reading people use of the
written forms that have several ("1994", "1/2", "St.", "2-3", "5:30", "120"), for sources
with a human speaker: ``make verify`` lets the audio choose among them.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

from speechmill.corpus.reject import Reject
from speechmill.corpus.schema import ALPHABET
from speechmill.corpus.spoken import choice_vectors, ordinal, pick, run_with, spell_out, words

MAX_CHOICE_POINTS = 4  # ambiguous forms of one transcript whose readings are listed
MAX_READINGS = 8
MAX_RUNS = 32

_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": " - ",
        "\u2013": " - ",
        "\u2014": " - ",
        "\u2015": " - ",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u00b2": "^2",
        "\u00b3": "^3",
        "\u00bd": " and a half",
        "\u00bc": " and a quarter",
    }
)
_LIGATURES = {
    "æ": "ae",
    "œ": "oe",
    "ß": "ss",
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "þ": "th",
    "ð": "d",
    "ı": "i",
}

# Abbreviations that end in a period: read out in full (case-sensitive, word-initial).
ABBREVIATIONS = {
    "Mr.": "mister",
    "Mrs.": "missus",
    "Ms.": "miss",
    "Dr.": "doctor",
    "Prof.": "professor",
    "Jr.": "junior",
    "Sr.": "senior",
    "Capt.": "captain",
    "Col.": "colonel",
    "Gen.": "general",
    "Lt.": "lieutenant",
    "Sgt.": "sergeant",
    "Rev.": "reverend",
    "Hon.": "honorable",
    "Gov.": "governor",
    "Mt.": "mount",
    "Ave.": "avenue",
    "Rd.": "road",
    "Co.": "company",
    "Bros.": "brothers",
    "vs.": "versus",
    "etc.": "et cetera",
    "e.g.": "for example",
    "i.e.": "that is",
    "approx.": "approximately",
    "Jan.": "january",
    "Feb.": "february",
    "Aug.": "august",
    "Sept.": "september",
    "Oct.": "october",
    "Nov.": "november",
    "Dec.": "december",
}
_ABBREV_RE = re.compile(
    r"(?<![\w.])("
    + "|".join(re.escape(a) for a in sorted(ABBREVIATIONS, key=len, reverse=True))
    + r")"
)
_SAINT_STREET_RE = re.compile(r"(?<![\w.])St\.(\s+|$)(?=([A-Z])?)")
_NUMBER_SIGN_RE = re.compile(r"(?<![\w.])No\.(?=\s*[0-9])")

# A capitalized word followed by a roman numeral: a ruler's number ("Louis XVI" -> the sixteenth);
# a lone "I" only before punctuation or the end (else it is the pronoun).
_REGNAL_RE = re.compile(
    r"\b(?P<name>[A-Z][a-z]+) (?P<numeral>[IVXL]{2,}|[VXL]\b|I(?=[.,;:!?)]|$))(?![\w'])"
)
PRONOUN_I_WORDS = {
    "and",
    "so",
    "but",
    "then",
    "yes",
    "no",
    "oh",
    "now",
    "here",
    "there",
    "as",
    "if",
    "when",
    "than",
    "or",
    "nor",
    "because",
    "where",
    "who",
    "what",
    "said",
    "me",
    "not",
    "even",
    "only",
    "was",
}
CARDINAL_NUMERAL_WORDS = {
    "war",
    "type",
    "class",
    "phase",
    "stage",
    "apollo",
    "super",
    "schedule",
    "appendix",
    "article",
    "title",
    "grade",
    "level",
    "vatican",
    "mark",
    "model",
    "series",
    "version",
}
_HEADING_RE = re.compile(
    r"\b(chapter|book|part|volume|act|scene|section|canto|letter|stave)\s+([IVXLCDM]+)\b(\.?)",
    re.IGNORECASE,
)
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_APOSTROPHE_RE = re.compile(r"(?<![a-z])'|'(?![a-z])")


def roman_to_int(numeral: str) -> int:
    """'XIV' -> 14. Raises ValueError for something that is not a well-formed numeral."""
    values = [_ROMAN[c] for c in numeral.upper()]
    total = sum(
        -v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values)
    )
    if total <= 0 or _int_to_roman(total) != numeral.upper():
        raise ValueError(f"not a roman numeral: {numeral!r}")
    return total


def _int_to_roman(n: int) -> str:
    out = []
    for value, letters in (
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ):
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)


def _heading(m: re.Match) -> str:
    try:
        return f"{m.group(1)} {words(roman_to_int(m.group(2)))} {m.group(3)}"
    except ValueError:
        return m.group(0)


def _regnal(m: re.Match) -> str:
    """'Henry III' -> 'Henry the third' (a ruler's or pope's number), 'World War II' -> 'World War two'."""
    name, numeral = m.group("name"), m.group("numeral")
    if (
        numeral == "I" and name.lower() in PRONOUN_I_WORDS
    ):  # "So I." is the pronoun, not "so the first"
        return m.group(0)
    try:
        n = roman_to_int(numeral)
    except ValueError:
        return m.group(0)
    if name.lower() in CARDINAL_NUMERAL_WORDS:
        return f"{name} {words(n)}"
    return f"{name} the {ordinal(n)}"


STREET_TYPES = {
    "St": "street",
    "Ct": "court",
    "Dr": "drive",
    "Blvd": "boulevard",
    "Ln": "lane",
    "Rd": "road",
    "Ave": "avenue",
    "Pl": "place",
    "Sq": "square",
    "Pkwy": "parkway",
    "Hwy": "highway",
}
# "12 Elm St.", "on Oak Ct.", "along Mulholland Dr.": a street type after a street's name, where a
# house number or a preposition comes before the name
_STREET_RE = re.compile(
    r"\b(?P<pre>[0-9]+[A-Za-z]?|on|at|in|off|down|along|to|from|near|onto|of|and|[Oo]n|[Aa]t)"
    r"(?P<name>(?: [A-Z][a-z]+){1,3}) (?P<abbr>" + "|".join(STREET_TYPES) + r")\.(?=\s|$|[,;])"
)


def _street(m: re.Match) -> str:
    abbr = m.group("abbr")
    other = {"St": "saint", "Dr": "doctor"}.get(abbr)
    word = pick([STREET_TYPES[abbr], other]) if other else STREET_TYPES[abbr]
    return f"{m.group('pre')}{m.group('name')} {word}"


def expand_abbreviations(text: str) -> str:
    """Mr. -> mister, Elm St. -> street, St. Mary -> saint, No. 5 -> number 5, ..."""
    text = _STREET_RE.sub(_street, text)
    text = _NUMBER_SIGN_RE.sub("number", text)
    text = _SAINT_STREET_RE.sub(
        lambda m: pick(["saint", "street"] if m.group(2) else ["street", "saint"]) + m.group(1),
        text,
    )
    return _ABBREV_RE.sub(lambda m: ABBREVIATIONS[m.group(1)], text)


_DIGIT_RE = re.compile("[0-9]")
# ASCII but the digits: a character of the alphabet stays, any other becomes a space
_ASCII_FOLD = str.maketrans(
    {chr(c): chr(c) if chr(c) in ALPHABET else " " for c in range(128) if not chr(c).isdigit()}
)


def fold_to_alphabet(text: str, *, where: str = "") -> str:
    """Lower-case, strip accents, drop punctuation; letters of another script -> Reject."""
    text = text.lower()
    if text.isascii() and not _DIGIT_RE.search(text):
        return text.translate(_ASCII_FOLD)  # what the loop below gives such text, 6x faster
    out = []
    for ch in text:
        if ch in ALPHABET:
            out.append(ch)
        elif ch in _LIGATURES:
            out.append(_LIGATURES[ch])
        elif unicodedata.category(ch).startswith("L"):
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if c in ALPHABET)
            if not base:
                raise Reject(
                    "text:oov",
                    f"character {ch!r} (U+{ord(ch):04X}, "
                    f"{unicodedata.name(ch, 'unnamed')}) is outside the alphabet",
                    where=where,
                )
            out.append(base)
        elif unicodedata.category(ch).startswith("N"):
            raise Reject("text:oov", f"unspoken number symbol {ch!r}", where=where)
        else:
            out.append(" ")
    return "".join(out)


_MARKUP_RE = re.compile(
    r"</?[A-Za-z][^<>]*>|&(?:[A-Za-z][A-Za-z0-9]{1,9}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});"
)
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # Unicode Cc but tab, LF, CR


def refuse_control_and_markup(raw: str, *, where: str = "") -> None:
    """Reject("text:control") for a control character, Reject("text:markup") for a tag or a
    character entity; the detail shows them escaped (never raw)."""
    control = _CONTROL_RE.search(raw)
    if control:
        raise Reject(
            "text:control",
            f"control character U+{ord(control.group(0)):04X} in transcript {raw[:60]!r}",
            where=where,
        )
    found = _MARKUP_RE.search(raw)
    if found:
        raise Reject(
            "text:markup", f"markup {found.group(0)[:40]!r} in transcript {raw[:60]!r}", where=where
        )


def normalize(raw: str, *, where: str = "") -> str:
    """A transcript as found -> the normalized transcript (see the module docstring)."""
    refuse_control_and_markup(raw, where=where)
    text = unicodedata.normalize("NFKC", raw.translate(_FOLD))
    text = _HEADING_RE.sub(_heading, text)
    text = _REGNAL_RE.sub(_regnal, text)
    text = expand_abbreviations(text)
    text = spell_out(text, where)
    text = text.replace("&", " and ").replace("@", " at ").replace("+", " plus ")
    text = fold_to_alphabet(text, where=where)
    text = _APOSTROPHE_RE.sub(" ", text)
    text = " ".join(text.split())
    if not text:
        raise Reject("text:empty", f"transcript {raw[:60]!r} has no speakable words", where=where)
    return text


def readings(raw: str, *, where: str = "") -> tuple[str, ...]:
    """Every reading of a transcript that people use, the default (``normalize(raw)``) first;
    one element when it has no written form with several readings. The first
    ``MAX_CHOICE_POINTS`` such forms are varied, fewest changes first, at most
    ``MAX_READINGS`` readings. Rejects as ``normalize`` does."""
    default, arities = run_with((), lambda: normalize(raw, where=where))
    found = [default]
    vectors = (v for v in choice_vectors(arities, MAX_CHOICE_POINTS) if any(v))
    for vector in itertools.islice(vectors, MAX_RUNS):
        if len(found) >= MAX_READINGS:
            break
        try:
            text, _ = run_with(vector, lambda v=vector: normalize(raw, where=where))
        except Reject:
            continue
        if text not in found:
            found.append(text)
    return tuple(found)
