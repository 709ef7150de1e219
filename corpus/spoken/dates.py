"""Dates and times: ISO and numeric dates (ambiguous day/month orders are rejected), month
names, clock times, am/pm hours, decades, years after a cue, year ranges."""

from __future__ import annotations

import re

from speechmill.corpus.reject import Reject
from speechmill.corpus.spoken.choices import pick
from speechmill.corpus.spoken.numbers import digits, ordinal, words, year

MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]


MONTH_ABBR = {m[:3]: m for m in MONTHS} | {"sept": "september"}


MONTH = (
    r"(?P<month>" + "|".join(sorted(set(MONTHS) | set(MONTH_ABBR), key=len, reverse=True)) + r")\.?"
)


YEAR_CUES = (
    r"(?:in|since|by|until|till|from|of|circa|c\.|year|during|before|after|around|early|late"
    r"|summer|winter|spring|autumn|fall)"
)


def read_iso_date(m: re.Match) -> str:
    y, mo, d = int(m.group("y")), int(m.group("m")), int(m.group("d"))
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        raise Reject("text:ambiguous", f"{m.group(0)!r} is not a date and not a plain number")
    return f" {MONTHS[mo - 1]} {ordinal(d)} {year(y)} "


def read_numeric_date(m: re.Match) -> str:
    a, b, y = int(m.group("a")), int(m.group("b")), m.group("y")
    if a > 12 and b <= 12:  # day first
        day, month = a, b
    elif b > 12 and a <= 12:  # month first
        day, month = b, a
    elif a == b and a <= 12:
        day, month = a, a
    else:
        raise Reject("text:ambiguous", f"date {m.group(0)!r}: day-month or month-day?")
    return f" {MONTHS[month - 1]} {ordinal(day)} {year(int(y)) if len(y) == 4 else digits(y)} "


def _verb_not_month(m: re.Match) -> bool:
    """ "aged 5-11 may enter": a lower-case "may" or "march" is the verb, not the month."""
    return m.group("month") in ("may", "march")


def read_month_day(m: re.Match) -> str:
    if _verb_not_month(m):
        return m.group(0)
    month = MONTH_ABBR.get(m.group("month").lower().rstrip("."), m.group("month").lower())
    spoken = f" {month} {ordinal(int(m.group('day')))}"
    if m.group("year"):
        spoken += " " + year(int(m.group("year")))
    return spoken + " "


def read_day_month(m: re.Match) -> str:
    if _verb_not_month(m):
        return m.group(0)
    month = MONTH_ABBR.get(m.group("month").lower().rstrip("."), m.group("month").lower())
    spoken = f" {m.group('the') or 'the '}{ordinal(int(m.group('day')))} of {month}"
    if m.group("year"):
        spoken += " " + year(int(m.group("year")))
    return spoken + " "


def read_clock(m: re.Match) -> str:
    hours, minutes, seconds = int(m.group("h")), int(m.group("mi")), m.group("s")
    half = (m.group("half") or "").lower().replace(".", "").replace(" ", "")
    if seconds is not None and not half:  # a duration: h:mm:ss
        parts = [
            f"{words(hours)} {'hour' if hours == 1 else 'hours'}" if hours else "",
            f"{words(minutes)} {'minute' if minutes == 1 else 'minutes'}" if minutes else "",
            f"{words(int(seconds))} {'second' if int(seconds) == 1 else 'seconds'}"
            if int(seconds)
            else "",
        ]
        parts = [p for p in parts if p]
        return (
            " "
            + (" and ".join(parts) if len(parts) < 3 else f"{parts[0]} {parts[1]} and {parts[2]}")
            + " "
        )
    if seconds is not None and int(seconds):
        raise Reject("text:ambiguous", f"time {m.group(0)!r} with seconds")
    if minutes == 0:
        spoken = words(hours) + ("" if half else " o'clock")
    elif minutes < 10:
        spoken = f"{words(hours)} oh {words(minutes)}"
    else:
        spoken = f"{words(hours)} {words(minutes)}"
    if not half and 1 <= hours <= 12:  # how a clock is also read out
        after = words(hours % 12 + 1)
        spoken = pick(
            [spoken]
            + {
                0: [words(hours)],
                15: [f"quarter past {words(hours)}"],
                30: [f"half past {words(hours)}"],
                45: [f"quarter to {after}"],
            }.get(minutes, [])
        )
    return f" {spoken} {' '.join(half)} "


def read_year_range(m: re.Match) -> str:
    return f" {year(int(m.group('a')))} to {year(int(m.group('b')))} "


def read_decade(m: re.Match) -> str:
    digits_, prefix = m.group("d"), m.group("prefix") or ""
    n = int(digits_)
    if len(digits_) == 4:
        spoken = year(n)
        spoken = spoken[:-1] + "ies" if spoken.endswith("y") else spoken + "s"
    else:
        spoken = {0: "hundreds", 10: "tens"}.get(n) or (words(n)[:-1] + "ies")
    return f" {prefix.lower().rstrip('-') + ' ' if prefix else ''}{spoken} "


def read_year(m: re.Match) -> str:
    return f" {m.group('cue')} {year(int(m.group('y')))} "


def read_hour(m: re.Match) -> str:
    """'9am', '5 p.m.' -> nine a m, five p m."""
    half = m.group("half").lower().replace(".", "").replace(" ", "")
    return f" {words(int(m.group('h')))} {' '.join(half)} "
