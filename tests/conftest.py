"""Shared fixtures: small corpora made on the spot with espeak-ng, and a build helper."""

from __future__ import annotations

import contextlib
import http.server
import io
import os
import subprocess
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

# Training in the tests is reproducible: one thread per TensorFlow op pool and deterministic
# kernels, so the session's trained model (and every verdict made with it) is the same on
# every run and under pytest-xdist (each worker is one process on its own core anyway).
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")

import numpy as np
import pytest
import soundfile
import soxr

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Fast, single-process Beam options for most tests; tests of the default runner set their own.
IN_PROCESS = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]

SENTENCES = {
    "84-121123-0000": "THE MILL STOOD WHERE TWO RIVERS MET",
    "84-121123-0001": "SHE LIT THE LAMPS ALONG THE RIVER ROAD",
    "84-121123-0002": "THE WHEEL TURNED AGAIN BEFORE NOON",
    "19-198-0000": "A STRANGER CAME ON THE AFTERNOON COACH",
    "19-198-0001": "HE MEASURED THE WATER EVERY MORNING",
    "19-198-0002": "THE STORM CAME DOWN FROM THE HILLS",
    "26-495-0000": "EIGHT BOATS WERE TIED UP AT THE LANDING",
    "26-495-0001": "NOBODY EVER LEARNED WHY THE PLANS CHANGED",
    "26-495-0002": "THE KEEPER CLIMBS THE TOWER EVERY HALF HOUR",
}
SUBSET_OF_SPEAKER = {"84": "dev-clean", "19": "train-clean-100", "26": "train-clean-100"}
SPEAKERS_TXT = textwrap.dedent("""\
    ; Some of the speakers of a LibriSpeech-layout test corpus
    ;ID  |SEX| SUBSET           |MINUTES| NAME
    19   | F | train-clean-100  | 25.19 | Kara
    26   | M | train-clean-100  | 25.08 | Denny
    84   | F | dev-clean        |  8.02 | Christie
    """)


def speak(text: str, voice: str = "en-us", rate: int = 170, sample_rate: int = 16000) -> np.ndarray:
    """espeak-ng speech for ``text`` as int16 samples at ``sample_rate``."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(rate), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    x, rate_in = soundfile.read(io.BytesIO(wav), dtype="float32")
    y = soxr.resample(x, rate_in, sample_rate)
    return np.clip(np.rint(y * 32768), -32768, 32767).astype(np.int16)


def write_audio(path: Path, samples: np.ndarray, rate: int = 16000) -> Path:
    """Write int16 samples in the format ``path``'s extension names (WAV/FLAC/OGG by libsndfile,
    anything else, e.g. MP3 or M4A, by ffmpeg)."""
    if path.suffix.lower() in (".wav", ".flac", ".ogg"):
        soundfile.write(path, samples, rate)
        return path
    wav = path.with_suffix(".tmp.wav")
    soundfile.write(wav, samples, rate)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), str(path)], check=True)
    wav.unlink()
    return path


def write_librispeech(root: Path, sentences: dict[str, str] = SENTENCES) -> Path:
    """A LibriSpeech/ folder in the official layout (FLAC, trans.txt, SPEAKERS.TXT)."""
    base = root / "LibriSpeech"
    base.mkdir(parents=True, exist_ok=True)
    (base / "SPEAKERS.TXT").write_text(SPEAKERS_TXT)
    chapters: dict[Path, list[str]] = {}
    for utt_id, text in sentences.items():
        speaker, chapter, _ = utt_id.split("-")
        folder = base / SUBSET_OF_SPEAKER.get(speaker, "train-clean-100") / speaker / chapter
        folder.mkdir(parents=True, exist_ok=True)
        soundfile.write(folder / f"{utt_id}.flac", speak(text.lower()), 16000, subtype="PCM_16")
        chapters.setdefault(folder, []).append(f"{utt_id} {text}")
    for folder, lines in chapters.items():
        (folder / f"{folder.parent.name}-{folder.name}.trans.txt").write_text(
            "\n".join(lines) + "\n"
        )
    return base


def with_corrupt_flac(librispeech: Path, folder: Path, utt_id: str) -> Path:
    """A copy of a LibriSpeech-layout folder in ``folder`` whose FLAC ``utt_id`` is damaged."""
    import shutil

    copy = folder / "LibriSpeech"
    shutil.copytree(librispeech, copy)
    speaker, chapter, _ = utt_id.split("-")
    next(copy.glob(f"*/{speaker}/{chapter}/{utt_id}.flac")).write_bytes(b"fLaC" + bytes(300))
    return copy


@pytest.fixture(scope="session")
def librispeech(tmp_path_factory) -> Path:
    """A clean LibriSpeech-layout folder: 9 utterances, 3 speakers, dev-clean + train-clean-100."""
    return write_librispeech(tmp_path_factory.mktemp("ls"))


def make_movie(
    folder: Path,
    name: str,
    lines: list[str],
    first: float = 4.0,
    gap: float = 1.6,
    extra: list[tuple[float, np.ndarray]] = (),
    tail: float = 3.0,
) -> list[tuple[float, float, str]]:
    """Write ``name.mkv``: each line spoken by espeak-ng at a known time, ``extra`` sounds added
    at given times, ``tail`` seconds after the last line; returns (start, end, line) of the
    speech as spoken."""
    RATE = 16000
    rng = np.random.default_rng(0)
    pieces, placed, t = [], [], first
    for line in lines:
        speech = speak(line, rate=175)
        loud = np.flatnonzero(np.abs(speech) > 300)
        speech = speech[loud[0] : loud[-1] + 1]  # exact speech extent: the truth
        placed.append((t, t + len(speech) / RATE, line))
        pieces.append((int(t * RATE), speech))
        t += len(speech) / RATE + gap
    track = (rng.normal(0, 30, int((t + tail) * RATE))).astype(np.int16)  # quiet room noise
    for start, speech in pieces + [(int(t0 * RATE), sound) for t0, sound in extra]:
        track[start : start + len(speech)] += speech
    wav = folder / f"{name}.wav"
    soundfile.write(wav, track, RATE)
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "color=c=black:s=64x48:r=5",
            "-i",
            str(wav),
            "-shortest",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "pcm_s16le",
            str(folder / f"{name}.mkv"),
        ],
        check=True,
    )
    wav.unlink()
    return placed


def srt(cues: list[tuple[float, float, str]], offset: float, ratio: float, extra: str = "") -> str:
    """An SRT whose times are the true times mapped back: sub = (audio - offset) / ratio."""

    def stamp(x: float) -> str:
        ms = int(round(x * 1000))
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    blocks = [
        f"{i}\n{stamp((s - offset) / ratio)} --> {stamp((e - offset) / ratio)}\n{text}"
        for i, (s, e, text) in enumerate(cues, start=1)
    ]
    return "\n\n".join(blocks) + "\n\n" + extra


def write_config(path: Path, body: str, corpus: str = "") -> Path:
    seed = "" if "seed" in corpus else "seed = 7"
    path.write_text(
        f'[corpus]\n{seed}\ncache_dir = "{path.parent / "cache"}"\n'
        f"{textwrap.dedent(corpus)}\n" + textwrap.dedent(body)
    )
    return path


def build(config: Path, out: Path, *extra: str) -> dict:
    from speechmill.commands.corpus import run

    return run(["--config", str(config), "--output", str(out), *(extra or IN_PROCESS)])


def read_corpus(out: Path, split: str) -> list[dict]:
    """Every record of a split through train/data.py, as plain Python values."""
    from speechmill.train.data import split_dataset

    rows = []
    for ex in split_dataset(str(out), split).as_numpy_iterator():
        rows.append({k: (v.decode() if isinstance(v, bytes) else v) for k, v in ex.items()})
    return rows


def read_ledger(out: Path) -> list[dict]:
    """Every line of a folder's rejects ledger, all pieces (a published corpus, or a staging
    folder a refused job left)."""
    import json

    pieces = sorted(out.glob("rejects-*-of-*.jsonl"))
    assert pieces, f"{out}: no ledger pieces"
    return [json.loads(line) for piece in pieces for line in piece.read_text().splitlines()]


class LoopbackSite(http.server.ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 serving ``files`` (path -> bytes) with Range support.

    ``requests`` records (path, Range header); paths in ``slow`` answer after 4 s, paths in
    ``drip`` send one byte every 0.3 s; with ``drop_first`` the first response is cut off halfway.
    Paths in ``endless`` send chunks of their body (HTML or zeros) without end, and paths in
    ``claims`` announce that many bytes and send zeros until the client hangs up.
    """

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SiteHandler)
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.slow: set[str] = set()
        self.drip: set[str] = set()
        self.drop_first = False
        self.endless: set[str] = set()
        self.claims: dict[str, int] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request, client_address):
        """Clients that hang up early (the time-out tests) are expected; stay quiet about them."""


class _SiteHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        """Requests are recorded in ``site.requests``, not printed."""

    def do_GET(self):
        site: LoopbackSite = self.server
        rng = self.headers.get("Range")
        site.requests.append((self.path, rng))
        if self.path in site.slow:
            time.sleep(4)
        if self.path in site.endless or self.path in site.claims:
            self._without_end(site)
            return
        data = site.files.get(self.path)
        if data is None:
            self.send_error(404, "Not Found")
            return
        start = int(rng.split("=")[1].split("-")[0]) if rng else 0
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header(
            "Content-Type",
            "text/html" if self.path.endswith(".html") else "application/octet-stream",
        )
        self.end_headers()
        body = data[start:]
        if self.path in site.drip:
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(0.3)
            return
        if site.drop_first:
            site.drop_first = False
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)

    def _without_end(self, site: LoopbackSite) -> None:
        html = self.path.endswith(".html")
        chunk = b"<p>" + b"a" * (1 << 20) + b"</p>" if html else bytes(1 << 20)
        self.protocol_version = "HTTP/1.1"
        self.send_response(200)
        self.send_header("Content-Type", "text/html" if html else "video/mp4")
        if self.path in site.claims:
            self.send_header("Content-Length", str(site.claims[self.path]))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        framed = chunk if self.path in site.claims else b"%x\r\n%s\r\n" % (len(chunk), chunk)
        with contextlib.suppress(OSError):
            while True:
                self.wfile.write(framed)


@contextlib.contextmanager
def serving() -> Iterator[LoopbackSite]:
    """A LoopbackSite answering requests until the block ends."""
    site = LoopbackSite()
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        yield site
    finally:
        site.shutdown()
        site.server_close()


@pytest.fixture
def loopback_site():
    """A LoopbackSite running for one test."""
    with serving() as site:
        yield site


@pytest.fixture(scope="session")
def librispeech_corpus(tmp_path_factory, librispeech) -> Path:
    """The `librispeech` folder built into a corpus (dev 3, train 6 utterances)."""
    folder = tmp_path_factory.mktemp("built")
    config = write_config(
        folder / "c.toml", f'[[source]]\ntype = "librispeech"\npath = "{librispeech}"\n'
    )
    build(config, folder / "corpus")
    return folder / "corpus"


@pytest.fixture(scope="session")
def sharded_corpus(tmp_path_factory, librispeech) -> Path:
    """The `librispeech` folder built into a corpus of many small shards (train: 6 utterances
    in 5 shards, dev: 3 in 2), so that two workers each read shards of their own."""
    folder = tmp_path_factory.mktemp("sharded")
    config = write_config(
        folder / "c.toml",
        f'[[source]]\ntype = "librispeech"\npath = "{librispeech}"\n',
        corpus="shard_mb = 0.001",
    )
    build(config, folder / "corpus")
    return folder / "corpus"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (`make test` runs two workers), the tests of the session's trained
    model run on one worker, so the model is trained once."""
    for item in items:
        if "verify_model" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("trained-model"))


VERIFY_VOICE = ("en-us", 175)  # the voice of the verification tests' film and of its model's corpus


def verify_model_corpus(out: Path, train: list[str] | None = None) -> Path:
    """The verify model's corpus: every book of configs/books but one (or the ``train`` books
    named) spoken by VERIFY_VOICE (train, about 32 minutes), the held-out one as dev (12
    utterances)."""
    books = Path(__file__).resolve().parent.parent / "configs" / "books"
    held_out = books / "notes-from-a-lighthouse.txt"
    chosen = [books / n for n in train] if train else sorted(set(books.glob("*.txt")) - {held_out})
    train_books = ", ".join(f'"{p}"' for p in chosen)
    voice, rate = VERIFY_VOICE
    config = write_config(
        out.parent / f"{out.name}.toml",
        f"""
        [[source]]
        type = "gutenberg"
        books = [{train_books}]
        voices = ["{voice}"]
        rates = [{rate}]
        split = "train"

        [[source]]
        type = "gutenberg"
        books = ["{held_out}"]
        voices = ["{voice}"]
        rates = [{rate}]
        split = "dev"
        """,
        corpus="max_seconds = 12.0",
    )
    build(config, out)
    return out


@pytest.fixture(scope="session")
def verify_model(tmp_path_factory) -> Path:
    """A small CTC model trained once per test session (600 steps, about 3 minutes on 2 cores) on the project's own
    books spoken by the voice the verification films use: good enough to tell a right cue from a
    wrong one (held-out sentences: CER about 0.14). Training ends by calibrating it for verify
    on the dev book (``calibration.json``)."""
    from speechmill.commands.train import main as train

    folder = tmp_path_factory.mktemp("verify-model")
    verify_model_corpus(folder / "corpus")
    run = folder / "run"
    assert (
        train(
            [
                "--data",
                str(folder / "corpus"),
                "--run",
                str(run),
                "--steps",
                "600",
                "--batch-size",
                "8",
                "--preset",
                "bigru",
                "--rnn-units",
                "96",
                "--learning-rate",
                "2e-3",
                "--warmup-steps",
                "0",
                "--decay",
                "constant",
                "--weight-decay",
                "0",
            ]
        )
        == 0
    )
    return run
