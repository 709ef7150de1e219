"""make lm: modified Kneser-Ney estimation against hand-computed counts, ARPA read back by
KenLM, the LM-fused CTC beam search, and the lm / eval command lines."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from speechmill.corpus.schema import ALPHABET
from speechmill.lm.arpa import (
    FALLBACK_DISCOUNTS,
    count_ngrams,
    discounts,
    estimate,
    write_arpa,
)
from speechmill.lm.decode import WordLM, beam_search, greedy

REPO = Path(__file__).resolve().parent.parent


def write_model(path, sentences, order):
    model = estimate(count_ngrams(sentences, order), order)
    with open(path, "w") as f:
        write_arpa(model, f)
    return model


def kenlm_prob(model, context: list[str], word: str) -> float:
    import kenlm

    state = kenlm.State()
    model.BeginSentenceWrite(state)
    for w in context:
        following = kenlm.State()
        model.BaseScore(state, w, following)
        state = following
    return 10 ** model.BaseScore(state, word, kenlm.State())


def test_discounts_follow_the_count_of_counts():
    counts = [1] * 10 + [2] * 5 + [3] * 3 + [4] * 2 + [9] * 7  # t1..t4 = 10, 5, 3, 2
    # Y = 10 / (10 + 2*5) = 0.5; D1 = 1 - 2*0.5*5/10; D2 = 2 - 3*0.5*3/5; D3+ = 3 - 4*0.5*2/3
    assert discounts(counts) == pytest.approx((0.5, 1.1, 3 - 4 / 3))
    assert discounts([1, 1, 2, 3]) is None  # no count of 4: cannot estimate


def test_a_bigram_model_matches_hand_computed_probabilities(tmp_path):
    import kenlm

    # raw: a 3, b 3, c 2, </s> 4; <s> a 3, a b 2, a c 1, <s> b 1, b c 1, b </s> 2, c </s> 2
    # continuation counts of unigrams: a 1 (<s>), b 2 (a, <s>), c 2 (a, b), </s> 2 (b, c); total 7
    # discounts fall back to (0.5, 1.0, 1.5); gamma() = (0.5*1 + 1.0*3) / 7 = 0.5; |V| = 5 with <unk>
    sentences = ["a b", "a b", "a c", "b c"]
    model = write_model(tmp_path / "lm.arpa", sentences, 2)
    assert model.discounts == [FALLBACK_DISCOUNTS, FALLBACK_DISCOUNTS] and len(model.notes) == 2
    p1 = model.probability[0]
    assert p1[("a",)] == pytest.approx(0.5 / 7 + 0.5 / 5)
    assert p1[("b",)] == pytest.approx(1 / 7 + 0.1) == pytest.approx(p1[("</s>",)])
    assert p1[("<unk>",)] == pytest.approx(0.1)
    # context a: a b 2, a c 1 (raw, highest order); gamma(a) = (0.5*1 + 1.0*1) / 3 = 0.5
    p2 = model.probability[1]
    assert p2[("a", "b")] == pytest.approx((2 - 1) / 3 + 0.5 * p1[("b",)])
    assert p2[("a", "c")] == pytest.approx((1 - 0.5) / 3 + 0.5 * p1[("c",)])
    assert model.backoff[0][("a",)] == pytest.approx(0.5)

    lm = kenlm.Model(str(tmp_path / "lm.arpa"))  # KenLM reads it and agrees
    assert kenlm_prob(lm, ["a"], "b") == pytest.approx(p2[("a", "b")], rel=1e-5)
    assert kenlm_prob(lm, ["a"], "a") == pytest.approx(
        0.5 * p1[("a",)], rel=1e-5
    )  # unseen: backoff
    assert kenlm_prob(lm, ["a"], "zebra") == pytest.approx(0.5 * 0.1, rel=1e-5)  # <unk>


def test_every_context_is_a_probability_distribution(tmp_path):
    import kenlm

    rng = np.random.default_rng(1)
    words = "the a cat dog sat on mat ran far away big small red old ship sea".split()
    sentences = [" ".join(rng.choice(words, rng.integers(2, 10))) for _ in range(1500)]
    model = write_model(tmp_path / "lm.arpa", sentences, 4)
    assert not any(
        "order 4" in note for note in model.notes
    )  # the top order has estimated discounts
    assert model.discounts[3] != FALLBACK_DISCOUNTS
    lm = kenlm.Model(str(tmp_path / "lm.arpa"))
    vocabulary = [w for w in model.vocabulary if w != "<s>"]
    for context in (
        [],
        ["the"],
        ["the", "cat"],
        ["on", "the", "mat"],
        ["zebra"],
        ["big", "zebra", "sea"],
    ):
        assert sum(kenlm_prob(lm, context, w) for w in vocabulary) == pytest.approx(
            1.0, abs=1e-4
        ), context


def frames(chars: list[dict[str, float]]) -> np.ndarray:
    """Per-frame log-probabilities from {character: probability} (the rest goes to blank '_')."""
    out = []
    for frame in chars:
        p = np.full(len(ALPHABET) + 1, 1e-6)
        for ch, v in frame.items():
            p[0 if ch == "_" else ALPHABET.index(ch) + 1] = v
        p[0] += max(0.0, 1 - p.sum())
        out.append(np.log(p / p.sum()))
    return np.array(out)


def spoken(text: str) -> list[dict[str, float]]:
    return [f for ch in text for f in ({ch: 0.9}, {"_": 0.9})]


def test_the_language_model_picks_the_word_the_sounds_leave_open(tmp_path):
    write_model(
        tmp_path / "lm.arpa",
        ["the red cat sat", "a red cat ran", "the red dog", "the cat is red"] * 3,
        3,
    )
    lm = WordLM(str(tmp_path / "lm.arpa"), alpha=0.5, beta=1.0)
    heard = frames(spoken("the r") + [{"a": 0.55, "e": 0.4}, {"_": 0.9}] + spoken("d cat"))
    assert greedy(heard) == beam_search(heard, 16) == "the rad cat"  # the sounds alone
    assert beam_search(heard, 16, lm) == "the red cat"  # with the LM
    clear = frames(spoken("a  dog sat"))  # double space collapses
    assert greedy(clear) == beam_search(clear, 8) == beam_search(clear, 8, lm) == "a dog sat"


def test_repeated_letters_need_a_blank_between_them():
    held = frames([{"l": 0.9}, {"l": 0.9}, {"o": 0.9}])  # l held over two frames: one l
    apart = frames([{"l": 0.9}, {"_": 0.9}, {"l": 0.9}, {"o": 0.9}])
    assert greedy(held) == beam_search(held, 8) == "lo"
    assert greedy(apart) == beam_search(apart, 8) == "llo"


def test_lm_command_builds_from_train_transcripts_and_books(tmp_path, librispeech_corpus, capsys):
    from speechmill.commands.lm import main as lm_main
    from speechmill.lm.build import text_sentences

    book = tmp_path / "book.txt"
    book.write_text(
        "*** START OF THE PROJECT GUTENBERG EBOOK TEST ***\n\nCHAPTER I.\n\n"
        "The lamp was lit at 9 o'clock. It burned all night!\n\n"
        "*** END OF THE PROJECT GUTENBERG EBOOK TEST ***\n"
    )
    plain = tmp_path / "lines.txt"
    plain.write_text(
        "The sea was calm.\n\n\u4e2d\u6587 only\nOld ships sail on.\n", encoding="utf-8"
    )
    assert text_sentences(str(book)) == (
        ["the lamp was lit at nine o'clock", "it burned all night"],
        0,
    )
    assert text_sentences(str(plain)) == (["the sea was calm", "old ships sail on"], 1)
    out = tmp_path / "lm"
    assert (
        lm_main(
            [
                "--data",
                str(librispeech_corpus),
                "--text",
                str(book),
                str(plain),
                "--output",
                str(out),
            ]
        )
        == 0
    )
    facts = json.loads((out / "lm.json").read_text())
    assert (
        facts["sources"][str(book)] == 2
        and facts["sources"][str(plain)] == 2
        and facts["skipped_lines"] == 1
    )
    assert facts["held_out_in_text"] == 0 and facts["order"] == 3
    assert facts["sentences"] == 4 + facts["sources"][f"{librispeech_corpus} (train split)"]
    arpa = (out / "lm.arpa").read_text()
    assert "\tnine\t" in arpa or "\tnine\n" in arpa
    assert "speechmill: lm: 3-gram model" in capsys.readouterr().out
    assert not list(out.glob("*.tmp"))
    capsys.readouterr()
    assert lm_main(["--text", str(tmp_path / "missing.txt"), "--output", str(out)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("speechmill: ") and "no such text file" in line


def test_held_out_transcripts_in_the_text_are_counted_and_warned(
    tmp_path, librispeech_corpus, capsys
):
    from speechmill.commands.lm import main as lm_main
    from speechmill.lm.build import corpus_transcripts

    leaked = corpus_transcripts(str(librispeech_corpus), ("dev", "test"))[:2]
    text = tmp_path / "leak.txt"
    text.write_text("\n".join(leaked) + "\nsomething else entirely\n")
    assert (
        lm_main(
            [
                "--data",
                str(librispeech_corpus),
                "--text",
                str(text),
                "--output",
                str(tmp_path / "lm"),
            ]
        )
        == 0
    )
    assert json.loads((tmp_path / "lm" / "lm.json").read_text())["held_out_in_text"] == len(
        set(leaked)
    )
    assert "dev/test transcripts occur in the text files" in capsys.readouterr().err


@pytest.mark.slow
def test_eval_reports_greedy_beam_and_lm_side_by_side_and_tunes_the_weights(
    tmp_path, verify_model, capsys
):
    """With a trained model and an LM that knows the dev book's sentences, tuning picks the
    grid point with the lowest dev WER (ties: the smaller weights), which is a real LM weight,
    and beam search with it beats greedy decoding."""
    from speechmill.commands.eval import main as evaluate
    from speechmill.commands.lm import main as lm_main
    from speechmill.train.evaluate import ALPHAS, BETAS

    corpus = Path(json.loads((verify_model / "config.json").read_text())["data"])
    run = tmp_path / "run"
    shutil.copytree(verify_model, run)
    dev_book = REPO / "configs" / "books" / "notes-from-a-lighthouse.txt"
    assert (
        lm_main(["--data", str(corpus), "--text", str(dev_book), "--output", str(tmp_path / "lm")])
        == 0
    )
    capsys.readouterr()
    assert (
        evaluate(
            [
                "--model",
                str(run),
                "--data",
                str(corpus),
                "--splits",
                "dev",
                "--beam",
                "4",
                "--lm",
                str(tmp_path / "lm"),
                "--tune",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    report = json.loads(next(run.glob("eval-*-beam4+lm.json")).read_text())
    assert (
        list(report["dev"]["decoders"]) == ["greedy", "beam4", "beam4+lm"]
        and report["dev"]["decoder"] == "beam4+lm"
    )
    for line in ("dev    greedy", "dev    beam4 ", "dev    beam4+lm"):
        assert line in out
    facts = json.loads((tmp_path / "lm" / "lm.json").read_text())
    assert (
        len(facts["tuning"]) == len(ALPHAS) * len(BETAS)
        and facts["alpha"] in ALPHAS
        and facts["beta"] in BETAS
    )
    assert report["dev"]["lm"]["alpha"] == facts["alpha"] and report["dev"]["examples"] == 12
    best = min(facts["tuning"], key=lambda g: (g[2], g[0], g[1]))
    assert [facts["alpha"], facts["beta"]] == best[:2]  # the grid's best point, not any point
    assert min(g[2] for g in facts["tuning"]) < max(
        g[2] for g in facts["tuning"]
    )  # the grid matters
    decoders = report["dev"]["decoders"]
    assert decoders["beam4+lm"]["wer"] < decoders["greedy"]["wer"], decoders
