"""Caption text cleanup shared by the movie and YouTube sources (pure functions).

``clean_cue_text(text) -> str`` removes HTML and ASS tags, SDH sound tags (``[MUSIC]``,
``(laughs)``), speaker labels (``JOHN:``) and dialogue dashes, and joins lines; a song line
(♪) raises ``Reject("cue:song")``, a cue with only sounds ``Reject("cue:no-speech")``, and a
credit or advert (``Subtitles by ...``, ``Downloaded from www....``, ``== sync, corrected by
... ==``, air dates) ``Reject("cue:credit")``. ``check_language`` rejects a cue that is
confidently in another language than the track's (``text:language``, py3langid).
``merge_continuations`` joins cues that continue with an ellipsis (``going to...`` /
``...the market``). The shared normalizer in ``corpus.text`` runs after this.
"""

from __future__ import annotations

import functools
import re

from speechmill.corpus.reject import Reject
from speechmill.corpus.subtitles.parse import Cue

_HTML_RE = re.compile(r"</?[a-zA-Z][^>]*>")
_ASS_RE = re.compile(r"\{\\[^}]*\}")
_SOUND_RE = re.compile(r"\[[^\]]*\]|\([^)]*\)|\*[^*]*\*")
_SPEAKER_RE = re.compile(
    r"^\s*(?:-\s*)?(?:[A-Z][A-Z0-9 .'#&-]{0,30}(?:\s*\([^)]*\))?|\[[^\]]+\]|\([^)]+\)):\s*"
)
_DASH_RE = re.compile(r"^\s*[-\u2010-\u2015]+\s*")
_SONG = ("\u266a", "\u266b", "\u266c", "#")
_CREDIT_RE = re.compile(
    r"(?i)\b(?:www\.|https?://)|\.(?:com|org|net|tv)\b|\b(?:sync(?:ed|hro(?:nized)?)?|corrected|ripped|encoded|"
    r"subtitl(?:ed|es|ing)|captions?(?:ed|ing)?|translat(?:ed|ion)|transcri(?:bed|pt)|resync(?:ed)?)\s+(?:and\s+\w+\s+)?by\b|"
    r"\b(?:original\s+)?air\s*date\b|\bsubtitles?\s*:|\bopensubtitles\b|\baddic7ed\b|\bsupport us\b|^\s*==.*==\s*$"
)
MIN_LANGUAGE_WORDS, MIN_LANGUAGE_CONFIDENCE = 3, 0.9


def clean_cue_text(text: str) -> str:
    """Raw cue text -> the words spoken in it, on one line."""
    text = _ASS_RE.sub("", _HTML_RE.sub("", text)).replace("\\N", "\n")
    if _CREDIT_RE.search(text):
        raise Reject("cue:credit", f"a credit or advert, not speech: {text[:60]!r}")
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


@functools.lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


_ISO639_2 = {
    "eng": "en",
    "fre": "fr",
    "fra": "fr",
    "ger": "de",
    "deu": "de",
    "spa": "es",
    "ita": "it",
    "por": "pt",
    "dut": "nl",
    "nld": "nl",
    "rus": "ru",
    "pol": "pl",
    "cze": "cs",
    "ces": "cs",
}


def track_language(languages: list[str]) -> str | None:
    """The ISO 639-1 code of the first wanted language ("en-US", "eng" -> "en")."""
    if not languages:
        return None
    code = languages[0].lower().split("-")[0].split("_")[0]
    return _ISO639_2.get(code, code[:2])


def check_language(text: str, language: str | None) -> None:
    """Raise Reject("text:language") when ``text`` (3+ words) is, with 90 % confidence, not in
    ``language`` (an ISO 639-1 code such as "en"; None checks nothing)."""
    if not language or len(text.split()) < MIN_LANGUAGE_WORDS:
        return
    found, confidence = _identifier().classify(text)
    if found != language and confidence >= MIN_LANGUAGE_CONFIDENCE:
        raise Reject(
            "text:language", f"{found!r} ({confidence:.0%} sure), not {language!r}: {text[:60]!r}"
        )


def merge_continuations(cues: list[Cue]) -> list[Cue]:
    """Join a cue ending in '...' with a next cue starting with '...' (one sentence)."""
    out: list[Cue] = []
    for cue in cues:
        text = cue.text.strip()
        if (
            out
            and out[-1].text.rstrip().endswith(("...", "\u2026"))
            and text.startswith(("...", "\u2026"))
        ):
            prev = out.pop()
            joined = prev.text.rstrip().rstrip(".\u2026") + " " + text.lstrip(".\u2026 ")
            cue = Cue(prev.start, cue.end, joined, prev.words + cue.words)
        out.append(cue)
    return out
