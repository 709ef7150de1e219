"""Run by tests/test_interop.py inside the interop environment (torch 2.13.0 CPU + lhotse): load
a speechmill lhotse export as a user would, from another working folder, through the line the
export printed, and print as JSON what lhotse itself read.

    python check_lhotse.py OUT "<the export's load hint>"
"""

from __future__ import annotations

import glob
import hashlib
import json
import sys

import lhotse
import numpy as np
from lhotse.dataset import K2SpeechRecognitionDataset, SimpleCutSampler
from lhotse.dataset.input_strategies import AudioSamples
from lhotse.qa import validate


def main(out: str, hint: str) -> None:
    from_hint = eval(hint, {"lhotse": lhotse})  # exactly the line a user copies
    found: dict = {"hint_cuts": len(from_hint), "splits": {}, "batch": {}}
    for path in sorted(glob.glob(f"{out}/speechmill_cuts_*.jsonl.gz")):
        split = path.rsplit("_", 1)[-1].removesuffix(".jsonl.gz")
        cuts = lhotse.CutSet.from_file(path).with_recording_path_prefix(out)
        validate(cuts, read_data=True)  # lhotse's own checks, reading every audio file
        rows = {}
        for cut in cuts:
            audio = cut.load_audio()  # float32 [channels, samples]
            pcm = np.round(audio[0] * 32768.0).astype(np.int16)
            (sup,) = cut.supervisions
            rows[cut.id] = {
                "text": sup.text,
                "speaker": sup.speaker,
                "samples": int(pcm.size),
                "sha1": hashlib.sha1(pcm.tobytes()).hexdigest(),
                "duration": cut.duration,
            }
        found["splits"][split] = rows
        if split == "train":
            sampler = SimpleCutSampler(cuts, max_duration=20.0)
            dataset = K2SpeechRecognitionDataset(input_strategy=AudioSamples(), return_cuts=True)
            batch = dataset[next(iter(sampler))]
            found["batch"] = {
                "inputs": list(batch["inputs"].shape),
                "texts": list(batch["supervisions"]["text"]),
                "ids": [c.id for c in batch["supervisions"]["cut"]],
            }
    json.dump(found, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
