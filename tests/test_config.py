"""Configuration mistakes fail before any work, naming what is wrong and what is allowed."""

import pytest
from support.jobs import build, write_config

from speechmill.corpus.config import ConfigError
from speechmill.corpus.sources import REGISTRY


@pytest.mark.parametrize(
    "body, corpus, message",
    [
        (
            '[[source]]\ntype = "podcasts"\npath = "x"',
            "",
            f"[[source]] #1: unknown type 'podcasts'; known types: {', '.join(sorted(REGISTRY))}",
        ),
        (
            '[[source]]\ntype = "librispeech"\npath = "/no/such/folder"',
            "",
            "/no/such/folder does not exist",
        ),
        (
            '[[source]]\ntype = "librispeech"\npath = "dev-clean"\nspeed = 2',
            "",
            "unknown key(s) speed",
        ),
        (
            '[[source]]\ntype = "librispeech"\npath = "dev-clean"\nsplit = "valid"',
            "",
            "split must be one of train, dev, test",
        ),
        (
            '[[source]]\ntype = "gutenberg"\nbooks = ["/no/book.txt"]',
            "",
            "book /no/book.txt does not exist",
        ),
        (
            '[[source]]\ntype = "librispeech"\npath = "dev-clean"',
            "min_seconds = 5\nmax_seconds = 2",
            "min_seconds",
        ),
        (
            '[[source]]\ntype = "librispeech"\npath = "dev-clean"',
            "sample_rate_hz = 8000",
            "unknown key(s) sample_rate_hz",
        ),
        ("", "", "at least one [[source]]"),
    ],
)
def test_bad_configs_are_refused_before_any_work(tmp_path, body, corpus, message):
    config = write_config(tmp_path / "c.toml", body, corpus=corpus)
    with pytest.raises(ConfigError) as caught:
        build(config, tmp_path / "out")
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(config))  # the file is named
    assert not (tmp_path / "out").exists()


def test_config_errors_name_the_table_and_suggest_the_near_key(tmp_path):
    good = '[[source]]\ntype = "librispeech"\npath = "/"\n'
    config = write_config(
        tmp_path / "c.toml", good + '\n[[source]]\ntype = "librispeech"\npth = "dev-clean"'
    )
    with pytest.raises(ConfigError) as caught:
        build(config, tmp_path / "out")
    assert str(caught.value).startswith(f"{config}: [[source]] #2 librispeech: unknown key(s) pth")
    assert "(did you mean 'path'?)" in str(caught.value)
    typo = write_config(tmp_path / "t.toml", '[[source]]\ntype = "librispeach"\npath = "x"')
    with pytest.raises(
        ConfigError, match=r"unknown type 'librispeach' \(did you mean 'librispeech'\?\)"
    ):
        build(typo, tmp_path / "out")
    seed = write_config(tmp_path / "s.toml", good, corpus='seed = "x"')
    with pytest.raises(ConfigError) as caught:
        build(seed, tmp_path / "out")
    assert str(caught.value) == f"{seed}: [corpus] seed must be a whole number, got 'x'"


def test_cli_reports_config_errors_in_one_line(tmp_path, capsys):
    from speechmill.commands.corpus import main

    config = write_config(tmp_path / "c.toml", '[[source]]\ntype = "podcasts"')
    assert main(["--config", str(config), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("speechmill: config error:") and "known types" in err[-1]


@pytest.mark.parametrize(
    "text, words",
    [
        (
            '[corpus]\nshard_mb = 1e-300\n[[source]]\ntype = "librispeech"\npath = "dev-clean"',
            "shard_mb must be within",
        ),
        (
            '[corpus]\nsample_rate = 16000.5\n[[source]]\ntype = "librispeech"\npath = "dev-clean"',
            "sample_rate must be a whole number, got 16000.5",
        ),
        (
            '[corpus]\nsample_rate = "16000"\n[[source]]\ntype = "librispeech"\npath = "dev-clean"',
            "sample_rate must be a whole number, got '16000'",
        ),
        (
            '[corpus]\nseed = "abc"\n[[source]]\ntype = "librispeech"\npath = "dev-clean"',
            "seed must be a whole number",
        ),
        (
            '[corpus]\ncache_dir = 5\n[[source]]\ntype = "librispeech"\npath = "dev-clean"',
            "cache_dir must be a string",
        ),
        (
            'corpus = 5\n[[source]]\ntype = "librispeech"\npath = "dev-clean"',
            "corpus must be a [corpus] table",
        ),
        (
            '[[source]]\ntype = "librispeech"\npath = 42',
            "[[source]] #1 librispeech: path must be a string, got 42",
        ),
        (
            '[[source]]\ntype = "gutenberg"\nbooks = ["c.toml"]\nrates = ["fast"]',
            "rates must be a list of whole numbers",
        ),
        (
            '[[source]]\ntype = "youtube"\nurls = ["http://x"]\nallow_auto = "yes"',
            "allow_auto must be true or false",
        ),
        (
            '[[source]]\ntype = "movies"\npath = "."\nmax_offset = "1m"',
            "max_offset must be a number",
        ),
        (
            '[[source]]\ntype = "librispeech"\npath = "dev-clean"\nlimit = 2.5',
            "limit must be a positive integer",
        ),
        (b'[[source]]\ntype = "librispeech"\npath = "caf\xe9"', "not UTF-8 text"),
        (None, "is a folder, not a config file"),
    ],
)
def test_every_key_is_checked_and_reported_in_one_line_with_exit_2(tmp_path, capsys, text, words):
    from speechmill.commands.corpus import main

    config = tmp_path / "c.toml"
    if text is None:
        config.mkdir()
    elif isinstance(text, bytes):
        config.write_bytes(text)
    else:
        config.write_text(text)
    assert main(["--config", str(config), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("speechmill: config error:") and words in err[0], err
    assert not (tmp_path / "out").exists()
