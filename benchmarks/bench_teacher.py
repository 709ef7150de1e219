"""`make bench` for the teachers: speed and error on real human speech, and the CER threshold.

On the asterisk prompts (Debian's asterisk-core-sounds-en-wav: one professional speaker, 8 kHz
recordings resampled to 16 kHz, with their texts), each teacher transcribes every prompt;
printed per teacher: x-realtime per core (seconds of audio per CPU second of this process:
Whisper runs on one thread), its CER and WER against the prompt texts (both sides through our
normalizer, the closest pair of readings), and the CER of the same transcripts against another
prompt's text (one that differs from its own by at least a third of its characters). The
threshold a teacher ships with (teachers/table.py) comes from these two distributions: the
highest multiple of 0.05 below the lowest CER of any wrong transcript (so none is kept), which
must keep at least 95 % of the right transcripts of three words or more (docs/verify.md). Beside them, on the same
audio, the forward pass of our own model of the default size (what ``make verify --model``
pays before any alignment).
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

from benchmarks import REPO, cpu_seconds

sys.path.insert(0, str(REPO / "tests"))
SPHINX_PROMPTS = 150


def load(limit: int):
    import soundfile as sf
    import soxr
    from support.prompts import prompts, wrong_text

    chosen = prompts()
    if limit:
        step = max(1, len(chosen) // limit)
        chosen = chosen[::step][:limit]
    waves = []
    for _, wav, _ in chosen:
        audio, rate = sf.read(wav, dtype="float32")
        waves.append(soxr.resample(audio, rate, 16000).astype(np.float32))
    wrong = [wrong_text(i, chosen) for i in range(len(chosen))]
    return chosen, waves, wrong


def measure(spec: str, chosen, waves, wrong) -> dict:
    import jiwer

    from speechmill.corpus.text import readings
    from speechmill.teachers.judge import cer, spoken
    from speechmill.teachers.table import load_teacher

    teacher = load_teacher(spec)
    teacher.hear(waves[:1])  # warm-up
    start = cpu_seconds()
    heard = teacher.hear(waves)
    spent = cpu_seconds() - start
    seconds = sum(len(w) for w in waves) / 16000
    right, bad, refs, hyps, long_right = [], [], [], [], []
    for (_, _, text), h, other in zip(chosen, heard, wrong):
        theirs = spoken(h.text) or ("",)
        ours, others = readings(text), readings(other)
        r = min(cer(o, t) for o in ours for t in theirs)
        right.append(r)
        if len(text.split()) >= 3:
            long_right.append(r)
        bad.append(min(cer(o, t) for o in others for t in theirs))
        refs.append(ours[0])
        hyps.append(theirs[0] or "\u2205")
    worst = sorted(zip(right, (c[0] for c in chosen), hyps, refs), reverse=True)[:8]
    out = REPO / "build" / "bench" / f"teacher-{spec.replace(':', '-').replace('/', '-')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "prompts": [c[0] for c in chosen],
                "heard": [h.text for h in heard],
                "right": right,
                "wrong": bad,
            },
            indent=1,
        )
    )
    # the highest step of 0.05 below every wrong transcript's CER (none of them kept); it must
    # keep at least 95 % of the right ones of three words or more, else the teacher cannot tell
    threshold = (math.ceil(min(bad) * 20) - 1) / 20
    kept_right = float(np.mean(np.asarray(long_right) <= threshold))
    return {
        "spec": spec,
        "facts": teacher.facts(),
        "xrt_per_core": seconds / spent,
        "cer": float(jiwer.cer(refs, hyps)),
        "wer": float(jiwer.wer(refs, hyps)),
        "right": np.quantile(long_right, [0.5, 0.9, 0.95, 0.99, 1.0]).round(3).tolist(),
        "wrong": np.quantile(bad, [0.0, 0.01, 0.05, 0.5]).round(3).tolist(),
        "threshold": threshold,
        "kept_right": kept_right,
        "seconds": seconds,
        "worst": worst,
    }


def our_forward_pass(waves) -> float:
    import tensorflow as tf

    from speechmill.train.model import build_model
    from speechmill.train.verify import model_log_probs

    model = build_model()
    batch = 16
    order = sorted(range(len(waves)), key=lambda i: len(waves[i]))
    model_log_probs(model, tf.zeros((1, 16000)), tf.constant([16000]))
    start = cpu_seconds()
    for k in range(0, len(order), batch):
        chosen = [waves[i] for i in order[k : k + batch]]
        width = max(len(w) for w in chosen)
        padded = np.stack([np.pad(w, (0, width - len(w))) for w in chosen])
        model_log_probs(model, tf.constant(padded), tf.constant([len(w) for w in chosen]))
    return sum(len(w) for w in waves) / 16000 / (cpu_seconds() - start)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_teacher", description=__doc__.splitlines()[0]
    )
    p.add_argument(
        "--prompts", type=int, default=0, help="prompts to use, spread over the list (0: all)"
    )
    p.add_argument(
        "--sphinx-prompts",
        type=int,
        default=SPHINX_PROMPTS,
        help=f"prompts pocketsphinx hears, spread over the list (default {SPHINX_PROMPTS}: it is slower)",
    )
    p.add_argument("--teachers", default="whisper,pocketsphinx")
    p.add_argument("--no-model", action="store_true", help="skip our model's forward pass")
    args = p.parse_args(argv)
    chosen, waves, wrong = load(args.prompts)
    minutes = sum(len(w) for w in waves) / 16000 / 60
    print(
        f"teacher: {len(chosen)} asterisk prompts, {minutes:.1f} min of one human speaker (8 kHz source)"
    )
    print(
        f"{'teacher':<14}{'x-RT/core':>10}{'CER':>7}{'WER':>7}  "
        "right CER p50/p90/p95/p99/max   wrong CER min/p1/p5/p50   threshold"
    )
    for spec in args.teachers.split(","):
        if spec == "pocketsphinx" and len(chosen) > args.sphinx_prompts:
            print(
                f"({spec}: {args.sphinx_prompts} of the prompts, spread over the list: it is slower)"
            )
            m = measure(spec, *load(args.sphinx_prompts))
        else:
            m = measure(spec, chosen, waves, wrong)
        right = "/".join(f"{v:.2f}" for v in m["right"])
        bad = "/".join(f"{v:.2f}" for v in m["wrong"])
        print(
            f"{spec:<14}{m['xrt_per_core']:>10.1f}{m['cer']:>7.3f}{m['wer']:>7.3f}  {right:<30} "
            f"{bad:<25} {m['threshold']:.2f} (keeps {m['kept_right']:.1%} of right ones, no wrong one)  "
            f"({m['facts']['device']}, {m['facts']['compute_type']})"
        )
        for cer_, name, heard, said in m["worst"][:5]:
            print(
                f"    right but far: {name}: CER {cer_:.2f}, said {said[:60]!r}, heard {heard[:60]!r}"
            )
    if not args.no_model:
        print(
            f"{'our model':<14}{our_forward_pass(waves):>10.1f}  "
            "(forward pass only, default size, untrained: the cost, not the error)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
