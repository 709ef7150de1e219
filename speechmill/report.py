"""The HTML page of ``speechmill report CORPUS|RUN``: self-contained, to look at and listen to.

For a corpus: hours, utterances and speakers per split and per source, licences, duration and
characters-per-second histograms, the speakers' share, rejects by reason with examples,
subtitle alignment (offset, ratio, score), the augmentation recipe, verify scores when the
corpus has them, and sample utterances per split with an audio player and the transcript. For
a training run: the loss curve, the evaluation table and verify's calibration. Charts are
matplotlib SVG inlined in the page and audio is embedded as WAV data, so the page needs no
server and no network.

The page is rendered by Jinja2 from speechmill/templates/ with autoescaping on: every value from
a file (``info.json``, ``config.json``, eval and calibration files, records) is escaped unless
the code marks it safe, and only our own SVG charts and the self-test script are, so a corpus or
run from someone else cannot put markup into the page; the page's Content-Security-Policy
allows no network, no plugin and no script. Every number taken from ``info.json`` carries
``data-info="path.in.info"`` so a test can check it; with ``--selftest`` (the tests' option,
not in ``--help``) a small script, allowed by its hash, marks each audio element once the
browser has decoded it and lists any script error in ``#selftest``.
"""

from __future__ import annotations

import base64
import collections
import csv
import functools
import io
import json
import os

import numpy as np
import soundfile

from speechmill.corpus.errors import CorruptCorpus
from speechmill.corpus.measures import MEASURES
from speechmill.corpus.reader import load_info, rejects

SAMPLES_PER_SPLIT = 12
MAX_RECORDS = 20000  # per split, for the statistics (a note says when more were left out)
STYLE = """body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0;max-width:100%}
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;overflow-wrap:break-word}th,td.n{white-space:nowrap}
.wide{overflow-x:auto;max-width:100%}.charts svg{max-width:100%;height:auto}
th{background:#f3f3f3}td.n{text-align:right}.muted{color:#777}.charts{display:flex;flex-wrap:wrap;gap:1em}
.charts figure{margin:0}audio{height:2em;vertical-align:middle}code{background:#f6f6f6;padding:0 .2em}"""
SELFTEST = """<pre id="selftest" hidden></pre><script>
const report = {audio: 0, decoded: 0, failed: [], errors: []};
window.addEventListener('error', e => { report.errors.push(String(e.message)); show(); });
function show() { document.getElementById('selftest').textContent = JSON.stringify(report); }
async function check() {
  const ctx = new (window.OfflineAudioContext || window.webkitOfflineAudioContext)(1, 1, 16000);
  const players = Array.from(document.querySelectorAll('audio'));
  report.audio = players.length;
  for (const a of players) {
    try {
      const data = await (await fetch(a.src)).arrayBuffer();
      const buffer = await ctx.decodeAudioData(data);
      a.dataset.decoded = buffer.duration.toFixed(2);
      report.decoded += 1;
    } catch (err) { report.failed.push(a.dataset.id + ': ' + err); }
  }
  show();
}
check();
</script>"""


def _shown(value, fmt: str = "{}") -> str:
    """A number from a file in its format; anything that is not a number as text."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return fmt.format(value) if number else str(value)


def _by_reason(rejects) -> str:
    """A source's cleaning rejects as "text:oov 2, ..." ("none" when there are none)."""
    if not isinstance(rejects, dict):
        return "none"
    return ", ".join(f"{k} {v}" for k, v in rejects.items()) or "none"


@functools.cache
def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("speechmill", "templates"),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,  # a key a foreign file lacks shows as nothing
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(shown=_shown, by_reason=_by_reason, bytes=_size, share=_share, pyrepr=repr)
    return env


def render(template: str, title: str, selftest: bool, **context) -> str:
    """A page from speechmill/templates/: the head's policy allows the self-test script (by its
    hash) only in a page made with ``selftest``."""
    from markupsafe import Markup

    script = f"'sha256-{_script_hash()}'" if selftest else "'none'"
    return (
        _environment()
        .get_template(template)
        .render(
            title=title,
            style=Markup(STYLE),
            script_source=Markup(script),
            selftest=Markup(SELFTEST if selftest else ""),
            **context,
        )
    )


def _script_hash() -> str:
    import hashlib

    body = SELFTEST.split("<script>", 1)[1].rsplit("</script>", 1)[0]
    return base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()


def _svg(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _panels(values_by_split: dict[str, list[float]], title: str, xlabel: str) -> str:
    """One histogram per split side by side, each on its own count axis (a small dev or test
    split is not hidden under train), the same x axis for all."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    splits = [s for s, v in values_by_split.items() if v] or list(values_by_split)[:1]
    fig, axes = plt.subplots(
        1, len(splits), figsize=(3.3 * len(splits), 2.6), sharex=True, squeeze=False
    )
    everything = [x for s in splits for x in values_by_split.get(s, [])] or [0.0]
    edges = np.histogram_bin_edges(everything, bins=30)
    for ax, split in zip(axes[0], splits):
        ax.hist(values_by_split.get(split, []), bins=edges, color="#4878a8")
        ax.set_title(f"{split}: {title}", fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0][0].set_ylabel("utterances", fontsize=8)
    fig.tight_layout()
    return _svg(fig)


class SamplePicker:
    """Up to ``count`` utterances spread over sentences and voices, offered one at a time as a
    split streams past: first those whose text and speaker no earlier pick has, then one each
    of other new texts, then anything (at most about 2 x ``count`` are held)."""

    def __init__(self, count: int):
        self.count = count
        self.fresh: list = []
        self.new_text: dict[str, object] = {}  # text -> its first utterance
        self.rest: list = []
        self.voices: set[str] = set()

    def offer(self, utt) -> None:
        if len(self.fresh) >= self.count:
            return
        texts = {u.text for u in self.fresh}
        if utt.text not in texts and utt.speaker not in self.voices:
            self.fresh.append(utt)
            self.voices.add(utt.speaker)
        elif utt.text not in texts and utt.text not in self.new_text:
            if len(self.new_text) < 2 * self.count:
                self.new_text[utt.text] = utt
        elif len(self.rest) < self.count:
            self.rest.append(utt)

    def chosen(self) -> list:
        picked = list(self.fresh)
        for text, utt in self.new_text.items():
            if len(picked) < self.count and text not in {u.text for u in picked}:
                picked.append(utt)
        for utt in [*self.new_text.values(), *self.rest]:
            if len(picked) < self.count and all(u is not utt for u in picked):
                picked.append(utt)
        return picked


def _speaker_share(hours: collections.Counter, top: int = 20) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n, _ in hours.most_common(top)]
    fig, ax = plt.subplots(figsize=(6, max(2.5, 0.25 * len(names))))
    ax.barh(names[::-1], [hours[n] * 60 for n in names[::-1]])
    ax.set_xlabel("minutes")
    ax.set_title(f"speakers' share (top {len(names)} of {len(hours)})")
    ax.tick_params(axis="y", labelsize=7)
    return _svg(fig)


def _wav_data(audio: np.ndarray, rate: int) -> str:
    buffer = io.BytesIO()
    soundfile.write(buffer, audio, rate, format="WAV", subtype="PCM_16")
    return "data:audio/wav;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def corpus_report(corpus: str, samples: int = SAMPLES_PER_SPLIT, selftest: bool = False) -> str:
    """The HTML page for a corpus folder."""
    from markupsafe import Markup

    from speechmill.corpus import storage
    from speechmill.corpus.describe import COLUMNS, describe_corpus
    from speechmill.corpus.reader import all_shards, ledger_paths, shard_paths
    from speechmill.corpus.schema import FIELD_DOCS, FIELD_TYPES

    info = load_info(corpus)
    rate = info["sample_rate"]
    durations: dict[str, list[float]] = {split: [] for split in info["splits"]}
    rates: dict[str, list[float]] = {split: [] for split in info["splits"]}
    pickers = {split: SamplePicker(samples) for split in info["splits"]}
    speaker_hours: collections.Counter = collections.Counter()
    measured: dict[str, dict[str, list[float]]] = {}  # measure -> split -> values
    partial = False

    def chart(split: str, utt) -> None:
        """Each utterance of describe's pass: durations, rates, speakers, samples (the charts
        and samples hold the first MAX_RECORDS of a split)."""
        nonlocal partial
        if len(durations[split]) >= MAX_RECORDS:
            partial = True
            return
        seconds = utt.num_samples / rate
        durations[split].append(seconds)
        rates[split].append(len(utt.text) / seconds)
        speaker_hours[utt.speaker] += seconds / 3600
        for name, value in utt.measures.items():
            measured.setdefault(name, {s: [] for s in info["splits"]})[split].append(value)
        pickers[split].offer(utt)

    summaries = describe_corpus(corpus, visit=chart)  # one pass gives the tables and the charts
    shards = all_shards(corpus, info)
    pieces = [p.rsplit("/", 1)[-1] for p in ledger_paths(corpus, info)]
    return render(
        "corpus.html",
        f"speechmill corpus: {corpus}",
        selftest,
        corpus=corpus,
        info=info,
        rate=rate,
        columns=COLUMNS,
        split_rows=[
            {
                "split": split,
                "examples": facts["examples"],
                "hours": facts["hours"],
                "durations": [
                    summaries.get(split, {}).get(c)
                    if summaries.get(split, {}).get("utterances")
                    else None
                    for c in COLUMNS[2:]
                ],
                "shards": len(facts["shards"]),
                "size": _size(sum(storage.size(p) for p in shard_paths(corpus, info, split))),
            }
            for split, facts in info["splits"].items()
        ],
        speaker_rows=_speaker_rows(summaries),
        partial=partial,
        max_records=MAX_RECORDS,
        panels=",".join(s for s, v in durations.items() if v),  # one chart per split
        charts={
            "durations": Markup(_panels(durations, "durations", "seconds")),
            "rates": Markup(_panels(rates, "characters per second", "characters / second")),
            "speakers": Markup(_speaker_share(speaker_hours)),
        },
        measure_charts=[
            (name, Markup(_panels(measured[name], name, MEASURES[name].meaning)))
            for name in MEASURES
            if name in measured
        ],
        measure_rows=_measure_rows(info.get("measures")),
        tfds_ready=os.path.exists(os.path.join(corpus, "dataset_info.json")),
        size=sum(storage.size(path) for _, path in shards),
        shard_count=len(shards),
        features=[
            {"name": name, "kind": kind, "shape": shape, "dtype": dtype, "doc": FIELD_DOCS[name]}
            for name, (kind, shape, dtype) in FIELD_TYPES.items()
        ],
        ledger=pieces[0] if len(pieces) == 1 else f"{pieces[0]} … ({len(pieces)} pieces)",
        reject_examples=_reject_examples(corpus, info),
        samples={
            split: [
                {
                    "id": u.id,
                    "text": u.text,
                    "speaker": u.speaker,
                    "seconds": u.num_samples / rate,
                    "src": _wav_data(u.audio, rate),
                }
                for u in picker.chosen()
            ]
            for split, picker in pickers.items()
        },
    )


def _speaker_rows(summaries: dict) -> list[dict]:
    """What ``speechmill describe`` prints beside the durations: speakers by gender and engine,
    vocabulary and, for a held-out split, its words and transcripts against train's."""
    rows = []
    for split, s in summaries.items():
        if not s["utterances"]:
            continue
        held_out = split != "train" and "train" in summaries
        rows.append(
            {
                "split": split,
                "speakers": s["speakers"],
                "by_gender": ", ".join(f"{g} {n}" for g, n in s["by_gender"].items()),
                "by_engine": ", ".join(f"{e} {n}" for e, n in s["by_engine"].items()),
                "vocabulary": s["vocabulary"],
                "oov": f"{s['oov_rate']:.1%}" if held_out else "",
                "shared": f"{s['texts_in_train']} of {s['utterances']}" if held_out else "",
            }
        )
    return rows


def _measure_rows(table) -> list[dict]:
    """info.json's measures (a file from anyone: only tables of the expected shape are shown)."""
    rows = []
    for split, sources in sorted(table.items() if isinstance(table, dict) else []):
        for source, names in sorted(sources.items() if isinstance(sources, dict) else []):
            for name, m in sorted(names.items() if isinstance(names, dict) else []):
                if isinstance(m, dict):
                    keys = ("count", "p05", "median", "p95")
                    rows.append(
                        {
                            "split": split,
                            "source": source,
                            "name": name,
                            **{k: m.get(k, "") for k in keys},
                        }
                    )
    return rows


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.1f} kB"


def _share(value) -> str:
    """A fraction as a percentage ("?" for anything that is not a number)."""
    return f"{value:.0%}" if isinstance(value, (int, float)) else "?"


def _reject_examples(corpus: str, info: dict, examples: int = 3) -> dict[str, list[str]]:
    """Up to ``examples`` ledger lines per reason, as "id: detail" (what could be read)."""
    by_reason: dict[str, list[str]] = collections.defaultdict(list)
    if not info["rejects"]["total"]:
        return by_reason
    wanted, found = len(info["rejects"]["by_reason"]) * examples, 0
    try:
        for record in rejects(corpus, info):
            if len(by_reason[record["reason"]]) < examples:
                by_reason[record["reason"]].append(
                    f"{record['id'] or '(unit)'}: {record['detail']}"[:300]
                )
                found += 1
                if found >= wanted:
                    break
    except CorruptCorpus:
        pass  # the counts come from info.json; examples are what could be read
    return by_reason


def _calibration(run: str) -> dict | None:
    """The run's verify calibration (calibration.json) with its quantile names, or None."""
    try:
        with open(os.path.join(run, "calibration.json")) as f:
            found = json.load(f)
        return {**found, "quantiles": list(found["right"]["quantiles"])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def run_report(run: str, selftest: bool = False) -> str:
    """The HTML page for a training run: loss curve, evaluation table, verify calibration."""
    from markupsafe import Markup

    config = json.load(open(os.path.join(run, "config.json")))
    loss_chart = None
    history = os.path.join(run, "history.csv")
    if os.path.exists(history):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        with open(history) as f:
            rows = list(csv.DictReader(f))
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.plot([int(r["epoch"]) + 1 for r in rows], [float(r["loss"]) for r in rows], marker="o")
        ax.set_xlabel("epoch")
        ax.set_ylabel("CTC loss")
        ax.set_title("training loss")
        loss_chart = Markup(_svg(fig))
    evals = []
    for name in sorted(f for f in os.listdir(run) if f.startswith("eval") and f.endswith(".json")):
        for split, row in json.load(open(os.path.join(run, name))).items():
            evals.append({"file": name, "split": split, "row": row})
    return render(
        "run.html",
        f"speechmill run: {run}",
        selftest,
        run=run,
        config=config,
        loss_chart=loss_chart,
        evals=evals,
        calibration=_calibration(run),
    )


def write_report(
    folder: str, output: str | None = None, samples: int = SAMPLES_PER_SPLIT, selftest: bool = False
) -> str:
    """Write the page of a corpus (info.json) or a training run (config.json); returns its path."""
    if os.path.exists(os.path.join(folder, "info.json")):
        page = corpus_report(folder, samples, selftest)
    elif os.path.exists(os.path.join(folder, "config.json")):
        page = run_report(folder, selftest)
    else:
        raise FileNotFoundError(
            f"{folder}: neither a corpus (info.json) nor a training run (config.json)"
        )
    output = output or os.path.join(folder, "report.html")
    with open(output, "w", encoding="utf-8") as f:
        f.write(page)
    return output
