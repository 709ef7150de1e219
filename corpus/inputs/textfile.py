"""Text files in whatever encoding people saved them in -> str, never with characters dropped.

``decode_text(raw, where, reason)`` reads a byte-order mark (UTF-32, UTF-16, UTF-8), UTF-16
without one (every other byte zero), then strict UTF-8, then asks charset-normalizer. Short
files (a transcript, a subtitle) leave several legacy code pages near-equal, so among the
candidates within one chaos step of the best the more common encoding wins (cp1252 before
cp1250 ...). Line ends become LF. When nothing fits, ``Reject(reason)``.
"""

from __future__ import annotations

from charset_normalizer import from_bytes

from speechmill.corpus.reject import Reject

# Legacy encodings of Western and Central/Eastern European text files, most common first.
LEGACY_ENCODINGS = ("cp1252", "cp1250", "cp1251", "cp1257", "iso8859_2", "iso8859_15", "latin_1")
BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def decode_text(raw: bytes, where: str = "", reason: str = "text:encoding") -> str:
    """Bytes in any common encoding -> text with LF line ends; raises ``Reject(reason)``."""
    for bom, codec in BOMS:
        if raw.startswith(bom):
            return _strict(raw[len(bom) :], codec, where, reason)
    if len(raw) >= 4 and raw[1:4:2] == b"\0\0" and raw[0:4:2] != b"\0\0":
        return _strict(raw, "utf-16-le", where, reason)  # UTF-16 without BOM
    if len(raw) >= 4 and raw[0:4:2] == b"\0\0" and raw[1:4:2] != b"\0\0":
        return _strict(raw, "utf-16-be", where, reason)
    try:
        return _lines(raw.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    matches = list(from_bytes(raw, cp_isolation=list(LEGACY_ENCODINGS))) or list(from_bytes(raw))
    if not matches:
        raise Reject(reason, "cannot detect the text encoding", where=where)
    rank = {name: i for i, name in enumerate(LEGACY_ENCODINGS)}
    best = min(matches, key=lambda m: (int(m.chaos / 0.1), rank.get(m.encoding, len(rank))))
    return _lines(str(best))


def _strict(raw: bytes, codec: str, where: str, reason: str) -> str:
    try:
        return _lines(raw.decode(codec))
    except UnicodeDecodeError as e:
        raise Reject(
            reason, f"not valid {codec}: {e.reason} at byte {e.start}", where=where
        ) from None


def _lines(text: str) -> str:
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
