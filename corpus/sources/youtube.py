"""Captioned videos through yt-dlp: YouTube (or any site yt-dlp reads) videos, playlists, channels.

``[[source]] type = "youtube"`` with ``urls = [...]`` and/or ``url_file``. Each configured URL is
expanded on a worker into one work unit per video (playlists and channels fan out); a URL that
fails (HTTP 404, time-out) becomes a ledger entry. Each video's best audio is converted by
ffmpeg to 16 kHz mono and its subtitles in ``languages`` are fetched, manual captions first,
automatic ones only with ``allow_auto``. Downloads land in ``cache_dir/youtube/<id>/`` and the
finished ids in ``cache_dir/youtube/archive.txt`` (yt-dlp's archive format), so a re-run skips
finished videos. The channel is the ``group``, the uploader the ``speaker``.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import urllib.parse
from typing import Any, Iterator

import soundfile
import yt_dlp
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from corpus.config import ConfigError, resolve_path
from corpus.reject import Reject
from corpus.sources.base import Source, SourceContext
from corpus.subtitles.parse import is_rolling, parse_subtitles, unroll
from corpus.subtitles.spans import clean_cues, trim_to_speech, utterance_spans
from corpus.subtitles.sync import speech_activity
from corpus.types import Segment, Unit, slug

LICENSE = "per video: the licence its page states (recorded on each utterance)"
META = "meta.json"
log = logging.getLogger("speechmill.youtube")


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or "unknown"


class _QuietLogger:
    """yt-dlp's messages go to Python logging at debug level: failures reach the user once,
    as ledger lines, instead of twice."""

    def debug(self, message: str) -> None:
        log.debug(message)

    info = warning = error = debug


@dataclasses.dataclass(frozen=True)
class PageUrl:
    """A configured URL (video, playlist, channel or page); expanded on a worker into videos."""

    url: str


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
    languages: list[str] = dataclasses.field(default_factory=lambda: ["en"])
    allow_auto: bool = False
    licenses: list[str] | None = None
    split: str | None = None
    limit: int | None = None
    retries: int = 5
    sleep_subtitles: float = 1.0
    timeout_seconds: float = 30.0
    max_gap: float = 0.6
    cache_dir: str = ""
    sample_rate: int = 16000

    name = "youtube"
    LICENSE = LICENSE
    KEYS = frozenset({"urls", "url_file", "languages", "allow_auto", "licenses", "retries", "sleep_subtitles",
                      "timeout_seconds", "max_gap"})

    @classmethod
    def from_config(cls, table: dict[str, Any], context: SourceContext) -> "YouTubeSource":
        where = cls.where()
        common = cls.common_keys(table)
        urls = list(cls.option(table, "urls", list, []))
        if "url_file" in table:
            path = resolve_path(cls.option(table, "url_file", str), context.base_dir)
            if not FileSystems.exists(path):
                raise ConfigError(f"{where}: url_file {path} does not exist")
            with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
                urls += [u.strip() for u in f.read().decode("utf-8").splitlines()
                         if u.strip() and not u.lstrip().startswith("#")]
        if not urls:
            raise ConfigError(f"{where}: needs urls = [...] or url_file")
        fields = {k: table[k] for k in ("languages", "allow_auto", "licenses", "retries",
                                        "sleep_subtitles", "timeout_seconds", "max_gap") if k in table}
        return cls(urls=urls, cache_dir=os.path.join(context.cache_dir, "youtube"),
                   sample_rate=context.sample_rate, **common, **fields)

    # ---------------------------------------------------------------- yt-dlp

    def _options(self, **extra: Any) -> dict[str, Any]:
        backoff = lambda n: min(30.0, 1.0 * 2 ** n)   # noqa: E731 - yt-dlp wants a callable
        return {"quiet": True, "no_warnings": True, "noprogress": True, "logger": _QuietLogger(),
                "socket_timeout": self.timeout_seconds,
                "retries": self.retries, "fragment_retries": self.retries, "extractor_retries": self.retries,
                "retry_sleep_functions": {"http": backoff, "fragment": backoff, "extractor": backoff},
                **extra}

    def units(self) -> list[Unit]:
        return [Unit(self.name, f"url/{hashlib.sha1(u.encode()).hexdigest()[:12]}", PageUrl(u)) for u in self.urls]

    def expand(self, unit: Unit) -> Iterator[Unit | Reject]:
        """A configured URL -> one unit per video (playlists and channels fan out)."""
        if isinstance(unit.payload, PageUrl):
            yield from self._expand(unit.payload.url, depth=0)
        else:
            yield unit

    def _expand(self, url: str, depth: int) -> Iterator[Unit | Reject]:
        try:
            with yt_dlp.YoutubeDL(self._options(extract_flat="in_playlist")) as ydl:
                info = ydl.extract_info(url, download=False)
        except yt_dlp.utils.YoutubeDLError as e:
            yield Reject("youtube:unavailable", str(e).replace("ERROR: ", "").strip()[:300], item_id=url, where=url)
            return
        if info.get("_type") not in ("playlist", "multi_video"):
            yield Unit(self.name, f"video/{slug(info['id'])}", Video(url, info["id"]))
            return
        for index, entry in enumerate(info.get("entries") or [], start=1):
            if entry is None:
                continue
            if entry.get("_type") in ("url", "url_transparent") and entry.get("url"):
                if entry.get("ie_key") == "YoutubeTab" and depth < 2:     # a channel's tab or playlist
                    yield from self._expand(entry["url"], depth + 1)
                else:
                    yield Unit(self.name, f"video/{slug(entry['id'])}", Video(entry["url"], entry["id"]))
            else:      # a page with several embedded videos: pick one by its position
                yield Unit(self.name, f"video/{slug(entry['id'])}", Video(url, entry["id"], index))

    def _download(self, unit: Unit) -> tuple[str, dict[str, Any]]:
        """Fetch a video's audio and captions into the cache (unless done before)."""
        video: Video = unit.payload
        folder = os.path.join(self.cache_dir, slug(video.id))
        meta_path = os.path.join(folder, META)
        if os.path.exists(meta_path):
            with open(meta_path) as f:
                return folder, json.load(f)
        os.makedirs(folder, exist_ok=True)
        options = self._options(
            format="bestaudio/best", outtmpl=os.path.join(folder, "media.%(ext)s"), noplaylist=video.item is None,
            writesubtitles=True, writeautomaticsub=self.allow_auto, subtitleslangs=self.languages,
            subtitlesformat="vtt/srt/best", sleep_interval_subtitles=self.sleep_subtitles,
            postprocessors=[{"key": "FFmpegExtractAudio", "preferredcodec": "wav"}],
            postprocessor_args={"extractaudio": ["-ar", str(self.sample_rate), "-ac", "1"]})
        if video.item is not None:
            options["playlist_items"] = str(video.item)
        url = video.url
        try:
            with yt_dlp.YoutubeDL(options) as ydl:
                info = ydl.extract_info(url, download=False)
                if info.get("_type") in ("playlist", "multi_video"):
                    info = next(e for e in info["entries"] if e)
                self._check_license(info, url)
                info = ydl.process_ie_result(info, download=True)
        except yt_dlp.utils.YoutubeDLError as e:
            raise Reject("youtube:download", str(e).replace("ERROR: ", "").strip()[:300], where=url) from None
        requested = info.get("requested_subtitles") or {}
        meta = {key: info.get(key) for key in ("id", "title", "uploader", "uploader_id", "channel", "channel_id",
                                               "license", "webpage_url", "extractor_key")}
        meta["url"] = url
        meta["audio"] = "media.wav"
        meta["captions"] = {lang: {"file": os.path.basename(sub["filepath"]),
                                   "kind": "manual" if lang in (info.get("subtitles") or {}) else "auto"}
                            for lang, sub in requested.items() if sub.get("filepath")}
        with open(meta_path + ".part", "w") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
        os.replace(meta_path + ".part", meta_path)
        with open(os.path.join(self.cache_dir, "archive.txt"), "a") as f:
            f.write(f"{(info.get('extractor_key') or 'generic').lower()} {info['id']}\n")
        return folder, meta

    def _check_license(self, info: dict[str, Any], url: str) -> None:
        if self.licenses is None:
            return
        found = info.get("license") or ""
        if not any(wanted.lower() in found.lower() for wanted in self.licenses):
            raise Reject("youtube:license", f"licence {found or 'unknown'!r} matches none of {self.licenses}", where=url)

    # ---------------------------------------------------------------- reading

    def read(self, unit: Unit) -> Iterator[Segment | Reject]:
        folder, meta = self._download(unit)
        url = meta.get("webpage_url") or meta["url"]
        self._check_license(meta, url)
        choice = next((meta["captions"][lang] for lang in self.languages if lang in meta["captions"]), None)
        if choice is None or (choice["kind"] == "auto" and not self.allow_auto):
            raise Reject("subtitle:missing", f"no captions in {self.languages}"
                         + ("" if self.allow_auto else " (automatic captions need allow_auto = true)"), where=url)
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
                raise Reject("subtitle:auto", "the caption track is rolling automatic captions; "
                             "set allow_auto = true to use them", where=url)
            kind = "auto"
            spans = trim_to_speech(unroll(cues), speech)
        else:
            spans, cleaning = clean_cues(cues, video, url)
            yield from cleaning
        channel = meta.get("channel_id") or meta.get("channel") or meta.get("uploader_id") or _host(url)
        uploader = meta.get("uploader_id") or meta.get("uploader") or channel
        licence = meta.get("license") or "unknown (see the video page)"
        for index, (start, end, text) in enumerate(utterance_spans(spans, speech, max_gap=self.max_gap)):
            a, b = int(start * rate), int(end * rate)
            yield Segment(id=f"{video}/{index:05d}", speaker=f"{self.name}/{slug(uploader)}",
                          group=f"{self.name}/{slug(channel)}", text_raw=text, audio=audio[a:b], sample_rate=rate,
                          origin=f"{url}#t={start:.2f},{end:.2f}", license=licence, captions=kind)
