"""make verify: a trained model checks every utterance of a corpus against its audio, re-times
what it confirms and sends the rest to the ledger.

The acceptance film: 30 spoken lines with 3 s between them and a stretch of music. Its
subtitles have the right text and time for most lines, the texts of 3 lines (10 %) passed
round among themselves, 3 cues 1.5 s late or early, and a cue over the music. The same lines
in loud room noise (3 dB under the speech) with 6 cues' texts passed round show the threshold
measured in the film itself against the dev split's."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
from support.jobs import (
    IN_PROCESS,
    VERIFY_VOICE,
    build,
    read_corpus,
    read_ledger,
    verify_model_corpus,
    write_config,
)
from support.speech import make_movie, room_noise, srt

from speechmill.corpus.schema import SCHEMA_VERSION, decode_utterance
from speechmill.corpus.tfrecord import read_records

LINES = [
    "The baker opened his shop before the sun came up.",
    "A small dog waited by the door every single morning.",
    "Nobody knew where the old bridge keeper had gone.",
    "The rain kept falling on the roofs of the village.",
    "She wrote a long letter to her brother in the city.",
    "Two boys were fishing from the wall of the harbour.",
    "The teacher asked the children to open their books.",
    "A cold wind came down from the mountains at night.",
    "He painted the fence green because it was cheaper.",
    "The market was busy with people buying fresh bread.",
    "My grandmother kept her money in a tin under the bed.",
    "The train was late again and everyone was unhappy.",
    "They planted apple trees along the edge of the field.",
    "The doctor walked up the hill to see the sick farmer.",
    "A bright red kite was stuck in the top of the tree.",
    "The soldiers marched past the church in the square.",
    "We found an old map hidden inside the wooden chest.",
    "The cat slept all afternoon in a patch of sunlight.",
    "His uncle sold horses at the fair every summer.",
    "The library closed early because of the snow storm.",
    "She sang quietly while she washed the dinner plates.",
    "The fisherman mended his nets on the empty beach.",
    "Our neighbour built a shed out of broken doors.",
    "The mayor gave a short speech about the new road.",
    "A thin grey cloud was moving slowly over the lake.",
    "The children laughed at the clown with the big shoes.",
    "He lost his hat when the wind blew across the bridge.",
    "The farmer counted his sheep twice before dark.",
    "A letter arrived from the bank on a Monday morning.",
    "The lamps in the street were lit one after another.",
]
SWAPPED = (4, 14, 24)  # each gets the next one's text (the last the first's)
SHIFTED = {8: 1.5, 18: -1.5, 27: 1.5}  # seconds the cue is late (+) or early (-)
MUSIC_CUE = "And then we walked home along the river together."
NOISE_DB = 3.0  # speech over the room's noise in the noisy film
SWAPPED_IN_NOISE = (2, 7, 12, 17, 22, 27)
SPEECH_RMS = 3000.0  # about espeak-ng's level as make_movie places it


def music(seconds: float, rate: int = 16000) -> np.ndarray:
    """A chord with vibrato, pulsing twice a second: loud and voiced, but no words."""
    t = np.arange(int(seconds * rate)) / rate
    chord = sum(
        np.sin(2 * np.pi * f * t * (1 + 0.003 * np.sin(2 * np.pi * 5 * t))) / (k + 1)
        for k, f in enumerate((220.0, 277.2, 329.6, 440.0, 554.4))
    )
    pulse = 0.5 + 0.5 * (np.sin(2 * np.pi * 2 * t) > 0)
    return (chord * pulse * 3000).astype(np.int16)


def film_corpus(
    folder: Path, swapped: tuple[int, ...], shifted: dict[int, float], noise_db: float | None
) -> tuple[Path, list]:
    """LINES spoken into a film with the music after them (and room noise ``noise_db`` under
    the speech), subtitled with the ``swapped`` cues' texts passed round, the ``shifted`` ones
    moved and a cue over the music, built by the movies source -> (corpus, spoken lines)."""
    films = folder / "films"
    films.mkdir(parents=True)
    first, gap = 2.0, 3.0
    placed = make_movie(films, "film", LINES, first=first, gap=gap, tail=9.0)
    music_at = placed[-1][1] + 2.0
    extra = [(music_at, music(5.0))]
    if noise_db is not None:
        extra.append((0.0, room_noise(placed[-1][1] + 8.5, SPEECH_RMS / 10 ** (noise_db / 20))))
    placed = make_movie(films, "film", LINES, first=first, gap=gap, tail=9.0, extra=extra)
    assert VERIFY_VOICE == ("en-us", 175)  # make_movie speaks as the model's corpus does
    cues = [list(c) for c in placed]
    for i, j in zip(swapped, swapped[1:] + swapped[:1]):
        cues[i][2] = placed[j][2]
    for i, shift in shifted.items():
        cues[i][0] += shift
        cues[i][1] += shift
    cues.append([music_at + 0.5, music_at + 4.5, MUSIC_CUE])
    (films / "film.srt").write_text(srt([tuple(c) for c in cues], 0.0, 1.0))
    config = write_config(
        folder / "film.toml",
        f"""
        [[source]]
        type = "movies"
        path = "{films}"
        split = "train"
        """,
    )
    info = build(config, folder / "corpus")
    assert info["splits"]["train"]["examples"] == len(LINES) + 1  # the builder kept every cue
    return folder / "corpus", placed


@pytest.fixture(scope="module")
def film(tmp_path_factory) -> tuple[Path, list]:
    """The acceptance film built into a corpus by the movies source; returns (corpus, spoken lines)."""
    return film_corpus(tmp_path_factory.mktemp("verify-film"), SWAPPED, SHIFTED, None)


def verify(corpus: Path, out: Path, model: Path, *extra: str) -> dict:
    from speechmill.commands.verify import run

    return run(["--input", str(corpus), "--output", str(out), "--model", str(model), *extra])


def serialized(folder: Path) -> dict[str, bytes]:
    """Every record of a corpus folder by id, as stored."""
    out = {}
    for path in sorted(folder.glob("*.tfrecord")):
        with open(path, "rb") as f:
            for record in read_records(f, str(path)):
                out[decode_utterance(record).id] = record
    return out


def records(folder: Path) -> dict[str, object]:
    return {uid: decode_utterance(record) for uid, record in serialized(folder).items()}


def digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.startswith(".")
    }


@pytest.mark.slow
def test_verify_rejects_wrong_cues_and_retimes_shifted_ones(tmp_path, film, verify_model):
    corpus, placed = film
    out = tmp_path / "verified"
    info = verify(corpus, out, verify_model)  # the default runner: one process per core
    calibration = json.loads((verify_model / "calibration.json").read_text())  # stored by train
    assert info["verify"]["calibration"]["threshold"] == calibration["threshold"]
    assert calibration["separable"] and calibration["false_reject"] <= 0.1
    # the threshold is measured in this film: its cues against their own and others' texts
    in_film, min_score = info["verify"]["corpus_calibration"], info["verify"]["min_score"]
    assert info["verify"]["threshold_from"] == "corpus" and in_film["used"]
    assert min_score == in_film["threshold"] and in_film["separable"]
    assert in_film["own"]["count"] == len(LINES) + 1 and in_film["wrong"]["count"] >= 100
    assert in_film["wrong"]["median"] < min_score < in_film["own"]["median"]

    kept = records(out)
    ids = [f"movies/film/{i:05d}" for i in range(len(LINES) + 1)]
    music_id = ids[-1]
    correct = [ids[i] for i in range(len(LINES)) if i not in SWAPPED and i not in SHIFTED]
    caught = [ids[i] for i in SWAPPED if ids[i] not in kept] + (
        [music_id] if music_id not in kept else []
    )
    assert len(caught) >= 0.9 * (len(SWAPPED) + 1), caught
    false_rejects = [i for i in correct if i not in kept]
    assert false_rejects == []

    ledger = {r["id"]: r for r in read_ledger(out)}
    for uid in caught:
        assert ledger[uid]["reason"] == "verify:low-score" and ledger[uid]["stage"] == "verify"
        assert "score" in ledger[uid]["detail"] and "film.mkv#t=" in ledger[uid]["where"]

    # shifted cues (and every other kept one) come back at the true speech, word timings inside
    for i, (start, end, _line) in enumerate(placed):
        utt = kept.get(ids[i])
        if utt is None:
            continue
        t0, t1 = utt.media_span  # the kept cut, as its film's time
        assert utt.origin.endswith(f"#t={t0:.2f},{t1:.2f}")
        words = utt.words
        assert [w for w, _, _ in words] == utt.text.split()
        assert all(a < b <= c for (_, a, b), (_, c, _) in zip(words, words[1:]))
        assert abs(t0 + words[0][1] - start) <= 0.2 and abs(t0 + words[-1][2] - end) <= 0.2, (
            i,
            t0,
            words,
            start,
            end,
        )
        assert abs(utt.num_samples / 16000 - (t1 - t0)) <= 0.02
        assert utt.verify_score >= min_score
    assert all(ids[i] in kept for i in SHIFTED)

    section = info["verify"]
    movies = section["sources"]["movies"]
    assert movies["kept"] == len(kept) and movies["rejected"] == len(ledger)
    assert movies["retimed"] >= len(SHIFTED)
    quantiles = list(movies["score_quantiles"].values())
    assert quantiles == sorted(quantiles) and quantiles[-1] <= 0
    assert (
        section["model"]["sha256"]
        == hashlib.sha256((verify_model / "model.keras").read_bytes()).hexdigest()
    )
    assert info["schema_version"] == SCHEMA_VERSION
    assert info["alignment"][0]["item"] == "movies/film"  # the build's sync facts carried over

    rows = read_corpus(out, "train")  # tf.data reads the new fields
    assert len(rows) == len(kept) and all(min_score <= r["verify_score"] <= 0 for r in rows)

    again = tmp_path / "again"  # one process, fresh: same bytes
    verify(corpus, again, verify_model, *IN_PROCESS)
    assert digests(again) == digests(out)


@pytest.mark.slow
def test_in_room_noise_the_films_own_threshold_catches_what_the_dev_one_does_and_loses_none(
    tmp_path, verify_model
):
    """The same lines in loud room noise, 6 cues' texts passed round: the model's dev split
    (clean speech like its training) and the film itself each give a threshold; the film's
    catches every wrong cue the dev one catches, and no right cue is lost."""
    corpus, _ = film_corpus(tmp_path / "noisy", SWAPPED_IN_NOISE, {}, NOISE_DB)
    ids = [f"movies/film/{i:05d}" for i in range(len(LINES) + 1)]
    wrong = {ids[i] for i in SWAPPED_IN_NOISE} | {ids[-1]}
    right = set(ids) - wrong
    calibration = json.loads((verify_model / "calibration.json").read_text())

    info = verify(corpus, tmp_path / "by-film", verify_model, *IN_PROCESS)
    by_dev = verify(
        corpus, tmp_path / "by-dev", verify_model, "--threshold-from", "dev", *IN_PROCESS
    )
    section, dev = info["verify"], by_dev["verify"]
    assert section["threshold_from"] == "corpus" and dev["threshold_from"] == "dev"
    assert dev["min_score"] == calibration["threshold"] and dev["corpus_calibration"] is None
    in_film = section["corpus_calibration"]
    assert section["min_score"] == in_film["threshold"] and in_film["separable"]
    assert in_film["own"]["count"] == len(ids) and in_film["z"] >= 2

    kept, kept_by_dev = set(records(tmp_path / "by-film")), set(records(tmp_path / "by-dev"))
    assert right <= kept  # no right cue lost
    assert wrong - kept_by_dev <= wrong - kept  # every wrong cue the dev threshold catches
    assert len(wrong - kept) >= 0.9 * len(wrong)
    ledger = {r["id"]: r["reason"] for r in read_ledger(tmp_path / "by-film")}
    assert set(ledger) == wrong - kept and set(ledger.values()) == {"verify:low-score"}
    from speechmill.corpus.describe import verify_lines

    assert "measured in this corpus" in verify_lines(info)[0]
    assert "its dev split's" in verify_lines(by_dev)[0]


# Written forms with two readings, each spoken both ways: the subtitle writes the digits.
READ_BOTH_WAYS = [
    ("The number on the door was 1994.", "the number on the door was nineteen ninety four"),
    (
        "The number on the door was 1994.",
        "the number on the door was one thousand nine hundred and ninety four",
    ),
    ("About 1,500 people came to the fair.", "about fifteen hundred people came to the fair"),
    (
        "About 1,500 people came to the fair.",
        "about one thousand five hundred people came to the fair",
    ),
    ("The journey takes 2-3 days by boat.", "the journey takes two or three days by boat"),
    ("The gate opens at 5:30 every day.", "the gate opens at half past five every day"),
    ("The gate opens at 5:30 every day.", "the gate opens at five thirty every day"),
]


@pytest.mark.slow
def test_verify_lets_the_audio_choose_between_readings_both_ways_round(tmp_path, verify_model):
    from speechmill.corpus.text import normalize, readings

    films = tmp_path / "films"
    films.mkdir()
    placed = make_movie(films, "film", [spoken for _, spoken in READ_BOTH_WAYS], gap=2.5)
    cues = [(a, b, written) for (a, b, _), (written, _) in zip(placed, READ_BOTH_WAYS)]
    (films / "film.srt").write_text(srt(cues, 0.0, 1.0))
    config = write_config(
        tmp_path / "film.toml", f'[[source]]\ntype = "movies"\npath = "{films}"\nsplit = "train"\n'
    )
    build(config, tmp_path / "corpus")
    built = records(tmp_path / "corpus")
    for i, (written, spoken) in enumerate(READ_BOTH_WAYS):
        utt = built[f"movies/film/{i:05d}"]
        assert utt.text == normalize(written) and utt.readings == readings(written)
        assert spoken in utt.readings and len(utt.readings) > 1  # the spoken one is a candidate

    info = verify(tmp_path / "corpus", tmp_path / "verified", verify_model, *IN_PROCESS)
    kept = records(tmp_path / "verified")
    chosen = {i: kept[f"movies/film/{i:05d}"].text for i in range(len(READ_BOTH_WAYS))}
    assert chosen == {i: spoken for i, (_, spoken) in enumerate(READ_BOTH_WAYS)}
    assert all(kept[uid].readings == built[uid].readings for uid in kept)  # kept for a re-check
    movies = info["verify"]["sources"]["movies"]
    defaults = sum(spoken == normalize(written) for written, spoken in READ_BOTH_WAYS)
    assert movies["readings"] == len(READ_BOTH_WAYS)
    assert movies["reread"] == len(READ_BOTH_WAYS) - defaults > 0


@pytest.mark.slow
def test_unverified_records_pass_unchanged_and_labels_exact_by_construction_can_skip(
    tmp_path, verify_model
):
    # two of the model's books (one it was trained on, its dev book): 2 shards to carry over
    corpus = verify_model_corpus(tmp_path / "corpus", train=["the-workshop.txt"])
    out = tmp_path / "skipped"
    info = verify(corpus, out, verify_model, "--skip-synthetic", *IN_PROCESS)
    assert serialized(out) == serialized(corpus)  # every record carried over as it was
    assert info["verify"]["sources"]["gutenberg"]["skipped"] == sum(
        s["examples"] for s in info["splits"].values()
    )

    checked = verify(corpus, tmp_path / "checked", verify_model, "--min-score", "-50", *IN_PROCESS)
    assert checked["verify"]["min_score"] == -50 and checked["verify"]["calibration"] is None
    before, after = records(corpus), records(tmp_path / "checked")
    assert (
        before.keys() == after.keys() and checked["verify"]["sources"]["gutenberg"]["rejected"] == 0
    )
    for uid, utt in after.items():  # no film to re-read: cut inside its own audio
        whole = before[uid].audio
        assert utt.verify_score is not None and utt.num_samples <= len(whole)
        start = np.flatnonzero(
            np.all(np.lib.stride_tricks.sliding_window_view(whole, 64) == utt.audio[:64], axis=1)
        )
        assert len(start) >= 1 and np.array_equal(
            whole[start[0] : start[0] + utt.num_samples], utt.audio
        )


def test_the_model_hears_a_film_cue_with_context_but_an_augmented_copy_as_it_is(film):
    import dataclasses

    from speechmill.train.verify import window_for

    corpus, placed = film
    utt = records(corpus)["movies/film/00003"]
    # the record is a span of the film, as fields (and, for people, the origin's #t=)
    start, end = utt.media_span
    assert utt.media.endswith("film.mkv") and utt.origin == f"{utt.media}#t={start:.2f},{end:.2f}"
    assert end - start == pytest.approx(utt.num_samples / 16000, abs=0.002)
    window = window_for(utt, 16000, 2.0)
    assert window.media.endswith("film.mkv") and window.own[0] == pytest.approx(2.0, abs=0.01)
    a = int(round(window.own[0] * 16000))  # the origin's times have 10 ms steps
    errors = [
        np.abs(window.audio[a + lag : a + lag + 8000].astype(int) - utt.audio[:8000]).mean()
        for lag in range(-160, 161)
    ]
    assert min(errors) <= 2  # the same sound, within 10 ms of where it was
    copy = dataclasses.replace(utt, id=utt.id + "~speed1.1", augment="speed=1.1")
    assert window_for(copy, 16000, 2.0).audio is copy.audio
    assert window_for(utt, 16000, 0.0).audio is utt.audio


@pytest.mark.slow
def test_verify_refuses_what_it_cannot_do(tmp_path, film, verify_model):
    from speechmill.commands.verify import main

    corpus, _ = film
    assert (
        main(["--input", str(corpus), "--output", str(corpus), "--model", str(verify_model)]) == 2
    )
    assert (
        main(["--input", str(corpus), "--output", str(tmp_path / "o"), "--model", str(tmp_path)])
        == 2
    )
    assert (
        main(
            [
                "--input",
                str(tmp_path),
                "--output",
                str(tmp_path / "o"),
                "--model",
                str(verify_model),
            ]
        )
        == 2
    )


@pytest.mark.slow
def test_a_model_that_cannot_tell_right_from_wrong_is_refused(tmp_path, film, capsys):
    """A model trained for 20 steps on one book: its calibration on the dev book finds right and
    wrong transcripts overlapping, train says so, and verify refuses it in one line instead of
    judging the film (the same film the session's model judges right)."""
    from speechmill.commands.train import main as train
    from speechmill.commands.verify import main

    data = verify_model_corpus(tmp_path / "corpus", train=["the-workshop.txt"])
    run = tmp_path / "weak"
    argv = ["--data", str(data), "--run", str(run), "--steps", "20", "--batch-size", "8"]
    assert train([*argv, "--preset", "bigru", "--rnn-units", "32", "--learning-rate", "2e-3"]) == 0
    assert "it cannot tell right from wrong: verify refuses it" in capsys.readouterr().out
    calibration = json.loads((run / "calibration.json").read_text())
    assert not calibration["separable"] and calibration["false_reject"] > 0.1

    corpus, _ = film
    out = tmp_path / "verified"
    assert main(["--input", str(corpus), "--output", str(out), "--model", str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "this model cannot tell right from wrong transcripts" in err[0], err
    assert "--min-score" in err[0] and not (out / "info.json").exists()


# ----------------------------------------------------------------------------- the pure parts


def test_the_threshold_sits_between_right_and_wrong_and_overlap_is_refused():
    from speechmill.train.calibrate import MAX_FALSE_REJECT, choose

    rng = np.random.default_rng(0)
    right, wrong = rng.normal(-1.0, 0.3, 200), rng.normal(-6.0, 0.8, 1200)
    found = choose(right, wrong)
    assert found["separable"] and found["false_reject"] == 0 and found["false_accept"] <= 0.01
    assert np.quantile(wrong, 0.99) < found["threshold"] < right.min()
    # a quarter of the way up from the wrong tail: a margin for speech that sounds less like
    # the dev split on both sides, more of it on the side of the right transcripts
    assert found["threshold"] - np.quantile(wrong, 0.99) < np.median(right) - found["threshold"]
    blurred = choose(rng.normal(-3.0, 1.0, 200), rng.normal(-3.6, 1.0, 1200))
    assert not blurred["separable"] and blurred["false_reject"] > MAX_FALSE_REJECT
    assert list(found["right"]["quantiles"].values()) == sorted(
        found["right"]["quantiles"].values()
    )


def test_in_a_corpus_the_threshold_sits_where_right_and_wrong_tails_are_equal_and_overlap_is_refused():
    from speechmill.train.calibrate_corpus import MIN_Z, choose_in_corpus, corpus_refusal

    rng = np.random.default_rng(1)
    right, wrong_pairs = rng.normal(-1.8, 0.4, 180), rng.normal(-4.2, 0.4, 1000)
    own = np.concatenate([right, rng.normal(-4.2, 0.4, 20)])  # a tenth of the corpus is wrong
    found = choose_in_corpus(own, wrong_pairs)
    assert found["separable"] and found["z"] >= MIN_Z
    # halfway between the two (equal spreads): the wrong tenth does not drag it down
    assert found["threshold"] == pytest.approx(-3.0, abs=0.1)
    assert np.mean(right < found["threshold"]) <= 0.01
    assert np.mean(wrong_pairs >= found["threshold"]) <= 0.01
    assert found["own_below"] == pytest.approx(0.1, abs=0.02)  # the wrong tenth, measured
    # a voice the model never heard: its right scores reach into the wrong ones
    blurred = choose_in_corpus(rng.normal(-2.75, 0.43, 200), rng.normal(-4.1, 0.37, 1000))
    assert not blurred["separable"] and blurred["expected_error"] > 0.02
    line = corpus_refusal({**blurred, "data": "build/film"}, "build/run")
    assert "\n" not in line and "cannot tell right from wrong" in line and "--teacher" in line


def test_wrong_transcripts_are_other_utterances_cut_to_length_in_a_stable_order():
    from speechmill.train.calibrate import WRONG_PER_UTTERANCE, wrong_texts

    words = "the of a lantern keeper walked up stairs every night to light lamp".split()
    texts = [" ".join(words[(i * 3) % 7 : (i * 3) % 7 + 3 + i % 6]) for i in range(30)]
    ids = [f"book/{i:05d}" for i in range(30)]
    for i in (0, 7, 29):
        wrong = wrong_texts(ids, texts, i)
        assert 0 < len(wrong) <= 2 * WRONG_PER_UTTERANCE and texts[i] not in wrong
        assert all(any(t.startswith(w) for t in texts if t != texts[i]) for w in wrong)
        full, half = wrong[0::2], wrong[1::2]
        assert all(len(w) <= len(texts[i]) or " " not in w for w in full)
        assert all(len(w) <= len(texts[i]) // 2 or " " not in w for w in half)
        order = list(range(30))[::-1]  # the same pairs whatever order the utterances come in
        flipped = wrong_texts([ids[j] for j in order], [texts[j] for j in order], 29 - i)
        assert flipped == wrong
        assert wrong_texts(ids, texts, i, halves=False) == full


@pytest.mark.slow
def test_a_corpus_calibration_reads_a_bounded_sample_spread_over_the_shards(
    verify_model, monkeypatch
):
    from speechmill.corpus.reader import load_info, utterances
    from speechmill.train import calibrate_corpus

    data = json.loads((verify_model / "config.json").read_text())[
        "data"
    ]  # one dev, one train shard
    info = load_info(data)
    dev, train = list(utterances(data, info, "dev")), list(utterances(data, info, "train"))
    monkeypatch.setattr(calibrate_corpus, "MAX_UTTERANCES", 4)
    got = [u.id for u in calibrate_corpus.sample(data, info, lambda u: True)]
    assert got == [u.id for u in dev[:2] + train[:2]]
    odd = [u.id for u in calibrate_corpus.sample(data, info, lambda u: u.id[-1] in "13579")]
    assert len(odd) == 4 and all(i[-1] in "13579" for i in odd)
    monkeypatch.setattr(calibrate_corpus, "MAX_UTTERANCES", 1)
    assert [u.id for u in calibrate_corpus.sample(data, info, lambda u: True)] == [dev[0].id]


def test_a_stored_calibration_belongs_to_its_model_file(tmp_path):
    import hashlib

    from speechmill.train.calibrate import FILE, RULE_VERSION, stored

    (tmp_path / "model.keras").write_bytes(b"weights one")
    facts = {"rule_version": RULE_VERSION, "threshold": -3.0, "separable": True}
    digest = hashlib.sha256(b"weights one").hexdigest()
    (tmp_path / FILE).write_text(json.dumps({**facts, "model_sha256": digest}))
    assert stored(str(tmp_path))["threshold"] == -3.0
    assert stored(str(tmp_path / "model.keras"))["threshold"] == -3.0
    (tmp_path / "model.keras").write_bytes(b"weights two")  # retrained: measured again
    assert stored(str(tmp_path)) is None
    (tmp_path / FILE).write_text(json.dumps({**facts, "model_sha256": digest, "rule_version": 0}))
    (tmp_path / "model.keras").write_bytes(b"weights one")
    assert stored(str(tmp_path)) is None
    (tmp_path / FILE).write_text("{not json")
    assert stored(str(tmp_path)) is None


def test_judge_keeps_cuts_and_rejects():
    from speechmill.train.verify import Alignment, judge

    words = (("a", 1.0, 1.2), ("cat", 1.4, 1.9))
    kept = judge(
        Alignment(-1.0, 1.0, 1.9, words),
        min_score=-4.5,
        margin=0.15,
        window_seconds=5.0,
        own=(0.8, 2.0),
    )
    assert kept.kept and (kept.start, kept.end) == (0.85, 2.05)
    assert kept.word_times == pytest.approx((0.15, 0.35, 0.55, 1.05))
    edge = judge(
        Alignment(-1.0, 0.05, 4.95, words),
        min_score=-4.5,
        margin=0.15,
        window_seconds=5.0,
        own=(0, 5),
    )
    assert (edge.start, edge.end) == (0.0, 5.0)  # never outside the audio
    low = judge(
        Alignment(-6.0, 1.0, 1.9, words),
        min_score=-4.5,
        margin=0.15,
        window_seconds=5.0,
        own=(0.8, 2.0),
    )
    assert low.reason == "verify:low-score" and "-6.000" in low.detail
    away = judge(
        Alignment(-1.0, 3.0, 3.9, words),
        min_score=-4.5,
        margin=0.15,
        window_seconds=5.0,
        own=(0.8, 2.0),
    )
    assert away.reason == "verify:elsewhere"


def test_score_summary():
    from speechmill.corpus.facts import ScoreHistogram
    from speechmill.corpus.types import Note

    notes = [
        Note(
            "movies",
            "verify/a",
            {"scores": [-1.0, -2.0], "kept": 2, "retimed": 1, "readings": 2, "reread": 1},
        ),
        Note("movies", "verify/b", {"scores": [-3.0, -9.0], "kept": 1, "rejected": 1}),
        Note("gutenberg", "verify/c", {"scores": [], "skipped": 4}),
    ]
    combiner = ScoreHistogram({"min_score": -4.5})

    def combined(groups):  # as a runner would: each group accumulated apart, then merged
        accs = []
        for group in groups:
            acc = combiner.create()
            for note in group:
                acc = combiner.add(acc, note)
            accs.append(acc)
        return combiner.extract(combiner.merge(accs))["verify"]

    section = combined([notes])
    assert combined([[notes[2]], [notes[1]], [notes[0]]]) == section  # any grouping, same facts
    assert section["min_score"] == -4.5
    assert section["sources"]["movies"] == {
        "kept": 3,
        "retimed": 1,
        "rejected": 1,
        "skipped": 0,
        "readings": 2,
        "reread": 1,
        "score_quantiles": {"0.05": -8.1, "0.25": -4.5, "0.5": -2.5, "0.75": -1.75, "0.95": -1.15},
    }
    assert section["sources"]["gutenberg"] == {
        "kept": 0,
        "retimed": 0,
        "rejected": 0,
        "skipped": 4,
        "readings": 0,
        "reread": 0,
    }


def test_augmented_copies_keep_word_timings_in_step_with_the_audio():
    from speechmill.augment.apply import Banks, augment_utterance
    from speechmill.corpus.schema import Utterance

    utt = Utterance(
        id="x/1",
        source="x",
        speaker="s",
        group="g",
        text="a cat",
        text_raw="A cat",
        audio=(np.sin(np.arange(16000) / 5) * 8000).astype(np.int16),
        verify_score=-1.0,
        word_times=(0.1, 0.3, 0.5, 0.9),
    )
    copy = augment_utterance(
        utt, (("speed", 1.25),), 16000, Banks(noises=[], rirs=[], babble=[]), 1
    )
    assert copy.word_times == pytest.approx((0.08, 0.24, 0.4, 0.72))
    assert copy.num_samples == pytest.approx(16000 / 1.25, abs=40) and copy.verify_score == -1.0
    assert not math.isnan(copy.verify_score)
    assert json.dumps(copy.words)
