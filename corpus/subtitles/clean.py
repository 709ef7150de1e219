"""Caption text cleanup shared by the movie and YouTube sources (pure functions).

``clean_cue_text(text) -> str`` removes HTML and ASS tags, SDH sound tags (``[MUSIC]``,
``(laughs)``), speaker labels (``JOHN:``) and dialogue dashes, and joins lines; a song line
(♪) raises ``Reject("cue:song")`` and a cue with only sounds ``Reject("cue:no-speech")``.
``merge_continuations`` joins cues that continue with an ellipsis (``going to...`` /
``...the market``). The shared normalizer in ``corpus.text`` runs after this.
"""
from __future__ import annotations

import re

from corpus.subtitles.parse import Cue
from corpus.reject import Reject

_HTML_RE = re.compile(r"</?[a-zA-Z][^>]*>")
_ASS_RE = re.compile(r"\{\\[^}]*\}")
_SOUND_RE = re.compile(r"\[[^\]]*\]|\([^)]*\)|\*[^*]*\*")
_SPEAKER_RE = re.compile(r"^\s*(?:-\s*)?(?:[A-Z][A-Z0-9 .'#&-]{0,30}(?:\s*\([^)]*\))?|\[[^\]]+\]|\([^)]+\)):\s*")
_DASH_RE = re.compile(r"^\s*[-\u2010-\u2015]+\s*")
_SONG = ("\u266a", "\u266b", "\u266c", "#")


def clean_cue_text(text: str) -> str:
    """Raw cue text -> the words spoken in it, on one line."""
    text = _ASS_RE.sub("", _HTML_RE.sub("", text)).replace("\\N", "\n")
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if any(line.startswith(_SONG) or "\u266a" in line or "\u266b" in line for line in lines):
        raise Reject("cue:song", f"sung line {text[:40]!r}")
    kept = []
    for line in lines:
        line = _SPEAKER_RE.sub("", line)
        line = _SOUND_RE.sub(" ", line)
        line = _DASH_RE.sub("", line)
        if line.strip():
            kept.append(line.strip())
    if not kept:
        raise Reject("cue:no-speech", f"only sound tags or labels: {text[:40]!r}")
    return " ".join(" ".join(kept).split())


def merge_continuations(cues: list[Cue]) -> list[Cue]:
    """Join a cue ending in '...' with a next cue starting with '...' (one sentence)."""
    out: list[Cue] = []
    for cue in cues:
        text = cue.text.strip()
        if out and out[-1].text.rstrip().endswith(("...", "\u2026")) and text.startswith(("...", "\u2026")):
            prev = out.pop()
            joined = prev.text.rstrip().rstrip(".\u2026") + " " + text.lstrip(".\u2026 ")
            cue = Cue(prev.start, cue.end, joined, prev.words + cue.words)
        out.append(cue)
    return out
