"""``whisper:NAME``: a faster-whisper model fetched from the model hub, bounded before it comes.

A name (``small.en``, ``large-v3``: faster-whisper's ``available_models()``) or a hub id
(``owner/repo``, a CTranslate2 conversion) is looked up in the local hub cache first (offline
use of a model fetched before); otherwise the hub's own listing of the files faster-whisper
would fetch (a dry run: names and sizes, nothing downloaded) is checked against the size
bounds of a model folder (here; teachers/whisper.py checks a folder against them), and only
then downloaded (by faster-whisper's ``download_model``, the same files). The folder is then
checked as data like any other. A hub that cannot be reached is one line naming the model.
"""

from __future__ import annotations

from collections.abc import Iterable

from speechmill.teachers.base import TeacherError

# the files faster-whisper's download_model fetches (its allow_patterns)
FETCHED = ["config.json", "preprocessor_config.json", "model.bin", "tokenizer.json", "vocabulary.*"]
HUB_TIMEOUT = 20  # seconds for the hub's listing
MAX_MODEL_BYTES = 4 << 30  # a model folder's model.bin (large-v3 is ~3.1 GB in float16)
MAX_SIDE_FILE_BYTES = 16 << 20  # its config.json, tokenizer.json, vocabulary


def looks_like_folder(name: str) -> bool:
    """A path, not a hub name: absolute, relative with ./ or ../, ~, or more than one '/'."""
    return name.startswith(("/", "./", "../", "~")) or name.count("/") > 1


def repo_of(name: str) -> str:
    """The hub id of a faster-whisper model name or hub id; TeacherError for neither."""
    from faster_whisper import utils

    if "/" in name:
        return name
    known = utils.available_models()
    if name not in known:
        raise TeacherError(
            f"whisper:{name}: no folder of that name and not a faster-whisper model "
            f"({', '.join(known)}, or a hub id owner/repo)"
        )
    # available_models() names the keys of this table; the ids are not public otherwise
    return dict(getattr(utils, "_MODELS", {})).get(name, f"Systran/faster-whisper-{name}")


def check_listing(name: str, files: Iterable) -> None:
    """The hub's dry-run listing (``filename``, ``file_size``) of a model's files, checked
    against a model folder's bounds before anything is downloaded."""
    sizes = {f.filename: f.file_size for f in files}
    if "model.bin" not in sizes:
        raise TeacherError(f"whisper:{name}: not a CTranslate2 Whisper model (no model.bin)")
    for filename, size in sorted(sizes.items()):
        bound = MAX_MODEL_BYTES if filename == "model.bin" else MAX_SIDE_FILE_BYTES
        if size is None or size > bound:
            said = "of unknown size" if size is None else f"{size / 2**20:,.0f} MiB"
            raise TeacherError(
                f"whisper:{name}: {filename} is {said}, over the {bound / 2**20:,.0f} MiB a "
                "model file may have; refused"
            )


def fetch(name: str) -> str:
    """``name`` -> a local model folder (cached, or downloaded within bounds)."""
    import huggingface_hub
    from faster_whisper.utils import download_model

    if looks_like_folder(name):
        raise TeacherError(f"whisper:{name}: no such model folder")
    repo = repo_of(name)
    try:
        return str(download_model(name, local_files_only=True))
    except Exception:  # noqa: BLE001 - not in the local cache: ask the hub
        pass
    try:
        listing = huggingface_hub.snapshot_download(
            repo, allow_patterns=FETCHED, dry_run=True, etag_timeout=HUB_TIMEOUT
        )
    except Exception as e:  # noqa: BLE001 - offline, unknown repo, refused: one line
        raise TeacherError(
            f"whisper:{name}: cannot list {repo} on the model hub (offline?): {_first_line(e)}"
        ) from None
    check_listing(name, listing if isinstance(listing, list) else [])
    try:
        return str(download_model(name))
    except Exception as e:  # noqa: BLE001
        raise TeacherError(f"whisper:{name}: download of {repo} failed: {_first_line(e)}") from None


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return (text.splitlines()[0] if text else type(e).__name__)[:200]
