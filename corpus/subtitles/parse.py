"""Subtitle and caption files -> timed cues.

``decode_subtitles(bytes)`` finds the encoding (BOMs, UTF-16 without BOM, cp1252, cp1250,
latin-1 ... via charset-normalizer) and normalizes line ends. ``parse_srt`` reads SubRip with
pysrt one block at a time, so a malformed cue becomes a ``Reject`` and the rest of the file
survives. ``parse_vtt`` reads WebVTT with webvtt-py and keeps inline word timings
(``<00:00:01.234><c> word</c>``). ``is_rolling`` / ``unroll`` detect and repair YouTube's
rolling auto-captions, where every line is shown again in the next cue.
"""

from __future__ import annotations

import dataclasses
import re

import pysrt
import pysubs2
import webvtt

from speechmill.corpus.inputs.textfile import decode_text
from speechmill.corpus.reject import Reject

_TIMING_RE = re.compile(
    r"^\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}"
)
_VTT_TIME_RE = re.compile(r"(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})")
_INLINE_RE = re.compile(r"<(\d{2}:\d{2}:\d{2}\.\d{3}|\d{2}:\d{2}\.\d{3})>")
_TAG_RE = re.compile(r"</?[^>]+>")


@dataclasses.dataclass(frozen=True)
class Cue:
    """A caption shown from ``start`` to ``end`` seconds; ``words`` are (time, word) pairs
    when the file carries word timings."""

    start: float
    end: float
    text: str
    words: tuple[tuple[float, str], ...] = ()


def decode_subtitles(raw: bytes, where: str = "") -> str:
    """Subtitle bytes in any common encoding -> text with LF line ends."""
    return decode_text(raw, where, reason="subtitle:encoding")


def parse_srt(text: str, where: str = "") -> tuple[list[Cue], list[Reject]]:
    """SubRip text -> (cues in file order, one Reject per malformed block)."""
    cues, rejects = [], []
    for number, block in enumerate(re.split(r"\n[ \t]*\n", text.strip()), start=1):
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        timing = next((i for i, line in enumerate(lines[:2]) if _TIMING_RE.match(line)), None)
        problem = None
        if timing is None:
            problem = "no 'hh:mm:ss,mmm --> hh:mm:ss,mmm' timing line"
        else:
            try:
                items = pysrt.SubRipFile.from_string(
                    "\n".join(lines), error_handling=pysrt.SubRipFile.ERROR_RAISE
                )
            except (pysrt.Error, ValueError) as e:
                items, problem = [], f"unreadable cue: {e}"
            for item in items:
                start, end = item.start.ordinal / 1000, item.end.ordinal / 1000
                if end <= start:
                    problem = f"cue ends ({end:.3f} s) before it starts ({start:.3f} s)"
                elif item.text.strip():
                    cues.append(Cue(start, end, item.text))
        if problem:
            rejects.append(
                Reject(
                    "subtitle:malformed-cue",
                    f"block {number} ({block[:40]!r}): {problem}",
                    item_id=f"cue{number}",
                    where=where,
                )
            )
    return cues, rejects


def _vtt_seconds(stamp: str) -> float:
    m = _VTT_TIME_RE.fullmatch(stamp.strip())
    if not m:
        raise ValueError(f"bad timestamp {stamp!r}")
    h, mnt, s, ms = (int(g or 0) for g in m.groups())
    return h * 3600 + mnt * 60 + s + ms / 1000


def _words_of(raw_line: str, cue_start: float) -> list[tuple[float, str]]:
    """A line with inline timings -> (time, word) pairs; untimed leading words get the cue start."""
    words, time = [], cue_start
    for i, chunk in enumerate(_INLINE_RE.split(raw_line)):
        if i % 2 == 1:
            time = _vtt_seconds(chunk)
            continue
        for word in _TAG_RE.sub("", chunk).split():
            words.append((time, word))
    return words


def parse_vtt(text: str, where: str = "") -> tuple[list[Cue], list[Reject]]:
    """WebVTT text -> (cues with word timings where present, one Reject per malformed block).

    webvtt-py reads one block at a time, so a malformed cue is a ledger line and the rest of
    the file survives (read whole, webvtt-py skips some malformed cues without a word).
    """
    blocks = re.split(r"\n[ \t]*\n", text.strip())
    if not blocks[0].startswith("WEBVTT"):
        raise Reject("subtitle:malformed", "not a WebVTT file (no WEBVTT header)", where=where)
    cues, rejects = [], []
    for number, block in enumerate(blocks[1:], start=1):
        if not block.strip() or block.lstrip().startswith(("NOTE", "STYLE", "REGION")):
            continue
        try:
            captions = webvtt.from_string("WEBVTT\n\n" + block.strip() + "\n").captions
            if len(captions) != 1:
                raise ValueError("no 'hh:mm:ss.mmm --> hh:mm:ss.mmm' timing line")
            caption = captions[0]
            start, end = _vtt_seconds(caption.start), _vtt_seconds(caption.end)
            if end <= start:
                raise ValueError(f"cue ends ({end:.3f} s) before it starts ({start:.3f} s)")
            raw_lines = caption.raw_text.split("\n")
            words = tuple(
                w for line in raw_lines if _INLINE_RE.search(line) for w in _words_of(line, start)
            )
        except (
            webvtt.errors.MalformedFileError,
            webvtt.errors.MalformedCaptionError,
            ValueError,
        ) as e:
            rejects.append(
                Reject(
                    "subtitle:malformed-cue",
                    f"block {number} ({block[:40]!r}): {e}",
                    item_id=f"cue{number}",
                    where=where,
                )
            )
            continue
        if caption.raw_text.strip():
            cues.append(Cue(start, end, _TAG_RE.sub("", caption.raw_text).strip(), words))
    return cues, rejects


_MICRODVD_RE = re.compile(r"^\s*\{\d+\}\{\d*\}")


def parse_microdvd(text: str, fps: float | None, where: str = "") -> tuple[list[Cue], list[Reject]]:
    """MicroDVD (``{start frame}{end frame}text|next line``) -> cues, with pysubs2. The frame rate
    comes from a ``{1}{1}23.976`` first line, else ``fps`` (the film's); without either the file
    cannot be timed and raises Reject."""
    lines = [line for line in text.split("\n") if line.strip()]
    rejects = [
        Reject(
            "subtitle:malformed-cue",
            f"line {number} ({line[:40]!r}): not '{{start}}{{end}}text'",
            item_id=f"cue{number}",
            where=where,
        )
        for number, line in enumerate(lines, start=1)
        if not _MICRODVD_RE.match(line)
    ]
    good = "\n".join(line for line in lines if _MICRODVD_RE.match(line)) + "\n"
    try:
        events = pysubs2.SSAFile.from_string(good, format_="microdvd", fps=fps)
    except pysubs2.exceptions.UnknownFPSError:
        raise Reject(
            "subtitle:malformed",
            "MicroDVD subtitles count frames; the film's frame rate is unknown",
            where=where,
        ) from None
    cues = [
        Cue(e.start / 1000, e.end / 1000, e.plaintext)
        for e in events
        if e.end > e.start and e.plaintext.strip()
    ]
    return cues, rejects


def parse_subtitles(
    raw: bytes, name: str, where: str = "", fps: float | None = None
) -> tuple[list[Cue], list[Reject]]:
    """Subtitle file bytes (SRT, VTT or MicroDVD, by content) -> cues and rejects; a file with no
    cue at all (empty, or a web page served in place of captions) raises Reject. ``fps`` times
    MicroDVD files that do not say their frame rate."""
    text = decode_subtitles(raw, where)
    head = text.lstrip()[:200].lower()
    if head.startswith(("<!doctype", "<html", "<?xml")) or "<html" in head:
        raise Reject(
            "subtitle:malformed",
            "the subtitle file is a web page (HTML), not subtitles",
            where=where,
        )
    if _MICRODVD_RE.match(text) or name.lower().endswith(".sub"):
        cues, rejects = parse_microdvd(text, fps, where)
    elif text.lstrip().startswith("WEBVTT") or name.lower().endswith(".vtt"):
        cues, rejects = parse_vtt(
            text if text.lstrip().startswith("WEBVTT") else "WEBVTT\n\n" + text, where
        )
    else:
        cues, rejects = parse_srt(text, where)
    if not cues and not rejects:
        raise Reject("subtitle:empty", "the subtitle file holds no cues", where=where)
    return cues, rejects


def is_rolling(cues: list[Cue]) -> bool:
    """True for rolling auto-captions: inline word timings, or most cues repeating the
    previous cue's last line, or many cues of ~10 ms."""
    if len(cues) < 2:
        return bool(cues and cues[0].words)
    if sum(1 for c in cues if c.words) >= max(1, len(cues) // 4):
        return True
    repeats = sum(
        1
        for a, b in zip(cues, cues[1:])
        if a.text.strip()
        and b.text.strip().split("\n")[0].strip() == a.text.strip().split("\n")[-1].strip()
    )
    tiny = sum(1 for c in cues if c.end - c.start <= 0.05)
    return repeats >= 0.5 * (len(cues) - 1) or tiny >= 0.3 * len(cues)


def unroll(cues: list[Cue]) -> list[tuple[float, float, str]]:
    """Rolling captions -> each spoken word once, as (start, end, word) in time order.

    Timed words come from inline timings; a cue without timings contributes only a last line
    that has not been shown before, its words spread evenly over the cue.
    """
    words: list[tuple[float, str]] = []
    last_line = ""
    ends: list[float] = []
    for cue in cues:
        if cue.words:
            words.extend(cue.words)
            ends.extend([cue.end] * len(cue.words))
            last_line = " ".join(w for _, w in cue.words)
            continue
        line = cue.text.strip().split("\n")[-1].strip()
        if not line or line == last_line or cue.end - cue.start <= 0.05:
            continue
        if last_line and line.startswith(last_line):
            line = line[len(last_line) :].strip()
        tokens = line.split()
        step = (cue.end - cue.start) / max(1, len(tokens))
        words.extend((cue.start + i * step, t) for i, t in enumerate(tokens))
        ends.extend([cue.end] * len(tokens))
        last_line = cue.text.strip().split("\n")[-1].strip()
    out = []
    for i, (time, word) in enumerate(words):
        end = min(words[i + 1][0], ends[i]) if i + 1 < len(words) else ends[i]
        out.append((time, max(end, time + 0.05), word))
    return out
