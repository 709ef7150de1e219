"""Every reason an item can be rejected for, one row each: its code, the stage that finds it,
and what it means. ``Reject`` accepts no other code, docs/rejects.md is generated from this
table (``make docs``), and a test checks the table against every code the source can raise.

A code is ``<what>:<why>``: ``audio:decode``, ``text:oov``. The ledger line's ``stage`` says
where in the job it was found (``read``, ``clean``, ``unit``, ``expand``, ``dedupe``,
``augment``, ``verify``); the stage here is where it usually is.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Reason:
    stage: str
    meaning: str


def _rows(stage: str, **meanings: str) -> dict[str, Reason]:
    return {code: Reason(stage, meaning) for code, meaning in meanings.items()}


REASONS: dict[str, Reason] = {
    # files, archives and downloads
    **{
        f"{kind}:not-a-file": Reason(
            "read",
            f"a FIFO, socket or device with the name of a {kind} input: checked before a byte "
            "is read, so it cannot hang the job",
        )
        for kind in ("audio", "text", "subtitle")
    },
    **{
        f"{kind}:link-outside": Reason(
            "read",
            f"a symbolic link from a {kind} input out of the source's path "
            "(unless follow_links = true)",
        )
        for kind in ("audio", "text", "subtitle")
    },
    "archive:unsafe-path": Reason("unit", "an archive member whose path leads out of its folder"),
    "archive:link": Reason("unit", "an archive member that is a link"),
    "archive:special": Reason("unit", "an archive member that is a device, FIFO or socket"),
    "archive:truncated": Reason("unit", "an archive that ends early or is damaged"),
    "archive:too-large": Reason("unit", "an archive member larger than the configured bound"),
    "fetch:http": Reason("unit", "a download that failed (HTTP error, refused, too large)"),
    "fetch:md5": Reason("unit", "a download whose checksum is not the published one"),
    # audio
    "audio:decode": Reason("read", "audio that cannot be decoded"),
    "audio:empty": Reason("read", "audio without a sample"),
    "audio:missing": Reason("read", "a transcript line without its audio file"),
    "audio:too-long": Reason("unit", "a recording longer than the teacher stage reads (24 h)"),
    # text
    **_rows(
        "clean",
        **{
            "text:missing": "audio without a transcript line",
            "text:empty": "a transcript that normalizes to nothing",
            "text:oov": "a transcript with characters outside the alphabet after normalization",
            "text:control": "a transcript with control characters",
            "text:markup": "a transcript with markup (HTML tags) left in it",
            "text:ambiguous": "a written form that cannot be read out without guessing",
            "text:encoding": "a transcript file in no detectable encoding",
            "text:language": "a subtitle cue in another language than its track's",
            "text:duplicate-id": "an utterance id given twice: in one transcript file "
            "(neither line can be trusted), or by another record of the job (stage dedupe: "
            "the held-out copy is kept)",
        },
    ),
    # utterance shape
    "duration:short": Reason("clean", "shorter than min_seconds"),
    "duration:long": Reason("clean", "longer than max_seconds"),
    "rate:fast": Reason("clean", "more characters per second than a person speaks"),
    "rate:slow": Reason("clean", "fewer characters per second than speech of its length has"),
    # audio quality ([quality] in the config; the measured value in the ledger's detail)
    "quality:snr": Reason("clean", "estimated SNR (WADA) below min_snr_db"),
    "quality:dnsmos": Reason("clean", "DNSMOS overall quality below min_dnsmos"),
    "quality:speech": Reason("clean", "share of speech (Silero VAD) below min_speech_ratio"),
    "quality:clipped": Reason("clean", "share of samples at full scale above max_clipped"),
    "quality:rate": Reason(
        "quality",
        "seconds of speech per character outside its speaker's Tukey fences (rate_outliers)",
    ),
    "audio:duplicate": Reason(
        "dedupe",
        "the same sound as another record of the job (re-encoded, resampled, louder or "
        "trimmed): the held-out copy is kept, and the ledger names it",
    ),
    # sources
    "librispeech:empty": Reason("unit", "a LibriSpeech folder without a transcript file"),
    "commonvoice:header": Reason("unit", "a Common Voice table without the expected columns"),
    "commonvoice:row": Reason("read", "a Common Voice row that cannot be read"),
    "votes:down": Reason("read", "a Common Voice clip with more down votes than up votes"),
    "votes:unvalidated": Reason("read", "a Common Voice clip not yet validated by its votes"),
    "manifest:row": Reason("read", "a manifest line that is not a usable entry"),
    "manifest:span": Reason("read", "a manifest entry whose time span lies outside its audio"),
    "manifest:gzip": Reason("unit", "a gzipped manifest that cannot be read to its end"),
    # books and TTS
    "book:encoding": Reason("unit", "a book in no detectable encoding"),
    "book:empty": Reason("unit", "a book without text between its start and end markers"),
    "book:too-large": Reason("unit", "a book file larger than any book (read no further)"),
    "book:unreadable": Reason("unit", "a book file that cannot be opened"),
    "tts:timeout": Reason("read", "a synthesis that did not finish in time"),
    "tts:empty": Reason("read", "a synthesis that wrote no audio"),
    "tts:crash": Reason("read", "a synthesis engine that died (or ran out of its memory)"),
    "tts:error": Reason("read", "a synthesis engine that reported an error"),
    "tts:voice": Reason("unit", "a configured voice the engine does not have"),
    # subtitles, captions and films
    "subtitle:encoding": Reason("unit", "a subtitle file in no detectable encoding"),
    "subtitle:malformed": Reason("unit", "a subtitle file that does not parse"),
    "subtitle:malformed-cue": Reason("read", "a subtitle cue that does not parse"),
    "subtitle:missing": Reason("unit", "a film or video without subtitles"),
    "subtitle:empty": Reason("unit", "a subtitle file without a cue"),
    "subtitle:extract": Reason("unit", "subtitles that could not be taken out of a film"),
    "subtitle:auto": Reason("unit", "automatic captions only, when they are not accepted"),
    "cue:song": Reason("clean", "a cue that is sung (music notes)"),
    "cue:no-speech": Reason("clean", "a cue that describes a sound, not speech"),
    "cue:credit": Reason("clean", "subtitle credits and adverts"),
    "sync:low-score": Reason("unit", "subtitles that could not be synchronized to the speech"),
    "youtube:unavailable": Reason("expand", "a URL that could not be listed or fetched"),
    "youtube:download": Reason("unit", "a video whose download failed"),
    "youtube:license": Reason("unit", "a video whose licence the config does not accept"),
    "youtube:too-large": Reason("unit", "a video past max_download_mb, a page past max_memory_mb"),
    "youtube:deadline": Reason("unit", "a video not done within its deadline"),
    # corpus-to-corpus jobs
    "augment:effect": Reason("augment", "an effect that could not be applied to an utterance"),
    "verify:low-score": Reason(
        "verify", "a transcript the model does not confirm (score below the threshold)"
    ),
    "verify:elsewhere": Reason(
        "verify", "a transcript the model finds only outside the utterance's own time"
    ),
    "verify:unalignable": Reason(
        "verify", "a transcript with more letters than the model has frames for its audio"
    ),
    "verify:teacher-disagrees": Reason(
        "verify", "a transcript farther from what the teacher heard than its CER threshold"
    ),
    "verify:teacher-unsure": Reason(
        "verify", "a clip the teacher may have hallucinated on (its own signals, repeated words)"
    ),
    "verify:no-speech": Reason("verify", "a clip the VAD or the teacher finds no speech in"),
    # the teacher stage: recordings with no transcript labelled by a teacher
    "label:no-speech": Reason(
        "read",
        "a recording the VAD finds no speech in, or a piece of one the teacher hears no words in",
    ),
    "label:teacher-unsure": Reason(
        "read", "a piece the teacher may have hallucinated on (its own signals, repeated words)"
    ),
    "align:mismatch": Reason(
        "read",
        "a piece of a book's recording whose words are not the book's there (words added, "
        "left out, in another order, or too many heard otherwise): never the book's words over "
        "audio that does not say them",
    ),
    "align:not-in-text": Reason(
        "read",
        "a piece of a book's recording that is in no part of the book (a preamble, a note)",
    ),
    "label:second-disagrees": Reason(
        "read", "a piece the second opinion hears otherwise (CER above its threshold)"
    ),
}


def reasons_markdown() -> str:
    """docs/rejects.md: the table, grouped by the part before the colon."""
    lines = [
        "# Reject reasons",
        "",
        "Generated from `corpus/reasons.py` by `make docs`; do not edit by hand. Every rejected item",
        "is one line in the corpus's rejects ledger with one of these reasons (see",
        "[Bad input and the rejects ledger](corpus.md#bad-input-and-the-rejects-ledger)).",
        "",
        "| reason | stage | meaning |",
        "| --- | --- | --- |",
    ]
    for code in sorted(REASONS):
        row = REASONS[code]
        lines.append(f"| `{code}` | {row.stage} | {row.meaning} |")
    return "\n".join(lines) + "\n"
