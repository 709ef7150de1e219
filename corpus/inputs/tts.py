"""Text to speech with three engines, each synthesis bounded in time: espeak-ng (through
pyttsx3's libespeak-ng binding), flite and festival (Debian's programs and voices).

A voice is named ``engine:voice`` (``flite:slt``, ``festival:kal_diphone``) or, for espeak-ng,
just its voice (``en-us+f3``). ``unknown_voices`` checks names against what is installed;
``speak_with_program(engine, texts, voice, rate, timeout)`` runs flite (one process per piece)
or festival (one ``festival -b`` script per batch) and returns WAV bytes or a Reject per text.
Rates are words per minute for all engines: espeak-ng takes them as they are, flite and
festival get a duration stretch of ``ENGINE_WPM / rate`` (their own pace is about
``ENGINE_WPM``). Pitch applies to espeak-ng only.

:class:`Synthesizer` runs the engine in a child process (``python -m speechmill.corpus.inputs.tts``) that
answers one JSON request per line, gives each request ``timeout`` seconds, kills and restarts
a stuck child, and checks that a non-empty WAV came back. Failures raise ``Reject`` with
reasons ``tts:timeout``, ``tts:empty``, ``tts:crash`` or ``tts:voice``.

Why not pyttsx3's ``Engine.save_to_file``: its espeak driver queues property changes and
synthesis in an event loop where a new voice's rate and pitch take effect one request late
(``In 1847 ...`` at 150 wpm was spoken at 200 wpm, the speaker label was then wrong) and the
last audio chunk is dropped when the end-of-message event shares its callback. The child uses
the same library, pyttsx3's ctypes binding of libespeak-ng (``pyttsx3.drivers._espeak``), in
espeak's synchronous mode: set voice, rate and pitch, synthesize, collect every sample. Each
piece then lasts what ``espeak-ng -v VOICE -s RATE -p PITCH`` gives for it alone (within a few
milliseconds: libespeak-ng carries a little state from one synthesis to the next, which is why
every work unit starts a fresh child, so a corpus is byte-identical from build to build). The
child exits when its parent or the job that marked itself with :func:`mark_job` is gone.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from speechmill.corpus.config import ConfigError
from speechmill.corpus.reject import Reject


@functools.lru_cache(maxsize=1)
def espeak_voices() -> tuple[frozenset[str], frozenset[str]]:
    """(voice names, variant names) that espeak-ng offers here, lower-cased.

    Voices are espeak-ng voice files such as ``en-us`` or ``gmw/en-gb-x-rp`` (MBROLA voices
    are left out: they need extra data); variants are the part after ``+``, such as ``f3``.
    """

    def files(arg: str) -> list[str]:
        try:
            out = subprocess.run(
                ["espeak-ng", arg], check=True, capture_output=True, text=True
            ).stdout
        except FileNotFoundError:
            raise ConfigError(
                "espeak-ng is not installed (Debian/Ubuntu: apt-get install espeak-ng)"
            ) from None
        return [line.split()[4].lower() for line in out.splitlines()[1:] if len(line.split()) >= 5]

    voices = {
        name
        for f in files("--voices")
        if not f.startswith("mb/")
        for name in (f, f.rsplit("/", 1)[-1])
    }
    variants = {f.rsplit("/", 1)[-1] for f in files("--voices=variant")}
    return frozenset(voices), frozenset(variants)


@functools.lru_cache(maxsize=1)
def espeak_genders() -> tuple[dict[str, str], dict[str, str]]:
    """(voice -> gender, variant -> gender) as espeak-ng lists them ("m", "f" or ""), names
    lower-cased; a voice by its file and by the file's last part ("gmw/en-us", "en-us")."""

    def listed(arg: str) -> dict[str, str]:
        out = subprocess.run(["espeak-ng", arg], check=True, capture_output=True, text=True).stdout
        genders = {}
        for line in out.splitlines()[1:]:
            columns = line.split()
            if len(columns) >= 5:
                gender = {"M": "m", "F": "f"}.get(columns[2].rpartition("/")[2], "")
                path = columns[4].lower()
                for name in (path, path.rsplit("/", 1)[-1]):
                    genders.setdefault(name, gender)
        return genders

    return listed("--voices"), listed("--voices=variant")


PROGRAM_VOICE_GENDERS = {  # flite's and festival's voices (their own documentation)
    "slt": "f",
    "kal": "m",
    "kal16": "m",
    "awb": "m",
    "awb_time": "m",
    "rms": "m",
    "cmu_us_slt_arctic_hts": "f",
    "cmu_us_clb_arctic_clunits": "f",
    "cmu_us_bdl_arctic_hts": "m",
    "cmu_us_awb_arctic_clunits": "m",
    "cmu_us_rms_arctic_clunits": "m",
    "cmu_us_jmk_arctic_clunits": "m",
    "kal_diphone": "m",
    "ked_diphone": "m",
    "rab_diphone": "m",
    "don_diphone": "m",
}
ENGINE_NAMES = {"espeak": "espeak-ng", "flite": "flite", "festival": "festival"}


def voice_facts(name: str) -> tuple[str, str]:
    """A configured voice -> (engine, gender): ("espeak-ng", "f") for "en-us+f3" (a variant's
    own gender wins over its voice's), ("flite", "f") for "flite:slt"; gender "" when the
    engine does not say."""
    engine, voice = split_voice(name)
    if engine != "espeak":
        return ENGINE_NAMES[engine], PROGRAM_VOICE_GENDERS.get(voice.lower(), "")
    voices, variants = espeak_genders()
    base, _, variant = voice.lower().partition("+")
    return ENGINE_NAMES[engine], (variants.get(variant, "") if variant else "") or voices.get(
        base, ""
    )


ENGINES = ("espeak", "flite", "festival")
ENGINE_WPM = 170.0
INSTALL = {
    "flite": "apt-get install flite",
    "festival": "apt-get install festival festvox-kallpc16k",
}


def split_voice(name: str) -> tuple[str, str]:
    """``"flite:slt"`` -> ("flite", "slt"); ``"en-us+f3"`` or ``"espeak:en-us+f3"`` -> ("espeak", "en-us+f3")."""
    engine, sep, voice = name.partition(":")
    if sep and engine in ENGINES:
        return engine, voice
    return "espeak", name


@functools.cache
def program_voices(engine: str) -> frozenset[str]:
    """The voices flite or festival offer here; ConfigError when the program is missing."""
    command = {"flite": ["flite", "-lv"], "festival": ["festival", "-b", "(print (voice.list))"]}[
        engine
    ]
    try:
        out = subprocess.run(command, check=True, capture_output=True, text=True, timeout=60).stdout
    except FileNotFoundError:
        raise ConfigError(f"{engine} is not installed (Debian/Ubuntu: {INSTALL[engine]})") from None
    if engine == "flite":
        return frozenset(out.split(":", 1)[-1].split())
    return frozenset(out.strip().strip("()").split())


def unknown_voices(requested: list[str]) -> list[str]:
    """The requested voice names that their engine cannot speak with."""
    bad = []
    for name in requested:
        engine, voice = split_voice(name)
        if engine != "espeak":
            if voice not in program_voices(engine):
                bad.append(name)
            continue
        voices, variants = espeak_voices()
        voice, _, variant = voice.lower().partition("+")
        if voice not in voices or (variant and variant not in variants):
            bad.append(name)
    return bad


def speak_with_program(
    engine: str, texts: list[str], voice: str, rate: int, timeout: float, workdir: str
) -> list[bytes | Reject]:
    """flite or festival speaking each text (WAV bytes at the voice's own rate) or a Reject."""
    stretch = ENGINE_WPM / rate
    if engine == "flite":
        return [
            _flite(text, voice, stretch, timeout, os.path.join(workdir, f"{i}.wav"))
            for i, text in enumerate(texts)
        ]
    results = _festival_batch(texts, voice, stretch, timeout * max(1, len(texts)) / 4, workdir)
    if results is None:  # the batch failed: speak one by one to find the culprit
        results = [
            (
                _festival_batch([text], voice, stretch, timeout, workdir)
                or [Reject("tts:crash", "festival failed on this text")]
            )[0]
            for text in texts
        ]
    return results


def _read_wav(path: str, engine: str) -> bytes | Reject:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return Reject("tts:empty", f"{engine} wrote no file")
    os.remove(path)
    return data if len(data) > 44 else Reject("tts:empty", f"{engine} wrote no audio")


def _flite(text: str, voice: str, stretch: float, timeout: float, path: str) -> bytes | Reject:
    try:
        run = subprocess.run(
            [
                "flite",
                "-voice",
                voice,
                "--setf",
                f"duration_stretch={stretch:.4f}",
                "-t",
                text,
                "-o",
                path,
            ],
            capture_output=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return Reject("tts:timeout", f"flite gave no speech after {timeout:.0f} s")
    if run.returncode != 0:
        return Reject(
            "tts:crash", f"flite failed: {run.stderr.decode('utf-8', 'replace').strip()[-200:]}"
        )
    return _read_wav(path, "flite")


def _festival_batch(
    texts: list[str], voice: str, stretch: float, timeout: float, workdir: str
) -> list | None:
    """One ``festival -b`` run speaking every text; None when festival fails or hangs."""
    paths = [os.path.join(workdir, f"festival-{i}.wav") for i in range(len(texts))]
    script = [f"(voice_{voice})", f"(Parameter.set 'Duration_Stretch {stretch:.4f})"]
    for text, path in zip(texts, paths):
        quoted = text.replace("\\", " ").replace('"', " ")
        script.append(f'(utt.save.wave (utt.synth (Utterance Text "{quoted}")) "{path}" \'riff)')
    script_path = os.path.join(workdir, "speak.scm")
    with open(script_path, "w", encoding="utf-8") as f:
        f.write("\n".join(script) + "\n")
    try:
        run = subprocess.run(["festival", "-b", script_path], capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if run.returncode != 0:
        return None
    return [_read_wav(path, "festival") for path in paths]


class Synthesizer:
    """A libespeak-ng child process; ``speak(...) -> WAV bytes`` (22.05 kHz mono PCM16)."""

    def __init__(self, timeout: float = 30.0):
        self.timeout = timeout
        self._proc: subprocess.Popen | None = None
        self._dir = tempfile.mkdtemp(prefix="speechmill-tts-")
        atexit.register(shutil.rmtree, self._dir, True)  # runners may skip DoFn.teardown
        self._count = 0

    def _start(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "speechmill.corpus.inputs.tts"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                bufsize=1,
            )
            self._ask({"warmup": True}, timeout=max(self.timeout, 30.0))
        return self._proc

    def _ask(self, request: dict, timeout: float) -> dict:
        proc = self._proc
        try:
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._kill()
            raise Reject("tts:crash", "the TTS child process died") from None
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        line = proc.stdout.readline() if ready else ""
        if not ready:
            self._kill()
            raise Reject("tts:timeout", f"no speech after {timeout:.0f} s")
        if not line:
            self._kill()
            raise Reject("tts:crash", "the TTS child process died")
        return json.loads(line)

    def restart(self) -> None:
        """Start a fresh engine: libespeak-ng output depends on what it spoke before, so each
        work unit restarts to make its speech a function of its own inputs only."""
        self._kill()
        self._start()

    def speak(self, text: str, voice: str, rate: int, pitch: int) -> bytes:
        """Synthesize ``text``; raises Reject when the engine fails, hangs or writes nothing."""
        self._start()
        self._count += 1
        path = os.path.join(self._dir, f"{self._count}.wav")
        reply = self._ask(
            {"text": text, "voice": voice, "rate": rate, "pitch": pitch, "path": path},
            timeout=self.timeout,
        )
        if not reply.get("ok"):
            raise Reject(reply.get("reason", "tts:error"), reply.get("detail", ""))
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise Reject("tts:empty", "the engine wrote no file") from None
        finally:
            if os.path.exists(path):
                os.remove(path)
        if len(data) <= 44:
            raise Reject("tts:empty", "the engine wrote no audio")
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


JOB_ENV = "SPEECHMILL_JOB"


def mark_job() -> None:
    """Called by a job's main process: TTS children on this machine (also those of worker
    processes that outlive a killed job for a while) exit when that process is gone."""
    os.environ[JOB_ENV] = f"{socket.gethostname()}:{os.getpid()}"


def _job_pid() -> int | None:
    host, _, pid = os.environ.get(JOB_ENV, "").rpartition(":")
    return int(pid) if host == socket.gethostname() and pid.isdigit() else None


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _serve() -> None:
    """Child side: JSON requests on stdin, JSON replies on stdout."""
    import ctypes
    import threading
    import wave

    from pyttsx3.drivers import _espeak

    parent, job = os.getppid(), _job_pid()

    def watch_parent() -> None:  # the worker or the build was killed: do not outlive it
        while os.getppid() == parent and (job is None or _exists(job)):
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    rate_hz = _espeak.Initialize(_espeak.AUDIO_OUTPUT_SYNCHRONOUS, 0)
    chunks: list[bytes] = []

    def collect(wav, count, events) -> int:
        if count > 0:
            chunks.append(ctypes.string_at(wav, count * 2))
        return 0

    _espeak.SetSynthCallback(collect)
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("warmup"):
            sys.stdout.write(json.dumps({"ok": True}) + "\n")
            sys.stdout.flush()
            continue
        if _espeak.SetVoiceByName(request["voice"].encode("utf-8")) != _espeak.EE_OK:
            reply = {
                "ok": False,
                "reason": "tts:voice",
                "detail": f"espeak-ng has no voice {request['voice']!r}",
            }
        else:
            _espeak.SetParameter(_espeak.RATE, int(request["rate"]), 0)
            _espeak.SetParameter(_espeak.PITCH, int(request["pitch"]), 0)
            chunks.clear()
            _espeak.Synth(
                request["text"].encode("utf-8"), flags=_espeak.CHARS_UTF8 | _espeak.ENDPAUSE
            )
            with wave.open(request["path"], "wb") as f:
                f.setnchannels(1)
                f.setsampwidth(2)
                f.setframerate(rate_hz)
                f.writeframes(b"".join(chunks))
            reply = {"ok": True}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve()
