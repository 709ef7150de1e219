"""Gutenberg books spoken by pyttsx3/espeak-ng across a voice x rate x pitch matrix."""

import json
from pathlib import Path

import numpy as np
import pytest
from support.jobs import build, read_corpus, read_ledger, write_config

REPO = Path(__file__).resolve().parent.parent

BOOK = """The Project Gutenberg eBook of Two Rivers

*** START OF THE PROJECT GUTENBERG EBOOK TWO RIVERS ***

CONTENTS

 CHAPTER I. Morning

CHAPTER I. Morning

The ferry left the north bank at seven o'clock every morning. It carried
farmers, their baskets of eggs and now and then a goat that refused to stand still.

The ferryman had crossed the river so many times that he could do it with his
eyes closed, although he never did, because his passengers would not have liked it.

*** END OF THE PROJECT GUTENBERG EBOOK TWO RIVERS ***

Licence footer.
"""


def gutenberg_config(tmp_path, voices, rates="[160]", pitches="[50]", extra=""):
    book = tmp_path / "two-rivers.txt"
    book.write_text(BOOK)
    return write_config(
        tmp_path / "tts.toml",
        f"""
        [[source]]
        type = "gutenberg"
        books = ["{book}"]
        voices = {voices}
        rates = {rates}
        pitches = {pitches}
        split = "train"
        min_words = 4
        {extra}
        """,
        corpus="max_reject_fraction = 0.6",
    )


def test_voice_matrix_becomes_speakers_of_one_book_group(tmp_path):
    out = tmp_path / "corpus"
    info = build(gutenberg_config(tmp_path, '["en-us", "en+f3"]', rates="[140, 190]"), out)

    rows = read_corpus(out, "train")
    speakers = {r["speaker"] for r in rows}
    assert speakers == {
        "gutenberg/en-us@140wpm-p50",
        "gutenberg/en-us@190wpm-p50",
        "gutenberg/en+f3@140wpm-p50",
        "gutenberg/en+f3@190wpm-p50",
    }
    assert {r["group"] for r in rows} == {"gutenberg/two-rivers"}
    assert all(r["synthetic"] == 1 for r in rows)
    texts = {r["text"] for r in rows}
    assert "the ferry left the north bank at seven o'clock every morning" in " ".join(texts)
    assert not any("contents" in t or "licence" in t or "gutenberg" in t for t in texts)
    per_speaker = {s: sorted(r["text"] for r in rows if r["speaker"] == s) for s in speakers}
    assert len({tuple(v) for v in per_speaker.values()}) == 1  # every voice speaks the same pieces
    # Faster speech is shorter speech.
    dur = {s: sum(r["num_samples"] for r in rows if r["speaker"] == s) for s in speakers}
    assert dur["gutenberg/en-us@190wpm-p50"] < 0.9 * dur["gutenberg/en-us@140wpm-p50"]
    for r in rows:
        assert 16000 * 1.0 < r["num_samples"] < 16000 * 20 and np.abs(r["audio"]).max() > 0.05
    assert (
        info["sources"][0]["type"] == "gutenberg" and "Gutenberg" in info["sources"][0]["license"]
    )


def test_an_unknown_voice_is_a_config_error_naming_it(tmp_path):
    from speechmill.corpus.config import ConfigError

    with pytest.raises(ConfigError, match="no voice xx-no-such-voice, en-us[+]zz9"):
        build(
            gutenberg_config(tmp_path, '["en-us", "xx-no-such-voice", "en-us+zz9"]'),
            tmp_path / "corpus",
        )


def test_a_synthesis_past_its_time_bound_goes_to_the_ledger(tmp_path):
    out = tmp_path / "corpus"
    config = gutenberg_config(tmp_path, '["en-us"]', extra="timeout_seconds = 0.001")
    with pytest.raises(RuntimeError, match="speechmill: 100% of the input was rejected"):
        build(config, out)
    ledger = read_ledger(out / ".staging")
    assert ledger and {r["reason"] for r in ledger} == {"tts:timeout"}
    assert all("no speech after" in r["detail"] and "piece" in r["where"] for r in ledger)
    assert not (out / "info.json").exists()


def _default_with(tmp_path, name: str, pick) -> Path:
    """configs/default.toml with each [[source]] table changed by ``pick(table)`` (paths made
    absolute, the [corpus] table as it is)."""
    import tomllib

    data = tomllib.loads((REPO / "configs" / "default.toml").read_text())
    books = REPO / "configs"
    lines = ["[corpus]"] + [f"{k} = {json.dumps(v)}" for k, v in data["corpus"].items()]
    for table in data["source"]:
        table = pick({**table, "books": [str(books / b) for b in table["books"]]})
        lines += ["", "[[source]]"] + [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.slow
def test_default_config_builds_three_splits_with_held_out_voices(tmp_path):
    """The default config's texts and voices, in two builds that cover them all at a fifth of
    the cost of the whole corpus: every book read by one voice of each engine of its table (no
    piece rejected), and one book spoken by every voice setting (every voice speaks). The
    splits hold different texts and voices."""
    from speechmill.corpus.config import load_config

    def one_voice_per_engine(table):
        engines = {}
        for voice in table["voices"]:
            engines.setdefault(voice.split(":")[0] if ":" in voice else "espeak", voice)
        return {
            **table,
            "voices": list(engines.values()),
            "rates": table["rates"][:1],
            "voices_per_piece": 1,
        }

    every_book = _default_with(tmp_path, "books.toml", one_voice_per_engine)
    every_voice = _default_with(tmp_path, "voices.toml", lambda t: {**t, "books": t["books"][:1]})
    for config, out in ((every_book, tmp_path / "books"), (every_voice, tmp_path / "voices")):
        info = build(
            config, out, "--limit", "2", "--direct_num_workers=1", "--direct_running_mode=in_memory"
        )
        assert set(info["splits"]) == {"train", "dev", "test"}
        assert info["rejects"]["total"] == 0, info["rejects"]
        voices = {
            split: {r["speaker"] for r in read_corpus(out, split)} for split in info["splits"]
        }
        assert not (voices["train"] & voices["dev"]) and not (voices["train"] & voices["test"])
    tables = {t["split"]: t for t in load_config(str(REPO / "configs" / "default.toml")).sources}
    for held_out in ("dev", "test"):
        assert not set(tables["train"]["voices"]) & set(tables[held_out]["voices"])
        assert not set(tables["train"]["books"]) & set(tables[held_out]["books"])
