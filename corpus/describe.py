"""What a corpus holds, split by split, in one table (``speechmill describe CORPUS``, the report).

What ``lhotse cut describe`` prints (utterances, total duration, duration mean, std, min,
percentiles, max), plus the speakers per split by gender and TTS engine, the vocabulary, the
out-of-vocabulary rate of each held-out split's words against train's vocabulary, and how many
held-out transcripts also occur in train.

Memory does not grow with the number of utterances: durations go into a fixed histogram
(10 ms bins up to 2 minutes; min, max, mean and std are exact), and transcripts are compared by
8-byte digests of the held-out splits' texts only; what is held per split is its vocabulary and
its speakers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections import Counter
from collections.abc import Callable

from speechmill.corpus.errors import printable
from speechmill.corpus.reader import load_info, utterances
from speechmill.corpus.schema import Utterance

BIN_SECONDS = 0.01
BINS = 12_000  # 120 s; longer utterances count in the last bin (max stays exact)
QUANTILES = (0.25, 0.5, 0.75, 0.99)


def text_digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=8).digest()


@dataclasses.dataclass
class SplitFacts:
    """Running facts of one split; ``add`` one utterance at a time."""

    count: int = 0
    seconds: float = 0.0
    squares: float = 0.0
    shortest: float = math.inf
    longest: float = 0.0
    histogram: Counter = dataclasses.field(default_factory=Counter)
    speakers: dict = dataclasses.field(default_factory=dict)  # speaker -> (gender, engine)
    vocabulary: set = dataclasses.field(default_factory=set)
    words: int = 0
    unknown_words: int = 0  # held-out splits: words not in train's vocabulary
    texts_in_train: int = 0  # held-out splits: transcripts that train also has

    def add(self, seconds: float, text: str, speaker: str, gender: str, engine: str) -> None:
        self.count += 1
        self.seconds += seconds
        self.squares += seconds * seconds
        self.shortest, self.longest = min(self.shortest, seconds), max(self.longest, seconds)
        self.histogram[min(int(seconds / BIN_SECONDS), BINS - 1)] += 1
        self.speakers.setdefault(speaker, (gender or "?", engine or "human"))
        words = text.split()
        self.words += len(words)
        self.vocabulary.update(words)

    def quantile(self, q: float) -> float:
        """The duration below which a fraction ``q`` of the split lies (to 10 ms)."""
        wanted, seen = q * self.count, 0
        for index in sorted(self.histogram):
            seen += self.histogram[index]
            if seen >= wanted:
                return min(max((index + 1) * BIN_SECONDS, self.shortest), self.longest)
        return self.longest

    def summary(self) -> dict:
        """The split's facts as plain numbers (what the table and the report show)."""
        if not self.count:
            return {"utterances": 0}
        mean = self.seconds / self.count
        by_gender = Counter(g for g, _ in self.speakers.values())
        by_engine = Counter(e for _, e in self.speakers.values())
        return {
            "utterances": self.count,
            "hours": self.seconds / 3600,
            "mean": mean,
            "std": math.sqrt(max(self.squares / self.count - mean * mean, 0.0)),
            "min": self.shortest,
            **{f"{round(q * 100)}%": self.quantile(q) for q in QUANTILES},
            "max": self.longest,
            "speakers": len(self.speakers),
            "by_gender": dict(sorted(by_gender.items())),
            "by_engine": dict(sorted(by_engine.items())),
            "vocabulary": len(self.vocabulary),
            "oov_rate": self.unknown_words / self.words if self.words else 0.0,
            "texts_in_train": self.texts_in_train,
        }


def describe_corpus(
    folder: str, visit: Callable[[str, Utterance], None] | None = None
) -> dict[str, dict]:
    """Split name -> its summary. Reads the held-out splits twice (their text digests first,
    so train's transcripts can be checked against them as train streams past) and train once;
    ``visit(split, utt)`` sees every utterance of that one full pass (the report's charts and
    samples ride on it)."""
    info = load_info(folder)
    splits = sorted(info["splits"], key=lambda s: (s != "train", s))
    held_out = [s for s in splits if s != "train"]
    digests: dict[bytes, int] = {}
    for split in held_out:
        for utt in utterances(folder, info, split):
            digests[text_digest(utt.text)] = 0
    rate = info["sample_rate"]
    facts = {s: SplitFacts() for s in splits}
    train_vocabulary: set = set()
    for split in splits:
        for utt in utterances(folder, info, split):
            facts[split].add(utt.num_samples / rate, utt.text, utt.speaker, utt.gender, utt.engine)
            if visit is not None:
                visit(split, utt)
            if split == "train":
                digest = text_digest(utt.text)
                if digest in digests:
                    digests[digest] = 1
            elif "train" in info["splits"]:
                words = utt.text.split()
                facts[split].unknown_words += sum(w not in train_vocabulary for w in words)
                facts[split].texts_in_train += digests[text_digest(utt.text)]
        if split == "train":
            train_vocabulary = facts[split].vocabulary
    return {split: facts[split].summary() for split in splits}


COLUMNS = ("utterances", "hours", "mean", "std", "min", "25%", "50%", "75%", "99%", "max")


def table(summaries: dict[str, dict]) -> list[str]:
    """The console table: one row of durations per split, then speakers and text facts."""
    head = f"{'split':<8}" + "".join(f"{c:>11}" for c in COLUMNS)
    rows = [head, "-" * len(head)]
    for split, s in summaries.items():
        if not s["utterances"]:
            rows.append(f"{printable(split):<8}{0:>11}")
            continue
        cells = [f"{s['utterances']:>11,}", f"{s['hours']:>11.2f}"]
        cells += [f"{s[c]:>10.2f}s" for c in COLUMNS[2:]]
        rows.append(f"{printable(split):<8}" + "".join(cells))
    rows.append("")
    for split, s in summaries.items():
        if not s["utterances"]:
            continue
        genders = ", ".join(f"{g} {n}" for g, n in s["by_gender"].items())
        engines = ", ".join(f"{printable(e)} {n}" for e, n in s["by_engine"].items())
        line = (
            f"{printable(split):<8}{s['speakers']:,} speakers ({genders}; {engines}), "
            f"vocabulary {s['vocabulary']:,} words"
        )
        if split != "train" and "train" in summaries:
            line += (
                f", out of train's vocabulary {s['oov_rate']:.1%} of words, "
                f"{s['texts_in_train']:,} of {s['utterances']:,} transcripts also in train"
            )
        rows.append(line)
    return rows


def label_lines(info: dict) -> list[str]:
    """What the build's teacher stage labelled, per source: pieces heard, recordings, hours of
    speech ([] when nothing was). Every value comes from info.json: each is shown escaped."""
    labels = info.get("labels")
    if not isinstance(labels, dict) or not labels:
        return []
    rows = []
    for source, c in sorted(labels.items()):
        c = c if isinstance(c, dict) else {}
        speech = c.get("speech_seconds", 0)
        hours = speech / 3600 if isinstance(speech, (int, float)) else 0.0
        rows.append(
            f"  {printable(str(source))} {printable(str(c.get('heard', 0)))} pieces of "
            f"{printable(str(c.get('recordings', 0)))} recordings ({hours:.2f} h of speech)"
        )
    return ["labelled by a teacher:" + rows[0][1:], *rows[1:]]


def verify_lines(info: dict) -> list[str]:
    """What make verify did, per source: who judged (the teacher and its threshold, the model),
    kept, re-read (the audio chose another reading), retimed and rejected; [] when not verified.
    Every value comes from info.json, a file from anyone: each is shown escaped, as text."""
    facts = info.get("verify")
    if not isinstance(facts, dict) or not facts:
        return []

    def shown(value) -> str:
        return printable(f"{value:,}" if isinstance(value, int) else str(value))

    judges = []
    teacher, model = facts.get("teacher"), facts.get("model")
    if isinstance(teacher, dict):
        t = {k: shown(teacher.get(k, "?")) for k in ("spec", "max_cer", "device", "compute_type")}
        judges.append(
            f"teacher {t['spec']} (max CER {t['max_cer']}, {t['device']} {t['compute_type']})"
        )
    if isinstance(model, dict):
        found = {
            "corpus": "measured in this corpus",
            "dev": "its dev split's",
            "--min-score": "given",
        }.get(facts.get("threshold_from"), "")  # None in corpora verified before it was kept
        judges.append(
            f"model {shown(model.get('run', ''))} "
            f"(min score {shown(facts.get('min_score'))}{', ' + found if found else ''})"
        )
    rows = [f"verified by {' and '.join(judges) or 'nothing'}:"]
    sources = facts.get("sources")
    for source, c in sorted(sources.items() if isinstance(sources, dict) else []):
        n = {
            k: shown(c.get(k, 0))
            for k in ("kept", "reread", "readings", "retimed", "rejected", "skipped")
        }
        rows.append(
            f"  {shown(source):<12} kept {n['kept']} ({n['reread']} re-read of {n['readings']} "
            f"with readings, {n['retimed']} retimed), rejected {n['rejected']}, "
            f"carried over {n['skipped']}"
        )
    return rows


SPARKS = " ▁▂▃▄▅▆▇█"


def sparkline(bins: list) -> str:
    """A histogram's counts as one character each (their height)."""
    counts = [c if isinstance(c, int) and c >= 0 else 0 for c in bins]
    top = max(counts, default=0) or 1
    return "".join(SPARKS[math.ceil(c / top * (len(SPARKS) - 1))] for c in counts)


def measure_lines(info: dict) -> list[str]:
    """The audio measures per split and source: median, 5th and 95th percentile, how many records
    have the measure, and the histogram (below the range | bins | above); [] when none. Values
    come from info.json, a file from anyone: names shown escaped, numbers checked."""
    from speechmill.corpus.measures import MEASURES

    table = info.get("measures")
    if not isinstance(table, dict) or not table:
        return []

    def number(value) -> str:
        return f"{value:.3g}" if isinstance(value, (int, float)) else "?"

    rows = ["audio measures (median, 5%..95%, records; histogram: below | range | above):"]
    for split, sources in sorted(table.items()):
        for source, measures in sorted(sources.items() if isinstance(sources, dict) else []):
            rows.append(f"  {printable(str(split))} {printable(str(source))}")
            for name in MEASURES:
                m = measures.get(name) if isinstance(measures, dict) else None
                if not isinstance(m, dict):
                    continue
                bins = m.get("bins") if isinstance(m.get("bins"), list) else []
                lo, hi = (m.get("range") or [None, None])[:2]
                spark = sparkline(bins)
                rows.append(
                    f"    {name:<17}{number(m.get('median')):>8} {MEASURES[name].unit:<8}"
                    f"{number(m.get('p05')):>7}..{number(m.get('p95')):<7}"
                    f"{printable(str(m.get('count', 0))):>7}  "
                    f"{spark[:1]}|{spark[1:-1]}|{spark[-1:]}  {number(lo)}..{number(hi)}"
                )
    return rows
