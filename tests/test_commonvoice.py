"""Common Voice layout: own splits kept, votes checked, large tables read in parallel byte ranges."""

from __future__ import annotations

import io

import pytest
from support.jobs import build, read_corpus, read_ledger, write_config
from support.speech import HEADER, write_commonvoice

from speechmill.corpus.inputs.ranges import lines_in_range
from speechmill.corpus.sources.commonvoice import gender_code
from speechmill.corpus.text import normalize


def test_own_splits_speakers_genders_and_votes(tmp_path):
    root = write_commonvoice(
        tmp_path / "en",
        {
            "validated": [
                ("a1", "The kettle began to sing."),
                ("a1", "She closed the window."),
                ("b2", "A dog barked twice.", 1, 3, "male_masculine"),  # down-voted
                ("c3", "Rain fell all night.", 0, 0, ""),  # never validated
                ("d4", "The bell rang at noon.", 3, 1, "male"),
            ]
        },
    )
    config = write_config(
        tmp_path / "cv.toml",
        f"""
        [[source]]
        type = "commonvoice"
        path = "{root}"
        tables = ["validated"]
        split = "train"
        """,
        corpus="max_reject_fraction = 0.5",
    )
    out = tmp_path / "corpus"
    info = build(config, out)

    rows = read_corpus(out, "train")
    assert sorted(r["text"] for r in rows) == sorted(
        normalize(t)
        for t in ("The kettle began to sing.", "She closed the window.", "The bell rang at noon.")
    )
    assert {r["speaker"] for r in rows} == {
        "commonvoice/a1a1a1a1a1a1a1a1",
        "commonvoice/d4d4d4d4d4d4d4d4",
    }
    assert all(r["speaker"] == r["group"] for r in rows)
    assert {r["gender"] for r in rows if r["speaker"].endswith("a1")} == {"f"}
    assert {r["gender"] for r in rows if r["speaker"].endswith("d4")} == {"m"}
    reasons = {r["id"]: (r["reason"], r["detail"]) for r in read_ledger(out)}
    assert reasons["commonvoice/common_voice_en_1003"] == (
        "votes:down",
        "1 up-votes, 3 down-votes (min_vote_margin 1)",
    )
    assert reasons["commonvoice/common_voice_en_1004"][0] == "votes:unvalidated"
    assert {s["type"]: s["license"] for s in info["sources"]} == {
        "commonvoice": "CC0 1.0 (Mozilla Common Voice)"
    }


def test_split_tables_keep_their_split_and_a_missing_clip_is_a_ledger_line(tmp_path):
    root = write_commonvoice(
        tmp_path / "en",
        {
            "train": [("a1", "The kettle began to sing.")],
            "dev": [("b2", "A dog barked twice.")],
            "test": [("c3", "Rain fell all night."), ("c3", "Then it stopped.")],
        },
    )
    (root / "clips" / "common_voice_en_1004.mp3").unlink()
    out = tmp_path / "corpus"
    info = build(
        write_config(
            tmp_path / "cv.toml",
            f'[[source]]\ntype = "commonvoice"\npath = "{root}"\n',
            corpus="max_reject_fraction = 0.5",
        ),
        out,
    )
    assert {s: info["splits"][s]["examples"] for s in info["splits"]} == {
        "train": 1,
        "dev": 1,
        "test": 1,
    }
    assert [(r["id"], r["reason"]) for r in read_ledger(out)] == [
        ("commonvoice/common_voice_en_1004", "audio:missing")
    ]


class CountingReader(io.BytesIO):
    """A file that counts the bytes read from it."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, n=-1):
        out = super().read(n)
        self.bytes_read += len(out)
        return out

    def readline(self, n=-1):
        out = super().readline(n)
        self.bytes_read += len(out)
        return out


@pytest.mark.parametrize("step", [1, 7, 40, 97, 100_000])
def test_byte_ranges_cover_every_row_once_and_read_only_their_own_range(step):
    lines = [HEADER.encode()] + [
        f"client{i}\tclip{i}.mp3\ts{i}\tsentence number {i}{'!' * (i % 13)}".encode()
        for i in range(200)
    ]
    data = b"\n".join(lines) + b"\n"
    seen, longest = [], max(len(line) + 1 for line in lines)
    for start in range(0, len(data), step):
        f = CountingReader(data)
        rows = list(lines_in_range(f, start, start + step, header=True))
        seen += [line for _, line in rows]
        assert f.bytes_read <= len(lines[0]) + 1 + step + 2 * longest
    assert seen == [line + b"\n" for line in lines[1:]]


@pytest.mark.parametrize(
    "value, code",
    [
        ("male", "m"),
        ("female", "f"),
        ("male_masculine", "m"),
        ("female_feminine", "f"),
        ("non-binary", ""),
        ("", ""),
    ],
)
def test_gender_codes(value, code):
    assert gender_code(value) == code


def test_a_large_table_becomes_parallel_units_cut_by_a_worker(tmp_path):
    from speechmill.corpus.sources import SourceContext, make_source

    root = tmp_path / "en"
    (root / "clips").mkdir(parents=True)
    (root / "train.tsv").write_text(
        HEADER
        + "\n"
        + "".join(f"c{i}\tx{i}.mp3\ts\tA line.\t\t2\t0\t\t\t\t\ten\t\n" for i in range(5000))
    )
    source = make_source(
        {"type": "commonvoice", "path": str(root), "tables": ["train"], "unit_mb": 0.05},
        SourceContext(base_dir=str(tmp_path)),
    )
    (table,) = source.units()  # the launcher lists the table only
    units = list(source.expand(table))  # a worker cuts it into ranges
    size = (root / "train.tsv").stat().st_size
    assert len(units) == -(-size // int(0.05 * (1 << 20))) > 1
    assert units[0].payload.start == 0 and units[-1].payload.end >= size


def test_one_clip_is_one_utterance_across_rows_units_and_splits(tmp_path):
    sentences = [f"The {w} lamp was lit at dusk." for w in ("red", "old", "tall", "small")]
    root = write_commonvoice(
        tmp_path / "en",
        {
            "train": [("a1", sentences[0]), ("a1", sentences[1]), ("b2", sentences[2])],
            "test": [("c3", sentences[3])],
        },
    )
    train = (root / "train.tsv").read_text().splitlines()
    test = (root / "test.tsv").read_text().splitlines()
    # the first clip twice more in train (later rows, other byte ranges), and once in test
    (root / "train.tsv").write_text("\n".join([*train, train[1], train[1]]) + "\n")
    (root / "test.tsv").write_text("\n".join([*test, train[1]]) + "\n")
    config = write_config(
        tmp_path / "cv.toml",
        f'[[source]]\ntype = "commonvoice"\npath = "{root}"\ntables = ["train", "test"]\n'
        "unit_mb = 0.0001\n",  # about one row per unit: the repeats are in other units
        corpus="max_reject_fraction = 0.5",
    )
    info = build(config, tmp_path / "corpus")
    published = [r["id"] for s in ("train", "test") for r in read_corpus(tmp_path / "corpus", s)]
    assert sorted(published) == sorted(set(published)) and len(published) == 4
    # the test split keeps its clip; train loses its repeats of it
    assert {s: info["splits"][s]["examples"] for s in info["splits"]} == {"train": 2, "test": 2}
    ledger = read_ledger(tmp_path / "corpus")
    assert [(r["id"], r["reason"], r["stage"]) for r in ledger] == [
        ("commonvoice/common_voice_en_1001", "text:duplicate-id", "dedupe")
    ] * 3
    assert [r["where"].split()[-1] for r in ledger] == ["(train)"] * 3
    assert all(r["detail"].startswith("the same id as an utterance kept in test/") for r in ledger)
    assert info["rejects"]["by_reason"] == {"text:duplicate-id": 3}

    many = build(
        config, tmp_path / "two", "--direct_num_workers=2", "--direct_running_mode=multi_processing"
    )  # the same choice on another runner set-up
    assert many == info
    for shard in (tmp_path / "corpus").glob("*.tfrecord"):
        assert (tmp_path / "two" / shard.name).read_bytes() == shard.read_bytes()
