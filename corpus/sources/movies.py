"""Subtitled movies: video files with subtitles beside them or embedded, re-synced to the audio.

``[[source]] type = "movies"``, ``path = <folder>``. Each video file (mp4, mkv, avi, mov, webm,
m4v, mpg, ts) is one work unit and one ``group``. Its subtitles come from ``name.srt``,
``name.<lang>.srt``, ``name.vtt``, ``name.<lang>.vtt`` or MicroDVD ``name.sub`` beside it (languages in the order of
``languages``), else from the first embedded subtitle stream. Cues are cleaned, the track's
offset and framerate ratio are found from speech activity (a file scoring below
``min_sync_score`` is rejected whole), and cues are merged into utterances cut at pauses.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import tempfile
from collections.abc import Iterator
from typing import Any

from speechmill.corpus import storage
from speechmill.corpus.config import ConfigError
from speechmill.corpus.inputs.localfile import check_input, read_input
from speechmill.corpus.inputs.media import embedded_subtitles, load_audio, video_fps
from speechmill.corpus.reject import Reject
from speechmill.corpus.sources.base import Source, SourceContext
from speechmill.corpus.subtitles.clean import track_language
from speechmill.corpus.subtitles.parse import parse_subtitles
from speechmill.corpus.subtitles.spans import clean_cues, utterance_spans
from speechmill.corpus.subtitles.sync import find_alignment, speech_activity
from speechmill.corpus.types import Note, Segment, Unit, slug

LICENSE = "as licensed by the rights holder of each film (check before use)"
VIDEO_EXTENSIONS = (".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".ts")


def _read(path: str) -> bytes:
    with storage.open_read(path) as f:
        return f.read()


def subtitle_for(video: str, existing: set[str], languages: list[str]) -> str | None:
    """The subtitle file beside ``video`` that best matches, or None."""
    stem = video.rsplit(".", 1)[0]
    for candidate in [
        f"{stem}.{lang}.{ext}" for lang in languages for ext in ("srt", "vtt", "sub")
    ] + [f"{stem}.srt", f"{stem}.vtt", f"{stem}.sub"]:
        if candidate in existing:
            return candidate
    return None


@dataclasses.dataclass(frozen=True)
class Film:
    """A video file and the subtitle file beside it (None: use the embedded stream)."""

    video: str
    subtitles: str | None


@dataclasses.dataclass
class MoviesSource(Source):
    """``[[source]] type = "movies"``; see the README for every key."""

    path: str
    languages: list[str] = dataclasses.field(default_factory=lambda: ["en", "eng"])
    split: str | None = None
    limit: int | None = None
    max_offset: float = 60.0
    min_sync_score: float = 0.5
    license: str = LICENSE
    sample_rate: int = 16000
    follow_links: bool = False

    name = "movies"
    LICENSE = LICENSE
    KEYS = frozenset(
        {"path", "languages", "max_offset", "min_sync_score", "license", "follow_links"}
    )

    @classmethod
    def from_config(cls, table: dict[str, Any], context: SourceContext) -> MoviesSource:
        common = cls.common_keys(table)
        path = cls.existing_path(table, "path", context, "a folder of video files")
        fields = cls.options(
            table,
            {
                "languages": (list, None, str),
                "max_offset": ((int, float),),
                "min_sync_score": ((int, float),),
                "follow_links": (bool,),
            },
        )
        licence = cls.option(table, "license", str, LICENSE)
        return cls(path=path, license=licence, sample_rate=context.sample_rate, **common, **fields)

    def units(self) -> list[Unit]:
        files = sorted(m.path for m in storage.match(f"{self.path.rstrip('/')}/**"))
        existing = set(files)
        videos = [f for f in files if f.lower().endswith(VIDEO_EXTENSIONS)]
        if not videos:
            raise ConfigError(
                f"[[source]] movies: no video files ({', '.join(VIDEO_EXTENSIONS)}) under {self.path}"
            )
        return [
            Unit(
                self.name,
                slug(posixpath.basename(v).rsplit(".", 1)[0]),
                Film(v, subtitle_for(v, existing, self.languages)),
            )
            for v in videos
        ]

    def read(self, unit: Unit) -> Iterator[Segment | Reject | Note]:
        video, subtitles = unit.payload.video, unit.payload.subtitles
        rate = self.sample_rate
        movie = f"{self.name}/{unit.key}"
        with tempfile.TemporaryDirectory(prefix="speechmill-movie-") as tmp:
            local = video
            if "://" in video:  # ffmpeg reads local files; copy from remote storage first
                local = os.path.join(tmp, posixpath.basename(video))
                with open(local, "wb") as f:
                    f.write(_read(video))
            else:  # ffmpeg opens it: not a FIFO, not a link out of the folder
                check_input(video, self.path, "audio", self.follow_links)
            raw = (
                read_input(subtitles, self.path, "subtitle", self.follow_links)
                if subtitles
                else embedded_subtitles(local)
            )
            if raw is None:
                raise Reject(
                    "subtitle:missing",
                    "no subtitle file beside the video and no embedded stream",
                    where=video,
                )
            where = subtitles or f"{video} (embedded subtitles)"
            fps = video_fps(local) if subtitles and subtitles.lower().endswith(".sub") else None
            cues, rejects = parse_subtitles(raw, subtitles or "embedded.srt", where, fps=fps)
            spans, cleaning = clean_cues(cues, movie, where, track_language(self.languages))
            for reject in rejects:
                reject.item_id = f"{movie}/{reject.item_id}"
            yield from rejects + cleaning
            if not spans:
                raise Reject("subtitle:empty", "no spoken cues in the subtitles", where=where)
            audio = load_audio(local, rate)
        speech = speech_activity(audio, rate)
        alignment = find_alignment(
            speech, [(s, e) for s, e, _ in spans], max_offset=self.max_offset
        )
        facts = {
            "file": video,
            "subtitles": where,
            "offset": alignment.offset,
            "ratio": alignment.ratio,
            "score": alignment.score,
            "cues": len(spans),
        }
        yield Note(self.name, movie, facts)
        if alignment.score < self.min_sync_score:
            raise Reject(
                "sync:low-score",
                f"best match offset {alignment.offset:+.2f} s, ratio {alignment.ratio:.5f}, "
                f"score {alignment.score:.2f} < min_sync_score {self.min_sync_score}",
                where=where,
            )
        for index, (start, end, text) in enumerate(utterance_spans(spans, speech, alignment)):
            a, b = int(start * rate), int(end * rate)
            yield Segment(
                id=f"{movie}/{index:05d}",
                speaker=movie,
                group=movie,
                text_raw=text,
                audio=audio[a:b],
                sample_rate=rate,
                origin=f"{video}#t={start:.2f},{end:.2f}",
                media=video,
                media_span=(round(start, 3), round(end, 3)),
                license=self.license,
                captions="manual",
            )
