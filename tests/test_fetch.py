"""Downloads from a loopback mirror: resume, md5 verification, cache, and sources that use them."""

from __future__ import annotations

import hashlib
import io
import tarfile

import pytest
from support.jobs import build, read_corpus, write_config

from speechmill.corpus.inputs.fetch import fetch
from speechmill.corpus.reject import Reject


@pytest.fixture
def mirror(loopback_site):
    return loopback_site


def test_interrupted_download_resumes_and_is_verified(tmp_path, mirror):
    data = bytes(range(256)) * 4000
    mirror.files["/big.bin"] = data
    mirror.drop_first = True
    path = fetch(
        f"{mirror.url}/big.bin", str(tmp_path), md5=hashlib.md5(data).hexdigest(), backoff=0.01
    )
    assert open(path, "rb").read() == data
    assert mirror.requests[0] == ("/big.bin", None)
    assert mirror.requests[1][1] == f"bytes={len(data) // 2}-"  # resumed where it stopped
    fetch(f"{mirror.url}/big.bin", str(tmp_path), md5=hashlib.md5(data).hexdigest())
    assert len(mirror.requests) == 2  # served from the cache


def test_checksum_mismatch_and_missing_file_are_clear_rejects(tmp_path, mirror):
    mirror.files["/a.bin"] = b"payload"
    with pytest.raises(Reject) as caught:
        fetch(f"{mirror.url}/a.bin", str(tmp_path), md5="0" * 32)
    assert caught.value.reason == "fetch:md5" and "does not match" in caught.value.detail
    assert list(tmp_path.iterdir()) == []  # nothing half-written kept
    with pytest.raises(Reject) as caught:
        fetch(f"{mirror.url}/nothing.bin", str(tmp_path))
    assert caught.value.reason == "fetch:http" and "404" in caught.value.detail


def test_librispeech_subset_is_downloaded_from_the_configured_mirror(tmp_path, mirror, librispeech):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(librispeech / "SPEAKERS.TXT", arcname="LibriSpeech/SPEAKERS.TXT")
        tar.add(librispeech / "dev-clean", arcname="LibriSpeech/dev-clean")
    mirror.files["/slr12/dev-clean.tar.gz"] = buffer.getvalue()
    config = write_config(
        tmp_path / "c.toml",
        f"""
        [[source]]
        type = "librispeech"
        path = "dev-clean"
        mirror = "{mirror.url}/slr12/{{subset}}.tar.gz"
        md5 = "{hashlib.md5(buffer.getvalue()).hexdigest()}"
        """,
    )
    info = build(config, tmp_path / "corpus")
    assert info["splits"]["dev"]["examples"] == 3
    assert {r["gender"] for r in read_corpus(tmp_path / "corpus", "dev")} == {"f"}
    build(config, tmp_path / "again")
    assert [p for p, _ in mirror.requests] == [
        "/slr12/dev-clean.tar.gz"
    ]  # second build used the cache


def test_gutenberg_book_ids_are_fetched_from_the_mirror(tmp_path, mirror):
    mirror.files["/cache/epub/4242/pg4242.txt"] = (
        b"*** START OF THE PROJECT GUTENBERG EBOOK X ***\r\n\r\nThe garden gate creaked in the wind, "
        b"and the old dog lifted its head to listen.\r\n\r\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\r\n"
    )
    config = write_config(
        tmp_path / "c.toml",
        f"""
        [[source]]
        type = "gutenberg"
        books = ["4242"]
        mirror = "{mirror.url}/cache/epub/{{id}}/pg{{id}}.txt"
        voices = ["en-us"]
        """,
    )
    info = build(config, tmp_path / "corpus")
    rows = [r for split in info["splits"] for r in read_corpus(tmp_path / "corpus", split)]
    assert [r["text"] for r in rows] == [
        "the garden gate creaked in the wind and the old dog lifted its head to listen"
    ]
    assert rows[0]["group"] == "gutenberg/pg4242" and rows[0]["origin"].startswith(mirror.url)
