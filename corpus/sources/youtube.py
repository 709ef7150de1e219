"""Captioned videos through yt-dlp: YouTube (or any site yt-dlp reads) videos, playlists, channels.

``[[source]] type = "youtube"`` with ``urls = [...]`` and/or ``url_file`` (one URL a line,
millions of lines: the launcher cuts it into byte ranges from its size, the workers read
them). Each URL is expanded on a worker into one work unit per video (playlists and channels
fan out); a URL that
fails (HTTP 404, time-out, past ``deadline_seconds``) becomes a ledger entry. Each video's best
audio is converted by ffmpeg to mono at the corpus rate and its subtitles in ``languages`` are
fetched (corpus/inputs/ytdlp.py, in a child process under the deadline and within
``max_memory_mb``), manual captions first, automatic ones only with ``allow_auto``; a video
larger than ``max_download_mb`` or a page that outgrows the memory bound is
``youtube:too-large``, and a rejected download leaves no partial files behind. Downloads land
in ``cache_dir/youtube/<id>/`` and the finished ids in ``cache_dir/youtube/archive.txt``
(yt-dlp's archive format), so a re-run skips finished videos. The channel is the ``group``,
the uploader the ``speaker``. A video with no captions is ``subtitle:missing``, unless
``teacher`` names one (``teacher = "whisper"``; ``second`` and ``second_max_cer`` as for the
folder source): then it is cut at pauses and labelled by the teacher
(speechmill/teachers/label.py), its records marked ``label_source = "teacher:SPEC"``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import urllib.parse
from collections.abc import Iterator
from typing import Any

import soundfile

from speechmill.corpus import storage
from speechmill.corpus.config import ConfigError, resolve_path
from speechmill.corpus.inputs.bounded import call_with_deadline
from speechmill.corpus.inputs.ranges import byte_ranges, lines_in_range
from speechmill.corpus.inputs.ytdlp import META, Downloader
from speechmill.corpus.reject import Reject
from speechmill.corpus.sources.base import Source, SourceContext, teaching
from speechmill.corpus.subtitles.clean import track_language
from speechmill.corpus.subtitles.parse import is_rolling, parse_subtitles, unroll
from speechmill.corpus.subtitles.spans import (
    clean_cues,
    trim_to_speech,
    utterance_spans,
)
from speechmill.corpus.subtitles.sync import speech_activity
from speechmill.corpus.types import Recording, Segment, Unit, slug

LICENSE = "per video: the licence its page states (recorded on each utterance)"


URL_FILE_RANGE = 1 << 20  # bytes of url_file per launcher unit (about 20 000 URLs)


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or "unknown"


@dataclasses.dataclass(frozen=True)
class PageUrl:
    """A configured URL (video, playlist, channel or page); expanded on a worker into videos."""

    url: str


@dataclasses.dataclass(frozen=True)
class UrlLines:
    """The URLs on the lines of ``path`` that start within bytes [start, end)."""

    path: str
    start: int
    end: int


@dataclasses.dataclass(frozen=True)
class Video:
    """One video: its URL, its id and, on a page with several videos, its position."""

    url: str
    id: str
    item: int | None = None


@dataclasses.dataclass
class YouTubeSource(Source):
    """``[[source]] type = "youtube"``; see the README for every key."""

    urls: list[str] = dataclasses.field(default_factory=list)
    url_file: str | None = None  # one URL a line; read in byte ranges by the workers
    languages: list[str] = dataclasses.field(default_factory=lambda: ["en"])
    allow_auto: bool = False
    licenses: list[str] | None = None
    split: str | None = None
    limit: int | None = None
    retries: int = 5
    sleep_subtitles: float = 1.0
    timeout_seconds: float = 30.0
    deadline_seconds: float = 1800.0
    max_download_mb: float = 2048.0
    max_memory_mb: float = 2048.0
    max_gap: float = 0.6
    teacher: str = ""  # labels videos without captions ("" : subtitle:missing)
    second: str = ""
    second_max_cer: float | None = None
    cache_dir: str = ""
    sample_rate: int = 16000

    name = "youtube"
    EXPAND_ROUNDS = 2
    LICENSE = LICENSE
    KEYS = frozenset(
        {
            "urls",
            "url_file",
            "languages",
            "allow_auto",
            "licenses",
            "retries",
            "sleep_subtitles",
            "timeout_seconds",
            "deadline_seconds",
            "max_download_mb",
            "max_memory_mb",
            "max_gap",
            "teacher",
            "second",
            "second_max_cer",
        }
    )

    @classmethod
    def from_config(cls, table: dict[str, Any], context: SourceContext) -> YouTubeSource:
        where = cls.where()
        common = cls.common_keys(table)
        urls = list(cls.option(table, "urls", list, [], str))
        url_file = None
        if "url_file" in table:
            url_file = resolve_path(cls.option(table, "url_file", str), context.base_dir)
            if not storage.exists(url_file):
                raise ConfigError(f"{where}: url_file {url_file} does not exist")
            if not storage.size(url_file):
                raise ConfigError(f"{where}: url_file {url_file} is empty")
        if not urls and url_file is None:
            raise ConfigError(f"{where}: needs urls = [...] or url_file")
        fields = cls.options(
            table,
            {
                "languages": (list, None, str),
                "allow_auto": (bool,),
                "licenses": (list, None, str),
                "retries": (int,),
                "sleep_subtitles": ((int, float),),
                "timeout_seconds": ((int, float),),
                "max_gap": ((int, float),),
                "deadline_seconds": ((int, float),),
                "max_download_mb": ((int, float),),
                "max_memory_mb": ((int, float),),
            },
        )
        for key in ("deadline_seconds", "max_download_mb", "max_memory_mb"):
            if key in fields and not fields[key] > 0:
                raise ConfigError(f"{where}: {key} must be positive, got {fields[key]!r}")
        return cls(
            urls=urls,
            url_file=url_file,
            cache_dir=os.path.join(context.cache_dir, "youtube"),
            sample_rate=context.sample_rate,
            **common,
            **fields,
            **teaching(cls, table),
        )

    # ---------------------------------------------------------------- yt-dlp

    @property
    def downloader(self) -> Downloader:
        return Downloader(
            tuple(self.languages),
            self.allow_auto,
            None if self.licenses is None else tuple(self.licenses),
            self.retries,
            self.sleep_subtitles,
            self.timeout_seconds,
            self.sample_rate,
            self.max_download_mb,
        )

    def units(self) -> list[Unit]:
        """The ``urls`` and, for ``url_file``, one unit per ``URL_FILE_RANGE`` bytes of it."""
        units = [self._page(u) for u in self.urls]
        if self.url_file is not None:
            for start, end in byte_ranges(storage.size(self.url_file), URL_FILE_RANGE):
                units.append(
                    Unit(self.name, f"url-file/{start:012d}", UrlLines(self.url_file, start, end))
                )
        return units

    def _page(self, url: str) -> Unit:
        return Unit(self.name, f"url/{hashlib.sha1(url.encode()).hexdigest()[:12]}", PageUrl(url))

    def expand(self, unit: Unit) -> Iterator[Unit | Reject]:
        """A range of ``url_file`` -> its URLs; a configured URL -> one unit per video
        (playlists and channels fan out), listed in a child process within
        ``deadline_seconds``; a video -> itself."""
        if isinstance(unit.payload, UrlLines):
            lines = unit.payload
            with storage.open_read(lines.path) as f:
                for offset, raw in lines_in_range(f, lines.start, lines.end):
                    try:
                        url = raw.decode("utf-8").strip()
                    except UnicodeDecodeError:
                        yield Reject(
                            "text:encoding",
                            "line is not UTF-8",
                            item_id=f"{lines.path}@{offset}",
                            where=f"{lines.path} at byte {offset}",
                        )
                        continue
                    if url and not url.startswith("#"):
                        yield self._page(url)
            return
        if not isinstance(unit.payload, PageUrl):
            yield unit
            return
        url = unit.payload.url
        try:
            videos = call_with_deadline(
                self.downloader.list_videos,
                (url,),
                self.deadline_seconds,
                reason="youtube:deadline",
                where=url,
                memory_mb=self.max_memory_mb,
                memory_reason="youtube:too-large",
            )
        except Reject as reject:
            reject.item_id = url
            yield reject
            return
        for video_url, video_id, item in videos:
            yield Unit(self.name, f"video/{slug(video_id)}", Video(video_url, video_id, item))

    def _download(self, unit: Unit) -> tuple[str, dict[str, Any]]:
        """A video's cache folder and metadata; fetched first, in a child process within
        ``deadline_seconds``, unless an earlier run finished it."""
        video: Video = unit.payload
        folder = os.path.join(self.cache_dir, slug(video.id))
        meta_path = os.path.join(folder, META)
        if not os.path.exists(meta_path):
            try:
                call_with_deadline(
                    self.downloader.fetch,
                    (video.url, video.item, folder, os.path.join(self.cache_dir, "archive.txt")),
                    self.deadline_seconds,
                    reason="youtube:deadline",
                    where=video.url,
                    memory_mb=self.max_memory_mb,
                    memory_reason="youtube:too-large",
                )
            except Reject:
                shutil.rmtree(folder, ignore_errors=True)  # no partial download stays behind
                raise
        with open(meta_path) as f:
            return folder, json.load(f)

    def _check_license(self, info: dict[str, Any], url: str) -> None:
        self.downloader.check_license(info, url)

    # ---------------------------------------------------------------- reading

    def read(self, unit: Unit) -> Iterator[Segment | Recording | Reject]:
        folder, meta = self._download(unit)
        url = meta.get("webpage_url") or meta["url"]
        self._check_license(meta, url)
        choice = next(
            (meta["captions"][lang] for lang in self.languages if lang in meta["captions"]), None
        )
        if choice is None and self.teacher:  # the teacher stage labels it (teachers/label.py)
            channel = meta.get("channel_id") or meta.get("channel") or _host(url)
            uploader = meta.get("uploader_id") or meta.get("uploader") or channel
            yield Recording(
                id=f"{self.name}/{slug(meta['id'])}",
                speaker=f"{self.name}/{slug(uploader)}",
                group=f"{self.name}/{slug(channel)}",
                path=os.path.join(folder, meta["audio"]),
                license=meta.get("license") or "unknown (see the video page)",
                media=url,
            )
            return
        if choice is None or (choice["kind"] == "auto" and not self.allow_auto):
            raise Reject(
                "subtitle:missing",
                f"no captions in {self.languages}"
                + ("" if self.allow_auto else " (automatic captions need allow_auto = true)"),
                where=url,
            )
        video = f"{self.name}/{slug(meta['id'])}"
        with open(os.path.join(folder, choice["file"]), "rb") as f:
            cues, rejects = parse_subtitles(f.read(), choice["file"], url)
        for reject in rejects:
            reject.item_id = f"{video}/{reject.item_id}"
        yield from rejects
        kind = choice["kind"]
        audio, rate = soundfile.read(os.path.join(folder, meta["audio"]), dtype="int16")
        speech = speech_activity(audio, rate)
        if is_rolling(cues):
            if not self.allow_auto:
                raise Reject(
                    "subtitle:auto",
                    "the caption track is rolling automatic captions; "
                    "set allow_auto = true to use them",
                    where=url,
                )
            kind = "auto"
            spans = trim_to_speech(unroll(cues), speech)
        else:
            spans, cleaning = clean_cues(cues, video, url, track_language(self.languages))
            yield from cleaning
        channel = (
            meta.get("channel_id") or meta.get("channel") or meta.get("uploader_id") or _host(url)
        )
        uploader = meta.get("uploader_id") or meta.get("uploader") or channel
        licence = meta.get("license") or "unknown (see the video page)"
        for index, (start, end, text) in enumerate(
            utterance_spans(spans, speech, max_gap=self.max_gap)
        ):
            a, b = int(start * rate), int(end * rate)
            yield Segment(
                id=f"{video}/{index:05d}",
                speaker=f"{self.name}/{slug(uploader)}",
                group=f"{self.name}/{slug(channel)}",
                text_raw=text,
                audio=audio[a:b],
                sample_rate=rate,
                origin=f"{url}#t={start:.2f},{end:.2f}",
                media=url,
                media_span=(round(start, 3), round(end, 3)),
                license=licence,
                captions=kind,
            )
