"""Evaluate a trained model: WER and CER with jiwer, per split and per source, for each decoder
asked for: greedy always, CTC prefix beam search (``--beam N``), and beam search with a word
language model (``--lm build/lm``, made by ``make lm``), side by side over the same model
outputs. ``--tune`` picks the LM weights (alpha, beta) on the dev split by a small grid and
keeps them in the LM's lm.json. ``make eval MODEL=<run> DATA=<corpus> [BEAM=32] [LM=build/lm]``;
``evaluate_run(EvalRequest(...))`` is what ``speechmill eval`` calls.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import os

import jiwer
import numpy as np

from speechmill.corpus.progress import SILENT, Progress
from speechmill.corpus.reader import load_info
from speechmill.corpus.schema import ALPHABET, CorpusMismatch


def logits_to_log_probs(logits, lengths) -> list[np.ndarray]:
    """Logits [B, T, V] -> each utterance's natural-log probabilities over its real frames."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return [log_probs[i, : int(n)] for i, n in enumerate(lengths)]


def decoders(beam_width: int = 0, lm=None) -> dict:
    """{name: log_probs -> text}: greedy, then beam search and beam search + LM when asked."""
    from speechmill.lm.decode import beam_search, greedy

    chosen = {"greedy": greedy}
    if beam_width:
        chosen[f"beam{beam_width}"] = lambda lp: beam_search(lp, beam_width)
    if lm is not None:
        width = beam_width or DEFAULT_BEAM
        chosen[f"beam{width}+lm"] = lambda lp: beam_search(lp, width, lm)
    return chosen


DEFAULT_BEAM = 32
ALPHAS, BETAS = (0.25, 0.5, 0.8, 1.2, 1.6), (0.0, 1.0, 2.0, 3.0)


def error_rates(references: list[str], hypotheses: list[str]) -> dict:
    """WER and CER (jiwer) over a list of utterances; empty hypotheses count as all deletions."""
    hyps = [h if h.strip() else "\u2205" for h in hypotheses]  # jiwer wants non-empty strings
    return {
        "wer": round(float(jiwer.wer(references, hyps)), 4),
        "cer": round(float(jiwer.cer(references, hyps)), 4),
        "examples": len(references),
    }


def model_outputs(
    model,
    corpus: str,
    split: str,
    *,
    sample_rate: int = 16000,
    batch_size: int = 16,
    progress: Progress = SILENT,
):
    """(references, sources, log-probabilities) of every utterance of a split, in corpus order."""
    from speechmill.train.data import batches
    from speechmill.train.encoders import subsampling_of
    from speechmill.train.model import output_lengths

    info = load_info(corpus)
    refs, sources, outputs = [], [], []
    total = -(-info["splits"][split]["examples"] // batch_size) if split in info["splits"] else None
    for x, _ in progress.items(
        batches(corpus, split, batch_size=batch_size, sample_rate=sample_rate, keep_meta=True),
        total,
        f"eval {split}",
        unit="batch",
    ):
        logits = model({"audio": x["audio"], "audio_length": x["audio_length"]}, training=False)
        lengths = np.minimum(
            output_lengths(x["audio_length"], sample_rate, subsampling_of(model)).numpy(),
            logits.shape[1],
        )
        outputs += logits_to_log_probs(logits, lengths)
        refs += [t.decode() for t in x["text"].numpy()]
        sources += [s.decode() for s in x["source"].numpy()]
    return refs, sources, outputs


def tune_lm(lm, refs: list[str], outputs: list[np.ndarray], beam_width: int = DEFAULT_BEAM) -> dict:
    """Set ``lm.alpha``/``lm.beta`` to the grid point with the lowest WER on these utterances
    (ties: the smaller weights); -> {alpha, beta, wer, grid: [[alpha, beta, wer], ...]}."""
    from speechmill.lm.decode import beam_search

    grid = []
    for alpha in ALPHAS:
        for beta in BETAS:
            lm.alpha, lm.beta = alpha, beta
            grid.append(
                [
                    alpha,
                    beta,
                    error_rates(refs, [beam_search(lp, beam_width, lm) for lp in outputs])["wer"],
                ]
            )
    alpha, beta, wer = min(grid, key=lambda g: (g[2], g[0], g[1]))
    lm.alpha, lm.beta = alpha, beta
    return {"alpha": alpha, "beta": beta, "wer": wer, "grid": grid}


def evaluate_model(
    model,
    corpus: str,
    splits: list[str],
    *,
    sample_rate: int = 16000,
    beam_width: int = 0,
    lm=None,
    batch_size: int = 16,
    examples: int = 3,
    progress: Progress = SILENT,
) -> dict:
    """{split: {wer, cer, examples, decoder, decoders: {name: {wer, cer}}, by_source: {...},
    samples: [...]}}; the top-level figures are the last decoder's (beam + LM when given)."""
    report = {}
    for split in splits:
        refs, sources, outputs = model_outputs(
            model, corpus, split, sample_rate=sample_rate, batch_size=batch_size, progress=progress
        )
        results = {
            name: [decode(lp) for lp in outputs]
            for name, decode in decoders(beam_width, lm).items()
        }
        name, hyps = list(results.items())[-1]
        by_source = collections.defaultdict(lambda: ([], []))
        for r, h, s in zip(refs, hyps, sources):
            by_source[s][0].append(r)
            by_source[s][1].append(h)
        report[split] = {
            **error_rates(refs, hyps),
            "decoder": name,
            "decoders": {n: error_rates(refs, h) for n, h in results.items()},
            "by_source": {s: error_rates(*v) for s, v in sorted(by_source.items())},
            "samples": [
                {"reference": r, **{n: h[i] for n, h in results.items()}}
                for i, r in enumerate(refs[:examples])
            ],
        }
        if lm is not None:
            report[split]["lm"] = {"path": lm.path, "alpha": lm.alpha, "beta": lm.beta}
    return report


def report_lines(report: dict) -> list[str]:
    """An evaluation report as the console shows it: per split and decoder, per source, samples."""
    lines = []
    for split, r in report.items():
        for name, d in r.get("decoders", {r["decoder"]: r}).items():
            lines.append(
                f"{split:<6} {name:<12} WER {d['wer']:.3f}  CER {d['cer']:.3f}  ({d['examples']} utterances)"
            )
        for source, s in r["by_source"].items():
            lines.append(
                f"         {source:<12} WER {s['wer']:.3f}  CER {s['cer']:.3f}  ({s['examples']}, {r['decoder']})"
            )
        for sample in r["samples"]:
            lines.append(f"         ref: {sample['reference']}")
            for name in r.get("decoders", {}):
                if name in sample:  # a teacher's line has no samples
                    lines.append(f"         {name}: {sample[name]}")
    return lines


@dataclasses.dataclass(frozen=True)
class EvalRequest:
    """One ``make eval``: a trained run, a corpus, its splits, and the decoders beside greedy
    (beam search of width ``beam``; with a language model, its weights or ``tune`` on dev)."""

    model: str
    input: str
    splits: tuple[str, ...] = ("dev", "test")
    beam: int = 0
    lm: str | None = None
    alpha: float | None = None
    beta: float | None = None
    tune: bool = False
    teacher: str | None = None  # a teacher spec: its WER/CER on the same splits, beside the run's


def teacher_rates(
    spec: str, corpus: str, info: dict, splits: list[str], progress: Progress
) -> dict:
    """{split: {wer, cer, examples}} of a teacher on a corpus's splits: its text through our
    normalizer, the reading nearest the reference (as make verify compares them)."""
    import itertools

    from speechmill.corpus.reader import utterances
    from speechmill.teachers.check import at_16k
    from speechmill.teachers.judge import cer, spoken
    from speechmill.teachers.table import load_teacher

    teacher = load_teacher(spec)
    found = {}
    for split in splits:
        refs, hyps = [], []
        total = info["splits"][split]["examples"]
        stream = iter(progress.items(utterances(corpus, info, split), total, f"teacher {split}"))
        while batch := list(itertools.islice(stream, 16)):
            heard = teacher.hear([at_16k(u.audio, info["sample_rate"]) for u in batch])
            for utt, h in zip(batch, heard):
                refs.append(utt.text)
                hyps.append(min(spoken(h.text) or ("",), key=lambda r, t=utt.text: cer(t, r)))
        found[split] = error_rates(refs, hyps)
    return found


def evaluate_run(request: EvalRequest, progress: Progress = SILENT) -> dict:
    """Evaluate; the report is also kept in the run folder as ``eval-<corpus>-<decoder>.json``.
    Returns {report, tuned (the LM weights chosen on dev, or None), path}."""
    data = request.input
    if not os.path.exists(os.path.join(request.model, "config.json")):
        raise FileNotFoundError(
            f"{request.model}: not a training run (no config.json; make train RUN=... makes one)"
        )
    info = load_info(data, alphabet=ALPHABET)
    config = json.load(open(os.path.join(request.model, "config.json")))
    load_info(data, sample_rate=config["sample_rate"], alphabet=config["alphabet"])
    splits = [s for s in request.splits if s in info["splits"]]
    if not splits:
        raise CorpusMismatch(
            f"{data}: no {' or '.join(request.splits)} split to evaluate on; "
            f"it has {', '.join(info['splits']) or 'none'}"
        )
    from speechmill.train.model import load_model  # TensorFlow: after the checks above

    model = load_model(os.path.join(request.model, "model.keras"))
    lm, tuned = None, None
    if request.lm:
        from speechmill.lm.files import load_lm, read_facts, write_facts

        lm = load_lm(request.lm, request.alpha, request.beta)
        if request.tune:
            if "dev" not in info["splits"]:
                raise FileNotFoundError(f"{data}: no dev split to tune the LM weights on")
            refs, _, outputs = model_outputs(
                model, data, "dev", sample_rate=info["sample_rate"], progress=progress
            )
            tuned = tune_lm(lm, refs, outputs, request.beam or DEFAULT_BEAM)
            if os.path.isdir(request.lm):
                write_facts(
                    request.lm,
                    {
                        **read_facts(request.lm),
                        "alpha": tuned["alpha"],
                        "beta": tuned["beta"],
                        "tuned_on": os.path.abspath(data),
                        "tuning": tuned["grid"],
                    },
                )
    report = evaluate_model(
        model,
        data,
        splits,
        sample_rate=info["sample_rate"],
        beam_width=request.beam,
        lm=lm,
        progress=progress,
    )
    if request.teacher:
        for split, rates in teacher_rates(request.teacher, data, info, splits, progress).items():
            report[split].setdefault("decoders", {})[f"teacher {request.teacher}"] = rates
    name = f"eval-{os.path.basename(os.path.abspath(data))}-{report[splits[0]]['decoder']}.json"
    path = os.path.join(request.model, name)
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
    return {"report": report, "tuned": tuned, "path": path}
