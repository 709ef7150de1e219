"""yt-dlp's side of the YouTube source: list a URL's videos, fetch one video's audio and captions.

Kept free of Beam and of the source registry so that ``corpus.inputs.bounded`` can run each
call in a light child process under a deadline. ``Downloader`` holds the settings;
``list_videos(url)`` returns (url, id, item) triples (``item`` is the position of a video on a
page that embeds several); ``fetch(...)`` writes ``media.wav`` (mono at the corpus rate), the
caption files and ``meta.json`` into a video's cache folder and appends the id to the
folder's ``archive.txt``; a download larger than ``max_download_mb`` (announced, or as it
grows) is stopped. Failures raise ``Reject``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from typing import Any

import yt_dlp

from speechmill.corpus.reject import Reject

META = "meta.json"
log = logging.getLogger("speechmill.youtube")


class _QuietLogger:
    """yt-dlp's messages go to Python logging at debug level: failures reach the user once,
    as ledger lines, instead of twice."""

    def debug(self, message: str) -> None:
        log.debug(message)

    info = warning = error = debug


def _message(error: Exception) -> str:
    return str(error).replace("ERROR: ", "").strip()[:300]


class _SizeBound(_QuietLogger):
    """A download's size bound, and yt-dlp's logger while it downloads: yt-dlp skips a file
    whose announced size is above ``limit`` (and says so to its logger); ``check`` (a progress
    hook) stops one whose bytes grow past it (no length, or a lying one)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.passed = False

    def check(self, progress: dict[str, Any]) -> None:
        if (progress.get("downloaded_bytes") or 0) > self.limit:
            self.passed = True
            raise yt_dlp.utils.DownloadError("larger than max_download_mb")

    def debug(self, message: str) -> None:
        if "larger than max-filesize" in message:
            self.passed = True
        log.debug(message)

    info = warning = error = debug

    def detail(self) -> str:
        return f"the media is larger than max_download_mb ({self.limit / (1 << 20):g} MB)"


@dataclasses.dataclass(frozen=True)
class Downloader:
    languages: tuple[str, ...] = ("en",)
    allow_auto: bool = False
    licenses: tuple[str, ...] | None = None
    retries: int = 5
    sleep_subtitles: float = 1.0
    timeout_seconds: float = 30.0
    sample_rate: int = 16000
    max_download_mb: float = 2048.0

    def options(self, **extra: Any) -> dict[str, Any]:
        backoff = lambda n: min(30.0, 1.0 * 2**n)  # noqa: E731 - yt-dlp wants a callable
        return {
            "quiet": True,
            "no_warnings": True,
            "noprogress": True,
            "logger": _QuietLogger(),
            "socket_timeout": self.timeout_seconds,
            "retries": self.retries,
            "fragment_retries": self.retries,
            "extractor_retries": self.retries,
            "retry_sleep_functions": {"http": backoff, "fragment": backoff, "extractor": backoff},
            **extra,
        }

    def list_videos(self, url: str, depth: int = 0) -> list[tuple[str, str, int | None]]:
        """A video, playlist, channel or page URL -> (url, id, item) of each video on it."""
        try:
            with yt_dlp.YoutubeDL(self.options(extract_flat="in_playlist")) as ydl:
                info = ydl.extract_info(url, download=False)
        except yt_dlp.utils.YoutubeDLError as e:
            raise Reject("youtube:unavailable", _message(e), item_id=url, where=url) from None
        if info.get("_type") not in ("playlist", "multi_video"):
            return [(url, info["id"], None)]
        videos = []
        for index, entry in enumerate(info.get("entries") or [], start=1):
            if entry is None:
                continue
            if entry.get("_type") in ("url", "url_transparent") and entry.get("url"):
                if entry.get("ie_key") == "YoutubeTab" and depth < 2:  # a channel's tab or playlist
                    videos += self.list_videos(entry["url"], depth + 1)
                else:
                    videos.append((entry["url"], entry["id"], None))
            else:  # a page with several embedded videos: pick one by its position
                videos.append((url, entry["id"], index))
        return videos

    def fetch(self, url: str, item: int | None, folder: str, archive: str) -> None:
        """Download one video's best audio and captions into ``folder`` and write its META."""
        os.makedirs(folder, exist_ok=True)
        options = self.options(
            format="bestaudio/best",
            outtmpl=os.path.join(folder, "media.%(ext)s"),
            noplaylist=item is None,
            writesubtitles=True,
            writeautomaticsub=self.allow_auto,
            subtitleslangs=list(self.languages),
            subtitlesformat="vtt/srt/best",
            sleep_interval_subtitles=self.sleep_subtitles,
            postprocessors=[{"key": "FFmpegExtractAudio", "preferredcodec": "wav"}],
            postprocessor_args={"extractaudio": ["-ar", str(self.sample_rate), "-ac", "1"]},
        )
        if item is not None:
            options["playlist_items"] = str(item)
        size = _SizeBound(int(self.max_download_mb * (1 << 20)))
        options["max_filesize"] = size.limit  # a Content-Length above it is not fetched
        options["progress_hooks"] = [size.check]  # nor a stream that grows past it
        options["logger"] = size
        try:
            with yt_dlp.YoutubeDL(options) as ydl:
                info = ydl.extract_info(url, download=False)
                if info.get("_type") in ("playlist", "multi_video"):
                    info = next(e for e in info["entries"] if e)
                self.check_license(info, url)
                info = ydl.process_ie_result(info, download=True)
        except yt_dlp.utils.YoutubeDLError as e:
            if size.passed:
                raise Reject("youtube:too-large", size.detail(), where=url) from None
            raise Reject("youtube:download", _message(e), where=url) from None
        if size.passed:
            raise Reject("youtube:too-large", size.detail(), where=url)
        if not os.path.exists(os.path.join(folder, "media.wav")):
            raise Reject("youtube:download", "no audio was downloaded", where=url)
        requested = info.get("requested_subtitles") or {}
        meta = {
            key: info.get(key)
            for key in (
                "id",
                "title",
                "uploader",
                "uploader_id",
                "channel",
                "channel_id",
                "license",
                "webpage_url",
                "extractor_key",
            )
        }
        meta["url"] = url
        meta["audio"] = "media.wav"
        meta["captions"] = {
            lang: {
                "file": os.path.basename(sub["filepath"]),
                "kind": "manual" if lang in (info.get("subtitles") or {}) else "auto",
            }
            for lang, sub in requested.items()
            if sub.get("filepath")
        }
        meta_path = os.path.join(folder, META)
        with open(meta_path + ".part", "w") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
        os.replace(meta_path + ".part", meta_path)
        with open(archive, "a") as f:
            f.write(f"{(info.get('extractor_key') or 'generic').lower()} {info['id']}\n")

    def check_license(self, info: dict[str, Any], url: str) -> None:
        """Raise Reject("youtube:license") unless the video's licence matches one of ``licenses``."""
        if self.licenses is None:
            return
        found = info.get("license") or ""
        if not any(wanted.lower() in found.lower() for wanted in self.licenses):
            raise Reject(
                "youtube:license",
                f"licence {found or 'unknown'!r} matches none of {list(self.licenses)}",
                where=url,
            )
