"""One module per ``speechmill`` command: its parser, the job's config built from the flags, the
call of the job's plain function, and the lines it prints. Nothing below the front door parses
a command line or prints to the terminal."""

# The commands, one row each: name -> (its module, its one line in `speechmill --help`, which
# is also the first sentence of `speechmill NAME --help`).
COMMANDS = {
    "corpus": (
        "speechmill.commands.corpus",
        "build a corpus from a config: sources -> TFRecord shards + info.json",
    ),
    "augment": (
        "speechmill.commands.augment",
        "a new corpus with augmented copies of a corpus's train split",
    ),
    "measure": (
        "speechmill.commands.measure",
        "a corpus's records measured (SNR, speech share, DNSMOS, clipping, rate), no rebuild",
    ),
    "train": ("speechmill.commands.train", "train the CTC recognizer on a corpus"),
    "verify": (
        "speechmill.commands.verify",
        "check every utterance with a trained model; keep and re-time what it confirms",
    ),
    "eval": ("speechmill.commands.eval", "WER / CER of a trained run on a corpus"),
    "lm": (
        "speechmill.commands.lm",
        "a word n-gram language model from a corpus's train transcripts and text files",
    ),
    "listen": (
        "speechmill.commands.listen",
        "transcribe a live stream (PCM on standard input, or a microphone)",
    ),
    "transcribe": (
        "speechmill.commands.transcribe",
        "transcribe audio files or folders with a trained run (TensorFlow not needed)",
    ),
    "report": (
        "speechmill.commands.report",
        "an HTML page about a corpus (or a training run) to look at and listen to",
    ),
    "export": (
        "speechmill.commands.export",
        "a corpus for another stack: hf (datasets Parquet), nemo, lhotse manifests; tfds metadata",
    ),
    "inspect": (
        "speechmill.commands.inspect",
        "print records of a corpus, write some as WAV files",
    ),
    "describe": (
        "speechmill.commands.describe",
        "a corpus per split: durations, speakers, vocabulary, held-out words against train",
    ),
}
