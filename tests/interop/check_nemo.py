"""Run by tests/test_interop.py inside the interop environment: read a speechmill NeMo export's
manifests with NeMo's own manifest reader (``nemo.collections.common.parts.preprocessing.
manifest.item_iter``, what NeMo's ASR datasets read through), from another working folder,
and print as JSON what NeMo found for each line: the audio file it resolved (and its samples'
digest, read with soundfile), the duration and the text."""

from __future__ import annotations

import glob
import hashlib
import json
import sys

import numpy as np
import soundfile
from nemo.collections.common.parts.preprocessing import manifest


def main(out: str) -> None:
    found = {}
    for path in sorted(glob.glob(f"{out}/*_manifest.json")):
        split = path.rsplit("/", 1)[-1].removesuffix("_manifest.json")
        rows = {}
        for item in manifest.item_iter([path]):
            audio, rate = soundfile.read(item["audio_file"], dtype="int16")
            rows[item["audio_file"]] = {
                "text": item["text"],
                "duration": item["duration"],
                "samples": int(audio.size),
                "rate": rate,
                "sha1": hashlib.sha1(np.ascontiguousarray(audio).tobytes()).hexdigest(),
            }
        found[split] = rows
    json.dump(found, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
