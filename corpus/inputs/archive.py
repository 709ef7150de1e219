"""Safe streaming reads of tar archives (.tar, .tar.gz/.tgz, .tar.bz2/.tbz2, .tar.xz/.txz).

Members are read into memory, never extracted, so nothing can be written anywhere. Members
whose path is absolute or escapes the archive root, links and special files are yielded as
``Reject``, and so is a member larger than ``max_member_bytes`` (``archive:too-large``: a small
compressed archive can hold a huge member; its bytes are skipped, never held). A truncated or
corrupt archive raises ``Reject("archive:truncated")`` after the members read so far.
"""

from __future__ import annotations

import lzma
import posixpath
import tarfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from speechmill.corpus.reject import Reject


def member_problem(member: tarfile.TarInfo) -> tuple[str, str] | None:
    """Why a member must not be read, as (reason, detail), or None if it is safe."""
    name = member.name
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "archive:unsafe-path", f"absolute path {name!r}"
    if ".." in posixpath.normpath(name).split("/"):
        return "archive:unsafe-path", f"path {name!r} escapes the archive"
    if member.issym() or member.islnk():
        return "archive:link", f"link {name!r} -> {member.linkname!r}"
    if not (member.isfile() or member.isdir()):
        return "archive:special", f"special member {name!r}"
    return None


TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
DEFAULT_MAX_MEMBER_BYTES = 256 << 20


def iter_members(
    fileobj: BinaryIO, where: str, max_member_bytes: int = DEFAULT_MAX_MEMBER_BYTES
) -> Iterator[tuple[str, bytes] | Reject]:
    """Yield (normalized path, bytes) for each safe regular file, in archive order."""
    try:
        with tarfile.open(fileobj=fileobj, mode="r|*") as tar:
            for member in tar:
                problem = member_problem(member)
                if problem:
                    yield Reject(*problem, item_id=member.name, where=where)
                    continue
                if member.isdir():
                    continue
                if member.size > max_member_bytes:
                    yield Reject(
                        "archive:too-large",
                        f"member {member.name!r} holds {member.size / (1 << 20):.0f} MB, "
                        f"more than max_member_mb {max_member_bytes / (1 << 20):g}",
                        item_id=member.name,
                        where=where,
                    )
                    continue
                handle = tar.extractfile(member)
                data = handle.read() if handle else b""
                if len(data) != member.size:
                    raise tarfile.ReadError(f"member {member.name!r} is cut short")
                yield posixpath.normpath(member.name), data
    except (
        tarfile.ReadError,
        tarfile.StreamError,
        EOFError,
        zlib.error,
        lzma.LZMAError,
        OSError,
    ) as e:
        raise Reject(
            "archive:truncated", f"archive is truncated or corrupt: {e}", where=where
        ) from None
