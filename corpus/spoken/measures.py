"""Measures: units and their plurals, powers ("square metres"), percentages, ranges with a
unit, per-unit rates ("forty dollars a month")."""

from __future__ import annotations

import re

from speechmill.corpus.spoken.money import CURRENCIES
from speechmill.corpus.spoken.numbers import cardinal, plural_unit, signed

UNITS = {  # symbol: (singular, plural)
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "mph": ("mile per hour", "miles per hour"),
    "kg": ("kilogram", "kilograms"),
    "mg": ("milligram", "milligrams"),
    "g": ("gram", "grams"),
    "km": ("kilometer", "kilometers"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "m": ("meter", "meters"),
    "mi": ("mile", "miles"),
    "ft": ("foot", "feet"),
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
    "oz": ("ounce", "ounces"),
    "ml": ("milliliter", "milliliters"),
    "l": ("liter", "liters"),
    "GHz": ("gigahertz", "gigahertz"),
    "MHz": ("megahertz", "megahertz"),
    "kHz": ("kilohertz", "kilohertz"),
    "Hz": ("hertz", "hertz"),
    "MB": ("megabyte", "megabytes"),
    "GB": ("gigabyte", "gigabytes"),
    "kB": ("kilobyte", "kilobytes"),
    "TB": ("terabyte", "terabytes"),
    "kW": ("kilowatt", "kilowatts"),
    "W": ("watt", "watts"),
    "V": ("volt", "volts"),
    "°C": ("degree celsius", "degrees celsius"),
    "°F": ("degree fahrenheit", "degrees fahrenheit"),
    "°": ("degree", "degrees"),
    "h": ("hour", "hours"),
    "min": ("minute", "minutes"),
    "s": ("second", "seconds"),
    "ms": ("millisecond", "milliseconds"),
}


_POWERS = {"^2": "square", "^3": "cubic"}  # text.py writes superscripts ² ³ as ^2 ^3


UNIT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))


PER_LEFT = "|".join(
    sorted(
        {w for pair in UNITS.values() for name in pair for w in [name.split()[-1]]}
        | {w for names in CURRENCIES.values() for w in names if w}
        | {"percent"},
        key=len,
        reverse=True,
    )
)  # what a quantity's spoken unit ends in, before "/month", "/kg"


_NOT_PLURAL = (
    "was|is|has|as|this|his|its|us|yes|thus|plus|does|goes|whereas|always|perhaps|less|unless|"
    "across|towards|besides|news|series|census|bus|gas|lens|bonus|status|campus|virus|focus|"
    "atlas|canvas|circus|chaos|christmas|its|afterwards|sometimes|hers|ours|yours|theirs"
)


PLURAL_NOUNS = rf"(?:people|men|women|children|feet|teeth|sheep|fish|deer|head|(?!(?:{_NOT_PLURAL})\b)[a-z]+s)\b"


_NOT_NOUNS = {
    "of",
    "in",
    "on",
    "and",
    "or",
    "per",
    "is",
    "was",
    "to",
    "at",
    "for",
    "from",
    "by",
    "with",
    "more",
    "less",
    "each",
    "a",
    "an",
    "the",
    "away",
    "long",
    "high",
    "wide",
    "deep",
    "tall",
    "heavier",
    "lighter",
    "later",
    "earlier",
    "ago",
}


def read_measure(m: re.Match) -> str:
    value, unit = m.group("num"), m.group("unit")
    power, article = m.group("power"), m.group("article") or ""
    before = m.string[: m.start()].rstrip().rsplit(" ", 1)[-1].lower()
    after = re.match(r"\s+([a-z]+)", m.string[m.end() :])
    modifier = (  # "the 3 kg bag": the three kilogram bag
        before in ("the", "this", "that", "each", "every")
        and after is not None
        and after.group(1) not in _NOT_NOUNS
    )
    name = (
        UNITS[unit][0] if article or modifier else plural_unit(value, UNITS[unit])
    )  # "a 5 cm gap": a five centimeter gap
    if power:
        name = f"{_POWERS[power]} {name}"
    return f" {article}{signed(m.group('sign'), value)} {name} "


def read_bare_power_unit(m: re.Match) -> str:
    """'per km³' -> per cubic kilometer; 'in m²' -> in square meters."""
    per = m.string[: m.start()].rstrip().lower().endswith("per")
    return f" {_POWERS[m.group('power')]} {UNITS[m.group('unit')][0 if per else 1]} "


def read_percent(m: re.Match) -> str:
    return f" {signed(m.group('sign'), m.group('num'))} percent "


def read_unit_range(m: re.Match) -> str:
    """'3-5 kg' -> three to five kilograms; '5-10%' -> five to ten percent."""
    unit = m.group("unit")
    name = "percent" if unit in ("%", "percent") else UNITS[unit][1]
    if m.group("power"):
        name = f"{_POWERS[m.group('power')]} {name}"
    return f" {cardinal(m.group('a'))} to {cardinal(m.group('b'))} {name} "


def read_per(m: re.Match) -> str:
    """'... dollars/month' -> per month; '... milligrams/kg' -> per kilogram."""
    unit = m.group("unit")
    return f"{m.group('left')} per {UNITS[unit][0] if unit in UNITS else unit.lower()} "
