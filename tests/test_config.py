"""Configuration mistakes fail before any work, naming what is wrong and what is allowed."""
import pytest

from conftest import build, write_config
from corpus.config import ConfigError
from corpus.sources import REGISTRY


@pytest.mark.parametrize("body, corpus, message", [
    ('[[source]]\ntype = "podcasts"\npath = "x"', "", f"unknown type 'podcasts'; known types: {', '.join(sorted(REGISTRY))}"),
    ('[[source]]\ntype = "librispeech"\npath = "/no/such/folder"', "", "/no/such/folder does not exist"),
    ('[[source]]\ntype = "librispeech"\npath = "dev-clean"\nspeed = 2', "", "unknown key(s) speed"),
    ('[[source]]\ntype = "librispeech"\npath = "dev-clean"\nsplit = "valid"', "", "split must be one of train, dev, test"),
    ('[[source]]\ntype = "gutenberg"\nbooks = ["/no/book.txt"]', "", "book /no/book.txt does not exist"),
    ('[[source]]\ntype = "librispeech"\npath = "dev-clean"', "min_seconds = 5\nmax_seconds = 2", "min_seconds"),
    ('[[source]]\ntype = "librispeech"\npath = "dev-clean"', "sample_rate_hz = 8000", "unknown key(s) sample_rate_hz"),
    ("", "", "at least one [[source]]"),
])
def test_bad_configs_are_refused_before_any_work(tmp_path, body, corpus, message):
    config = write_config(tmp_path / "c.toml", body, corpus=corpus)
    with pytest.raises(ConfigError) as caught:
        build(config, tmp_path / "out")
    assert message in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_cli_reports_config_errors_in_one_line(tmp_path, capsys):
    from pipelines.build_corpus import main

    config = write_config(tmp_path / "c.toml", '[[source]]\ntype = "podcasts"')
    assert main(["--config", str(config), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("speechmill: config error:") and "known types" in err[-1]
