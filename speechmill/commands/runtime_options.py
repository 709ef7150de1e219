"""The flags ``speechmill transcribe`` and ``speechmill listen`` share: the model, the backend,
the decoder (runtime/transcribe.py ``DecoderSpec``)."""

from __future__ import annotations

import argparse

from speechmill.console.options import add_model


def add_decoder_arguments(p: argparse.ArgumentParser) -> None:
    from speechmill.runtime.recognizer import BACKENDS

    add_model(p, "run folder or export folder")
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="auto and tflite: the export's builtin-ops model.tflite on LiteRT (loaded as data); "
        "savedmodel: the SavedModel on TensorFlow, a program: only for a model you trust",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads for the tflite backend (default: all)",
    )
    p.add_argument(
        "--beam", type=int, default=0, help="beam search of this width (0: greedy unless --lm)"
    )
    p.add_argument(
        "--lm",
        default=None,
        help="word language model: make lm's folder or a KenLM .arpa/.bin file",
    )


def decoder_spec(args: argparse.Namespace):  # -> DecoderSpec
    from speechmill.runtime.transcribe import DecoderSpec

    return DecoderSpec(
        model=args.model, backend=args.backend, threads=args.threads, beam=args.beam, lm=args.lm
    )
