"""A quiet console: third-party noise a user cannot act on is dropped, everything else shows.

``quiet_console()`` sets the environment that keeps TensorFlow's C++ start-up lines away
(before TensorFlow is imported), and routes this process's standard error — and so that of
every worker process it starts (Beam's SDK workers, a local Dask cluster, ffmpeg) — through a
filter that drops the lines matching ``NOISE`` and passes every other line through unchanged.
Beam's logged copies of a failed step's traceback are skipped too (the job raises the error,
and the CLI prints it). Real warnings and our own reject lines still show; ``--verbose`` skips
all of it.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
import warnings
from collections.abc import Iterator

NOISE = re.compile(
    "|".join(
        [
            r"apitools not found, and bigquery client libraries",  # Beam's GCP extras, not installed
            r"No semi_persistent_directory found",  # Beam SDK worker start-up
            r"Discarding unparseable args",  # Beam options meant for other runners
            r"Logging handler created",
            r"^WARNING: All log messages before absl::InitializeLog",  # TensorFlow / XLA start-up
            r"^[IWE]\d{4} [0-9:.]+ +\d+ \S+\.(?:cc|h):\d+\]",  # absl-formatted C++ log lines
            r"Could not find cuda drivers|failed call to cuInit|Unable to register cu(?:DNN|FFT|BLAS) factory",
            r"oneDNN custom operations are on|TF-TRT Warning|computation placer already registered",
            r"This TensorFlow binary is optimized to use available CPU instructions",
            r"To enable the following instructions: .* in other operations, rebuild TensorFlow",
            r"^INFO: Created TensorFlow Lite XNNPACK delegate for CPU",  # LiteRT, per model
            r"`FeatureConnector\.dtype` is deprecated",  # TFDS reading its own property (write_metadata)
            r"^Note: (?:Illegal Audio-MPEG-Header|Trying to resync|Skipped \d+ bytes in input)",
            r"^Note: (?:Hit end of \(available\) data|Encountered more data than announced)",
            r"^\[src/libmpg123/[^\]]*\] (?:error|warning|note): ",  # a damaged MP3 frame
            r"^Loading the LM will be faster if you build a binary file",  # KenLM, ARPA files
            r"^The ARPA file is missing <unk>\.  Substituting log10 probability",
            r"^Reading \S+\.arpa$",
            r"^----5---10---15---20---25---30---35---40---45---50---55---60---65---70---75---80",
            r"^\*{20,}$",  # KenLM's progress bar
        ]
    )
)
# Beam logs a failed worker step with its traceback, in the worker and again in the job service;
# the job then raises it, and speechmill prints it as one line (or, for a bug, with the
# traceback). These blocks are skipped up to the next log record.
BEAM_ERROR_BLOCK = re.compile(
    r"^ERROR:apache_beam\.runners\.(?:common|worker\.sdk_worker|portability\.local_job_service|"
    r"portability\.fn_api_runner\.\w+|worker\.operations):"
)
OUR_LOGGERS = re.compile(
    r"^(?:INFO|WARNING):speechmill\.\w+:"
)  # "speechmill: rejected ..." reads better
LOG_RECORD = re.compile(r"^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL):[\w.]+:|^speechmill:")
_PYTHON_WARNINGS = [
    (
        r"`shuffle=True` was passed, but will be ignored",
        UserWarning,
    ),  # Keras, about our own tf.data input
]


def quiet_environment() -> None:
    """Before TensorFlow is imported: C++ logging at errors only, Python warnings filtered."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for message, category in _PYTHON_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category)


@contextlib.contextmanager
def filtered_stderr() -> Iterator[int]:
    """Route file descriptor 2 through a line filter for the block; yields a descriptor of the
    real standard error (for progress bars, which must not wait for a line end)."""
    sys.stderr.flush()
    real = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def pump() -> None:
        skipping = False
        with os.fdopen(read_end, "rb") as source:
            for raw in source:
                line = raw.decode("utf-8", "replace")
                if BEAM_ERROR_BLOCK.match(line):
                    skipping = True
                    continue
                if skipping and not LOG_RECORD.match(line):
                    continue
                skipping = False
                if not NOISE.search(line):
                    os.write(
                        real,
                        OUR_LOGGERS.sub("speechmill: ", line).encode("utf-8")
                        if OUR_LOGGERS.match(line)
                        else raw,
                    )

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    try:
        yield real
    finally:
        sys.stderr.flush()
        os.dup2(real, 2)  # the last writer of the pipe goes: the pump sees its end
        thread.join(timeout=5)
