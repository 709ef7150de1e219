"""`make bench` for the runtime: transcribe and listen, LiteRT (no TensorFlow) beside the
TensorFlow SavedModel a user would otherwise load.

On the default corpus's test split (built first when missing), each utterance as a file:
the exported model's forward pass with greedy decoding on LiteRT (one thread) and on the
SavedModel, beam search (width 32) with and without the word LM, and ``listen`` fed the
whole split as one stream (utterances with 0.6 s pauses between) as fast as it takes it.
Figures are real-time factors (CPU seconds per second of audio, all threads; below 1 is
faster than real time) and x-realtime per core (their inverse). ``--model RUN`` measures a
trained run; by default an untrained ``small`` model (the forward pass costs the same; the
beam search is cheaper on a trained model's peaky outputs).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import default_corpus

REPO = Path(__file__).resolve().parent.parent


def cpu_seconds() -> float:
    return time.process_time()


def test_audio(corpus: str) -> list[np.ndarray]:
    from speechmill.corpus.schema import decode_utterance
    from speechmill.corpus.tfrecord import read_records

    info = json.loads((Path(corpus) / "info.json").read_text())
    out = []
    for name in info["splits"]["test"]["shards"]:
        with open(Path(corpus) / name, "rb") as f:
            out += [
                decode_utterance(r).audio.astype(np.float32) / 32768.0
                for r in read_records(f, name)
            ]
    return out


def rtf(label: str, audio_seconds: float, work) -> float:
    start = cpu_seconds()
    work()
    factor = (cpu_seconds() - start) / audio_seconds
    print(f"  {label:<58} RTF {factor:7.4f}   {1 / factor:8.1f}x realtime per core", flush=True)
    return factor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", default=str(REPO / "build" / "corpus"))
    parser.add_argument(
        "--model", default=None, help="a trained run or export (default: an untrained small model)"
    )
    parser.add_argument(
        "--lm", default=None, help="an LM folder (default: built from the corpus's train split)"
    )
    args = parser.parse_args(argv)
    default_corpus(args.corpus)
    work = Path(tempfile.mkdtemp(prefix="speechmill-bench-runtime-"))
    model = args.model
    if model is None:
        from speechmill.train.export import export
        from speechmill.train.model import build_model, config_for

        model = str(work / "export")
        export(build_model(config_for("small")), model, 16000)
    lm_folder = args.lm
    if lm_folder is None:
        from speechmill.lm.build import build_lm

        lm_folder = str(work / "lm")
        build_lm(args.corpus, [], lm_folder)

    from speechmill.lm.decode import beam_search, greedy
    from speechmill.lm.files import load_lm
    from speechmill.runtime.listen import LiveTranscriber
    from speechmill.runtime.recognizer import load_recognizer
    from speechmill.runtime.transcribe import text_of

    utterances = test_audio(args.corpus)
    seconds = sum(len(u) for u in utterances) / 16000
    print(f"runtime: {len(utterances)} test utterances, {seconds:.0f} s of audio; model {model}")
    lite = load_recognizer(model, "tflite", threads=1)
    saved = load_recognizer(model, "savedmodel")
    lm = load_lm(lm_folder)
    for u in utterances[:2]:  # warm up both backends
        lite.log_probs(u), saved.log_probs(u)
    outputs = []
    rtf(
        "LiteRT forward pass + greedy (1 thread)",
        seconds,
        lambda: (
            outputs.extend(lite.log_probs(u) for u in utterances) or [greedy(o) for o in outputs]
        ),
    )
    rtf(
        "SavedModel (TensorFlow) forward pass + greedy",
        seconds,
        lambda: [greedy(saved.log_probs(u)) for u in utterances],
    )
    rtf(
        "beam search width 32 alone (on the LiteRT outputs)",
        seconds,
        lambda: [beam_search(o, 32) for o in outputs],
    )
    rtf(
        "beam search width 32 + word LM alone",
        seconds,
        lambda: [beam_search(o, 32, lm) for o in outputs],
    )
    pause = np.zeros(int(0.6 * 16000), np.float32)
    stream = np.concatenate([x for u in utterances for x in (u, pause)])
    live = LiveTranscriber(text_of(lite), 16000)

    def listen() -> None:
        for i in range(0, len(stream), 1600):
            live.feed(stream[i : i + 1600])
        live.finish()

    rtf("listen: LiteRT greedy, partial every 0.5 s (a stream)", len(stream) / 16000, listen)
    print(f"  listen printed {len(live.finals)} final lines for {len(utterances)} utterances")
    return 0


if __name__ == "__main__":
    sys.exit(main())
