"""Files by path or URL: Beam's FileSystems when Beam is installed, plain local files otherwise.

Every module that touches a corpus, a source's inputs or a job's working folder goes through
these few functions, so reading a corpus (``lm``, ``inspect``, ``report``, training) needs no
Beam, and the corpus jobs reach ``gs://``, ``s3://`` and the like through Beam unchanged.

    with storage.open_read(path) as f: ...        # binary, uncompressed
    with storage.create(path) as f: ...           # binary, truncates
    storage.copy_ranges([(path, start, end)], target)  # byte ranges, by the kernel when local
    storage.match(pattern) -> [FileInfo]          # files only; ``*`` within a folder, ``**`` below
"""

from __future__ import annotations

import dataclasses
import functools
import glob
import os
import shutil
import stat
from typing import Any, BinaryIO


@dataclasses.dataclass(frozen=True)
class FileInfo:
    """One matched file: its path, size in bytes and modification time (seconds)."""

    path: str
    size: int
    mtime: float


@functools.lru_cache(maxsize=1)
def _beam() -> Any:
    """Beam's FileSystems class, or None when Beam is not installed."""
    try:
        from apache_beam.io.filesystems import FileSystems
    except ImportError:
        return None
    return FileSystems


def _uncompressed() -> Any:
    from apache_beam.io.filesystem import CompressionTypes

    return CompressionTypes.UNCOMPRESSED


def _local(path: str) -> str:
    """A local path from a path or a ``file://`` URL; other URLs need Beam."""
    if path.startswith("file://"):
        return path[len("file://") :]
    if "://" in path:
        raise FileNotFoundError(
            f"{path}: reading URLs needs Beam's file systems: pip install 'speechmill[corpus]'"
        )
    return path


def open_read(path: str) -> BinaryIO:
    """A binary file opened for reading (no decompression)."""
    fs = _beam()
    if fs is not None:
        return fs.open(path, compression_type=_uncompressed())
    return open(_local(path), "rb")


def create(path: str, mime_type: str = "application/octet-stream") -> BinaryIO:
    """A binary file opened for writing (created or truncated; no compression)."""
    fs = _beam()
    if fs is not None:
        return fs.create(path, mime_type=mime_type, compression_type=_uncompressed())
    return open(_local(path), "wb")


COPY_CHUNK = 8 << 20


def _is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file://")


def copy_ranges(ranges: list[tuple[str, int, int]], target: str) -> int:
    """Write the byte ranges (path, start, end) one after another into ``target`` (created or
    truncated); returns the bytes written. Local files are copied by the kernel
    (``os.copy_file_range``: no bytes pass through Python), others through Beam's streams."""
    written = 0
    if _is_local(target) and all(_is_local(p) for p, _, _ in ranges):
        with open(_local(target), "wb") as out:
            for path, start, end in ranges:
                with open(_local(path), "rb") as f:
                    written += _kernel_copy(f, out, start, end, path)
        return written
    with create(target) as out:
        for path, start, end in ranges:
            with open_read(path) as f:
                written += _stream_copy(f, out, start, end, path)
    return written


def _stream_copy(f: BinaryIO, out: BinaryIO, start: int, end: int, path: str) -> int:
    """Bytes [start, end) of ``f`` appended to ``out`` through user space, in blocks."""
    f.seek(start)
    left = end - start
    while left:
        block = f.read(min(COPY_CHUNK, left))
        if not block:
            raise OSError(f"{path}: ends before byte {end}")
        out.write(block)
        left -= len(block)
    return end - start


def _kernel_copy(f: BinaryIO, out: BinaryIO, start: int, end: int, path: str) -> int:
    """Bytes [start, end) of ``f`` appended to ``out``: copy_file_range, else read + write."""
    left, offset = end - start, start
    out.flush()  # whatever a fallback wrote goes first
    try:
        while left:
            n = os.copy_file_range(f.fileno(), out.fileno(), min(left, 1 << 30), offset)
            if n == 0:
                raise OSError(f"{path}: ends before byte {end}")
            left, offset = left - n, offset + n
        _drop_cached(f, start, end)
        return end - start
    except OSError as error:
        if error.errno is None:  # ours: the file is short
            raise
    _stream_copy(f, out, offset, end, path)  # a file system without copy_file_range
    return end - start


def _drop_cached(f: BinaryIO, start: int, end: int) -> None:
    """Drop bytes [start, end) of a copied file from the page cache where they are already on
    disk (the kernel starts writing the rest): a part's bytes, once in their shard, are not
    read again in this build, so the shard's pages reuse theirs instead of taking fresh memory
    (on the development VM a fresh page costs several CPU seconds per GB) and a build of
    hundreds of GB does not push the user's other files out of the cache twice."""
    try:
        os.posix_fadvise(f.fileno(), start, end - start, os.POSIX_FADV_DONTNEED)
    except (AttributeError, OSError):  # no such call here, or a file system without it: a hint
        pass


def read_bytes(path: str) -> bytes:
    with open_read(path) as f:
        return f.read()


def exists(path: str) -> bool:
    fs = _beam()
    return fs.exists(path) if fs is not None else os.path.exists(_local(path))


def match(pattern: str) -> list[FileInfo]:
    """The files a pattern names (``*`` within a folder, ``**`` across folders), sorted by path;
    a path without a wildcard names itself, a folder too."""
    fs = _beam()
    if fs is not None and not _globbed_locally(pattern):
        found = [
            FileInfo(m.path, m.size_in_bytes, m.last_updated_in_seconds)
            for m in fs.match([pattern])[0].metadata_list
        ]
    else:
        found = _glob(_local(pattern))
    return sorted(found, key=lambda info: info.path)


def _globbed_locally(pattern: str) -> bool:
    """A local pattern within folders (no ``**``): the standard glob lists only the folders it
    names and stats only what matches, where Beam's local match walks everything below the
    pattern's first wildcard and stats every file it finds (a tree's five depths of
    ``*.trans.txt`` and a chapter's ``*.flac`` cost a 24-hour build about 2 s)."""
    return "://" not in pattern and "**" not in pattern


def _glob(pattern: str) -> list[FileInfo]:
    """What Beam's local match gives: a path without a wildcard if it exists; else the files
    (a FIFO too: its reader refuses it) of the walk from the folders before the first
    wildcard, which never enters a link to a folder."""
    if not glob.has_magic(pattern):
        try:
            st = os.stat(pattern)
        except OSError:
            return []
        return [FileInfo(pattern, st.st_size, st.st_mtime)]
    parts = pattern.split("/")
    walked_from = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    links: dict[str, bool] = {}

    def is_link(folder: str) -> bool:
        if folder not in links:
            links[folder] = os.path.islink(folder)
        return links[folder]

    found = []
    for path in glob.glob(pattern, recursive=True, include_hidden=True):
        try:
            st = os.stat(path)
        except OSError:  # gone since the listing, or a dangling link
            continue
        folders = path.split("/")[:-1]
        entered = ("/".join(folders[: i + 1]) for i in range(walked_from, len(folders)))
        if not stat.S_ISDIR(st.st_mode) and not any(map(is_link, entered)):
            found.append(FileInfo(path, st.st_size, st.st_mtime))
    return found


def size(path: str) -> int:
    """The size of one file in bytes; FileNotFoundError when there is none."""
    found = match(path)
    if not found:
        raise FileNotFoundError(f"{path}: no such file")
    return found[0].size


def delete(paths: list[str]) -> None:
    """Delete files or folders (a folder with everything in it)."""
    if not paths:
        return
    fs = _beam()
    if fs is not None:
        fs.delete(list(paths))
        return
    for path in map(_local, paths):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)


def delete_if_exists(path: str) -> None:
    if exists(path):
        delete([path])


def rename(source: str, target: str) -> None:
    """Move one file or folder to a name that does not exist yet."""
    fs = _beam()
    if fs is not None:
        fs.rename([source], [target])
    else:
        os.rename(_local(source), _local(target))


def replace(source: str, target: str) -> None:
    """Move ``source`` over ``target`` (removed first when it exists)."""
    delete_if_exists(target)
    rename(source, target)


def mkdirs(path: str) -> None:
    """Make a folder and its parents; nothing when it exists."""
    if exists(path):
        return
    fs = _beam()
    if fs is not None:
        fs.mkdirs(path)
    else:
        os.makedirs(_local(path), exist_ok=True)
