"""Written forms -> how a careful reader says them: the rules ``corpus/text.py`` applies.

Each rule is a regular expression and a function from the match to spoken words (num2words
spells the numbers). They run in the order of ``RULES``: the most specific forms first
(e-mail addresses and URLs, telephone numbers, dates, times, money, measures, fractions,
ranges, decades) and plain cardinals last, so a digit is read once, in its widest context.
A quantity is never changed: signs, decimal parts, scale words and currencies are all read.
A form that a careful reader could not read without guessing (``01.10.2010``: January or
October?) raises ``Reject("text:ambiguous")``.

Some forms have several readings that people use ("1994": "one thousand nine hundred and
ninety four" or "nineteen ninety four"; "1/2": "one half" or "a half"; "2-3": "two to three",
"two three" or "two or three"; "5:30": "five thirty" or "half past five"; "120": with "and" or
without). A rule offers them through :func:`pick`, the first being the default (what
``normalize`` gives); ``corpus.text.readings`` runs the rules once per choice to list every
candidate reading, for ``make verify`` to let the audio choose.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from speechmill.corpus.reject import Reject
from speechmill.corpus.spoken.arith import (
    read_dimensions,
    read_ellipsis,
    read_equation,
    read_fraction,
    read_number_range,
    read_ordinal,
    read_ordinal_fraction,
    read_signed_number,
)
from speechmill.corpus.spoken.choices import choice_vectors, pick, run_with
from speechmill.corpus.spoken.contact import (
    DOT_TLD,
    read_address,
    read_digit_string,
    read_email,
    read_ip_address,
    read_phone,
    read_url,
)
from speechmill.corpus.spoken.dates import (
    MONTH,
    MONTH_ABBR,
    YEAR_CUES,
    read_clock,
    read_day_month,
    read_decade,
    read_hour,
    read_iso_date,
    read_month_day,
    read_numeric_date,
    read_year,
    read_year_range,
)
from speechmill.corpus.spoken.measures import (
    PER_LEFT,
    UNIT,
    UNITS,
    read_bare_power_unit,
    read_measure,
    read_per,
    read_percent,
    read_unit_range,
)
from speechmill.corpus.spoken.money import CUR, read_iso_money, read_money, read_money_range
from speechmill.corpus.spoken.numbers import NUM, SCALES, SIGNED, ordinal, words, year

Rule = tuple[re.Pattern, Callable[[re.Match], str]]


_OPERAND = r"(?:[0-9]+(?:\.[0-9]+)?|[A-Za-z])"


RULES: list[Rule] = [
    (re.compile(r"(?<=[0-9])\s*\.{2,}\s*(?=[0-9])"), read_ellipsis),
    (
        re.compile(
            rf"(?<![\w.]){_OPERAND}(?:\s*[-+x×*/÷]\s*{_OPERAND})*\s*=\s*-?{_OPERAND}(?![\w]|\.[0-9])"
        ),
        read_equation,
    ),
    (
        re.compile(
            r"(?<![\w.])(?P<a>[0-9]+(?:\.[0-9]+)?)\s*[x×]\s*(?P<b>[0-9]+(?:\.[0-9]+)?)(?![\w.])"
        ),
        read_dimensions,
    ),
    (
        re.compile(
            r"(?i)\b(?P<cue>(?:card|account|number|phone) ending(?: in| with)?|"
            r"serial(?: number| no\.?)?|pin|code|zip(?: code)?|"
            r"order(?: number| no\.?)|account(?: number)?|tracking(?: number)?|extension|ext\.)"
            r"(?P<verb>\s+(?:is|was)|:)?\s+(?P<d>[0-9](?:[0-9 -]*[0-9])?)(?![\w.,]?[0-9])"
        ),
        read_digit_string,
    ),
    (
        re.compile(r"(?<![\w.])[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?![\w]|\.[0-9])"),
        read_ip_address,
    ),
    (
        re.compile(r"(?<![\w.])[0-9]{2,4}\.[0-9]{3,4}\.[0-9]{4}(?![\w]|\.[0-9])"),
        lambda m: read_phone(m),
    ),
    (
        re.compile(r"(?P<user>[A-Za-z0-9._+-]+)@(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"),
        read_email,
    ),
    (
        re.compile(
            rf"(?P<scheme>https?://)?(?P<host>(?:www\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*{DOT_TLD})"
            rf"(?P<path>(?:/[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)*/?)(?![A-Za-z0-9])"
        ),
        read_url,
    ),
    (
        re.compile(
            r"(?<![\w.])(?:\+[0-9]{1,3}[ -])?(?:\([0-9]{3}\) ?|[0-9]{3}-)[0-9]{3}-[0-9]{4}(?![\w])"
        ),
        read_phone,
    ),
    (re.compile(r"(?<![\w.])\+[0-9]{1,3}(?: [0-9]{2,4}){2,4}(?![\w])"), read_phone),
    (re.compile(r"(?<![\w.-])[0-9]{3}-[0-9]{4}(?![\w-])"), read_phone),
    (
        re.compile(
            r"(?<![\w.-])(?P<y>1[0-9]{3}|20[0-9]{2})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})(?![\w-])"
        ),
        read_iso_date,
    ),
    (
        re.compile(
            r"(?<![\w.])(?P<a>[0-9]{1,2})[./](?P<b>[0-9]{1,2})[./](?P<y>[0-9]{4}|[0-9]{2})(?![\w]|\.[0-9])"
        ),
        read_numeric_date,
    ),
    (
        re.compile(
            rf"(?i)(?<![\w])(?P<the>the\s+)?(?P<day>[0-9]{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH}(?:,?\s+(?P<year>[0-9]{{4}}))?(?![\w])"
        ),
        read_day_month,
    ),
    (
        re.compile(
            rf"(?i)(?<![\w]){MONTH}\s+(?P<day>[0-9]{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<year>[0-9]{{4}}))?(?![\w])"
        ),
        read_month_day,
    ),
    (
        re.compile(rf"(?i)(?<![\w]){MONTH}\s+(?P<y>1[0-9]{{3}}|20[0-9]{{2}})(?![\w])"),
        lambda m: (
            f" {MONTH_ABBR.get(m.group('month').lower().rstrip('.'), m.group('month').lower())}"
            f" {year(int(m.group('y')))} "
        ),
    ),
    (  # "9am-5pm", "10:30 a.m. - 2 p.m.": a range of times
        re.compile(r"(?i)(?:(?<=[ap]m)|(?<=\.m\.))\s*(?:-|–)\s*(?=[0-9])"),
        lambda m: " to ",
    ),
    (
        re.compile(
            r"(?i)(?<![\w.])(?P<h>[0-9]{1,2})[:.](?P<mi>[0-5][0-9])(?::(?P<s>[0-5][0-9]))?"
            r"(?:\s*(?P<half>[ap]\.\s?m\.|[ap]m\b))"
        ),
        read_clock,
    ),
    (
        re.compile(r"(?i)(?<![\w.:])(?P<h>1[0-2]|0?[1-9])\s*(?P<half>[ap]\.\s?m\.|[ap]m\b)"),
        read_hour,
    ),
    (
        re.compile(
            r"(?<![\w.:])(?P<h>[0-9]{1,2}):(?P<mi>[0-5][0-9])(?::(?P<s>[0-5][0-9]))?(?P<half>)(?![\w:])"
        ),
        read_clock,
    ),
    (
        re.compile(
            r"(?i)(?<![\w])(?P<prefix>mid-|early |late )?'?(?P<d>[0-9]{2}|1[0-9]{3}|20[0-9]{2})"
            r"(?:'?s|(?<=[0-9]{4}) '?s)(?![\w])"
        ),
        read_decade,
    ),
    (
        re.compile(
            rf"(?<![\w.-])(?P<a>{NUM})\s?(?:-|–)\s?(?P<b>{NUM})\s?"
            rf"(?P<unit>%|percent\b|{UNIT})(?P<power>\^[23])?(?![\w])"
        ),
        read_unit_range,
    ),
    (
        re.compile(
            rf"(?:(?<=\s)|^)(?P<code>[A-Z]{{3}})\s?(?P<num>{NUM})(?:\s*(?P<scale>{'|'.join(SCALES)})\b)?"
            rf"(?P<code2>)(?![\w])"
        ),
        read_iso_money,
    ),
    (
        re.compile(
            rf"(?<![\w.])(?P<num>{NUM})(?:\s*(?P<scale>{'|'.join(SCALES)}))?\s?(?P<code2>[A-Z]{{3}})"
            rf"(?P<code>)(?![\w])"
        ),
        read_iso_money,
    ),
    (
        re.compile(
            rf"(?P<cur>{CUR})(?P<a>{NUM})\s?(?:-|–|to)\s?(?:{CUR})?(?P<b>{NUM})"
            rf"(?:\s+(?P<scale>{'|'.join(SCALES)})\b)?"
        ),
        read_money_range,
    ),
    (
        re.compile(
            rf"(?P<article>\b[Aa]n? )?(?P<sign>(?<![\w.])-)?(?P<cur>{CUR})\s?(?P<num>{NUM})"
            rf"(?:\s*(?P<scale>{'|'.join(SCALES)})\b)?",
            re.IGNORECASE,
        ),
        read_money,
    ),
    (re.compile(rf"{SIGNED}\s?(?:%|per\s?cent\b)"), read_percent),
    (  # "80p": pence
        re.compile(r"(?<![\w.])(?P<n>[0-9]{1,2})p\b"),
        lambda m: f" {words(int(m.group('n')))} {'penny' if m.group('n') == '1' else 'pence'} ",
    ),
    (
        re.compile(
            rf"(?P<article>\b[Aa]n? )?{SIGNED}\s?"
            rf"(?P<unit>{'|'.join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))})"
            rf"(?P<power>\^[23])?(?![\w])"
        ),
        read_measure,
    ),
    (
        re.compile(
            rf"(?<![\w])(?P<unit>{'|'.join(re.escape(u) for u in UNITS)})(?P<power>\^[23])(?![\w])"
        ),
        read_bare_power_unit,
    ),
    (  # "forty dollars/month", "five milligrams/kg": per unit
        re.compile(rf"(?P<left>\b(?:{PER_LEFT}))\s*/\s*(?P<unit>{UNIT}|[A-Za-z]+)(?![\w/])"),
        read_per,
    ),
    (
        re.compile(r"(?<![\w/])(?P<a>[0-9]+)/(?P<b>[0-9]+)(?:st|nd|rd|th)s?\b"),
        read_ordinal_fraction,
    ),
    (
        re.compile(r"(?<![\w./])(?:(?P<whole>[0-9]+)\s+)?(?P<a>[0-9]+)/(?P<b>[0-9]+)(?![\w/])"),
        read_fraction,
    ),
    (
        re.compile(
            r"(?<![\w.-])(?P<a>1[0-9]{3}|20[0-9]{2})\s?(?:-|–|to)\s?(?P<b>1[0-9]{3}|20[0-9]{2})(?![\w-])"
        ),
        read_year_range,
    ),
    (re.compile(rf"(?<![\w.-])(?P<a>{NUM})\s?(?:-|–)\s?(?P<b>{NUM})(?![\w-])"), read_number_range),
    (
        re.compile(r"(?i)(?<![\w.])_?(?P<n>[0-9]+(?:,[0-9]{3})*)_?(?:st|nd|rd|th)_?(?![\w])"),
        read_ordinal,
    ),
    (
        re.compile(
            rf"(?i)(?<![\w])(?P<cue>{YEAR_CUES})\s+(?P<y>1[0-9]{{3}}|20[0-9]{{2}})(?![\w.,]?[0-9])"
        ),
        read_year,
    ),
    (
        re.compile(
            r"(?<![\w.,])(?P<n>[0-9]{1,5})(?P<letter>[A-Za-z])?\s+(?P<rest>(?:[A-Z][a-z]+\s+)+(?i:Street|St\.?|Avenue|"
            r"Ave\.?|Road|Rd\.?|Boulevard|Blvd\.?|Lane|Ln\.?|Drive|Dr\.?|Place|Way|Court|Square)(?![\w]))"
        ),
        read_address,
    ),
    (re.compile(SIGNED), read_signed_number),
]


# Every rule's match holds one of these: a digit, the ``@`` of an address, the ``/`` of "per",
# the ``^`` of a power, the ``=`` of an equation or the ``.com`` ending a host (the tests prove
# it of each rule's parsed pattern). Text with none is left as it is, unread by the rules: most
# transcripts (LibriSpeech's, a book's sentences without numbers), 0.2 ms each.
MAY_BE_WRITTEN = re.compile(rf"[0-9@/^=]|(?i:{DOT_TLD})")


def spell_out(text: str, where: str = "") -> str:
    """Apply every rule in order; a Reject names ``where``."""
    if not MAY_BE_WRITTEN.search(text):
        return text  # no rule can match: each needs one of its characters
    try:
        for pattern, spoken in RULES:
            text = pattern.sub(spoken, text)
    except Reject as reject:
        reject.where = reject.where or where
        raise
    return text


__all__ = [
    "MAY_BE_WRITTEN",
    "RULES",
    "choice_vectors",
    "ordinal",
    "pick",
    "run_with",
    "spell_out",
    "words",
]
