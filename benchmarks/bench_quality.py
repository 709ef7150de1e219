"""`make bench` for the audio measures and the sound dedupe, beside the bare library calls.

Material: the asterisk prompts (a person reading in a studio, 8 kHz recordings at 16 kHz), as
many as make ``--minutes`` of speech, fresh in every run. Printed, in x-realtime per core
(seconds of audio per CPU second of this process and its children):

- each measure as the build takes it (corpus/measures.py) beside the call it wraps: Silero VAD
  through faster-whisper's ``get_speech_timestamps`` alone, the DNSMOS P.835 ONNX session alone
  on the same 9.01 s windows and ``speechmos.dnsmos.run`` (what a user would call: it also runs
  the P.808 model, with its default threads); WADA-SNR and clipping beside one numpy pass over
  the samples (``np.abs(x).mean()``: the least any measure on every sample costs); the dedupe's
  fingerprint sketch;
- whole builds of a folder of those prompts (the default runner, two workers): no measures and
  no sound dedupe, the default (four measures and the dedupe), and all five measures.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import REPO, corpus_command, cpu_seconds

RATE = 16000
DNSMOS_MINUTES = 1  # DNSMOS and its baselines hear the first minutes only (the rest scales)
SOUNDS = Path("/usr/share/asterisk/sounds/en_US_f_Allison")


def clips(minutes: float) -> list[tuple[str, np.ndarray, str]]:
    sys.path.insert(0, str(REPO / "tests"))
    from support.prompts import load16k, prompts

    out, total = [], 0.0
    for name, wav, text in prompts():
        x = load16k(wav)
        out.append(
            (
                name.replace("/", "-"),
                np.clip(np.rint(x * 32768), -32768, 32767).astype(np.int16),
                text,
            )
        )
        total += len(x) / RATE
        if total >= minutes * 60:
            break
    return out


def timed(work, items) -> float:
    start = cpu_seconds()
    for item in items:
        work(item)
    return cpu_seconds() - start


def measures_table(material: list) -> None:
    import onnxruntime
    from faster_whisper.vad import VadOptions, get_speech_timestamps
    from speechmos import dnsmos as speechmos_dnsmos

    from speechmill.corpus import fingerprint
    from speechmill.corpus.measures import INPUT_SECONDS, _dnsmos_model, dnsmos, measure, wada_snr

    seconds = sum(len(x) for _, x, _ in material) / RATE
    waves = [x.astype(np.float32) / 32768 for _, x, _ in material]
    few = waves[: max(1, len(waves) * DNSMOS_MINUTES * 60 // int(seconds))]  # DNSMOS is slow
    few_seconds = sum(len(w) for w in few) / RATE
    _dnsmos_model()  # loaded once, as a worker does
    wada_snr(waves[0])  # its curve too
    options = VadOptions(threshold=0.5, min_silence_duration_ms=100, speech_pad_ms=0)
    get_speech_timestamps(waves[0], options, RATE)
    speechmos_dnsmos.run(waves[0], RATE)
    session = onnxruntime.InferenceSession(
        str(Path(speechmos_dnsmos.__file__).parent / "dnsmos_models" / "sig_bak_ovr.onnx"),
        sess_options=_one_thread(onnxruntime),
    )
    length = int(INPUT_SECONDS * RATE)

    def windows(w):  # the same windows the measure hears
        if len(w) < length:
            w = np.tile(w, -(-length // len(w)))[:length]
        starts = list(range(0, len(w) - length + 1, length))
        if starts[-1] + length < len(w):
            starts.append(len(w) - length)
        return [w[s : s + length] for s in starts]

    rows = [
        (
            "snr_db",
            timed(lambda w: wada_snr(w), waves),
            "numpy abs().mean()",
            timed(lambda w: np.abs(w).mean(), waves),
        ),
        (
            "clipped",
            timed(lambda x: measure(x[1], RATE, "", ("clipped",)), material),
            "numpy abs().mean()",
            None,
        ),
        (
            "speech_ratio",
            timed(lambda x: measure(x[1], RATE, x[2], ("speech_ratio",)), material),
            "faster-whisper VAD alone",
            timed(lambda w: get_speech_timestamps(w, options, RATE), waves),
        ),
        (
            "chars_per_second",
            timed(lambda x: measure(x[1], RATE, x[2], ("chars_per_second",)), material),
            "(the same VAD)",
            None,
        ),
        (
            "dnsmos",
            timed(lambda w: dnsmos(w), waves),
            "its ONNX session alone",
            timed(lambda w: [session.run(None, {"input_1": s[None]}) for s in windows(w)], waves),
        ),
        ("", None, "speechmos.dnsmos.run", timed(lambda w: speechmos_dnsmos.run(w, RATE), waves)),
        ("fingerprint sketch", timed(lambda x: fingerprint.sketch(x[1], RATE), material), "", None),
    ]
    print(
        f"quality: {len(material)} asterisk prompts, {seconds / 60:.1f} minutes of speech "
        f"(DNSMOS rows: the first {few_seconds / 60:.1f} minutes)"
    )
    print(f"{'measure':<20}{'x-RT/core':>10}   {'beside':<26}{'x-RT/core':>10}")
    base = rows[0][3]
    for name, ours, what, theirs in rows:
        theirs = base if theirs is None and what.startswith("numpy") else theirs
        left = f"{seconds / ours:>10.0f}" if ours else f"{'':>10}"
        right = f"{seconds / theirs:>10.0f}" if theirs else ""
        print(f"{name:<20}{left}   {what:<26}{right}")


def _one_thread(onnxruntime):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return options


def builds(material: list, folder: Path) -> None:
    import soundfile as sf

    root = folder / "prompts" / "allison"
    root.mkdir(parents=True)
    for name, x, text in material:
        sf.write(root / f"{name}.wav", x, RATE, subtype="PCM_16")
        (root / f"{name}.txt").write_text(text)
    seconds = sum(len(x) for _, x, _ in material) / RATE
    variants = {
        "no measures, no sound dedupe": "measures = []\ndedupe_sounds = false\n",
        "default (4 measures + dedupe)": "",
        "all 5 measures (+ dnsmos)": 'measures = ["snr_db", "speech_ratio", "dnsmos", "clipped", "chars_per_second"]\n',
    }
    print(
        "whole build of a folder of those prompts (default runner): x-RT/core, wall, and what"
        " each adds to the bare build's CPU (x-RT/core of the addition alone):"
    )
    bare = None
    for label, quality in variants.items():
        config = folder / f"{len(quality)}.toml"
        config.write_text(
            "[corpus]\nmax_reject_fraction = 0.9\n"
            f'[[source]]\ntype = "folder"\npath = "{root.parent}"\nsplit = "train"\n'
            f"[quality]\n{quality}"
        )
        out = folder / f"out{len(quality)}"
        start, wall = cpu_seconds(), time.time()
        subprocess.run(
            corpus_command(config, out),
            check=True,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        cpu, wall = cpu_seconds() - start, time.time() - wall
        added = (
            ""
            if bare is None
            else f"   +{cpu - bare:.1f} CPU s ({seconds / max(cpu - bare, 1e-9):.0f})"
        )
        bare = cpu if bare is None else bare
        print(f"  {label:<32}{seconds / cpu:>8.0f}   {wall:>6.1f} s{added}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_quality")
    p.add_argument("--minutes", type=float, default=10.0, help="minutes of prompts (all: 25)")
    args = p.parse_args(argv)
    if not SOUNDS.is_dir():
        print("quality: skipped (the asterisk prompts are not installed: make setup installs them)")
        return 0
    material = clips(args.minutes)
    measures_table(material)
    with tempfile.TemporaryDirectory() as tmp:
        builds(material, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
