"""speechmill's runtime: transcribe files and live streams with an exported model, without
TensorFlow (``pip install speechmill[runtime]``: LiteRT, numpy, soundfile, soxr, KenLM,
sounddevice). ``recognizer`` runs a model, ``audio`` reads files, ``transcribe`` and ``listen``
are the commands; decoding (greedy, beam search, word LM) is ``lm.decode``."""

from speechmill.corpus.errors import MissingExtra

__all__ = ["MissingExtra"]
