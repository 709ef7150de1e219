"""What a teacher's words say about a transcript (``make verify --teacher``).

Both sides go through our own normalizer (``corpus/text.py readings``): Whisper writes
"1813", "$5", "3:45" where a transcript may say "eighteen thirteen", so each side becomes its
readings and the closest pair is compared, by character error rate (jiwer). In order:

1. no speech: the VAD finds speech in less than ``MIN_SPEECH_SHARE`` of the clip, or the
   teacher wrote nothing, or its no-speech probability is at least ``NO_SPEECH_PROB`` ->
   ``verify:no-speech``;
2. the teacher is unsure of itself (Whisper's own hallucination signals: average
   log-probability under ``MIN_AVG_LOGPROB`` or a text that compresses better than
   ``MAX_COMPRESSION``; and text rules: a phrase said ``REPEATS`` times in a row, a word of
   ``LONGEST_WORD`` letters or more, fewer than ``MIN_DISTINCT`` distinct words among 12 or
   more) -> ``verify:teacher-unsure``: neither a false reject nor an accept;
3. the closest CER above the teacher's threshold -> ``verify:teacher-disagrees`` with the CER
   and the teacher's words;
4. else kept. Of the transcript's readings, the ones closest to the teacher's are the
   candidates; where the teacher wrote the span in words there is one; where it wrote digits
   (its readings are ours) a recognizer that writes spoken words decides (``choose``).
"""

from __future__ import annotations

import dataclasses
import re

from speechmill.corpus.reject import Reject
from speechmill.teachers.base import Heard

MIN_SPEECH_SHARE = 0.1
NO_SPEECH_PROB = 0.6  # Whisper's own no_speech_threshold
MIN_AVG_LOGPROB = -1.0  # Whisper's own log_prob_threshold
MAX_COMPRESSION = 2.4  # Whisper's own compression_ratio_threshold
REPEATS = 4  # a phrase of 1 to 4 words said this many times in a row
LONGEST_WORD = 25
MIN_DISTINCT = 0.3


@dataclasses.dataclass(frozen=True)
class TeacherVerdict:
    reason: str = ""  # "" keeps the utterance
    detail: str = ""
    cer: float | None = None
    candidates: tuple[int, ...] = ()  # indices of our readings that match the teacher best

    @property
    def kept(self) -> bool:
        return not self.reason


def spoken(text: str) -> tuple[str, ...]:
    """The teacher's text as our readings; () when it has no speakable words."""
    from speechmill.corpus.text import readings

    try:
        return readings(text)
    except Reject:
        return ()


def cer(reference: str, hypothesis: str) -> float:
    import jiwer

    if not reference:
        return 0.0 if not hypothesis else 1.0
    return float(jiwer.cer(reference, hypothesis or "\u2205"))


def unsure(heard: Heard) -> str:
    """Why the teacher's own words are not to be trusted; "" when they are."""
    if heard.avg_logprob is not None and heard.avg_logprob < MIN_AVG_LOGPROB:
        return f"average log-probability {heard.avg_logprob:.2f} < {MIN_AVG_LOGPROB}"
    if heard.compression_ratio is not None and heard.compression_ratio > MAX_COMPRESSION:
        return f"compression ratio {heard.compression_ratio:.2f} > {MAX_COMPRESSION}"
    words = re.findall(r"[\w']+", heard.text.lower())
    for size in range(1, 5):
        phrase = r"\b(" + r"\W+".join([r"[\w']+"] * size) + r")\b"
        again = r"(?:\W+\1\b){" + str(REPEATS - 1) + "}"
        if re.search(phrase + again, heard.text.lower()):
            return f"a phrase repeated {REPEATS} times"
    long = [w for w in words if len(w) >= LONGEST_WORD]
    if long:
        return f"a {len(long[0])}-letter word"
    if len(words) >= 12 and len(set(words)) < MIN_DISTINCT * len(words):
        return f"{len(set(words))} distinct words of {len(words)}"
    return ""


def judge_heard(
    heard: Heard, readings: tuple[str, ...], *, speech_share: float, max_cer: float
) -> TeacherVerdict:
    """A transcript's readings (ours, default first) against what the teacher heard."""
    if speech_share < MIN_SPEECH_SHARE:
        return TeacherVerdict(
            "verify:no-speech", f"the VAD finds speech in {speech_share:.0%} of it"
        )
    theirs = spoken(heard.text)
    if not theirs or heard.no_speech >= NO_SPEECH_PROB:
        return TeacherVerdict(
            "verify:no-speech",
            f"the teacher heard {heard.text[:80]!r} (no-speech probability {heard.no_speech:.2f})",
        )
    doubt = unsure(heard)
    if doubt:
        return TeacherVerdict("verify:teacher-unsure", f"{doubt}; it heard {heard.text[:120]!r}")
    scores = [min(cer(ours, t) for t in theirs) for ours in readings]
    best = min(scores)
    if best > max_cer:
        return TeacherVerdict(
            "verify:teacher-disagrees",
            f"CER {best:.2f} > {max_cer}; the teacher heard {heard.text[:160]!r}",
            cer=round(best, 4),
        )
    candidates = tuple(i for i, s in enumerate(scores) if s <= best + 1e-9)
    return TeacherVerdict(cer=round(best, 4), candidates=candidates)
