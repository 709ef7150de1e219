"""`speechmill report`: a self-contained page, opened in a real headless browser (Debian's
chromium driven by playwright): no script or console error, the numbers equal info.json's,
every audio element holds a decodable file, and the screenshot is not blank."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from support.jobs import build, write_config
from support.speech import with_corrupt_flac

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def open_in_browser(page_path: Path, screenshot: Path) -> tuple[dict, dict, list[str]]:
    """Open a report; returns (self-test result, {data-info key: shown text}, console errors).
    The self-test's output is never visible, and nothing is wider than the page."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "the report test needs Debian's chromium (make test installs it)"
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1400})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_path.resolve().as_uri())
            page.wait_for_function(
                "() => { const t = document.getElementById('selftest').textContent;"
                " if (!t) return false; const r = JSON.parse(t);"
                " return r.decoded + r.failed.length === r.audio; }",
                timeout=90000,
            )
            assert page.is_hidden("#selftest")  # the page shows no test output
            selftest = json.loads(page.text_content("#selftest") or "{}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= page.evaluate("window.innerWidth"), width  # tables fit the page
            shown = page.eval_on_selector_all(
                "[data-info]", "els => els.map(e => [e.dataset.info, e.textContent])"
            )
            page.screenshot(path=str(screenshot))
        finally:
            browser.close()
    return selftest, dict(shown), errors


def lookup(info: dict, key: str):
    value = info
    for part in key.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def not_blank(png: Path) -> bool:
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("L"), dtype=np.float32)
    return pixels.std() > 10 and (pixels < 200).mean() > 0.005  # text and charts, not an empty page


@pytest.fixture(scope="module")
def corpus_with_rejects(tmp_path_factory, librispeech) -> Path:
    folder = tmp_path_factory.mktemp("report")
    copy = with_corrupt_flac(librispeech, folder, "26-495-0002")
    config = write_config(
        folder / "c.toml",
        f'[[source]]\ntype = "librispeech"\npath = "{copy}"\n',
        corpus="max_reject_fraction = 0.5",
    )
    build(config, folder / "corpus")
    return folder / "corpus"


def test_the_corpus_report_loads_shows_info_json_and_plays(tmp_path, corpus_with_rejects):
    from speechmill.commands.report import main as report

    page = tmp_path / "report.html"
    assert report([str(corpus_with_rejects), "-o", str(page), "--samples", "4", "--selftest"]) == 0
    text = page.read_text()
    assert not re.search(
        r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", text
    )  # self-contained: nothing to fetch
    selftest, shown, errors = open_in_browser(page, tmp_path / "shot.png")
    assert errors == [] and selftest["errors"] == []
    info = json.loads((corpus_with_rejects / "info.json").read_text())
    assert selftest["audio"] == sum(min(4, s["examples"]) for s in info["splits"].values())
    assert selftest["decoded"] == selftest["audio"] and selftest["failed"] == []
    assert {
        "splits.train.examples",
        "splits.dev.hours",
        "rejects.total",
        "rejects.by_reason.audio:decode",
    } <= set(shown)
    for key, value in shown.items():
        expected = lookup(info, key)
        assert (
            float(value) == pytest.approx(float(expected), abs=1e-3)
            if isinstance(expected, (int, float))
            else value == str(expected)
        ), key
    assert "audio:decode" in text and "26-495-0002" in text  # the reject, with its example
    assert not_blank(tmp_path / "shot.png")
    # what `speechmill describe` prints, per split; one chart per split; the feature list
    from speechmill.corpus.describe import describe_corpus
    from speechmill.corpus.schema import FIELD_TYPES

    for split, summary in describe_corpus(str(corpus_with_rejects)).items():
        assert f"data-describe='{split}.speakers'>{summary['speakers']}<" in text
    assert text.count(f"data-panels='{','.join(info['splits'])}'") == 2
    on_disk = sum(p.stat().st_size for p in corpus_with_rejects.glob("*.tfrecord"))
    assert f"data-size='{on_disk}'" in text
    for name, (kind, shape, dtype) in FIELD_TYPES.items():
        assert (
            f"<tr><td><code>{name}</code></td><td>{kind}</td><td>{shape}</td><td>{dtype}</td>"
            in text
        )


def test_the_samples_spread_over_sentences_and_voices():
    """A split in sentence order (each sentence by three voices in turn): the samples are not
    the first sentences' several readings, but as many sentences and voices as there are."""
    from types import SimpleNamespace

    from speechmill.report import SamplePicker

    picker = SamplePicker(6)
    for sentence in range(8):
        for voice in range(3):
            picker.offer(SimpleNamespace(text=f"sentence {sentence}", speaker=f"voice {voice}"))
    chosen = picker.chosen()
    assert len(chosen) == 6
    assert len({u.text for u in chosen}) == 6 and len({u.speaker for u in chosen}) == 3
    few = SamplePicker(4)
    for voice in range(2):
        few.offer(SimpleNamespace(text="the one sentence", speaker=f"voice {voice}"))
    assert len(few.chosen()) == 2  # fewer utterances than samples: all of them


@pytest.mark.slow
def test_a_training_run_report(tmp_path, verify_model):
    from speechmill.commands.report import main as report

    run = verify_model  # the session's trained run: its loss curve and its dev evaluation
    page = tmp_path / "report.html"
    assert report([str(run), "-o", str(page), "--selftest"]) == 0
    text = page.read_text()
    assert "training loss" in text and "<svg" in text and "greedy" in text
    calibration = json.loads((run / "calibration.json").read_text())
    assert f"data-calibration='threshold'>{calibration['threshold']}</b>" in text
    selftest, _, errors = open_in_browser(page, tmp_path / "run.png")
    assert errors == [] and selftest["errors"] == [] and not_blank(tmp_path / "run.png")
