"""Text to speech with pyttsx3 on espeak-ng, each synthesis bounded in time.

pyttsx3 drives libespeak-ng in-process and can hang, or silently write no file (it does so
for the first synthesis after start-up). :class:`Synthesizer` therefore runs it in a child
process (``python -m corpus.inputs.tts``), warms it up, gives each request ``timeout`` seconds, kills
and restarts a stuck child, and checks that a non-empty WAV file came back. Failures raise
``Reject`` with reasons ``tts:timeout``, ``tts:empty`` or ``tts:voice``.
"""
from __future__ import annotations

import atexit
import functools
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile

from corpus.config import ConfigError
from corpus.reject import Reject

ATTEMPTS = 3


@functools.lru_cache(maxsize=1)
def espeak_voices() -> tuple[frozenset[str], frozenset[str]]:
    """(voice names, variant names) that espeak-ng offers here, lower-cased.

    Voices are espeak-ng voice files such as ``en-us`` or ``gmw/en-gb-x-rp`` (MBROLA voices
    are left out: they need extra data); variants are the part after ``+``, such as ``f3``.
    """
    def files(arg: str) -> list[str]:
        try:
            out = subprocess.run(["espeak-ng", arg], check=True, capture_output=True, text=True).stdout
        except FileNotFoundError:
            raise ConfigError("espeak-ng is not installed (Debian/Ubuntu: apt-get install espeak-ng)") from None
        return [line.split()[4].lower() for line in out.splitlines()[1:] if len(line.split()) >= 5]

    voices = {name for f in files("--voices") if not f.startswith("mb/") for name in (f, f.rsplit("/", 1)[-1])}
    variants = {f.rsplit("/", 1)[-1] for f in files("--voices=variant")}
    return frozenset(voices), frozenset(variants)


def unknown_voices(requested: list[str]) -> list[str]:
    """The requested ``voice[+variant]`` names that espeak-ng cannot speak with."""
    voices, variants = espeak_voices()
    bad = []
    for name in requested:
        voice, _, variant = name.lower().partition("+")
        if voice not in voices or (variant and variant not in variants):
            bad.append(name)
    return bad


class Synthesizer:
    """A pyttsx3 child process; ``speak(...) -> WAV bytes`` (22.05 kHz mono PCM16)."""

    def __init__(self, timeout: float = 30.0):
        self.timeout = timeout
        self._proc: subprocess.Popen | None = None
        self._dir = tempfile.mkdtemp(prefix="speechmill-tts-")
        atexit.register(shutil.rmtree, self._dir, True)    # runners may skip DoFn.teardown
        self._count = 0

    def _start(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "corpus.inputs.tts"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, text=True, bufsize=1,
                cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            self._ask({"warmup": True}, timeout=max(self.timeout, 30.0))
        return self._proc

    def _ask(self, request: dict, timeout: float) -> dict:
        proc = self._proc
        try:
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._kill()
            raise Reject("tts:crash", "the pyttsx3 process died") from None
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        line = proc.stdout.readline() if ready else ""
        if not ready:
            self._kill()
            raise Reject("tts:timeout", f"no speech after {timeout:.0f} s")
        if not line:
            self._kill()
            raise Reject("tts:crash", "the pyttsx3 process died")
        return json.loads(line)

    def restart(self) -> None:
        """Start a fresh engine: libespeak-ng output depends on what it spoke before, so each
        work unit restarts to make its speech a function of its own inputs only."""
        self._kill()
        self._start()

    def speak(self, text: str, voice: str, rate: int, pitch: int) -> bytes:
        """Synthesize ``text``; raises Reject when pyttsx3 fails, hangs or writes nothing."""
        self._start()
        self._count += 1
        path = os.path.join(self._dir, f"{self._count}.wav")
        reply = self._ask({"text": text, "voice": voice, "rate": rate, "pitch": pitch, "path": path},
                          timeout=self.timeout)
        if not reply.get("ok"):
            raise Reject(reply.get("reason", "tts:error"), reply.get("detail", ""))
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise Reject("tts:empty", "pyttsx3 wrote no file") from None
        finally:
            if os.path.exists(path):
                os.remove(path)
        if len(data) <= 44:
            raise Reject("tts:empty", "pyttsx3 wrote an empty file")
        return data

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._kill()
        shutil.rmtree(self._dir, ignore_errors=True)


def _serve() -> None:
    """Child side: JSON requests on stdin, JSON replies on the original stdout."""
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)           # pyttsx3 prints "Audio saved to ..." on stdout
    import pyttsx3

    engine = pyttsx3.init("espeak")
    errors: list[str] = []
    # pyttsx3 queues property changes and reports their failures as "error" notifications
    # (an unknown voice would otherwise be spoken silently by the previous voice).
    engine.connect("error", lambda name=None, exception=None: errors.append(str(exception)))
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("warmup"):
            path = os.path.join(tempfile.gettempdir(), f"speechmill-warmup-{os.getpid()}.wav")
            for _ in range(2):    # the first synthesis after start-up writes nothing
                engine.save_to_file("warm up", path)
                engine.runAndWait()
            if os.path.exists(path):
                os.remove(path)
            replies.write(json.dumps({"ok": True}) + "\n")
            continue
        errors.clear()
        engine.setProperty("voice", request["voice"])
        engine.setProperty("rate", int(request["rate"]))
        engine.setProperty("pitch", int(request["pitch"]))
        for attempt in range(1, ATTEMPTS + 1):
            # pyttsx3's espeak driver now and then finishes a run without audio; espeak-ng
            # itself is deterministic, so a repeat gives exactly the speech a first success would.
            engine.save_to_file(request["text"], request["path"])
            engine.runAndWait()
            if errors or (os.path.exists(request["path"]) and os.path.getsize(request["path"]) > 44):
                break
        if errors:
            if os.path.exists(request["path"]):
                os.remove(request["path"])
            replies.write(json.dumps({"ok": False, "reason": "tts:voice", "detail": "; ".join(errors)}) + "\n")
            continue
        replies.write(json.dumps({"ok": True, "attempts": attempt}) + "\n")


if __name__ == "__main__":
    _serve()
