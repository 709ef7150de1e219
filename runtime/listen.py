"""Live transcription: ``arecord -f S16_LE -r 16000 -c 1 | make listen MODEL=build/run`` or
``make listen INPUT=mic``.

Audio comes as raw 16-bit little-endian mono PCM on standard input (``--rate`` Hz, the
model's rate unless said; another rate is resampled by soxr as it streams) or from a
microphone through sounddevice (PortAudio). :class:`LiveTranscriber` keeps the audio since
the last final line; every ``step`` seconds it decodes that whole buffer again (a sliding
window that grows by ``step`` and overlaps all earlier ones) and prints the text as a
``partial`` line when it changed. When the speech pauses (``pause`` seconds below the
loudness threshold) the buffer up to the middle of the pause is decoded a last time and
printed as a ``final`` line, and the buffer starts again there; a buffer that reaches
``window`` seconds without a pause is cut at its quietest 150 ms instead (the cut rule of
offline transcription). Lines:

    partial 3.20 4.70 the keeper clim
    final   3.20 6.05 the keeper climbs the tower

(stream seconds of the line's audio, then its text). At the end of the stream the rest is
decoded as a final line and one summary goes to stderr: audio seconds, compute seconds and
real-time factor, and the latency of final lines (from the end of their last loud 10 ms of
audio arriving to the line being printed).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Callable, Iterator

import numpy as np

from speechmill.corpus.errors import UsageError, UserError
from speechmill.runtime.transcribe import quietest_cut

FRAME = 0.01  # seconds per loudness frame
QUIET_BELOW_PEAK_DB = 30.0  # a frame this far below the stream's loud level is quiet
QUIET_FLOOR_DB = -55.0  # ... and anything below this level always is


@dataclasses.dataclass
class Line:
    kind: str  # "partial" or "final"
    start: float  # stream seconds
    end: float
    text: str
    latency: float | None = None

    def __str__(self) -> str:
        return f"{self.kind:<7} {self.start:.2f} {self.end:.2f} {self.text}"


class LiveTranscriber:
    """Feed float32 samples as they arrive; get the lines to print."""

    def __init__(
        self,
        transcribe: Callable[[np.ndarray], str],
        rate: int,
        *,
        step: float = 0.5,
        window: float = 15.0,
        pause: float = 0.4,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.transcribe, self.rate, self.clock = transcribe, rate, clock
        self.step, self.window, self.pause = int(step * rate), int(window * rate), pause
        self.buffer = np.zeros(0, np.float32)
        self.start = 0  # stream sample where the buffer begins
        self.undecoded = 0  # samples fed since the last decode
        self.last_partial = ""
        self.loud_db = QUIET_FLOOR_DB + QUIET_BELOW_PEAK_DB
        self.arrivals: list[tuple[int, float]] = []  # (stream samples received, clock) per chunk
        self.compute = 0.0
        self.received = 0
        self.finals: list[Line] = []

    # ------------------------------------------------------------------ loudness
    def _frame_db(self, samples: np.ndarray) -> np.ndarray:
        hop = int(self.rate * FRAME)
        n = len(samples) // hop
        frames = samples[: n * hop].reshape(n, hop).astype(np.float64)
        return 10 * np.log10(np.mean(frames * frames, axis=1) + 1e-12)

    def _quiet(self, db: np.ndarray) -> np.ndarray:
        return db < max(QUIET_FLOOR_DB, self.loud_db - QUIET_BELOW_PEAK_DB)

    # ------------------------------------------------------------------ stream
    def feed(self, samples: np.ndarray) -> list[Line]:
        self.received += len(samples)
        self.arrivals.append((self.received, self.clock()))
        db = self._frame_db(samples)
        if len(db):  # a slowly falling peak follower of the loud level
            self.loud_db = max(float(np.max(db)), self.loud_db - 0.002 * len(db))
        self.buffer = np.concatenate([self.buffer, samples.astype(np.float32)])
        self.undecoded += len(samples)
        lines: list[Line] = []
        while self.undecoded >= self.step:
            self.undecoded -= self.step
            lines += self._decide()
        return lines

    def finish(self) -> list[Line]:
        """The rest of the stream as a final line."""
        return self._final(len(self.buffer)) if len(self.buffer) else []

    def _decide(self) -> list[Line]:
        db = self._frame_db(self.buffer)
        quiet = self._quiet(db)
        if not len(quiet) or quiet.all():
            if len(self.buffer) > self.window:  # nothing said for a whole window: let it go
                self.start += len(self.buffer)
                self.buffer = self.buffer[:0]
            return []
        tail = int(round(self.pause / FRAME))
        if len(quiet) > tail and quiet[-tail:].all():
            return self._final(len(self.buffer) - int(tail * FRAME * self.rate) // 2)
        if len(self.buffer) >= self.window:
            search = min(len(self.buffer), 3 * self.rate)
            return self._final(
                quietest_cut(self.buffer, self.rate, len(self.buffer) - search, len(self.buffer))
            )
        text = self._decode(self.buffer)
        if text and text != self.last_partial:
            self.last_partial = text
            return [
                Line(
                    "partial",
                    self.start / self.rate,
                    (self.start + len(self.buffer)) / self.rate,
                    text,
                )
            ]
        return []

    def _final(self, cut: int) -> list[Line]:
        piece, self.buffer = self.buffer[:cut], self.buffer[cut:]
        begin, self.start = self.start, self.start + cut
        self.last_partial = ""
        db = self._frame_db(piece)
        loud = np.nonzero(~self._quiet(db))[0]
        if not len(loud):
            return []
        text = self._decode(piece)
        if not text:
            return []
        speech_end = begin + int((loud[-1] + 1) * FRAME * self.rate)
        arrived = next((t for received, t in self.arrivals if received >= speech_end), self.clock())
        line = Line(
            "final", begin / self.rate, (begin + cut) / self.rate, text, self.clock() - arrived
        )
        self.finals.append(line)
        self.arrivals = [(r, t) for r, t in self.arrivals if r >= self.start]
        return [line]

    def _decode(self, samples: np.ndarray) -> str:
        began = time.perf_counter()
        text = self.transcribe(samples)
        self.compute += time.perf_counter() - began
        return text

    def summary(self) -> str:
        seconds = self.received / self.rate
        latencies = sorted(line.latency for line in self.finals if line.latency is not None)
        latency = (
            f"final lines {len(self.finals)}, latency median {latencies[len(latencies) // 2]:.2f} s, "
            f"max {latencies[-1]:.2f} s"
            if latencies
            else "no final lines"
        )
        rtf = self.compute / seconds if seconds else 0.0
        return (
            f"speechmill: listen: {seconds:.1f} s of audio, {self.compute:.1f} s computing "
            f"(real-time factor {rtf:.3f}); {latency}"
        )


# ---------------------------------------------------------------------- inputs


def stdin_chunks(rate: int, stream_rate: int, chunk_seconds: float = 0.1) -> Iterator[np.ndarray]:
    """Float32 chunks at ``rate`` from raw s16le mono PCM at ``stream_rate`` on standard input."""
    resampler = None
    if stream_rate != rate:
        import soxr

        resampler = soxr.ResampleStream(stream_rate, rate, 1, dtype="float32")
    fd, size, carry = sys.stdin.fileno(), 2 * int(stream_rate * chunk_seconds), b""
    while True:
        data = os.read(fd, size)
        if not data:
            break
        data, carry = carry + data, b""
        if len(data) % 2:
            data, carry = data[:-1], data[-1:]
        samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
        yield resampler.resample_chunk(samples) if resampler else samples
    if resampler:
        yield resampler.resample_chunk(np.zeros(0, np.float32), last=True)


def microphone_chunks(
    rate: int, device: str | None, chunk_seconds: float = 0.1
) -> Iterator[np.ndarray]:
    """Float32 chunks at ``rate`` from a microphone (sounddevice / PortAudio) until Ctrl-C."""
    import queue

    try:
        import sounddevice
    except ImportError:
        from speechmill.corpus.errors import MissingExtra

        raise MissingExtra("sounddevice", "runtime", "microphone input") from None
    except OSError as e:  # the module is there, PortAudio is not
        raise MicrophoneError(
            f"no microphone input: {e} (Debian: apt-get install libportaudio2)"
        ) from None
    chunks: queue.Queue = queue.Queue()
    try:
        stream = sounddevice.InputStream(
            samplerate=rate,
            channels=1,
            dtype="float32",
            device=device,
            blocksize=int(rate * chunk_seconds),
            callback=lambda data, frames, when, status: chunks.put(data[:, 0].copy()),
        )
    except Exception as e:  # noqa: BLE001 - PortAudio raises its own error types for a missing or busy device
        raise MicrophoneError(
            f"cannot open the microphone{f' {device}' if device else ''}: {e}"
        ) from None
    with stream:
        while True:
            yield chunks.get()


class MicrophoneError(UserError, OSError):
    """No microphone to listen to."""


def check_live(rate: int | None, step: float, window: float, pause: float) -> None:
    """listen's numbers in range (UsageError: one line, exit 2): a zero step would spin, a rate
    of 5 Hz would drop every sample."""
    if rate is not None and not 1000 <= rate <= 384000:
        raise UsageError(f"--rate {rate}: give the input's sample rate in Hz (1000 to 384000)")
    if not 0.05 <= step <= 10:
        raise UsageError(f"--step {step}: give 0.05 to 10 seconds of new audio between decodes")
    if not step < window <= 120:
        raise UsageError(f"--window {window}: give more than --step and at most 120 seconds")
    if not 0 < pause <= 10:
        raise UsageError(f"--pause {pause}: give more than 0 and at most 10 seconds")
