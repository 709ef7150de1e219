"""Every registered source through the same contract checks.

A new source adds one row to ``ROWS``: a function that writes a small input of that source's
shape and returns the ``[[source]]`` table plus the transcripts the corpus must hold. Nothing
else here changes, and a registered source without a row fails ``test_every_source_has_a_row``.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest
from support.jobs import build, read_corpus, write_config
from support.site import LoopbackSite, serving
from support.speech import SENTENCES, speak, write_audio, write_librispeech

from speechmill.corpus.config import ConfigError
from speechmill.corpus.inputs.book import book_pieces
from speechmill.corpus.schema import ALPHABET
from speechmill.corpus.sources import (
    COMMON_KEYS,
    REGISTRY,
    Source,
    SourceContext,
    make_source,
)
from speechmill.corpus.text import normalize


@dataclasses.dataclass
class Row:
    table: dict  # the [[source]] table, paths filled in
    texts: set[str]  # every normalized transcript the built corpus must hold, no more


LINES = [
    "The lamps were lit at six.",
    "Martha carried the ladder up the hill.",
    "Nobody expected the river to rise so fast.",
    "Two boats were tied at the landing.",
]


def librispeech_row(folder: Path, site: LoopbackSite) -> Row:
    root = write_librispeech(folder)
    return Row({"type": "librispeech", "path": str(root)}, {t.lower() for t in SENTENCES.values()})


BOOK = """The Project Gutenberg eBook of Lamps

*** START OF THE PROJECT GUTENBERG EBOOK LAMPS ***

The lamps were lit at six every evening. Martha carried the ladder from post to post.

Nobody in the village remembered a night when she had missed one of them.

*** END OF THE PROJECT GUTENBERG EBOOK LAMPS ***
"""


def gutenberg_row(folder: Path, site: LoopbackSite) -> Row:
    book = folder / "lamps.txt"
    book.write_text(BOOK)
    texts = {normalize(p) for p in book_pieces(BOOK.encode(), min_words=4, max_words=40)}
    return Row(
        {
            "type": "gutenberg",
            "books": [str(book)],
            "voices": ["en-us"],
            "rates": [170],
            "min_words": 4,
        },
        texts,
    )


def movies_row(folder: Path, site: LoopbackSite) -> Row:
    from support.speech import make_movie, srt

    placed = make_movie(folder, "lamps", LINES)
    (folder / "lamps.en.srt").write_text(srt(placed, offset=0.0, ratio=1.0))
    return Row(
        {"type": "movies", "path": str(folder), "license": "CC BY 4.0 (made by the tests)"},
        {normalize(line) for line in LINES},
    )


def youtube_row(folder: Path, site: LoopbackSite) -> Row:
    from support.site import page
    from support.speech import stamp, video_with_speech

    placed = video_with_speech(folder, "lamps", LINES[:2])
    site.files["/lamps.mp4"] = (folder / "lamps.mp4").read_bytes()
    site.files["/lamps.vtt"] = (
        "WEBVTT\n\n"
        + "\n".join(f"{stamp(s - 0.1)} --> {stamp(e + 0.1)}\n{line}\n" for s, e, line in placed)
    ).encode()
    site.files["/watch/lamps.html"] = page("/lamps.mp4", "/lamps.vtt")
    return Row(
        {
            "type": "youtube",
            "urls": [f"{site.url}/watch/lamps.html"],
            "retries": 0,
            "sleep_subtitles": 0,
        },
        {normalize(line) for line in LINES[:2]},
    )


def folder_row(folder: Path, site: LoopbackSite) -> Row:
    root = folder / "recordings"
    takes = {
        "alice/a1.wav": LINES[0],
        "alice/day2/a2.flac": LINES[1],
        "bob/b1.mp3": LINES[2],
        "bob/b2.m4a": LINES[3],
    }
    for name, line in takes.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_audio(path, speak(line))
        path.with_suffix(".lab" if name.endswith(".flac") else ".txt").write_text(line + "\n")
    return Row({"type": "folder", "path": str(root)}, {normalize(line) for line in LINES})


def commonvoice_row(folder: Path, site: LoopbackSite) -> Row:
    from support.speech import write_commonvoice

    root = write_commonvoice(
        folder / "en",
        {
            "train": [("c1", LINES[0]), ("c2", LINES[1])],
            "dev": [("c3", LINES[2])],
            "test": [("c4", LINES[3])],
        },
    )
    return Row({"type": "commonvoice", "path": str(root)}, {normalize(line) for line in LINES})


def manifest_row(folder: Path, site: LoopbackSite) -> Row:
    """A NeMo manifest: relative paths, a speaker field or the folder, and one long recording
    cut into two lines by offset and duration."""
    import numpy as np

    root = folder / "nemo"
    (root / "wavs" / "s1").mkdir(parents=True)
    (root / "wavs" / "s2").mkdir(parents=True)
    write_audio(root / "wavs" / "s1" / "a.wav", speak(LINES[0]))
    write_audio(root / "wavs" / "s2" / "b.flac", speak(LINES[1]))
    first, second = speak(LINES[2]), speak(LINES[3])
    gap = np.zeros(8000, first.dtype)
    write_audio(root / "wavs" / "long.wav", np.concatenate([first, gap, second]))
    lines = [
        {"audio_filepath": "wavs/s1/a.wav", "duration": len(speak(LINES[0])) / 16000, "text": LINES[0]},
        {"audio_filepath": "wavs/s2/b.flac", "duration": 1.0, "text": LINES[1], "speaker": "bee"},
        {"audio_filepath": "wavs/long.wav", "offset": 0.0, "duration": len(first) / 16000, "text": LINES[2]},
        {"audio_filepath": "wavs/long.wav", "offset": (len(first) + 8000) / 16000,
         "duration": len(second) / 16000, "text": LINES[3]},
    ]  # fmt: skip
    (root / "train_manifest.json").write_text("".join(json.dumps(r) + "\n" for r in lines))
    return Row(
        {"type": "manifest", "path": str(root / "train_manifest.json")},
        {normalize(line) for line in LINES},
    )


def audiobook_row(folder: Path, site: LoopbackSite) -> Row:
    """Three real prompts (the asterisk recordings) as a "book" in Gutenberg layout, read
    aloud in one recording with a pause after each."""
    import numpy as np
    import soundfile as sf
    from support.prompts import every_nth, load16k

    chosen = [p for p in every_nth(15, min_words=5) if not any(c.isdigit() for c in p[2])][:3]
    gap = np.zeros(int(1.2 * 16000), np.float32)
    reader = folder / "reader"
    reader.mkdir()
    audio = np.concatenate([x for _, wav, _ in chosen for x in (load16k(wav), gap)])
    sf.write(reader / "chapter01.wav", audio, 16000)
    book = folder / "prompts.txt"
    header, footer = BOOK.split("The lamps were lit")[0], BOOK.split("of them.")[1]
    book.write_text(header + "\n\n".join(text for _, _, text in chosen) + footer)
    return Row(
        {"type": "audiobook", "audio": str(reader), "text": str(book)},
        {normalize(text) for _, _, text in chosen},
    )


ROWS: dict[str, Callable[[Path, LoopbackSite], Row]] = {
    "librispeech": librispeech_row,
    "gutenberg": gutenberg_row,
    "movies": movies_row,
    "youtube": youtube_row,
    "folder": folder_row,
    "commonvoice": commonvoice_row,
    "manifest": manifest_row,
    "audiobook": audiobook_row,
}


def test_every_source_has_a_row():
    assert set(ROWS) == set(REGISTRY)


@pytest.fixture(scope="module")
def site():
    with serving() as server:
        yield server


@pytest.fixture(scope="module", params=sorted(ROWS))
def row(request, tmp_path_factory, site) -> tuple[str, Row, Path]:
    folder = tmp_path_factory.mktemp(request.param)
    return request.param, ROWS[request.param](folder, site), folder


def _context(folder: Path) -> SourceContext:
    return SourceContext(base_dir=str(folder), cache_dir=str(folder / "cache"), sample_rate=16000)


def test_the_class_states_the_contract(row):
    kind, _, _ = row
    cls = REGISTRY[kind]
    assert issubclass(cls, Source) and cls.name == kind
    assert isinstance(cls.LICENSE, str) and cls.LICENSE.strip()
    assert isinstance(cls.KEYS, frozenset) and not cls.KEYS & COMMON_KEYS


def test_bad_tables_are_config_errors_naming_the_key(row):
    kind, r, folder = row
    for extra, words in [
        ({"colour": "red"}, ["unknown key(s) colour", f"[[source]] {kind}"]),
        ({"limit": 0}, ["limit must be a positive integer"]),
        ({"limit": "5"}, ["limit must be a positive integer"]),
        ({"split": "valid"}, ["split must be one of train, dev, test"]),
    ]:
        with pytest.raises(ConfigError) as caught:
            make_source({**r.table, **extra}, _context(folder))
        assert all(w in str(caught.value) for w in words), (extra, str(caught.value))


def test_units_are_stable_unique_picklable_and_typed(row):
    kind, r, folder = row
    source = make_source(r.table, _context(folder))
    units = source.units()
    assert units and len({u.key for u in units}) == len(units)
    assert [u.key for u in source.units()] == [u.key for u in units]
    clone = pickle.loads(pickle.dumps(source))
    assert [(u.key, u.payload) for u in clone.units()] == [(u.key, u.payload) for u in units]
    if kind != "youtube":  # (a worker expands a URL by asking the site; see test_youtube)
        expanded = [x for u in units for x in source.expand(u)]  # what the workers do
        again = [x for u in clone.units() for x in clone.expand(u)]
        assert [(u.key, u.payload) for u in again] == [(u.key, u.payload) for u in expanded]
        assert expanded and len({u.key for u in expanded}) == len(expanded)
        units = units + expanded
    for unit in units:
        assert unit.source == kind
        assert (
            dataclasses.is_dataclass(unit.payload)
            and type(unit.payload).__dataclass_params__.frozen
        )


@pytest.fixture(scope="module")
def built(row, tmp_path_factory):
    kind, r, folder = row
    out = tmp_path_factory.mktemp(f"{kind}-corpus") / "corpus"
    body = "[[source]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in r.table.items())
    info = build(write_config(folder / "contract.toml", body), out)
    return kind, r, folder, out, info


def test_builds_end_to_end_and_reads_back_through_tf_data(built):
    kind, r, folder, out, info = built
    source = make_source(r.table, _context(folder))
    assert info["rejects"]["total"] == 0, json.dumps(info["rejects"])
    assert {"type": kind, "license": source.license} in [
        {k: s[k] for k in ("type", "license")} for s in info["sources"]
    ]
    rows = [row for split in info["splits"] for row in read_corpus(out, split)]
    assert {row["text"] for row in rows} == r.texts and len(rows) == len(r.texts)
    for row in rows:
        assert row["source"] == kind and row["id"].startswith(f"{kind}/")
        assert row["speaker"].startswith(f"{kind}/") and row["group"].startswith(f"{kind}/")
        assert row["license"] and set(row["text"]) <= set(ALPHABET)
        assert row["num_samples"] == len(row["audio"]) >= 0.5 * 16000
