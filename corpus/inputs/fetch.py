"""Downloads into a local cache: resume with HTTP Range, md5 verification, atomic publish.

``fetch(url, cache_dir, md5=None) -> path`` returns the cached file, downloading what is
missing. A partial download is kept as ``<name>.part`` and resumed on the next call. Network
failures and checksum mismatches raise ``Reject`` with reasons ``fetch:http``/``fetch:md5``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import urllib.error
import urllib.request

from speechmill.corpus.reject import Reject

log = logging.getLogger("speechmill.fetch")
CHUNK = 1 << 20


def file_md5(path: str) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def cache_name(url: str) -> str:
    """A cache file name that keeps the URL's base name readable and unique."""
    base = url.rstrip("/").rsplit("/", 1)[-1] or "download"
    return f"{hashlib.sha1(url.encode()).hexdigest()[:10]}-{base}"


def _download_once(url: str, part: str, timeout: float) -> None:
    have = os.path.getsize(part) if os.path.exists(part) else 0
    request = urllib.request.Request(url, headers={"User-Agent": "speechmill"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        resumed = have and response.status == 206
        if have and not resumed:
            log.info("%s: server ignored the resume request, downloading from the start", url)
        with open(part, "ab" if resumed else "wb") as out:
            for block in iter(lambda: response.read(CHUNK), b""):
                out.write(block)
        expected = response.headers.get("Content-Length")
        if expected is not None and os.path.getsize(part) < (have if resumed else 0) + int(
            expected
        ):
            raise ConnectionError("connection closed before the end of the file")


def fetch(
    url: str,
    cache_dir: str,
    *,
    md5: str | None = None,
    retries: int = 4,
    timeout: float = 60.0,
    backoff: float = 1.0,
) -> str:
    """Download ``url`` into ``cache_dir`` (resuming a partial file) and return the local path."""
    os.makedirs(cache_dir, exist_ok=True)
    path = os.path.join(cache_dir, cache_name(url))
    if os.path.exists(path) and (md5 is None or file_md5(path) == md5):
        return path
    part = path + ".part"
    for attempt in range(retries + 1):
        try:
            _download_once(url, part, timeout)
            break
        except urllib.error.HTTPError as e:
            if e.code == 416:  # asked to resume past the end: the part is complete
                break
            if e.code < 500 and e.code != 429:
                raise Reject("fetch:http", f"HTTP {e.code} {e.reason}", where=url) from None
            error = f"HTTP {e.code}"
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
            error = str(getattr(e, "reason", e))
        if attempt == retries:
            raise Reject(
                "fetch:http", f"download failed after {retries + 1} tries: {error}", where=url
            )
        log.warning("%s: %s; retrying (%d/%d)", url, error, attempt + 1, retries)
        time.sleep(backoff * 2**attempt)
    if md5 is not None:
        got = file_md5(part)
        if got != md5:
            os.remove(part)
            raise Reject("fetch:md5", f"md5 {got} does not match the expected {md5}", where=url)
    os.replace(part, path)
    return path
