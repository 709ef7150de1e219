"""TFRecord framing (length, masked CRC32C, payload, masked CRC32C) on plain file objects.

Writers use any binary file object, so Beam's FileSystems (local, gs://, s3://) carry the
bytes; TensorFlow's TFRecordDataset reads the result.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO

import google_crc32c

from speechmill.corpus.errors import CorruptCorpus

_MASK_DELTA = 0xA282EAD8


def masked_crc(data: bytes) -> int:
    """The CRC32C of ``data`` masked as the TFRecord format requires."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def frame(record: bytes) -> bytes:
    """One record as the bytes that go into a .tfrecord file."""
    header = struct.pack("<Q", len(record))
    return b"".join(
        (
            header,
            struct.pack("<I", masked_crc(header)),
            record,
            struct.pack("<I", masked_crc(record)),
        )
    )


def frame_chunks(chunks: list[bytes]) -> list[bytes]:
    """A record given as pieces -> the pieces that go into a .tfrecord file (nothing joined:
    the checksum is extended piece by piece)."""
    header = struct.pack("<Q", sum(len(c) for c in chunks))
    crc = 0
    for chunk in chunks:
        crc = google_crc32c.extend(crc, chunk)
    masked = (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF
    return [header, struct.pack("<I", masked_crc(header)), *chunks, struct.pack("<I", masked)]


def read_records(f: BinaryIO, where: str = "tfrecord") -> Iterator[bytes]:
    """Yield the payloads of a TFRecord stream, checking both checksums; a damaged record
    raises CorruptCorpus (a ValueError) naming ``where`` and its byte offset."""
    position = 0
    while True:
        header = f.read(8)
        if not header:
            return
        head_crc = f.read(4)
        if len(header) < 8 or len(head_crc) < 4:
            raise CorruptCorpus(f"{where}: truncated record header at byte {position}")
        (length,) = struct.unpack("<Q", header)
        if struct.unpack("<I", head_crc)[0] != masked_crc(header):
            raise CorruptCorpus(f"{where}: corrupt record length at byte {position}")
        payload = f.read(length)
        tail = f.read(4)
        if (
            len(payload) < length
            or len(tail) < 4
            or struct.unpack("<I", tail)[0] != masked_crc(payload)
        ):
            raise CorruptCorpus(f"{where}: corrupt or truncated record at byte {position}")
        position += 16 + length
        yield payload


def record_offsets(f: BinaryIO, size: int, where: str = "tfrecord") -> list[int]:
    """Byte offsets of every record in a seekable TFRecord file of ``size`` bytes, plus ``size``
    at the end; reads only the 12-byte headers (lengths checked by their CRC)."""
    offsets, position = [], 0
    while position < size:
        f.seek(position)
        header = f.read(12)
        if len(header) < 12:
            raise CorruptCorpus(f"{where}: truncated record header at byte {position}")
        (length,), (crc,) = struct.unpack("<Q", header[:8]), struct.unpack("<I", header[8:])
        if crc != masked_crc(header[:8]):
            raise CorruptCorpus(f"{where}: corrupt record length at byte {position}")
        offsets.append(position)
        position += 16 + length
    if position != size:
        raise CorruptCorpus(f"{where}: the last record runs past the end of the file")
    return offsets + [size]
