"""`make bench` for exports: the hf, nemo and lhotse exports of the default corpus, beside what a
user would write instead.

x-realtime per core = seconds of audio / CPU seconds. Rows, on the same 200 train utterances in
memory (best of 3): speechmill's Parquet writer (FLAC bytes + pyarrow, ``corpus/export/hf.py``)
beside Hugging Face ``datasets`` (FLAC bytes by soundfile into ``Dataset.from_dict`` with an
``Audio`` column, then ``to_parquet``: datasets 4+ encodes arrays only through torch), and the
FLAC files of nemo/lhotse beside ``soundfile.write`` per file. Then each whole job
(``speechmill export --format F --fresh``, all processes, Beam start-up included) on the whole
default corpus, in a fresh process.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import default_corpus

REPO = Path(__file__).resolve().parent.parent
UTTERANCES = 200


def best_cpu(fn, rounds: int = 3) -> float:
    import resource

    best = float("inf")
    for _ in range(rounds):
        r = resource.getrusage(resource.RUSAGE_SELF)
        start = r.ru_utime + r.ru_stime
        fn()
        r = resource.getrusage(resource.RUSAGE_SELF)
        best = min(best, r.ru_utime + r.ru_stime - start)
    return best


def rows_bench(corpus: Path) -> None:
    import soundfile

    from speechmill.corpus.export import flac_bytes, hf
    from speechmill.corpus.reader import load_info, utterances

    info = load_info(str(corpus))
    rate = info["sample_rate"]
    utts = []
    for utt in utterances(str(corpus), info, "train"):
        utts.append(utt)
        if len(utts) >= UTTERANCES:
            break
    seconds = sum(u.num_samples for u in utts) / rate

    mine = best_cpu(lambda: hf.parquet_bytes([hf.hf_row(u, rate) for u in utts], rate))
    print(
        f"\nexports on {len(utts)} train utterances ({seconds / 60:.1f} min), x-realtime per core (best of 3):"
    )
    print(f"{'stage':<34} {'speechmill':>10}  {'instead':<44} {'x-rt':>7} {'ratio':>6}")

    def flac(u) -> bytes:
        buffer = io.BytesIO()
        soundfile.write(buffer, u.audio, rate, format="FLAC")
        return buffer.getvalue()

    def row(label: str, theirs: float) -> None:
        print(
            f"{'hf Parquet (FLAC + pyarrow)':<34} {seconds / mine:>10.0f}  "
            f"{label:<44} {seconds / theirs:>7.0f} {theirs / mine:>5.2f}x"
        )

    try:
        import datasets

        def with_datasets() -> None:
            # datasets 4+ encodes audio through torchcodec (torch), even FLAC bytes made by
            # soundfile; where that installs, this is what a user would write
            table = datasets.Dataset.from_dict(
                {
                    "audio": [{"bytes": flac(u), "path": None} for u in utts],
                    "text": [u.text for u in utts],
                },
                features=datasets.Features(
                    {"audio": datasets.Audio(sampling_rate=rate), "text": datasets.Value("string")}
                ),
            )
            table.to_parquet(io.BytesIO())

        row("soundfile FLAC, datasets from_dict + to_parquet", best_cpu(with_datasets))
    except ImportError as error:  # datasets itself, or its audio encoder (torchcodec, torch)
        print(f"{'':<34} {'':>10}  (datasets cannot write an Audio column here: {error})")
    import pandas as pd

    def with_pandas() -> None:  # no feature metadata: datasets would read bytes, not Audio
        pd.DataFrame(
            {
                "audio": [{"bytes": flac(u), "path": None} for u in utts],
                "text": [u.text for u in utts],
            }
        ).to_parquet(io.BytesIO())

    row("soundfile FLAC, pandas to_parquet (untyped)", best_cpu(with_pandas))

    with tempfile.TemporaryDirectory() as tmp:
        ours = best_cpu(
            lambda: [
                Path(tmp, f"{i}.flac").write_bytes(flac_bytes(u.audio, rate))
                for i, u in enumerate(utts)
            ]
        )
        plain = best_cpu(
            lambda: [
                soundfile.write(Path(tmp, f"s{i}.flac"), u.audio, rate) for i, u in enumerate(utts)
            ]
        )
    print(
        f"{'FLAC files (nemo, lhotse)':<34} {seconds / ours:>10.0f}  "
        f"{'soundfile.write per file':<44} {seconds / plain:>7.0f} {plain / ours:>5.2f}x"
    )


def job_bench(corpus: Path, work: Path) -> None:
    total = sum(
        s["seconds"] for s in json.loads((corpus / "info.json").read_text())["splits"].values()
    )
    print(
        f"\nspeechmill export, whole job on the default corpus ({total / 3600:.2f} h), fresh, default runner:"
    )
    for fmt in ("hf", "nemo", "lhotse"):
        code = (
            "import resource; from speechmill.commands.export import run; "
            f"run(['--format', {fmt!r}, '--input', {str(corpus)!r}, '--output', {str(work / f'export-{fmt}')!r}, "
            "'--fresh', '--log-level', 'ERROR', '--progress', 'none']); "
            "s = resource.getrusage(resource.RUSAGE_SELF); c = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "print('CPU', s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime)"
        )
        start = time.time()
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
        )
        used = float(out.stdout.strip().splitlines()[-1].split()[1])
        print(
            f"  {fmt:<7} {total / used:>6.0f}x realtime per core "
            f"({used:.1f} CPU s incl. Beam start-up, {time.time() - start:.1f} s wall)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", default=str(REPO / "build" / "bench"))
    args = parser.parse_args(argv)
    work = Path(args.work)
    corpus = default_corpus(work / "export-input")
    rows_bench(corpus)
    job_bench(corpus, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
