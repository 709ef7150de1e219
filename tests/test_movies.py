"""Subtitled movies made by the tests: espeak-ng speech at known times muxed with a video track
by ffmpeg, subtitles shifted by a known offset and framerate ratio, in awkward encodings."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support.jobs import build, read_corpus, read_ledger, write_config
from support.speech import LINES, make_movie, srt

from speechmill.corpus.reader import load_info, utterances
from speechmill.corpus.reject import Reject
from speechmill.corpus.subtitles.clean import clean_cue_text
from speechmill.corpus.subtitles.parse import decode_subtitles, parse_srt
from speechmill.corpus.text import normalize

RATE = 16000


@pytest.fixture(scope="module")
def movies(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("movies")
    truth = {}
    # 1: cp1252 + CRLF, +2.5 s offset, subtitles timed for 25 fps but the film runs at 23.976.
    placed = make_movie(folder, "harbour", LINES)
    truth["harbour"] = placed
    cues = [
        (s, e, t.replace("eggs", "eggs \u2014 caf\u00e9 style")) if i == 1 else (s, e, t)
        for i, (s, e, t) in enumerate(placed)
    ]
    cues[2] = (cues[2][0], cues[2][1], "JOHN: " + cues[2][2])
    extra = (
        "20\n00:00:00,500 --> 00:00:01,500\n[SEAGULLS CRYING]\n\n"
        "21\n00:00:01,600 --> 00:00:02,000\n# La la la #\n\n"
        "22\nthis block has no timing line\n\n"
    )
    text = srt(cues, offset=2.5, ratio=25 / 23.976, extra=extra)
    (folder / "harbour.en.srt").write_bytes(text.replace("\n", "\r\n").encode("cp1252"))
    # 2: UTF-16 with BOM, -1.2 s offset, no framerate change.
    truth["market"] = make_movie(folder, "market", LINES[:5], first=2.0)
    (folder / "market.srt").write_bytes(
        srt(truth["market"], offset=-1.2, ratio=1.0).encode("utf-16")
    )
    # 3: no file beside the video: the subtitles are a stream inside the mkv.
    truth["lighthouse"] = make_movie(folder, "plain", LINES[3:7], first=3.0)
    (folder / "inside.srt").write_text(srt(truth["lighthouse"], offset=0.8, ratio=1.0))
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(folder / "plain.mkv"),
            "-i",
            str(folder / "inside.srt"),
            "-map",
            "0",
            "-map",
            "1",
            "-c",
            "copy",
            "-c:s",
            "srt",
            str(folder / "lighthouse.mkv"),
        ],
        check=True,
    )
    (folder / "plain.mkv").unlink()
    (folder / "inside.srt").rename(folder / "inside.txt")
    # 4: subtitles that belong to another film: rejected whole by the sync score.
    make_movie(folder, "wrong", LINES[:4], first=3.0, gap=6.0)
    bogus = [(20 + 0.7 * i, 20.4 + 0.7 * i, f"line number {i}") for i in range(12)]
    (folder / "wrong.srt").write_text(srt(bogus, offset=0.0, ratio=1.0))
    return folder, truth


def test_movies_are_resynced_and_cut_into_utterances(tmp_path, movies):
    folder, truth = movies
    config = write_config(
        tmp_path / "m.toml",
        f"""
        [[source]]
        type = "movies"
        path = "{folder}"
        split = "train"
        [quality]
        dedupe_sounds = false  # the three films reuse one voice reading the same lines
        """,
        corpus="max_reject_fraction = 0.5",
    )
    out = tmp_path / "corpus"
    info = build(config, out)

    sync = {a["item"]: a for a in info["alignment"]}
    assert abs(sync["movies/harbour"]["offset"] - 2.5) <= 0.05
    assert sync["movies/harbour"]["ratio"] == pytest.approx(25 / 23.976, abs=1e-4)
    assert (
        abs(sync["movies/market"]["offset"] - (-1.2)) <= 0.05
        and sync["movies/market"]["ratio"] == 1.0
    )
    assert (
        abs(sync["movies/lighthouse"]["offset"] - 0.8) <= 0.05
        and "embedded" in sync["movies/lighthouse"]["subtitles"]
    )
    assert sync["movies/harbour"]["score"] > 0.8

    ledger = read_ledger(out)
    reasons = {
        (r["id"].split("/cue")[0] if "/cue" in r["id"] else r["id"], r["reason"]) for r in ledger
    }
    assert ("movies/harbour", "cue:no-speech") in reasons and (
        "movies/harbour",
        "cue:song",
    ) in reasons
    assert ("movies/harbour", "subtitle:malformed-cue") in reasons
    wrong = [r for r in ledger if r["reason"] == "sync:low-score"]
    assert len(wrong) == 1 and "wrong.srt" in wrong[0]["where"] and "score" in wrong[0]["detail"]

    rows = read_corpus(out, "train")
    spans = {
        u.id: (u.media, u.media_span) for u in utterances(str(out), load_info(str(out)), "train")
    }
    for movie, placed in truth.items():
        mine = sorted((r for r in rows if r["group"] == f"movies/{movie}"), key=lambda r: r["id"])
        assert len(mine) == len(placed)
        for row, (start, end, line) in zip(mine, placed):
            expected = normalize(
                line.replace("eggs", "eggs \u2014 caf\u00e9 style")
                if "eggs" in line and movie == "harbour"
                else line
            )
            assert row["text"] == expected
            media, (t0, t1) = spans[row["id"]]  # the span's time in its film, as record fields
            assert media.endswith(".mkv") and row["origin"].startswith(media)
            assert abs(t0 - start) < 0.3 and abs(t1 - end) < 0.5, (row["id"], t0, t1, start, end)


FRENCH = (
    "1\r\n00:00:01,000 --> 00:00:02,000\r\nLe caf\u00e9 \u00e9tait d\u00e9j\u00e0 ferm\u00e9, "
    "et la cr\u00e8me br\u00fbl\u00e9e aussi.\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\n"
    "O\u00f9 \u00eates-vous all\u00e9s, mes fr\u00e8res ? \u00c0 la gare.\r\n"
)
CZECH = (
    "1\r\n00:00:01,000 --> 00:00:02,000\r\nP\u0159\u00edli\u0161 \u017elu\u0165ou\u010dk\u00fd "
    "k\u016f\u0148 \u00fap\u011bl \u010f\u00e1belsk\u00e9 \u00f3dy.\r\n\r\n2\r\n"
    "00:00:03,000 --> 00:00:04,000\r\n\u010cern\u00e1 hora, \u0159eka a \u017elut\u00fd "
    "\u0161\u00e1tek.\r\n"
)


@pytest.mark.parametrize(
    "text, codec",
    [
        (FRENCH, "cp1252"),
        (CZECH, "cp1250"),
        (FRENCH, "utf-16"),
        (CZECH, "utf-16-le"),
        (FRENCH, "utf-8-sig"),
        (CZECH, "utf-8"),
        (FRENCH, "utf-32"),
        (CZECH, "utf-32-be"),
        (FRENCH, "latin-1"),
    ],
)
def test_subtitle_encodings_are_detected(text, codec):
    raw = text.encode(codec)
    if codec == "utf-32-be":
        raw = b"\x00\x00\xfe\xff" + raw
    decoded = decode_subtitles(raw)
    assert decoded == text.replace("\r\n", "\n")


def test_malformed_cues_are_rejected_and_the_rest_parses():
    cues, rejects = parse_srt(
        "1\n00:00:01,000 --> 00:00:02,000\nGood one\n\n2\n00:00:05,000 --> 00:00:04,000\n"
        "Backwards\n\n3\nno timing\n\n4\n00:00:06,000 --> 00:00:07,500\nAlso good\n"
    )
    assert [(c.start, c.end, c.text) for c in cues] == [
        (1.0, 2.0, "Good one"),
        (6.0, 7.5, "Also good"),
    ]
    assert [r.reason for r in rejects] == ["subtitle:malformed-cue"] * 2


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("<i>Hello</i> {\\an8}there", "Hello there"),
        ("JOHN: Where are you?\nMARY (O.S.): Here.", "Where are you? Here."),
        ("- Come in.\n- Thank you.", "Come in. Thank you."),
        ("[door slams] I told you (laughs) so", "I told you so"),
    ],
)
def test_cue_cleanup(raw, expected):
    assert clean_cue_text(raw) == expected


@pytest.mark.parametrize(
    "raw, reason", [("\u266a Sing along \u266a", "cue:song"), ("[MUSIC PLAYING]", "cue:no-speech")]
)
def test_cues_without_speech_are_rejected(raw, reason):
    with pytest.raises(Reject) as caught:
        clean_cue_text(raw)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    "cue",
    [
        "Downloaded From www.AllSubs.org",
        "Synced and corrected by Someone - www.addic7ed.com",
        "== sync, corrected by elderman ==",
        "Subtitles by the Harbour Team",
        "Original Air Date on May 3, 2009",
        "Support us and become VIP member",
        "Subtitled by: J. Smith",
        "Captioning by the Ferry Works",
    ],
)
def test_credits_and_adverts_are_not_speech(cue):
    with pytest.raises(Reject) as caught:
        clean_cue_text(cue)
    assert caught.value.reason == "cue:credit"


@pytest.mark.parametrize(
    "line",
    [
        "He sat by the window and waited.",
        "Come in. Thank you.",
        "I told you so.",
        "The subtitles were late again.",
        "We synced our watches by the church bell.",
    ],
)
def test_ordinary_lines_are_not_credits(line):
    assert clean_cue_text(line) == line


def test_a_film_with_credit_cues_and_a_second_language_line(tmp_path):
    folder = tmp_path / "films"
    folder.mkdir()
    placed = make_movie(folder, "ferry", LINES[:5], first=3.0)
    cues = list(placed)
    cues[2] = (cues[2][0], cues[2][1], "Le passeur attendait toujours le premier bateau du matin.")
    extra = (
        "90\n00:00:00,200 --> 00:00:01,800\nSubtitles by the Harbour Team\n\n"
        "91\n00:01:30,000 --> 00:01:32,000\nDownloaded From www.AllSubs.org\n\n"
    )
    (folder / "ferry.en.srt").write_text(srt(cues, offset=0.0, ratio=1.0, extra=extra))
    config = write_config(
        tmp_path / "m.toml",
        f'[[source]]\ntype = "movies"\npath = "{folder}"\nsplit = "train"\n',
        corpus="max_reject_fraction = 0.6",
    )
    out = tmp_path / "corpus"
    build(config, out)
    reasons = sorted(r["reason"] for r in read_ledger(out))
    assert reasons == ["cue:credit", "cue:credit", "text:language"]
    texts = [r["text"] for r in sorted(read_corpus(out, "train"), key=lambda r: r["id"])]
    assert texts == [normalize(line) for i, line in enumerate(LINES[:5]) if i != 2]


def test_microdvd_subtitles_are_timed_by_the_films_frame_rate(tmp_path):
    from speechmill.corpus.subtitles.parse import parse_subtitles

    cues, rejects = parse_subtitles(
        b"{1}{1}25.000\n{50}{100}Hello there|second line\nnot a cue\n", "a.sub", "a.sub"
    )
    assert [(c.start, c.end, c.text) for c in cues] == [(2.0, 4.0, "Hello there\nsecond line")]
    assert [r.reason for r in rejects] == ["subtitle:malformed-cue"]
    with pytest.raises(Reject) as caught:
        parse_subtitles(b"{50}{100}No frame rate anywhere\n", "b.sub", "b.sub")
    assert "frame rate" in caught.value.detail

    folder = tmp_path / "films"
    folder.mkdir()
    placed = make_movie(folder, "dock", LINES[:5], first=2.0)  # its video runs at 5 frames/s
    fps = 5
    (folder / "dock.sub").write_text(
        "".join(
            f"{{{round((s + 1.0) * fps)}}}{{{round((e + 1.0) * fps)}}}{line}\n"
            for s, e, line in placed
        )
    )
    config = write_config(
        tmp_path / "m.toml", f'[[source]]\ntype = "movies"\npath = "{folder}"\nsplit = "train"\n'
    )
    info = build(config, tmp_path / "corpus")
    assert abs(info["alignment"][0]["offset"] - (-1.0)) <= 0.25 and info["alignment"][0][
        "subtitles"
    ].endswith(".sub")
    rows = sorted(read_corpus(tmp_path / "corpus", "train"), key=lambda r: r["id"])
    assert [r["text"] for r in rows] == [normalize(line) for _, _, line in placed]
