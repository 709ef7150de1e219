"""Numbers as words (num2words): cardinals with and without "and", years, ordinals, digits,
signs, house numbers, and the number patterns the other rules share."""

from __future__ import annotations

import re

from num2words import num2words

from speechmill.corpus.spoken.choices import pick

SCALES = ("thousand", "million", "billion", "trillion")


FRACTIONS = {2: ("half", "halves"), 4: ("quarter", "quarters")}


NUM = r"[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?|\.[0-9]+"


SIGNED = rf"(?P<sign>(?<![\w.])[-+])?(?P<num>{NUM})"


def without_and(spoken: str) -> str:
    """'one hundred and twenty' -> 'one hundred twenty' (the American reading)."""
    return re.sub(r"\b(hundred|thousand|million|billion) and\b", r"\1", spoken)


def words(n: int | float | str, to: str = "cardinal") -> str:
    """num2words in English, without hyphens or commas."""
    return num2words(n, lang="en", to=to).replace("-", " ").replace(",", "")


def cardinal(text: str) -> str:
    """'1,234.5' -> 'one thousand two hundred and thirty four point five'; '.25' -> 'point two five'.
    Other readings people use are offered through :func:`pick`."""
    return pick(cardinal_readings(text))


def cardinal_readings(text: str) -> list[str]:
    """A number's readings, the default first: without "and" ("one hundred twenty"), with "a"
    ("a hundred"), in hundreds ("fifteen hundred" for 1,500)."""
    text = text.replace(",", "")
    whole, _, part = text.partition(".")
    spoken = words(int(whole)) if whole else ""
    fraction = " point " + " ".join(words(int(d)) for d in part) if part else ""
    options = [spoken]
    if whole and 1100 <= int(whole) <= 9999 and int(whole) % 100 == 0 and int(whole) % 1000:
        options.append(f"{words(int(whole) // 100)} hundred")
    options += [without_and(o) for o in options]
    if whole and (100 <= int(whole) < 200 or 1000 <= int(whole) < 1100):  # "a hundred and five"
        options += [re.sub(r"^one (hundred|thousand)\b", r"a \1", o) for o in options]
    return [(o + fraction).strip() for o in options]


def signed(sign: str | None, number: str) -> str:
    return {"-": "minus ", "+": "plus "}.get(sign or "", "") + cardinal(number)


def year(n: int) -> str:
    spoken = words(n, "year")
    return pick([spoken, without_and(spoken)])


def ordinal(n: int) -> str:
    return words(n, "ordinal")


def digits(text: str) -> str:
    """'555' -> 'five five five' (telephone numbers, codes)."""
    return " ".join("oh" if d == "0" else words(int(d)) for d in text if d.isdigit())


def plural_unit(value: str, unit: tuple[str, str]) -> str:
    return unit[0] if value.replace(",", "") in ("1", "1.0") else unit[1]


def house_number(number: str) -> str:
    """How house numbers are said: 221 -> two twenty one, 1600 -> sixteen hundred, 1407 -> fourteen oh seven."""
    if len(number) in (3, 4):
        head, tail = number[:-2], number[-2:]
        if tail == "00":
            return f"{words(int(head))} hundred"
        return (
            f"{words(int(head))} {'oh ' + words(int(tail)) if tail[0] == '0' else words(int(tail))}"
        )
    return words(int(number))
