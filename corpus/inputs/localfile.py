"""Reading one input file of a source's tree, refusing what is not a file of that tree.

``read_input(path, root, kind)`` returns the bytes of ``path`` (``check_input`` only checks it,
for a reader such as ffmpeg that opens the path itself; ``open_input`` opens an
:class:`InputFile` for a reader such as libsndfile that reads the open file itself) and raises
``Reject`` for what a plain open would hang on or reach beyond: a FIFO, device or socket
(``<kind>:not-a-file``; the file is opened without blocking and checked before a byte is read)
and a symbolic link that leads out of ``root`` (``<kind>:link-outside``, unless the config's
``follow_links = true``). Paths on object stores (``gs://``, ``s3://``) have neither, and are
read as they are.
"""

from __future__ import annotations

import functools
import os
import stat
from typing import BinaryIO

from speechmill.corpus import storage
from speechmill.corpus.reject import Reject
from speechmill.corpus.types import InputFile

KINDS = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a folder",
}


def check_input(path: str, root: str, kind: str, follow_links: bool = False) -> None:
    """Raise Reject unless ``path`` is a regular file in the tree under ``root`` (for a reader
    such as ffmpeg that opens the path itself); ``kind`` ("audio", "text") names the reasons."""
    _open_checked(path, root, kind, follow_links).close()


def read_input(path: str, root: str, kind: str, follow_links: bool = False) -> bytes:
    """The bytes of ``path``, a regular file in the tree under ``root`` (else Reject)."""
    with _open_checked(path, root, kind, follow_links) as f:
        return f.read()


def open_input(file: InputFile) -> BinaryIO:
    """``file`` opened for reading, after the checks of ``read_input`` (else Reject)."""
    return _open_checked(file.path, file.root, file.kind, file.follow_links)


def _open_checked(path: str, root: str, kind: str, follow_links: bool) -> BinaryIO:
    if "://" in path and not path.startswith("file://"):
        return storage.open_read(path)
    local = path.removeprefix("file://")
    if not follow_links:
        real, top = _real_path(local), _real_folder(os.path.abspath(root.removeprefix("file://")))
        if os.path.commonpath([real, top]) != top:
            raise Reject(
                f"{kind}:link-outside",
                f"a link to {real}, outside {root} (set follow_links = true to read it)",
                where=path,
            )
    fd = os.open(local, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO opens without a writer
    f = os.fdopen(fd, "rb")
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        f.close()
        what = KINDS.get(stat.S_IFMT(mode), "not a regular file")
        raise Reject(f"{kind}:not-a-file", f"{what}, not a regular file", where=path)
    os.set_blocking(fd, True)
    return f


def _real_path(local: str) -> str:
    """``os.path.realpath(local)``, with the folder's resolved once per folder: a file that is
    no link is its real folder plus its name (one ``lstat``, where ``realpath`` takes one per
    level of the path: 1 s of a 24-hour build)."""
    folder, name = os.path.split(local)
    if name in ("", ".", "..") or os.path.islink(local):
        return os.path.realpath(local)
    return os.path.join(_real_folder(os.path.abspath(folder or ".")), name)


@functools.lru_cache(maxsize=1024)
def _real_folder(folder: str) -> str:
    """An absolute folder's real path, remembered: a build reads many files of each folder."""
    return os.path.realpath(folder)
