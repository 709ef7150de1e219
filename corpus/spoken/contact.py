"""Addresses and codes read character by character: e-mail and web addresses, telephone
numbers, IP addresses, digit strings after a cue (card endings, PINs), street numbers."""

from __future__ import annotations

import re

from speechmill.corpus.spoken.numbers import digits, house_number

TLD = r"(?:com|org|net|edu|gov|io|uk|de|fr|info|co)"
DOT_TLD = rf"\.{TLD}"  # the end of a host name: what every URL the rules read holds


def read_email(m: re.Match) -> str:
    user, domain = m.group("user"), m.group("domain")
    return f" {_dotted(user)} at {_dotted(domain)} "


def read_url(m: re.Match) -> str:
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


def read_phone(m: re.Match) -> str:
    groups = [g for g in re.split(r"[^0-9+]+", m.group(0)) if g]
    spoken = []
    for group in groups:
        if group.startswith("+"):
            spoken.append("plus " + digits(group[1:]))
        else:
            spoken.append(digits(group))
    return " " + " , ".join(spoken) + " "


def read_address(m: re.Match) -> str:
    number, letter = m.group("n"), m.group("letter") or ""
    spoken = house_number(number)
    return f" {spoken} {letter.lower()} {m.group('rest')}"


def read_digit_string(m: re.Match) -> str:
    """A card ending, serial, PIN, code or order number: read digit by digit."""
    return f" {m.group('cue')}{m.group('verb') or ''} {digits(m.group('d'))} "


def read_ip_address(m: re.Match) -> str:
    return " " + " dot ".join(digits(part) for part in m.group(0).split(".")) + " "
