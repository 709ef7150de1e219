"""The source contract: everything the corpus job asks of a source, written down.

A source is a small picklable object, built from one ``[[source]]`` table, that lists
shardable work units and turns one unit into segments:

* ``name`` (class attribute): the registry name; it prefixes every id and the ``source`` field.
* ``LICENSE`` (class attribute): the licence recorded in ``info.json``; ``license`` (the
  instance's) may be set from the config (movies) and is what the job records.
* ``KEYS`` (class attribute): the table keys the source reads, besides ``type``, ``split`` and
  ``limit`` which every table accepts.
* ``from_config(table, context)``: build from a table; raises ``ConfigError`` naming the key.
* ``units()``: called once where the job is built; cheap (no audio read), deterministic.
* ``expand(unit)``: called on a worker before ``read``: a unit that stands for others (a
  playlist) yields them; the default yields the unit itself.
* ``setup()`` / ``close()``: per-worker state (a TTS engine); no-ops by default.
* ``read(unit)``: on a worker; yields :class:`Segment` (audio + transcript), ``Reject`` for an
  item it skips, and :class:`Note` facts for ``info.json``; raises ``Reject`` when the whole
  unit is unusable.

Each source module documents its input layout and licence at its top, defines a frozen
dataclass for its unit payload, and adds one line to the registry in ``__init__.py``.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Iterator
from typing import Any, ClassVar

from speechmill.corpus import storage
from speechmill.corpus.config import ConfigError, check_keys, check_split, resolve_path
from speechmill.corpus.reject import Reject
from speechmill.corpus.types import Note, Segment, Unit
from speechmill.corpus.workdir import files_identity

COMMON_KEYS = frozenset({"type", "split", "limit"})


@dataclasses.dataclass(frozen=True)
class SourceContext:
    """What a table is read against: the config file's folder, the download cache, the corpus rate."""

    base_dir: str = "."
    cache_dir: str = ""
    sample_rate: int = 16000


class Source(abc.ABC):
    """Base class of every source (see the module docstring for the contract)."""

    name: ClassVar[str]
    LICENSE: ClassVar[str]
    KEYS: ClassVar[frozenset[str]] = frozenset()
    split: str | None = None
    limit: int | None = None
    EXPAND_ROUNDS = 0  # how many times a worker expands a launcher unit (see expand)

    @classmethod
    @abc.abstractmethod
    def from_config(cls, table: dict[str, Any], context: SourceContext) -> Source:
        """A ``[[source]]`` table -> a configured source (raises ConfigError)."""

    @property
    def license(self) -> str:
        return self.LICENSE

    @abc.abstractmethod
    def units(self) -> list[Unit]:
        """The work units, in a stable order, with unique keys."""

    def expand(self, unit: Unit) -> Iterator[Unit | Reject]:
        """A unit -> the units it stands for (default: itself). Runs on the workers, in
        ``EXPAND_ROUNDS`` rounds (a URL file's range -> its URLs -> their videos); a unit that
        needs no more expanding yields itself."""
        yield unit

    def setup(self) -> None:
        """Load per-worker state (called once per worker before any ``read``)."""

    def close(self) -> None:
        """Release per-worker state."""

    @abc.abstractmethod
    def read(self, unit: Unit) -> Iterator[Segment | Reject | Note]:
        """One unit -> its segments, item rejects and notes."""

    def input_identity(self, unit: Unit) -> list:
        """What the unit's output depends on besides the config and the payload: by default the
        size and modification time of every absolute path or storage URL in the payload. A
        re-run reuses a finished unit only while this is unchanged."""
        paths = [
            p
            for p in _strings_in(unit.payload)
            if p.startswith("/") or p.split("://", 1)[0] in ("gs", "s3", "hdfs", "file")
        ]
        return files_identity(paths)

    # ------------------------------------------------------------ helpers for from_config

    @classmethod
    def where(cls) -> str:
        return f"[[source]] {cls.name}"

    @classmethod
    def common_keys(cls, table: dict[str, Any]) -> dict[str, Any]:
        """Check the table's keys against ``KEYS``; return its checked ``split`` and ``limit``."""
        check_keys(table, set(cls.KEYS | COMMON_KEYS), cls.where())
        limit = table.get("limit")
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise ConfigError(f"{cls.where()}: limit must be a positive integer, got {limit!r}")
        return {"split": check_split(table.get("split"), cls.where()), "limit": limit}

    @classmethod
    def option(
        cls,
        table: dict[str, Any],
        key: str,
        kind: type | tuple[type, ...],
        default: Any = None,
        each: type | tuple[type, ...] | None = None,
    ) -> Any:
        """``table[key]`` checked to be of ``kind`` (and a list's items of ``each``; an error
        names the key), else ``default``."""
        if key not in table:
            return default
        value = table[key]
        if not _is(value, kind):
            raise ConfigError(f"{cls.where()}: {key} must be {_names(kind)}, got {value!r}")
        if each is not None and not all(_is(item, each) for item in value):
            raise ConfigError(
                f"{cls.where()}: {key} must be a list of {_names(each, plural=True)}, got {value!r}"
            )
        return value

    @classmethod
    def options(cls, table: dict[str, Any], spec: dict[str, tuple]) -> dict[str, Any]:
        """The keys of ``spec`` that the table sets, each checked by ``option(table, key, *spec[key])``."""
        return {key: cls.option(table, key, *args) for key, args in spec.items() if key in table}

    @classmethod
    def existing_path(
        cls, table: dict[str, Any], key: str, context: SourceContext, what: str
    ) -> str:
        """``table[key]`` as a path resolved against the config's folder; it must exist."""
        value = cls.option(table, key, str)
        if value is None:
            raise ConfigError(f"{cls.where()}: needs {key} ({what})")
        path = resolve_path(value, context.base_dir)
        if not storage.exists(path):
            raise ConfigError(f"{cls.where()}: {key} {path} does not exist")
        return path


def teaching(cls: type[Source], table: dict[str, Any]) -> dict[str, Any]:
    """The keys of a source whose recordings may come without a transcript: ``teacher`` (a
    teacher spec that labels them), ``second`` (a second opinion) and ``second_max_cer``,
    checked for their types here; the specs themselves are checked where the job starts (the
    teachers sit above the sources)."""
    out = cls.options(
        table, {"teacher": (str,), "second": (str,), "second_max_cer": ((int, float),)}
    )
    if ("second" in out or "second_max_cer" in out) and not out.get("teacher"):
        raise ConfigError(f"{cls.where()}: second and second_max_cer need teacher")
    if "second_max_cer" in out:
        if not 0 <= out["second_max_cer"] <= 1:
            raise ConfigError(
                f"{cls.where()}: second_max_cer must be a CER from 0 to 1, "
                f"got {out['second_max_cer']!r}"
            )
        out["second_max_cer"] = float(out["second_max_cer"])
    return out


def _strings_in(value: Any) -> Iterator[str]:
    """Every string inside a payload (dataclass fields, tuples, lists, dicts), depth first."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _strings_in(getattr(value, field.name))
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings_in(item)


def _is(value: Any, kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)


def _names(kind: type | tuple[type, ...], plural: bool = False) -> str:
    names = {
        int: "a whole number",
        float: "a number",
        str: "a string",
        bool: "true or false",
        list: "a list",
    }
    plurals = {
        int: "whole numbers",
        float: "numbers",
        str: "strings",
        bool: "booleans",
        list: "lists",
    }
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if float in kinds:
        kinds = tuple(k for k in kinds if k is not int)  # "a number" covers whole ones
    return " or ".join(
        dict.fromkeys((plurals if plural else names).get(k, k.__name__) for k in kinds)
    )
