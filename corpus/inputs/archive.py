"""Safe streaming reads of tar archives (.tar, .tar.gz, .tgz).

Members are read into memory, never extracted, so nothing can be written anywhere. Members
whose path is absolute or escapes the archive root, links and special files are yielded as
``Reject``; a truncated or corrupt archive raises ``Reject("archive:truncated")`` after the
members read so far.
"""
from __future__ import annotations

import posixpath
import tarfile
import zlib
from typing import BinaryIO, Iterator

from corpus.reject import Reject


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


def iter_members(fileobj: BinaryIO, where: str) -> Iterator[tuple[str, bytes] | Reject]:
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
                handle = tar.extractfile(member)
                data = handle.read() if handle else b""
                if len(data) != member.size:
                    raise tarfile.ReadError(f"member {member.name!r} is cut short")
                yield posixpath.normpath(member.name), data
    except (tarfile.ReadError, tarfile.StreamError, EOFError, zlib.error, OSError) as e:
        raise Reject("archive:truncated", f"archive is truncated or corrupt: {e}", where=where) from None
