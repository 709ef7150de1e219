"""`make bench` for text normalization: speechmill's normalizer beside nemo-text-processing.

On the written -> spoken table of the tests (tests/data/normalization.tsv, 609 sentences over
cardinals, ordinals, decimals, money and other currencies, measures and rates, dates, times,
telephone and other digit strings, electronic, fractions, ranges, decades, years, arithmetic,
roman numerals, addresses and abbreviations): sentences per CPU second
(one core), the share each reads as the table says (both outputs folded to the corpus
alphabet, "and" inside numbers and hyphens ignored), the quantity rows each gets wrong, and how
often the two agree, per category (``--disagreements FILE`` writes every row where they differ,
for reading by hand). NeMo's English grammars compile once into ``--cache`` (about 20 s).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))


def read_and_time(fn, sentences: list[str], min_seconds: float = 2.0) -> tuple[list, float]:
    """``fn`` of each sentence, and sentences per CPU second: the first pass is timed, and
    repeated only while the clock has not run ``min_seconds`` (a slow engine reads once)."""
    start = time.process_time()
    outputs = [fn(s) for s in sentences]
    done = len(sentences)
    while time.process_time() - start < min_seconds:
        for s in sentences:
            fn(s)
        done += len(sentences)
    return outputs, done / (time.process_time() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", default=str(REPO / "build" / "bench" / "nemo"))
    parser.add_argument(
        "--disagreements", default=None, help="write each row where the two differ to this TSV"
    )
    args = parser.parse_args(argv)
    from test_normalization_table import canonical, rows

    from speechmill.corpus.reject import Reject
    from speechmill.corpus.text import fold_to_alphabet, normalize

    table = rows()
    written = [w for _, w, _, _ in table]

    def ours(text: str) -> str:
        try:
            return normalize(text)
        except Reject as reject:
            return "REJECT" if reject.reason == "text:ambiguous" else ""

    engines = {"speechmill": ours}
    try:
        import logging

        logging.disable(logging.WARNING)
        from nemo_text_processing.text_normalization.normalize import Normalizer

        start = time.time()
        nemo = Normalizer(input_case="cased", lang="en", cache_dir=args.cache)
        print(f"nemo-text-processing: grammars ready in {time.time() - start:.0f} s")

        def nemo_read(text: str) -> str:
            try:
                return " ".join(
                    fold_to_alphabet(nemo.normalize(text, punct_post_process=True)).split()
                )
            except Reject:  # digits or symbols left unread
                return ""

        engines["nemo-text-processing"] = nemo_read
    except ImportError:
        print("(nemo-text-processing is not installed: pip install nemo_text_processing)")

    outputs, speed = {}, {}
    for name, fn in engines.items():
        outputs[name], speed[name] = read_and_time(fn, written)
    print(f"\ntext normalization on {len(table)} sentences of the tests' written->spoken table:")
    print(f"{'engine':<22} {'sentences/s/core':>17} {'read right':>11} {'quantity rows wrong':>20}")
    for name in engines:
        right = sum(
            canonical(got) == canonical(want) for got, (_, _, want, _) in zip(outputs[name], table)
        )
        bad_quantity = sum(
            got not in ("REJECT",) and canonical(got) != canonical(want)
            for got, (_, _, want, q) in zip(outputs[name], table)
            if q
        )
        print(f"{name:<22} {speed[name]:>17.0f} {right / len(table):>10.1%} {bad_quantity:>20}")
    if len(outputs) == 2:
        a, b = outputs.values()
        same = sum(canonical(x) == canonical(y) for x, y in zip(a, b))
        print(f"agreement between the two: {same / len(table):.1%} of sentences")
        by_category: dict[str, list[int]] = {}
        for (category, *_), x, y in zip(table, a, b):
            by_category.setdefault(category, [0, 0])[canonical(x) == canonical(y)] += 1
        print(
            "  per category: "
            + ", ".join(
                f"{c} {agree / (agree + differ):.0%}"
                for c, (differ, agree) in sorted(by_category.items())
            )
        )
        if args.disagreements:
            with open(args.disagreements, "w", encoding="utf-8") as f:
                for (category, w, want, _), x, y in zip(table, a, b):
                    if canonical(x) != canonical(y):
                        f.write(f"{category}\t{w}\t{want}\t{x}\t{y}\n")
            print(
                f"  every disagreement (category, written, table, speechmill, nemo): {args.disagreements}"
            )
        for (category, w, want, _), x, y in list(zip(table, a, b)):
            if (
                canonical(x) != canonical(y)
                and category in ("money", "decimal", "signed")
                and canonical(x) == canonical(want)
            ):
                print(f"  e.g. {w!r}: speechmill {x!r}; nemo {y!r}")
                break
    return 0


if __name__ == "__main__":
    sys.exit(main())
