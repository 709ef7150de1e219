"""The build configuration: a TOML file with a ``[corpus]`` table and ``[[source]]`` tables.

``load_config(path) -> BuildConfig``. Unknown keys and impossible values raise
:class:`ConfigError` before any work starts. Relative paths in source tables are resolved
against the folder holding the config file (paths with a scheme such as ``gs://`` are kept).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import stat
import tomllib
from typing import Any

from speechmill.corpus.errors import UserError
from speechmill.corpus.quality import QualitySettings, parse_quality
from speechmill.corpus.schema import SPLITS


class ConfigError(UserError, ValueError):
    """A configuration that cannot describe a build."""

    label = "config error"  # "speechmill: config error: ..."


def did_you_mean(word: Any, known: Any) -> str:
    """ " (did you mean 'path'?)" for a near miss among ``known``, else ""."""
    close = difflib.get_close_matches(str(word), sorted(map(str, known)), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclasses.dataclass(frozen=True)
class CorpusSettings:
    """Corpus-wide settings (the ``[corpus]`` table). Every field is documented in the README."""

    sample_rate: int = 16000
    seed: int = 0
    min_seconds: float = 0.5
    max_seconds: float = 30.0
    min_chars_per_second: float = 2.0
    max_chars_per_second: float = 35.0
    dev_fraction: float = 0.1
    test_fraction: float = 0.1
    shard_mb: float = 128.0
    max_reject_fraction: float = 0.25
    cache_dir: str = "~/.cache/speechmill"
    quality: QualitySettings = QualitySettings()  # the [quality] table (corpus/quality.py)

    def __post_init__(self) -> None:
        if isinstance(self.quality, dict):  # as info.json keeps it
            quality = {**self.quality, "measures": tuple(self.quality.get("measures", ()))}
            object.__setattr__(self, "quality", QualitySettings(**quality))
        for field in dataclasses.fields(self):
            if field.name == "quality":
                continue
            value, kind = getattr(self, field.name), str(field.type)
            ok = {
                "int": isinstance(value, int) and not isinstance(value, bool),
                "float": isinstance(value, (int, float))
                and not isinstance(value, bool)
                and math.isfinite(value),
                "str": isinstance(value, str),
            }[kind]
            if not ok:
                what = {"int": "a whole number", "float": "a number", "str": "a string"}[kind]
                raise ConfigError(f"[corpus] {field.name} must be {what}, got {value!r}")
        checks = [
            (8000 <= self.sample_rate <= 48000, "sample_rate must be within 8000..48000"),
            (0 < self.min_seconds < self.max_seconds, "need 0 < min_seconds < max_seconds"),
            (
                0 <= self.min_chars_per_second < self.max_chars_per_second,
                "need 0 <= min_chars_per_second < max_chars_per_second",
            ),
            (
                0 <= self.dev_fraction
                and 0 <= self.test_fraction
                and self.dev_fraction + self.test_fraction < 1,
                "dev_fraction + test_fraction must be below 1",
            ),
            (
                1e-3 <= self.shard_mb <= 1e5,
                "shard_mb must be within 0.001..100000 (megabytes per shard)",
            ),
            (0 <= self.max_reject_fraction <= 1, "max_reject_fraction must be within 0..1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"[corpus] {message}")

    @property
    def cache_path(self) -> str:
        return os.path.expanduser(self.cache_dir)


@dataclasses.dataclass(frozen=True)
class BuildConfig:
    settings: CorpusSettings
    sources: tuple[dict[str, Any], ...]  # raw [[source]] tables, checked by each source
    base_dir: str  # folder relative paths are resolved against
    where: str = "config"  # the config file, for messages


def resolve_path(path: str, base_dir: str) -> str:
    """Config path -> absolute path (or the URL as given)."""
    if "://" in path:
        return path
    path = os.path.expanduser(path)
    return os.path.normpath(path if os.path.isabs(path) else os.path.join(base_dir, path))


def check_keys(table: dict[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        named = ", ".join(f"{key}{did_you_mean(key, known)}" for key in unknown)
        raise ConfigError(
            f"{where}: unknown key(s) {named}; known keys: {', '.join(sorted(known))}"
        )


def check_split(split: Any, where: str) -> str | None:
    if split is not None and split not in SPLITS:
        raise ConfigError(f"{where}: split must be one of {', '.join(SPLITS)}, got {split!r}")
    return split


def parse_config(data: dict[str, Any], base_dir: str, where: str = "config") -> BuildConfig:
    """A parsed TOML document -> BuildConfig."""
    check_keys(data, {"corpus", "source", "quality"}, where)
    if not isinstance(data.get("corpus", {}), dict):
        raise ConfigError(f"{where}: corpus must be a [corpus] table, got {data['corpus']!r}")
    corpus = dict(data.get("corpus", {}))
    known = {f.name for f in dataclasses.fields(CorpusSettings)} - {"quality"}
    check_keys(corpus, known, f"{where} [corpus]")
    quality_table = data.get("quality", {})
    if isinstance(quality_table, dict):
        check_keys(
            quality_table,
            {f.name for f in dataclasses.fields(QualitySettings)},
            f"{where} [quality]",
        )
    quality = parse_quality(quality_table, where)
    try:
        settings = CorpusSettings(**corpus, quality=quality)
    except TypeError as e:
        raise ConfigError(f"{where} [corpus]: {e}") from None
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None
    sources = data.get("source", [])
    if not isinstance(sources, list) or not sources:
        raise ConfigError(f"{where}: needs at least one [[source]] table")
    if not all(isinstance(s, dict) for s in sources):
        raise ConfigError(f"{where}: source must be [[source]] tables")
    return BuildConfig(
        settings=settings, sources=tuple(dict(s) for s in sources), base_dir=base_dir, where=where
    )


MAX_CONFIG_BYTES = 16 << 20


def _without_blocking(path: str, flags: int) -> int:
    """Open without blocking, so a FIFO named as the config cannot hang the command."""
    return os.open(path, flags | os.O_NONBLOCK)


def load_config(path: str) -> BuildConfig:
    """Read a TOML config file (a regular file of at most ``MAX_CONFIG_BYTES``)."""
    try:
        with open(path, "rb", opener=_without_blocking) as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise ConfigError(f"{path} is not a regular file (a pipe or device), not a config")
            os.set_blocking(f.fileno(), True)
            raw = f.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES >> 20} MB; not a config")
        data = tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a folder, not a config file") from None
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"{path}: not UTF-8 text (TOML files are UTF-8): {e.reason} at byte {e.start}"
        ) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    except RecursionError:
        raise ConfigError(f"{path}: tables or arrays nested too deep to read") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the config: {e.strerror}") from None
    return parse_config(data, os.path.dirname(os.path.abspath(path)), where=path)
