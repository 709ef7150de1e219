"""Evaluate a trained model: greedy or beam-search CTC decoding, WER and CER with jiwer, per
split and per source. ``make eval MODEL=<run> DATA=<corpus> [BEAM=16]``."""
from __future__ import annotations

import argparse
import collections
import json
import os
import sys

import jiwer
import keras
import numpy as np

from corpus.schema import ALPHABET
from train.data import batches, ids_to_text, load_info
from speechmill.progress import progress_iter
from train.model import output_lengths


def decode(logits, lengths, beam_width: int = 0) -> list[str]:
    """Logits [B, T, V] -> transcripts; greedy when ``beam_width`` is 0, else beam search."""
    if beam_width:
        decoded, _ = keras.ops.ctc_decode(logits, lengths, strategy="beam_search", beam_width=beam_width,
                                          top_paths=1, mask_index=0)
    else:
        decoded, _ = keras.ops.ctc_decode(logits, lengths, strategy="greedy", mask_index=0)
    return [ids_to_text(row) for row in np.asarray(decoded[0])]


def error_rates(references: list[str], hypotheses: list[str]) -> dict:
    """WER and CER (jiwer) over a list of utterances; empty hypotheses count as all deletions."""
    hyps = [h if h.strip() else "\u2205" for h in hypotheses]      # jiwer wants non-empty strings
    return {"wer": round(float(jiwer.wer(references, hyps)), 4), "cer": round(float(jiwer.cer(references, hyps)), 4),
            "examples": len(references)}


def evaluate_model(model, corpus: str, splits: list[str], *, sample_rate: int = 16000, beam_width: int = 0,
                   batch_size: int = 16, examples: int = 3) -> dict:
    """{split: {wer, cer, examples, by_source: {...}, samples: [(ref, hyp), ...]}}."""
    report = {}
    info = load_info(corpus)
    for split in splits:
        refs, hyps, sources = [], [], []
        total = -(-info["splits"][split]["examples"] // batch_size) if split in info["splits"] else None
        for x, _ in progress_iter(batches(corpus, split, batch_size=batch_size, sample_rate=sample_rate, keep_meta=True),
                                  total, f"eval {split}", unit="batch"):
            logits = model({"audio": x["audio"], "audio_length": x["audio_length"]}, training=False)
            lengths = np.minimum(output_lengths(x["audio_length"], sample_rate).numpy(), logits.shape[1])
            hyps += decode(logits, lengths, beam_width)
            refs += [t.decode() for t in x["text"].numpy()]
            sources += [s.decode() for s in x["source"].numpy()]
        by_source = collections.defaultdict(lambda: ([], []))
        for r, h, s in zip(refs, hyps, sources):
            by_source[s][0].append(r)
            by_source[s][1].append(h)
        report[split] = {**error_rates(refs, hyps), "decoder": f"beam{beam_width}" if beam_width else "greedy",
                         "by_source": {s: error_rates(*v) for s, v in sorted(by_source.items())},
                         "samples": [{"reference": r, "hypothesis": h} for r, h in list(zip(refs, hyps))[:examples]]}
    return report


def print_report(report: dict) -> None:
    for split, r in report.items():
        print(f"{split:<6} {r['decoder']:<7} WER {r['wer']:.3f}  CER {r['cer']:.3f}  ({r['examples']} utterances)")
        for source, s in r["by_source"].items():
            print(f"         {source:<12} WER {s['wer']:.3f}  CER {s['cer']:.3f}  ({s['examples']})")
        for sample in r["samples"]:
            print(f"         ref: {sample['reference']}\n         hyp: {sample['hypothesis']}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="speechmill eval", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                                description="Evaluate a speechmill run on a corpus (WER / CER per split and source).")
    p.add_argument("--model", required=True, help="run folder (holds model.keras)")
    p.add_argument("--data", required=True, help="corpus folder")
    p.add_argument("--splits", default="dev,test", help="comma-separated splits to evaluate")
    p.add_argument("--beam", type=int, default=0, help="beam width (0 = greedy)")
    args = p.parse_args(argv)
    if not os.path.exists(os.path.join(args.model, "config.json")):
        raise FileNotFoundError(f"{args.model}: not a training run (no config.json; make train RUN=... makes one)")
    info = load_info(args.data, alphabet=ALPHABET)
    config = json.load(open(os.path.join(args.model, "config.json")))
    load_info(args.data, sample_rate=config["sample_rate"], alphabet=config["alphabet"])
    model = keras.models.load_model(os.path.join(args.model, "model.keras"))
    splits = [s for s in args.splits.split(",") if s in info["splits"]]
    report = evaluate_model(model, args.data, splits, sample_rate=info["sample_rate"], beam_width=args.beam)
    print_report(report)
    name = f"eval-{os.path.basename(os.path.abspath(args.data))}-{report[splits[0]]['decoder']}.json" if splits else "eval.json"
    with open(os.path.join(args.model, name), "w") as f:
        json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
