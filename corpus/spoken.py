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

import contextvars
import functools
import itertools
import re
from collections.abc import Callable, Iterator

from num2words import num2words

from speechmill.corpus.reject import Reject

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
_MONTH_ABBR = {m[:3]: m for m in MONTHS} | {"sept": "september"}
_MONTH = (
    r"(?P<month>"
    + "|".join(sorted(set(MONTHS) | set(_MONTH_ABBR), key=len, reverse=True))
    + r")\.?"
)
CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", None, None),
    "₹": ("rupee", "rupees", "paisa", "paise"),
}
# Symbols beyond the five above, each with its ISO 4217 code: CLDR's English symbols (babel)
# and the narrow ones in everyday use.
NARROW_SYMBOLS = {
    "₽": "RUB",
    "₺": "TRY",
    "฿": "THB",
    "₦": "NGN",
    "₴": "UAH",
    "₸": "KZT",
    "₡": "CRC",
    "₩": "KRW",
    "₪": "ILS",
    "₫": "VND",
    "₱": "PHP",
    "R$": "BRL",
    "A$": "AUD",
    "AU$": "AUD",
    "C$": "CAD",
    "CA$": "CAD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "S$": "SGD",
    "MX$": "MXN",
    "US$": "USD",
    "CN¥": "CNY",
}
NOT_CURRENCY_CODES = {  # codes that are also words or names in capitals ("PHP 8", "TOP 10")
    "ALL",
    "TOP",
    "CUP",
    "BOB",
    "MAD",
    "GEL",
    "MOP",
    "PEN",
    "SOS",
    "WST",
    "CVE",
    "PHP",
    "AMD",
    "TRY",
    "BAM",
    "MVR",
}
SUBUNITS = {  # ISO code: (one, many) of the hundredth said with "and" ("three dollars and fifty cents")
    "USD": ("cent", "cents"),
    "EUR": ("cent", "cents"),
    "GBP": ("penny", "pence"),
    "AUD": ("cent", "cents"),
    "CAD": ("cent", "cents"),
    "NZD": ("cent", "cents"),
    "INR": ("paisa", "paise"),
}


def _spoken_name(name: str) -> str:
    """CLDR's English currency name as said: acronyms spelled ("US dollars" -> "u s dollars")."""
    return " ".join(
        " ".join(w.lower()) if w.isupper() and len(w) > 1 else w.lower() for w in name.split()
    )


@functools.cache
def currency_names(code: str) -> tuple[str, str, str, str] | None:
    """An ISO 4217 code -> (one, many, full one, full many): the everyday name ("won") and
    CLDR's full English name ("south korean won"), from babel; None for an unknown code."""
    from babel.numbers import get_currency_name, list_currencies

    if code not in list_currencies() or code.startswith("X"):
        return None
    one = _spoken_name(get_currency_name(code, count=1, locale="en"))
    many = _spoken_name(get_currency_name(code, count=2, locale="en"))
    if one.startswith("("):
        return None
    return one.split()[-1], many.split()[-1], one, many


@functools.lru_cache(maxsize=1)
def iso_codes() -> frozenset[str]:
    from babel.numbers import list_currencies

    return frozenset(
        c for c in list_currencies() if not c.startswith("X") and c not in NOT_CURRENCY_CODES
    )


SCALES = ("thousand", "million", "billion", "trillion")
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
FRACTIONS = {2: ("half", "halves"), 4: ("quarter", "quarters")}
_NUM = r"[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?|\.[0-9]+"
_CUR = "|".join(
    re.escape(c) for c in sorted([*NARROW_SYMBOLS, *CURRENCIES], key=len, reverse=True)
)  # "R$" before "$"
_UNIT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
_PER_LEFT = "|".join(
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
_PLURAL_NOUNS = rf"(?:people|men|women|children|feet|teeth|sheep|fish|deer|head|(?!(?:{_NOT_PLURAL})\b)[a-z]+s)\b"
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
_SIGNED = rf"(?P<sign>(?<![\w.])[-+])?(?P<num>{_NUM})"
_TLD = r"(?:com|org|net|edu|gov|io|uk|de|fr|info|co)"
_YEAR_CUES = (
    r"(?:in|since|by|until|till|from|of|circa|c\.|year|during|before|after|around|early|late"
    r"|summer|winter|spring|autumn|fall)"
)


class Choices:
    """The choices of one run of the rules: ``vector[k]`` picks the option of the k-th choice
    point met (0, the default, beyond it); ``arities`` records how many options each had."""

    def __init__(self, vector: tuple[int, ...] = ()):
        self.vector = vector
        self.arities: list[int] = []

    def pick(self, options: list[str]) -> str:
        k = len(self.arities)
        self.arities.append(len(options))
        return options[min(self.vector[k], len(options) - 1) if k < len(self.vector) else 0]


_CHOICES: contextvars.ContextVar[Choices | None] = contextvars.ContextVar("choices", default=None)


def pick(options: list[str]) -> str:
    """One of a written form's readings: the first (the default) unless a run that lists the
    readings asks for another. Options are deduplicated, the order kept."""
    options = list(dict.fromkeys(options))
    choices = _CHOICES.get()
    if choices is None or len(options) == 1:
        return options[0]
    return choices.pick(options)


def choice_vectors(arities: list[int], points: int) -> Iterator[tuple[int, ...]]:
    """Every choice vector over the first ``points`` choice points, fewest changes first."""
    ranges = [range(a) for a in arities[:points]]
    vectors = sorted(itertools.product(*ranges), key=lambda v: (sum(x > 0 for x in v), v))
    yield from vectors


def run_with(vector: tuple[int, ...], func: Callable[[], str]) -> tuple[str, list[int]]:
    """``func()`` with the choice points picking ``vector``; returns its result and arities."""
    choices = Choices(vector)
    token = _CHOICES.set(choices)
    try:
        return func(), choices.arities
    finally:
        _CHOICES.reset(token)


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


# ----------------------------------------------------------------------------- rules


def _email(m: re.Match) -> str:
    user, domain = m.group("user"), m.group("domain")
    return f" {_dotted(user)} at {_dotted(domain)} "


def _url(m: re.Match) -> str:
    scheme = m.group("scheme")
    spoken = {
        "http://": "h t t p colon slash slash ",
        "https://": "h t t p s colon slash slash ",
    }.get((scheme or "").lower(), "")
    host, path = m.group("host"), m.group("path") or ""
    spoken += _dotted(host)
    for part in filter(None, path.split("/")):
        spoken += " slash " + _dotted(part)
    return f" {spoken} "


def _dotted(text: str) -> str:
    """'www.example.com' -> 'w w w dot example dot com'; digits read one by one."""
    parts = []
    for piece in re.split(r"([._-])", text):
        if piece in (".", "_", "-"):
            parts.append({".": "dot", "_": "underscore", "-": "dash"}[piece])
        elif piece.lower() == "www":
            parts.append("w w w")
        elif piece.isdigit():
            parts.append(digits(piece))
        elif piece:
            parts.append(
                " ".join(digits(p) if p.isdigit() else p for p in re.split(r"([0-9]+)", piece) if p)
            )
    return " ".join(parts)


def _phone(m: re.Match) -> str:
    groups = [g for g in re.split(r"[^0-9+]+", m.group(0)) if g]
    spoken = []
    for group in groups:
        if group.startswith("+"):
            spoken.append("plus " + digits(group[1:]))
        else:
            spoken.append(digits(group))
    return " " + " , ".join(spoken) + " "


def _iso_date(m: re.Match) -> str:
    y, mo, d = int(m.group("y")), int(m.group("m")), int(m.group("d"))
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        raise Reject("text:ambiguous", f"{m.group(0)!r} is not a date and not a plain number")
    return f" {MONTHS[mo - 1]} {ordinal(d)} {year(y)} "


def _numeric_date(m: re.Match) -> str:
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


def _month_day(m: re.Match) -> str:
    if _verb_not_month(m):
        return m.group(0)
    month = _MONTH_ABBR.get(m.group("month").lower().rstrip("."), m.group("month").lower())
    spoken = f" {month} {ordinal(int(m.group('day')))}"
    if m.group("year"):
        spoken += " " + year(int(m.group("year")))
    return spoken + " "


def _day_month(m: re.Match) -> str:
    if _verb_not_month(m):
        return m.group(0)
    month = _MONTH_ABBR.get(m.group("month").lower().rstrip("."), m.group("month").lower())
    spoken = f" {m.group('the') or 'the '}{ordinal(int(m.group('day')))} of {month}"
    if m.group("year"):
        spoken += " " + year(int(m.group("year")))
    return spoken + " "


def _clock(m: re.Match) -> str:
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


def _currency(symbol: str) -> tuple[str, str, str | None, str | None]:
    """A currency symbol -> (one, many, hundredth one, hundredth many); a symbol beyond the
    common five reads as its everyday name or CLDR's full one (the readings of ``pick``)."""
    if symbol in CURRENCIES:
        return CURRENCIES[symbol]
    code = NARROW_SYMBOLS[symbol]
    one, many, full_one, full_many = currency_names(code)
    sub = SUBUNITS.get(code, (None, None))
    if pick([one, full_one]) == one:
        return one, many, *sub
    return full_one, full_many, *sub


def _iso_money(m: re.Match) -> str:
    """ "USD 40", "40 EUR", "KRW 5000": CLDR's full name ("forty u s dollars"), or the everyday one."""
    code = m.group("code") or m.group("code2")
    names = currency_names(code) if code in iso_codes() else None
    if names is None:
        return m.group(0)
    number, scale = m.group("num").replace(",", ""), m.group("scale")
    one, many = pick([names[2:], names[:2]])
    name = one if number in ("1", "1.0") and not scale else many
    whole, _, hundredths = number.partition(".")
    sub = SUBUNITS.get(code)
    if sub and len(hundredths) == 2 and not scale:
        spoken = f"{words(int(whole or 0))} {name}"
        if int(hundredths):
            spoken += f" and {words(int(hundredths))} {sub[0] if hundredths == '01' else sub[1]}"
        return f" {spoken} "
    return f" {cardinal(number)} {scale.lower() + ' ' if scale else ''}{name} "


def _money(m: re.Match) -> str:
    one, many, sub_one, sub_many = _currency(m.group("cur"))
    article = m.group("article") or ""
    if (
        article and not m.group("scale") and "." not in m.group("num")
    ):  # "a $20 bill": a twenty dollar bill
        return f" {article}{words(int(m.group('num').replace(',', '')))} {one} "
    number, scale = m.group("num").replace(",", ""), m.group("scale")
    sign = "minus " if m.group("sign") == "-" else ""
    if scale:  # "$2.5 million" -> "two point five million dollars"
        return f" {article}{sign}{cardinal(number)} {scale.lower()} {many} "
    whole, _, cents = number.partition(".")
    if len(cents) == 1 and sub_one is not None:  # "$2.5": two dollars and fifty cents
        cents += "0"
    if cents and (len(cents) != 2 or sub_one is None):
        return f" {article}{sign}{cardinal(number)} {many} "
    parts = []
    if whole and int(whole):
        parts.append(f"{words(int(whole))} {one if int(whole) == 1 else many}")
    if cents and int(cents):
        parts.append(f"{words(int(cents))} {sub_one if int(cents) == 1 else sub_many}")
    if not parts:
        parts.append(f"zero {many}")
    return f" {article}{sign}{' and '.join(parts)} "


def _money_range(m: re.Match) -> str:
    many = _currency(m.group("cur"))[1]
    return f" {cardinal(m.group('a'))} to {cardinal(m.group('b'))} {m.group('scale') or ''} {many} "


def _measure(m: re.Match) -> str:
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


def _bare_power_unit(m: re.Match) -> str:
    """'per km³' -> per cubic kilometer; 'in m²' -> in square meters."""
    per = m.string[: m.start()].rstrip().lower().endswith("per")
    return f" {_POWERS[m.group('power')]} {UNITS[m.group('unit')][0 if per else 1]} "


def _percent(m: re.Match) -> str:
    return f" {signed(m.group('sign'), m.group('num'))} percent "


def _fraction(m: re.Match) -> str:
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


def _year_range(m: re.Match) -> str:
    return f" {year(int(m.group('a')))} to {year(int(m.group('b')))} "


def _number_range(m: re.Match) -> str:
    a, b = cardinal(m.group("a")), cardinal(m.group("b"))
    return f" {pick([f'{a} to {b}', f'{a} {b}', f'{a} or {b}'])} "


def _decade(m: re.Match) -> str:
    digits_, prefix = m.group("d"), m.group("prefix") or ""
    n = int(digits_)
    if len(digits_) == 4:
        spoken = year(n)
        spoken = spoken[:-1] + "ies" if spoken.endswith("y") else spoken + "s"
    else:
        spoken = {0: "hundreds", 10: "tens"}.get(n) or (words(n)[:-1] + "ies")
    return f" {prefix.lower().rstrip('-') + ' ' if prefix else ''}{spoken} "


def _ordinal(m: re.Match) -> str:
    return f" {ordinal(int(m.group('n').replace(',', '')))} "


def _year(m: re.Match) -> str:
    return f" {m.group('cue')} {year(int(m.group('y')))} "


def _address(m: re.Match) -> str:
    number, letter = m.group("n"), m.group("letter") or ""
    spoken = house_number(number)
    return f" {spoken} {letter.lower()} {m.group('rest')}"


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


def _signed_number(m: re.Match) -> str:
    """A number the rules before did not read; a bare 1100-2099 in running text is read as a
    year ("the 1994 season") unless a plural noun follows ("1500 trees"), the other reading
    offered too."""
    sign, number = m.group("sign"), m.group("num")
    if not sign and re.fullmatch(r"1[1-9][0-9]{2}|20[0-9]{2}", number):  # could be a year
        spoken = words(int(number), "year")
        as_year = [spoken, without_and(spoken)]
        count = cardinal_readings(number)
        if re.match(rf"\s+{_PLURAL_NOUNS}", m.string[m.end() :]):
            return f" {pick(count + as_year)} "
        return f" {pick(as_year + count)} "
    return f" {signed(sign, number)} "


def _unit_range(m: re.Match) -> str:
    """'3-5 kg' -> three to five kilograms; '5-10%' -> five to ten percent."""
    unit = m.group("unit")
    name = "percent" if unit in ("%", "percent") else UNITS[unit][1]
    if m.group("power"):
        name = f"{_POWERS[m.group('power')]} {name}"
    return f" {cardinal(m.group('a'))} to {cardinal(m.group('b'))} {name} "


def _per(m: re.Match) -> str:
    """'... dollars/month' -> per month; '... milligrams/kg' -> per kilogram."""
    unit = m.group("unit")
    return f"{m.group('left')} per {UNITS[unit][0] if unit in UNITS else unit.lower()} "


def _hour(m: re.Match) -> str:
    """'9am', '5 p.m.' -> nine a m, five p m."""
    half = m.group("half").lower().replace(".", "").replace(" ", "")
    return f" {words(int(m.group('h')))} {' '.join(half)} "


def _digit_string(m: re.Match) -> str:
    """A card ending, serial, PIN, code or order number: read digit by digit."""
    return f" {m.group('cue')}{m.group('verb') or ''} {digits(m.group('d'))} "


def _ip_address(m: re.Match) -> str:
    return " " + " dot ".join(digits(part) for part in m.group(0).split(".")) + " "


def _ordinal_fraction(m: re.Match) -> str:
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


def _equation(m: re.Match) -> str:
    """'2 + 2 = 4', '3 x 4 = 12', '8 / 2 = 4', 'x = 5': operators said, the numbers left for
    the rules after (a '-' here is minus, not a range)."""
    spoken = re.sub(
        r"\s*([-+x×*/÷=])\s*(?=[0-9A-Za-z])|\s*(=)\s*",
        lambda o: f" {OPERATORS[o.group(1) or o.group(2)]} ",
        m.group(0),
    )
    return f" {spoken.replace(' over ', ' divided by ')} "


def _dimensions(m: re.Match) -> str:
    """'3 x 4 m', 'a 2x4 plank' -> three by four ..."""
    return f"{m.group('a')} by {m.group('b')}"


def _ellipsis(m: re.Match) -> str:
    """'1...2...3' -> one two three: an ellipsis between numbers is a pause, not a decimal point."""
    return " , "


Rule = tuple[re.Pattern, Callable[[re.Match], str]]
_OPERAND = r"(?:[0-9]+(?:\.[0-9]+)?|[A-Za-z])"
RULES: list[Rule] = [
    (re.compile(r"(?<=[0-9])\s*\.{2,}\s*(?=[0-9])"), _ellipsis),
    (
        re.compile(
            rf"(?<![\w.]){_OPERAND}(?:\s*[-+x×*/÷]\s*{_OPERAND})*\s*=\s*-?{_OPERAND}(?![\w]|\.[0-9])"
        ),
        _equation,
    ),
    (
        re.compile(
            r"(?<![\w.])(?P<a>[0-9]+(?:\.[0-9]+)?)\s*[x×]\s*(?P<b>[0-9]+(?:\.[0-9]+)?)(?![\w.])"
        ),
        _dimensions,
    ),
    (
        re.compile(
            r"(?i)\b(?P<cue>(?:card|account|number|phone) ending(?: in| with)?|"
            r"serial(?: number| no\.?)?|pin|code|zip(?: code)?|"
            r"order(?: number| no\.?)|account(?: number)?|tracking(?: number)?|extension|ext\.)"
            r"(?P<verb>\s+(?:is|was)|:)?\s+(?P<d>[0-9](?:[0-9 -]*[0-9])?)(?![\w.,]?[0-9])"
        ),
        _digit_string,
    ),
    (
        re.compile(r"(?<![\w.])[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?![\w]|\.[0-9])"),
        _ip_address,
    ),
    (
        re.compile(r"(?<![\w.])[0-9]{2,4}\.[0-9]{3,4}\.[0-9]{4}(?![\w]|\.[0-9])"),
        lambda m: _phone(m),
    ),
    (
        re.compile(r"(?P<user>[A-Za-z0-9._+-]+)@(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"),
        _email,
    ),
    (
        re.compile(
            rf"(?P<scheme>https?://)?(?P<host>(?:www\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.{_TLD})"
            rf"(?P<path>(?:/[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)*/?)(?![A-Za-z0-9])"
        ),
        _url,
    ),
    (
        re.compile(
            r"(?<![\w.])(?:\+[0-9]{1,3}[ -])?(?:\([0-9]{3}\) ?|[0-9]{3}-)[0-9]{3}-[0-9]{4}(?![\w])"
        ),
        _phone,
    ),
    (re.compile(r"(?<![\w.])\+[0-9]{1,3}(?: [0-9]{2,4}){2,4}(?![\w])"), _phone),
    (re.compile(r"(?<![\w.-])[0-9]{3}-[0-9]{4}(?![\w-])"), _phone),
    (
        re.compile(
            r"(?<![\w.-])(?P<y>1[0-9]{3}|20[0-9]{2})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})(?![\w-])"
        ),
        _iso_date,
    ),
    (
        re.compile(
            r"(?<![\w.])(?P<a>[0-9]{1,2})[./](?P<b>[0-9]{1,2})[./](?P<y>[0-9]{4}|[0-9]{2})(?![\w]|\.[0-9])"
        ),
        _numeric_date,
    ),
    (
        re.compile(
            rf"(?i)(?<![\w])(?P<the>the\s+)?(?P<day>[0-9]{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+(?P<year>[0-9]{{4}}))?(?![\w])"
        ),
        _day_month,
    ),
    (
        re.compile(
            rf"(?i)(?<![\w]){_MONTH}\s+(?P<day>[0-9]{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<year>[0-9]{{4}}))?(?![\w])"
        ),
        _month_day,
    ),
    (
        re.compile(rf"(?i)(?<![\w]){_MONTH}\s+(?P<y>1[0-9]{{3}}|20[0-9]{{2}})(?![\w])"),
        lambda m: (
            f" {_MONTH_ABBR.get(m.group('month').lower().rstrip('.'), m.group('month').lower())}"
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
        _clock,
    ),
    (
        re.compile(r"(?i)(?<![\w.:])(?P<h>1[0-2]|0?[1-9])\s*(?P<half>[ap]\.\s?m\.|[ap]m\b)"),
        _hour,
    ),
    (
        re.compile(
            r"(?<![\w.:])(?P<h>[0-9]{1,2}):(?P<mi>[0-5][0-9])(?::(?P<s>[0-5][0-9]))?(?P<half>)(?![\w:])"
        ),
        _clock,
    ),
    (
        re.compile(
            r"(?i)(?<![\w])(?P<prefix>mid-|early |late )?'?(?P<d>[0-9]{2}|1[0-9]{3}|20[0-9]{2})"
            r"(?:'?s|(?<=[0-9]{4}) '?s)(?![\w])"
        ),
        _decade,
    ),
    (
        re.compile(
            rf"(?<![\w.-])(?P<a>{_NUM})\s?(?:-|–)\s?(?P<b>{_NUM})\s?"
            rf"(?P<unit>%|percent\b|{_UNIT})(?P<power>\^[23])?(?![\w])"
        ),
        _unit_range,
    ),
    (
        re.compile(
            rf"(?:(?<=\s)|^)(?P<code>[A-Z]{{3}})\s?(?P<num>{_NUM})(?:\s*(?P<scale>{'|'.join(SCALES)})\b)?"
            rf"(?P<code2>)(?![\w])"
        ),
        _iso_money,
    ),
    (
        re.compile(
            rf"(?<![\w.])(?P<num>{_NUM})(?:\s*(?P<scale>{'|'.join(SCALES)}))?\s?(?P<code2>[A-Z]{{3}})"
            rf"(?P<code>)(?![\w])"
        ),
        _iso_money,
    ),
    (
        re.compile(
            rf"(?P<cur>{_CUR})(?P<a>{_NUM})\s?(?:-|–|to)\s?(?:{_CUR})?(?P<b>{_NUM})"
            rf"(?:\s+(?P<scale>{'|'.join(SCALES)})\b)?"
        ),
        _money_range,
    ),
    (
        re.compile(
            rf"(?P<article>\b[Aa]n? )?(?P<sign>(?<![\w.])-)?(?P<cur>{_CUR})\s?(?P<num>{_NUM})"
            rf"(?:\s*(?P<scale>{'|'.join(SCALES)})\b)?",
            re.IGNORECASE,
        ),
        _money,
    ),
    (re.compile(rf"{_SIGNED}\s?(?:%|per\s?cent\b)"), _percent),
    (  # "80p": pence
        re.compile(r"(?<![\w.])(?P<n>[0-9]{1,2})p\b"),
        lambda m: f" {words(int(m.group('n')))} {'penny' if m.group('n') == '1' else 'pence'} ",
    ),
    (
        re.compile(
            rf"(?P<article>\b[Aa]n? )?{_SIGNED}\s?"
            rf"(?P<unit>{'|'.join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))})"
            rf"(?P<power>\^[23])?(?![\w])"
        ),
        _measure,
    ),
    (
        re.compile(
            rf"(?<![\w])(?P<unit>{'|'.join(re.escape(u) for u in UNITS)})(?P<power>\^[23])(?![\w])"
        ),
        _bare_power_unit,
    ),
    (  # "forty dollars/month", "five milligrams/kg": per unit
        re.compile(rf"(?P<left>\b(?:{_PER_LEFT}))\s*/\s*(?P<unit>{_UNIT}|[A-Za-z]+)(?![\w/])"),
        _per,
    ),
    (
        re.compile(r"(?<![\w/])(?P<a>[0-9]+)/(?P<b>[0-9]+)(?:st|nd|rd|th)s?\b"),
        _ordinal_fraction,
    ),
    (
        re.compile(r"(?<![\w./])(?:(?P<whole>[0-9]+)\s+)?(?P<a>[0-9]+)/(?P<b>[0-9]+)(?![\w/])"),
        _fraction,
    ),
    (
        re.compile(
            r"(?<![\w.-])(?P<a>1[0-9]{3}|20[0-9]{2})\s?(?:-|–|to)\s?(?P<b>1[0-9]{3}|20[0-9]{2})(?![\w-])"
        ),
        _year_range,
    ),
    (re.compile(rf"(?<![\w.-])(?P<a>{_NUM})\s?(?:-|–)\s?(?P<b>{_NUM})(?![\w-])"), _number_range),
    (
        re.compile(r"(?i)(?<![\w.])_?(?P<n>[0-9]+(?:,[0-9]{3})*)_?(?:st|nd|rd|th)_?(?![\w])"),
        _ordinal,
    ),
    (
        re.compile(
            rf"(?i)(?<![\w])(?P<cue>{_YEAR_CUES})\s+(?P<y>1[0-9]{{3}}|20[0-9]{{2}})(?![\w.,]?[0-9])"
        ),
        _year,
    ),
    (
        re.compile(
            r"(?<![\w.,])(?P<n>[0-9]{1,5})(?P<letter>[A-Za-z])?\s+(?P<rest>(?:[A-Z][a-z]+\s+)+(?i:Street|St\.?|Avenue|"
            r"Ave\.?|Road|Rd\.?|Boulevard|Blvd\.?|Lane|Ln\.?|Drive|Dr\.?|Place|Way|Court|Square)(?![\w]))"
        ),
        _address,
    ),
    (re.compile(_SIGNED), _signed_number),
]


def spell_out(text: str, where: str = "") -> str:
    """Apply every rule in order; a Reject names ``where``."""
    try:
        for pattern, spoken in RULES:
            text = pattern.sub(spoken, text)
    except Reject as reject:
        reject.where = reject.where or where
        raise
    return text
