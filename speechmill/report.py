"""``speechmill report CORPUS|RUN [-o report.html]``: one self-contained HTML page to look at and listen to.

For a corpus: hours, utterances and speakers per split and per source, licences, duration and
characters-per-second histograms, the speakers' share, rejects by reason with examples,
subtitle alignment (offset, ratio, score), the augmentation recipe, verify scores when the
corpus has them, and sample utterances per split with an audio player and the transcript. For
a training run: the loss curve, the evaluation table and verify's calibration. Charts are matplotlib SVG inlined in
the page and audio is embedded as WAV data, so the page needs no server and no network.

Every value from a file (``info.json``, ``config.json``, eval and calibration files, records)
goes through ``_e`` (HTML-escaped) or ``_num``, so a corpus or run from someone else cannot put
markup into the page; the page's Content-Security-Policy allows no network, no plugin and no
script. Every number taken from ``info.json`` carries ``data-info="path.in.info"`` so a test can
check it; with ``--selftest`` (the tests' option, not in ``--help``) a small script, allowed by
its hash, marks each audio element once the browser has decoded it and lists any script error
in ``#selftest``.
"""

from __future__ import annotations

import base64
import collections
import csv
import html
import io
import json
import os

import numpy as np
import soundfile

from speechmill.corpus.errors import CorruptCorpus
from speechmill.corpus.reader import ledger_paths, load_info, rejects

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


def _e(value) -> str:
    """Any value from a file (info.json, config.json, eval files, records) as page text: escaped."""
    return html.escape(str(value), quote=True)


def _num(value, key: str, fmt: str = "{}") -> str:
    """A table cell for a number from info.json; a value that is not a number is shown as text."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    shown = fmt.format(value) if number else str(value)
    return f'<td class="n" data-info="{_e(key)}">{_e(shown)}</td>'


def page_head(title: str, selftest: bool) -> str:
    """The page's head: a Content-Security-Policy that allows no network, no plugin and no script
    but the self-test (only in pages made with ``--selftest``, identified by its hash)."""
    script = f"'sha256-{_script_hash()}'" if selftest else "'none'"
    policy = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; media-src data:; "
        f"connect-src data:; script-src {script}; base-uri 'none'; form-action 'none'"
    )
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{policy}\">"
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
    )


def page_end(selftest: bool) -> str:
    return (SELFTEST if selftest else "") + "</body></html>"


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
    from speechmill.corpus.describe import describe_corpus

    info = load_info(corpus)
    rate = info["sample_rate"]
    durations: dict[str, list[float]] = {split: [] for split in info["splits"]}
    rates: dict[str, list[float]] = {split: [] for split in info["splits"]}
    pickers = {split: SamplePicker(samples) for split in info["splits"]}
    speaker_hours: collections.Counter = collections.Counter()
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
        pickers[split].offer(utt)

    summaries = describe_corpus(corpus, visit=chart)  # one pass gives the table and the charts
    out = [
        page_head(f"speechmill corpus: {corpus}", selftest),
        f"<h1>Corpus <code>{_e(corpus)}</code></h1>",
        f"<p class='muted'>schema {_e(info['schema_version'])}, {_e(rate)} Hz mono PCM16, seed "
        f"{_e(info['seed'])}, alphabet <code>{_e(info['alphabet'])}</code></p>",
        *_splits_section(corpus, info, summaries),
    ]
    if partial:
        out.append(
            f"<p class='muted'>The charts and samples below use the first {MAX_RECORDS} utterances of each split.</p>"
        )
    out.append(
        "<h2>Sources</h2><div class='wide'><table><tr><th>source</th><th>licence</th><th>utterances</th><th>hours</th>"
        "<th>written forms read out</th><th>rejects</th></tr>"
    )
    for i, source in enumerate(info["sources"]):
        cleaning = source.get("cleaning", {})
        rejected = ", ".join(f"{k} {v}" for k, v in cleaning.get("rejects", {}).items()) or "none"
        out.append(
            f"<tr><td>{_e(source['type'])}</td><td>{_e(source['license'])}</td>"
            f"{_num(source['examples'], f'sources.{i}.examples')}{_num(source['hours'], f'sources.{i}.hours')}"
            f"<td class='n'>{_e(cleaning.get('spelled_out', ''))}</td><td>{_e(rejected)}</td></tr>"
        )
    out.append("</table></div><h2>Durations, speaking rate, speakers</h2><div class='charts'>")
    panels = _e(
        ",".join(s for s, v in durations.items() if v)
    )  # one chart per split, each its own scale
    out.append(
        f"<figure data-panels='{panels}'>{_panels(durations, 'durations', 'seconds')}</figure>"
    )
    out.append(
        f"<figure data-panels='{panels}'>"
        f"{_panels(rates, 'characters per second', 'characters / second')}</figure>"
    )
    out.append(f"<figure>{_speaker_share(speaker_hours)}</figure></div>")
    out += _features_section(corpus, info)
    out += _rejects_section(corpus, info)
    if info.get("alignment"):
        out.append(
            "<h2>Subtitle alignment</h2><div class='wide'><table><tr><th>film</th><th>subtitles</th>"
            "<th>offset (s)</th><th>ratio</th><th>score</th><th>cues</th></tr>"
        )
        for i, a in enumerate(info["alignment"]):
            out.append(
                f"<tr><td>{_e(a['item'])}</td><td>{_e(a.get('subtitles', ''))}</td>"
                f"{_num(a.get('offset'), f'alignment.{i}.offset', '{:+.3f}')}"
                f"{_num(a.get('ratio'), f'alignment.{i}.ratio', '{:.5f}')}"
                f"{_num(a.get('score'), f'alignment.{i}.score', '{:.3f}')}"
                f"<td class='n'>{_e(a.get('cues', ''))}</td></tr>"
            )
        out.append("</table></div>")
    if info.get("augment"):
        a = info["augment"]
        out.append(
            f"<h2>Augmentation</h2><p>recipe <code data-info='augment.recipe'>{_e(a['recipe'])}</code>, "
            f"seed {_e(a['seed'])}, input <code>{_e(a['input'])}</code></p>"
        )
    if info.get("verify"):
        out.append(f"<h2>Verification</h2><pre>{_e(json.dumps(info['verify'], indent=1))}</pre>")
    out.append("<h2>Listen</h2>")
    for split, picker in pickers.items():
        utts = picker.chosen()
        out.append(
            f"<p class='muted'>{_e(split)}: {len(utts)} samples, {len({u.text for u in utts})} "
            f"sentences, {len({u.speaker for u in utts})} voices</p>"
        )
        out.append(
            f"<h3>{_e(split)}</h3><div class='wide'><table><tr><th>audio</th><th>transcript</th>"
            "<th>speaker</th><th>s</th></tr>"
        )
        for utt in utts:
            out.append(
                f"<tr><td><audio controls preload='none' data-id='{_e(utt.id)}' "
                f"src='{_wav_data(utt.audio, rate)}'></audio></td><td>{_e(utt.text)}"
                f"<div class='muted'>{_e(utt.id)}</div></td><td>{_e(utt.speaker)}</td>"
                f"<td class='n'>{utt.num_samples / rate:.2f}</td></tr>"
            )
        out.append("</table></div>")
    out.append(page_end(selftest))
    return "\n".join(out)


def _splits_section(corpus: str, info: dict, summaries: dict) -> list[str]:
    """What ``speechmill describe`` prints, as two tables: durations per split (with shards and
    size on disk), then speakers by gender and engine, vocabulary and held-out words."""
    from speechmill.corpus import storage
    from speechmill.corpus.describe import COLUMNS
    from speechmill.corpus.reader import shard_paths

    out = [
        "<h2>Splits</h2><div class='wide'><table><tr><th>split</th>"
        + "".join(f"<th>{_e(c)}</th>" for c in COLUMNS)
        + "<th>shards</th><th>on disk</th></tr>"
    ]
    for split, facts in info["splits"].items():
        s = summaries.get(split, {"utterances": 0})
        size = sum(storage.size(p) for p in shard_paths(corpus, info, split))
        cells = [_num(facts["examples"], f"splits.{split}.examples")]
        cells.append(_num(facts["hours"], f"splits.{split}.hours"))
        cells += [
            f"<td class='n'>{s[c]:.2f} s</td>" if s["utterances"] else "<td></td>"
            for c in COLUMNS[2:]
        ]
        out.append(
            f"<tr><td>{_e(split)}</td>{''.join(cells)}<td class='n'>{len(facts['shards'])}</td>"
            f"<td class='n'>{_size(size)}</td></tr>"
        )
    out.append(
        "</table></div><div class='wide'><table><tr><th>split</th><th>speakers</th><th>by gender</th>"
        "<th>by engine</th><th>vocabulary</th><th>words not in train</th><th>transcripts also in train</th></tr>"
    )
    for split, s in summaries.items():
        if not s["utterances"]:
            continue
        held_out = split != "train" and "train" in summaries
        oov = f"{s['oov_rate']:.1%}" if held_out else ""
        shared = f"{s['texts_in_train']} of {s['utterances']}" if held_out else ""
        out.append(
            f"<tr><td>{_e(split)}</td><td class='n' data-describe='{_e(split)}.speakers'>{s['speakers']}</td>"
            f"<td>{_e(', '.join(f'{g} {n}' for g, n in s['by_gender'].items()))}</td>"
            f"<td>{_e(', '.join(f'{e} {n}' for e, n in s['by_engine'].items()))}</td>"
            f"<td class='n'>{s['vocabulary']}</td>"
            f"<td class='n'>{oov}</td><td class='n'>{shared}</td></tr>"
        )
    out.append("</table></div>")
    return out


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.1f} kB"


def _features_section(corpus: str, info: dict) -> list[str]:
    """The record's features as TFDS's catalog lists them (class, shape, dtype, description),
    and how the corpus loads in TFDS."""
    from speechmill.corpus.schema import FIELD_DOCS, FIELD_TYPES

    rows = "".join(
        f"<tr><td><code>{_e(name)}</code></td><td>{_e(kind)}</td><td>{_e(shape)}</td>"
        f"<td>{_e(dtype)}</td><td>{_e(FIELD_DOCS[name])}</td></tr>"
        for name, (kind, shape, dtype) in FIELD_TYPES.items()
    )
    from speechmill.corpus import storage
    from speechmill.corpus.reader import all_shards

    shards = all_shards(corpus, info)
    size = sum(storage.size(path) for _, path in shards)
    tfds_ready = os.path.exists(os.path.join(corpus, "dataset_info.json"))
    how = (
        f"<code>tfds.builder_from_directory({_e(repr(corpus))})</code> reads it as it is"
        if tfds_ready
        else "<code>speechmill export --format tfds</code> makes it a TFDS dataset in place"
    )
    return [
        f"<h2>Features</h2><p class='muted'>Every record, as TFDS types it ({how}; "
        f"audio at {_e(info['sample_rate'])} Hz). Dataset size: <span data-size='{size}'>"
        f"{_size(size)}</span> in {len(shards)} shards.</p>",
        "<div class='wide'><table><tr><th>feature</th><th>class</th><th>shape</th><th>dtype</th>"
        f"<th>description</th></tr>{rows}</table></div>",
    ]


def _share(value) -> str:
    """A fraction as an escaped percentage ("?" for anything that is not a number)."""
    return f"{value:.0%}" if isinstance(value, (int, float)) else "?"


def _calibration_section(run: str) -> list[str]:
    """The run's verify calibration (calibration.json): threshold, error rates, both quantile rows."""
    try:
        with open(os.path.join(run, "calibration.json")) as f:
            found = json.load(f)
        right, wrong = found["right"], found["wrong"]
        quantiles = list(right["quantiles"])
    except (OSError, ValueError, KeyError, TypeError):
        return []
    verdict = "separates right from wrong" if found.get("separable") else "refused by verify"
    out = [
        "<h2>Verify calibration</h2>",
        f"<p>threshold <b data-calibration='threshold'>{_e(found.get('threshold'))}</b>"
        f" ({_e(verdict)}; on the dev split it rejects "
        f"{_share(found.get('false_reject'))} of right and keeps "
        f"{_share(found.get('false_accept'))} of wrong transcripts). "
        f"<span class='muted'>{_e(found.get('rule', ''))}</span></p>",
        "<div class='wide'><table><tr><th>transcripts</th><th>pairs</th>"
        + "".join(f"<th>q{_e(q)}</th>" for q in quantiles)
        + "</tr>",
    ]
    for name, row in (("right", right), ("wrong", wrong)):
        cells = "".join(f"<td class='n'>{_e(row['quantiles'].get(q))}</td>" for q in quantiles)
        out.append(f"<tr><td>{name}</td><td class='n'>{_e(row.get('count'))}</td>{cells}</tr>")
    out.append("</table></div>")
    return out


def _rejects_section(corpus: str, info: dict, examples: int = 3) -> list[str]:
    pieces = [p.rsplit("/", 1)[-1] for p in ledger_paths(corpus, info)]
    where = pieces[0] if len(pieces) == 1 else f"{pieces[0]} … ({len(pieces)} pieces)"
    out = [
        f"<h2>Rejects</h2><p><span data-info='rejects.total'>{_e(info['rejects']['total'])}</span> rejected "
        f"items; the ledger is <code>{_e(where)}</code>.</p>"
    ]
    if not info["rejects"]["total"]:
        return out
    by_reason: dict[str, list[dict]] = collections.defaultdict(list)
    wanted = len(info["rejects"]["by_reason"]) * examples
    found = 0
    try:
        for record in rejects(corpus, info):
            if len(by_reason[record["reason"]]) < examples:
                by_reason[record["reason"]].append(record)
                found += 1
                if found >= wanted:
                    break
    except CorruptCorpus:
        pass  # the counts come from info.json; examples are what could be read
    out.append("<div class='wide'><table><tr><th>reason</th><th>count</th><th>examples</th></tr>")
    for reason, count in info["rejects"]["by_reason"].items():
        shown = "<br>".join(
            _e(f"{r['id'] or '(unit)'}: {r['detail']}"[:300]) for r in by_reason[reason]
        )
        out.append(
            f"<tr><td><code>{_e(reason)}</code></td>{_num(count, f'rejects.by_reason.{reason}')}"
            f"<td>{shown}</td></tr>"
        )
    out.append("</table></div>")
    return out


def run_report(run: str, selftest: bool = False) -> str:
    """The HTML page for a training run: loss curve and evaluation table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    config = json.load(open(os.path.join(run, "config.json")))
    out = [
        page_head(f"speechmill run: {run}", selftest),
        f"<h1>Training run <code>{_e(run)}</code></h1>",
        f"<p class='muted'>corpus <code>{_e(config.get('data', ''))}</code>, "
        f"{_e(config.get('sample_rate'))} Hz, model {_e(json.dumps(config.get('model', {})))}</p>",
    ]
    history = os.path.join(run, "history.csv")
    if os.path.exists(history):
        with open(history) as f:
            rows = list(csv.DictReader(f))
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.plot([int(r["epoch"]) + 1 for r in rows], [float(r["loss"]) for r in rows], marker="o")
        ax.set_xlabel("epoch")
        ax.set_ylabel("CTC loss")
        ax.set_title("training loss")
        out.append(f"<h2>Loss</h2><figure>{_svg(fig)}</figure>")
    evals = sorted(f for f in os.listdir(run) if f.startswith("eval") and f.endswith(".json"))
    if evals:
        out.append(
            "<h2>Evaluation</h2><div class='wide'><table><tr><th>file</th><th>split</th>"
            "<th>decoder</th><th>WER</th><th>CER</th>"
            "<th>utterances</th></tr>"
        )
        for name in evals:
            for split, r in json.load(open(os.path.join(run, name))).items():
                out.append(
                    f"<tr><td>{_e(name)}</td><td>{_e(split)}</td><td>{_e(r['decoder'])}</td>"
                    f"{_num(r['wer'], f'{name}.{split}.wer', '{:.3f}')}"
                    f"{_num(r['cer'], f'{name}.{split}.cer', '{:.3f}')}"
                    f"{_num(r['examples'], f'{name}.{split}.examples')}</tr>"
                )
        out.append("</table></div>")
    out.extend(_calibration_section(run))
    out.append(page_end(selftest))
    return "\n".join(out)


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
