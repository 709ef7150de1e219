"""speechmill's runtime: transcribe files and live streams with an exported model, without
TensorFlow (``pip install speechmill[runtime]``: LiteRT, numpy, soundfile, soxr, KenLM,
sounddevice). ``recognizer`` runs a model, ``audio`` reads files, ``transcribe`` and ``listen``
are the commands; decoding (greedy, beam search, word LM) is ``lm.decode``."""


class MissingExtra(ImportError):
    """A library of an optional part of speechmill is not installed; says which extra has it."""

    def __init__(self, library: str, extra: str, purpose: str):
        super().__init__(f"{purpose} needs {library}, which is not installed: pip install 'speechmill[{extra}]'")
