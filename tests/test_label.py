"""Recordings with no transcript, labelled by the teacher in the build (``teacher = "whisper"``
on the folder source): real human speech (the asterisk prompts) cut at pauses and labelled;
noise and music give no utterance. What each piece says is checked against the prompt list
(the texts the speaker read), never against our own output."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from support.jobs import IN_PROCESS, build, read_ledger, write_config
from support.prompts import MUSIC, NOISE, every_nth, load16k, not_speech, records

RATE = 16000
PAUSE = 1.5  # seconds of silence between the prompts of the joined recording


def cer_of(pairs: list[tuple[str, str]]) -> float:
    """Character error rate over (reference, hypothesis) pairs, both normalized our way."""
    import jiwer

    from speechmill.corpus.text import normalize

    refs = [normalize(r) for r, _ in pairs]
    hyps = [normalize(h) or "\u2205" for _, h in pairs]
    return float(jiwer.cer(refs, hyps))


@pytest.fixture(scope="module")
def untranscribed(tmp_path_factory):
    """A folder of recordings without transcripts: 6 prompts joined into one recording with
    1.5 s pauses, 4 prompts on their own, noise and music; one prompt with its transcript.
    Returns the folder, (start, end, text) of the speech of each joined prompt, the single
    prompts and the transcribed one."""
    root = tmp_path_factory.mktemp("untranscribed")
    chosen = [p for p in every_nth(9) if not any(c.isdigit() for c in p[2])][:11]
    joined, singles, known = chosen[:6], chosen[6:10], chosen[10]
    speaker = root / "allison"
    speaker.mkdir()
    pieces, placed, t = [np.zeros(int(0.5 * RATE), np.float32)], [], 0.5
    for _, wav, text in joined:
        audio = load16k(wav)
        loud = np.flatnonzero(np.abs(audio) > 0.02)  # where the speech is, by its level alone
        placed.append((t + loud[0] / RATE, t + (loud[-1] + 1) / RATE, text))
        pieces += [audio, np.zeros(int(PAUSE * RATE), np.float32)]
        t += len(audio) / RATE + PAUSE
    sf.write(speaker / "joined.wav", np.concatenate(pieces), RATE)
    for name, wav, _ in singles:
        sf.write(speaker / f"{name.replace('/', '-')}.wav", load16k(wav), RATE)
    sf.write(speaker / "known.wav", load16k(known[1]), RATE)
    (speaker / "known.txt").write_text(known[2] + "\n")
    (root / "sounds").mkdir()
    not_speech(root / "sounds" / "noise.wav", NOISE)
    not_speech(root / "sounds" / "music.wav", MUSIC)
    return root, placed, singles, known


def config_for(tmp_path, folder, keys: str = 'teacher = "whisper"'):
    return write_config(
        tmp_path / "c.toml",
        f'[[source]]\ntype = "folder"\npath = "{folder}"\nlicense = "CC-BY-SA-3.0"\n{keys}\n',
        corpus="min_seconds = 0.5\nmax_reject_fraction = 0.9",
    )


@pytest.mark.slow
def test_untranscribed_speech_is_cut_at_pauses_and_labelled_by_the_teacher(
    tmp_path, untranscribed, capsys
):
    from speechmill.teachers.table import load_teacher

    folder, placed, singles, known = untranscribed
    out = tmp_path / "corpus"
    info = build(config_for(tmp_path, folder), out, "--direct_num_workers=2")
    kept = records(out)
    ledger = read_ledger(out)

    # the joined recording: one utterance per prompt, each where that prompt was spoken
    pieces = sorted(
        (u for u in kept.values() if u.media.endswith("joined.wav")), key=lambda u: u.media_span
    )
    assert len(pieces) == len(placed)
    for utt, (start, end, _) in zip(pieces, placed):
        a, b = utt.media_span  # the whole prompt's speech, and little of the pause around it
        assert start - 0.5 <= a <= start + 0.05 and end - 0.05 <= b <= end + 0.5, (utt.id, a, b)
        assert abs(utt.num_samples / RATE - (b - a)) <= 0.01
        assert utt.label_source == "teacher:whisper" and utt.origin.endswith(f"#t={a:.2f},{b:.2f}")
    singles_kept = {
        u.media.rsplit("/", 1)[-1]: u for u in kept.values() if u.label_source and u not in pieces
    }
    assert len(singles_kept) == len(singles)

    # labels as good as the teacher on the same prompts heard whole, against the prompt texts
    pairs = [(text, u.text_raw) for u, (_, _, text) in zip(pieces, placed)]
    pairs += [(text, singles_kept[f"{n.replace('/', '-')}.wav"].text_raw) for n, _, text in singles]
    whisper = load_teacher("whisper")
    whole = whisper.hear([load16k(wav) for wav in [*(s[1] for s in singles)]])
    teacher_alone = cer_of([(s[2], h.text) for s, h in zip(singles, whole)])
    assert cer_of(pairs) <= max(0.05, teacher_alone + 0.02), pairs

    # a recording with its transcript is read as before; noise and music publish nothing
    own = kept["folder/allison/known"]
    assert own.text_raw == known[2] and not own.label_source
    assert not [u for u in kept.values() if "/sounds/" in u.media or "/sounds/" in u.origin]
    sounds = {r["id"]: r["reason"] for r in ledger if "sounds" in r["id"]}
    assert {i.split("/")[2] for i in sounds} == {"noise", "music"}
    assert set(sounds.values()) <= {"label:no-speech", "label:teacher-unsure"}

    labels = info["labels"]["folder"]
    assert labels["recordings"] == 1 + len(singles) + 2
    assert labels["heard"] >= len(placed) + len(singles)
    assert info["teachers"]["whisper"]["backend"] == "whisper"

    # the same shards from one in-process worker
    again = tmp_path / "again"
    build(config_for(tmp_path, folder), again, *IN_PROCESS)
    shards = sorted(p.name for p in out.glob("*.tfrecord"))
    assert shards == sorted(p.name for p in again.glob("*.tfrecord"))
    for name in shards:
        assert (out / name).read_bytes() == (again / name).read_bytes(), name

    from speechmill.commands.describe import main as describe

    capsys.readouterr()
    assert describe([str(out)]) == 0
    said = capsys.readouterr().out
    assert f"labelled by a teacher: folder {labels['heard']} pieces" in said
    from speechmill.report import corpus_report

    page = corpus_report(str(out))
    assert "Labelled by a teacher" in page and f"<td>{labels['heard']}</td>" in page


def test_without_a_teacher_an_untranscribed_recording_stays_text_missing(tmp_path, untranscribed):
    folder, placed, singles, known = untranscribed
    out = tmp_path / "corpus"
    build(config_for(tmp_path, folder, ""), out)
    kept = records(out)
    assert list(kept) == ["folder/allison/known"]
    missing = {r["id"] for r in read_ledger(out) if r["reason"] == "text:missing"}
    assert len(missing) == 1 + len(singles) + 2


def test_a_teacher_that_cannot_load_is_one_line_before_any_work(tmp_path, untranscribed, capsys):
    from speechmill.commands.corpus import main

    folder = untranscribed[0]
    for keys, said in (
        ('teacher = "nonesuch"', "unknown teacher"),
        ('teacher = "whisper"\nsecond = "pocketsphinx:big"', "takes no argument"),
        ('second = "pocketsphinx"', "second and second_max_cer need teacher"),
        ('teacher = "whisper"\nsecond_max_cer = 2', "second_max_cer must be a CER"),
    ):
        config = config_for(tmp_path, folder, keys)
        assert main(["--config", str(config), "--output", str(tmp_path / "o"), *IN_PROCESS]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and said in err[0], err
        assert not (tmp_path / "o" / "info.json").exists()


def test_utterances_are_cut_at_pauses_within_max_seconds():
    from speechmill.teachers.label import padded, utterance_spans

    speech = [(0.5, 2.0), (2.2, 3.0), (3.6, 5.0), (7.0, 9.0), (9.5, 20.0), (20.4, 29.0)]
    # 0.2 s is no pause; 0.6 s is joined; 2 s is a cut; a join past 20 s is a cut
    assert utterance_spans(speech, 20.0) == [(0.5, 5.0), (7.0, 20.0), (20.4, 29.0)]
    short = [(0.5, 1.0), (2.2, 4.0), (6.5, 7.0), (9.5, 12.0)]  # pauses of 1.2 s and 2.5 s
    assert utterance_spans(short, 20.0) == short
    assert utterance_spans(short, 20.0, min_seconds=1.0) == [(0.5, 4.0), (6.5, 7.0), (9.5, 12.0)]
    assert utterance_spans(speech, 4.0) == [
        (0.5, 3.0),
        (3.6, 5.0),
        (7.0, 9.0),
        (9.5, 20.0),
        (20.4, 29.0),
    ]
    cut = padded([(0.05, 1.0), (1.2, 2.0)], 2.1)
    assert cut == [(0.0, 1.1), (1.1, 2.1)]


@pytest.mark.slow
def test_a_second_opinion_keeps_only_labels_both_recognizers_agree_on(tmp_path, untranscribed):
    folder = untranscribed[0]
    alone, both = tmp_path / "alone", tmp_path / "both"
    build(config_for(tmp_path, folder), alone)
    second = 'teacher = "whisper"\nsecond = "pocketsphinx"\nsecond_max_cer = 0.3'
    info = build(config_for(tmp_path, folder, second), both)
    kept_alone = {i for i, u in records(alone).items() if u.label_source}
    kept_both = {i for i, u in records(both).items() if u.label_source}
    disagreed = {r["id"]: r["detail"] for r in read_ledger(both)}
    disagreed = {i: d for i, d in disagreed.items() if i in kept_alone}
    assert kept_both <= kept_alone and kept_alone - kept_both == set(disagreed)
    for detail in disagreed.values():
        assert "whisper heard" in detail and "pocketsphinx" in detail
    assert set(info["teachers"]) == {"whisper", "pocketsphinx"}
    assert kept_both, "pocketsphinx agrees with Whisper on none of the prompts"


@pytest.mark.slow
def test_speech_across_a_window_edge_is_heard_whole_from_the_next_window(tmp_path):
    """A prompt spoken across the 60 s edge of the first window, another after it: each is one
    utterance, cut where its speech is, labelled with its own words."""
    import jiwer

    from speechmill.corpus.text import normalize
    from speechmill.corpus.types import Recording
    from speechmill.teachers.label import WINDOW_SECONDS, Labeller

    (_, first, text1), (_, second, text2) = [
        p for p in every_nth(30, min_words=4) if not any(c.isdigit() for c in p[2])
    ][:2]
    one, two = load16k(first), load16k(second)
    start1 = WINDOW_SECONDS - len(one) / RATE / 2  # its middle on the edge
    start2 = start1 + len(one) / RATE + 2.0
    track = np.zeros(int((start2 + len(two) / RATE + 1.0) * RATE), np.float32)
    for at, audio in ((start1, one), (start2, two)):
        track[int(at * RATE) : int(at * RATE) + len(audio)] = audio
    sf.write(tmp_path / "long.wav", track, RATE)
    rec = Recording("folder/x/long", "folder/x", "folder/x", str(tmp_path / "long.wav"), "pd")
    out = [x for x in Labeller("whisper", max_seconds=20.0)(rec) if hasattr(x, "media_span")]
    assert len(out) == 2, out
    for seg, at, audio, text in ((out[0], start1, one, text1), (out[1], start2, two, text2)):
        loud = np.flatnonzero(np.abs(audio) > 0.02)
        speech = (at + loud[0] / RATE, at + loud[-1] / RATE)
        a, b = seg.media_span
        assert (
            a <= speech[0] + 0.05 and b >= speech[1] - 0.05 and b - a <= speech[1] - speech[0] + 0.5
        )
        assert jiwer.cer(normalize(text), normalize(seg.text_raw)) <= 0.1, (seg.text_raw, text)
