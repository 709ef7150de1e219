"""Protobuf's wire format for one ``tf.train.Example``, written by hand: the few pieces
corpus/schema.py's ``record_chunks`` joins (the audio stays a piece of its own, copied once into
its file). The bytes are what protobuf's deterministic serializer gives; a test compares them."""

from __future__ import annotations

import functools
import struct

_SMALL = [bytes((i,)) for i in range(0x80)]


def varint(n: int) -> bytes:
    """Protobuf's base-128 varint (a negative int64 as its 64-bit two's complement)."""
    if 0 <= n < 0x80:
        return _SMALL[n]
    n &= (1 << 64) - 1
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def entry_head(key: bytes, kind: int, list_len: int) -> bytes:
    """Everything of one ``Features.feature`` map entry before its list message's content:
    the entry's tag and length, the key, the Feature's tag and length, the list field's tag
    and length (``kind``: 0x0A bytes_list, 0x12 float_list, 0x1A int64_list)."""
    list_field = bytes((kind,)) + varint(list_len)
    feature_len = len(list_field) + list_len
    key_field = b"\x0a" + varint(len(key)) + key
    feature_field = b"\x12" + varint(feature_len)
    entry_len = len(key_field) + len(feature_field) + feature_len
    return b"".join((b"\x0a", varint(entry_len), key_field, feature_field, list_field))


def entry(key: str, kind: str, values: list) -> tuple[bytes, bytes]:
    """One feature as (head, payload): the payload is the one value of a bytes feature (the
    audio stays a piece of its own), else empty."""
    name = key.encode("utf-8")
    if kind == "strings":  # a bytes list of several short values
        content = b"".join(b"\x0a" + varint(len(v)) + v for v in values)
        return entry_head(name, 0x0A, len(content)) + content, b""
    if kind == "bytes":
        (value,) = values
        content_head = b"\x0a" + varint(len(value))
        return entry_head(name, 0x0A, len(content_head) + len(value)) + content_head, value
    if kind == "float":
        packed = struct.pack(f"<{len(values)}f", *values)
    else:
        packed = b"".join(varint(int(v)) for v in values)
    content = b"\x0a" + varint(len(packed)) + packed if values else b""
    return entry_head(name, 0x12 if kind == "float" else 0x1A, len(content)) + content, b""


@functools.lru_cache(maxsize=8)
def key_order(keys: tuple[str, ...]) -> list[str]:
    return sorted(keys, key=_map_order)


@functools.cmp_to_key
def _map_order(a: str, b: str) -> int:
    """protobuf's (upb's) deterministic order of string map keys: bytewise over the common
    length, then the longer key first ("text_raw" before "text")."""
    x, y = a.encode("utf-8"), b.encode("utf-8")
    m = min(len(x), len(y))
    if x[:m] != y[:m]:
        return -1 if x[:m] < y[:m] else 1
    return len(y) - len(x)
