"""Money: currency symbols and every ISO 4217 code by its CLDR name (babel), scale words,
subunits ("three dollars and fifty cents"), ranges of amounts."""

from __future__ import annotations

import functools
import re

from speechmill.corpus.spoken.choices import pick
from speechmill.corpus.spoken.numbers import cardinal, words

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


CUR = "|".join(
    re.escape(c) for c in sorted([*NARROW_SYMBOLS, *CURRENCIES], key=len, reverse=True)
)  # "R$" before "$"


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


def read_iso_money(m: re.Match) -> str:
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


def read_money(m: re.Match) -> str:
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


def read_money_range(m: re.Match) -> str:
    many = _currency(m.group("cur"))[1]
    return f" {cardinal(m.group('a'))} to {cardinal(m.group('b'))} {m.group('scale') or ''} {many} "
