"""``speechmill inspect CORPUS``: print records (id, speaker, duration, text, provenance) and
write some as WAV files.

    speechmill inspect build/corpus --splits dev --samples 5
    speechmill inspect build/corpus --id gutenberg/lantern-keepers/en-us@150wpm-p50/00003 --dump-wav /tmp/w

Records are read with the corpus contract (corpus/schema.py) without TensorFlow; ``--play``
sends the chosen records to ``aplay`` or ``ffplay`` when one is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import soundfile

from speechmill.console.errors import command
from speechmill.console.options import command_parser, deprecated
from speechmill.corpus.errors import printable
from speechmill.corpus.reader import load_info, utterances
from speechmill.corpus.schema import SPLITS, Utterance
from speechmill.corpus.types import slug


def describe(utt: Utterance, rate: int) -> str:
    """One record as inspect prints it; every field from the record shown escaped (a corpus from
    someone else cannot send escape sequences or forged lines to the terminal)."""
    p = printable
    extra = "".join(
        f" {k}={p(v)}"
        for k, v in (
            ("augment", utt.augment),
            ("captions", utt.captions),
            ("gender", utt.gender),
            ("engine", utt.engine),
        )
        if v
    )
    return (
        f"{p(utt.id)}\t{p(utt.speaker)}\t{utt.num_samples / rate:.2f} s\t{p(utt.text)}\n"
        f"    raw: {p(utt.text_raw)}\n    origin: {p(utt.origin)}  licence: {p(utt.license)}"
        f"{'  synthetic' if utt.synthetic else ''}{extra}"
        + ("\n    readings: " + " | ".join(p(r) for r in utt.readings) if utt.readings else "")
        + (
            f"\n    verified: score {utt.verify_score:.2f}, words "
            + " ".join(f"{w}@{a:.2f}-{b:.2f}" for w, a, b in utt.words)
            if utt.verify_score is not None
            else ""
        )
    )


@command("inspect")
def main(argv: list[str] | None = None) -> int:
    p = command_parser("inspect")
    p.add_argument("corpus", help="corpus folder")
    p.add_argument(
        "--splits", default=",".join(SPLITS), help="comma-separated splits to show records of"
    )
    deprecated(p, "--split", "--splits", dest="splits")
    p.add_argument("-n", "--samples", type=int, default=5, help="records to show per split")
    p.add_argument(
        "--id", default=None, help="show only the record with this id (searches every split)"
    )
    p.add_argument(
        "--dump-wav",
        default=None,
        metavar="DIR",
        help="also write the shown records as WAV files here, each with its transcript beside "
        "it as .txt and .lab (Kaldi, lhotse and Montreal Forced Aligner read those)",
    )
    p.add_argument("--play", action="store_true", help="play the shown records (aplay or ffplay)")
    args = p.parse_args(argv)
    if args.samples < 0:
        p.error("--samples must be >= 0")
    splits = [s for s in args.splits.split(",") if s]
    unknown = sorted(set(splits) - set(SPLITS))
    if unknown:
        p.error(f"unknown split(s) {', '.join(unknown)}; splits: {', '.join(SPLITS)}")
    info = load_info(args.corpus)
    rate = info["sample_rate"]
    print(
        f"{args.corpus}: "
        + ", ".join(
            f"{s} {v['examples']} utt / {v['hours']:.2f} h" for s, v in info["splits"].items()
        )
    )
    shown = []
    for split in [s for s in SPLITS if s in splits and s in info["splits"]]:
        count = 0
        for utt in utterances(args.corpus, info, split):
            if not args.id and count >= args.samples:
                break
            if args.id and utt.id != args.id:
                continue
            print(f"[{split}] {describe(utt, rate)}")
            shown.append(utt)
            count += 1
            if args.id:
                break
    if args.id and not shown:
        print(f"speechmill: inspect: no record {args.id!r} in {args.corpus}", file=sys.stderr)
        return 2
    for utt in shown:
        if args.dump_wav:
            os.makedirs(args.dump_wav, exist_ok=True)
            stem = os.path.join(args.dump_wav, slug(utt.id.replace("/", "__")))
            soundfile.write(stem + ".wav", utt.audio, rate, subtype="PCM_16")
            for suffix in (
                ".txt",
                ".lab",
            ):  # the transcript beside it, as Kaldi, lhotse, MFA read it
                with open(stem + suffix, "w", encoding="utf-8") as f:
                    f.write(utt.text + "\n")
            print(f"wrote {printable(stem)}.wav (and .txt, .lab)")
        if args.play:
            player = shutil.which("aplay") or shutil.which("ffplay")
            if player is None:
                print(
                    "speechmill: inspect: --play needs aplay (alsa-utils) or ffplay (ffmpeg)",
                    file=sys.stderr,
                )
                return 1
            tmp = os.path.join(args.dump_wav or "/tmp", "speechmill-play.wav")
            soundfile.write(tmp, utt.audio, rate, subtype="PCM_16")
            subprocess.run(
                [player, "-q", tmp]
                if player.endswith("aplay")
                else [player, "-nodisp", "-autoexit", tmp]
            )
    return 0
