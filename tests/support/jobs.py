"""Running the jobs in tests: configs, builds in one process, reading corpora and ledgers back."""

from __future__ import annotations

import textwrap
from pathlib import Path

# Fast, single-process Beam options for most tests; tests of the default runner set their own.
IN_PROCESS = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]


def write_config(path: Path, body: str, corpus: str = "") -> Path:
    seed = "" if "seed" in corpus else "seed = 7"
    path.write_text(
        f'[corpus]\n{seed}\ncache_dir = "{path.parent / "cache"}"\n'
        f"{textwrap.dedent(corpus)}\n" + textwrap.dedent(body)
    )
    return path


def build(config: Path, out: Path, *extra: str) -> dict:
    from speechmill.commands.corpus import run

    return run(["--config", str(config), "--output", str(out), *(extra or IN_PROCESS)])


def read_corpus(out: Path, split: str) -> list[dict]:
    """Every record of a split through train/data.py, as plain Python values."""
    from speechmill.train.data import split_dataset

    rows = []
    for ex in split_dataset(str(out), split).as_numpy_iterator():
        rows.append({k: (v.decode() if isinstance(v, bytes) else v) for k, v in ex.items()})
    return rows


def read_ledger(out: Path) -> list[dict]:
    """Every line of a folder's rejects ledger, all pieces (a published corpus, or a staging
    folder a refused job left)."""
    import json

    pieces = sorted(out.glob("rejects-*-of-*.jsonl"))
    assert pieces, f"{out}: no ledger pieces"
    return [json.loads(line) for piece in pieces for line in piece.read_text().splitlines()]


VERIFY_VOICE = ("en-us", 175)  # the voice of the verification tests' film and of its model's corpus


def verify_model_corpus(out: Path, train: list[str] | None = None) -> Path:
    """The verify model's corpus: every book of configs/books but one (or the ``train`` books
    named) spoken by VERIFY_VOICE (train, about 32 minutes), the held-out one as dev (12
    utterances)."""
    books = Path(__file__).resolve().parents[2] / "configs" / "books"
    held_out = books / "notes-from-a-lighthouse.txt"
    chosen = [books / n for n in train] if train else sorted(set(books.glob("*.txt")) - {held_out})
    train_books = ", ".join(f'"{p}"' for p in chosen)
    voice, rate = VERIFY_VOICE
    config = write_config(
        out.parent / f"{out.name}.toml",
        f"""
        [[source]]
        type = "gutenberg"
        books = [{train_books}]
        voices = ["{voice}"]
        rates = [{rate}]
        split = "train"

        [[source]]
        type = "gutenberg"
        books = ["{held_out}"]
        voices = ["{voice}"]
        rates = [{rate}]
        split = "dev"
        """,
        corpus="max_seconds = 12.0",
    )
    build(config, out)
    return out


def many_config(tmp_path: Path, data: Path, corpus: str = "shard_mb = 0.05") -> Path:
    return write_config(
        tmp_path / "many.toml",
        f"""
        [[source]]
        type = "librispeech"
        path = "{data}"
        """,
        corpus=f"{corpus}\nmin_seconds = 0.5\nmax_reject_fraction = 0.5",
    )


def published(out: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file() and p.name != ".lock"
    }
