"""Apply an effect chain to an utterance: ``augment_utterance(utt, chain, ...) -> Utterance``.

:class:`Banks` holds what noise and reverb draw from, loaded once per worker: noise files
from a folder (e.g. MUSAN), room impulse responses from a folder, and a few utterances of
the corpus itself for babble. Without folders, noise is white/pink/brown/babble and reverb
uses rooms simulated by pyroomacoustics (``effects.room_rir``).
"""
from __future__ import annotations

import dataclasses
import io

import numpy as np
import soundfile
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from augment import effects
from augment.recipe import Chain, chain_label
from corpus.audio import float_to_pcm16, to_corpus_format
from corpus.schema import Utterance
from corpus.types import stable_hash

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")


@dataclasses.dataclass
class Banks:
    noises: list[np.ndarray] = dataclasses.field(default_factory=list)
    rirs: list[np.ndarray] = dataclasses.field(default_factory=list)
    babble: list[np.ndarray] = dataclasses.field(default_factory=list)

    @property
    def noise_kinds(self) -> list[str]:
        return ["white", "pink", "brown"] + (["babble"] if self.babble else []) + (["bank"] if self.noises else [])


def load_folder(folder: str | None, rate: int, max_seconds: float = 600.0) -> list[np.ndarray]:
    """Every audio file under ``folder`` as float32 mono at ``rate`` (at most ``max_seconds`` each)."""
    if not folder:
        return []
    paths = sorted(m.path for m in FileSystems.match([f"{folder.rstrip('/')}/**"])[0].metadata_list
                   if m.path.lower().endswith(AUDIO_EXTENSIONS))
    if not paths:
        raise effects.EffectError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) under {folder}")
    out = []
    for path in paths:
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            samples, file_rate = soundfile.read(io.BytesIO(f.read()), dtype="float32",
                                                frames=int(max_seconds * 48000))
        out.append(to_corpus_format(samples, file_rate, rate).astype(np.float32) / 32768.0)
    return out


def _rng(seed: int, utt_id: str, chain: Chain, what: str) -> np.random.Generator:
    return np.random.default_rng(stable_hash("augment-audio", seed, utt_id, chain, what))


def apply_chain(x: np.ndarray, rate: int, chain: Chain, banks: Banks, rng_for) -> np.ndarray:
    """float32 audio -> float32 audio with every effect of the chain applied in order."""
    for effect, value in chain:
        if effect == "speed":
            x = effects.speed(x, rate, value)
        elif effect == "tempo":
            x = effects.tempo(x, rate, value)
        elif effect == "pitch":
            x = effects.pitch_shift(x, rate, value)
        elif effect == "reverb":
            rng = rng_for("reverb")
            rir = banks.rirs[int(rng.integers(len(banks.rirs)))] if banks.rirs else effects.room_rir(rate, value, rng)
            x = effects.reverb(x, rir)
        elif effect == "telephone":
            x = effects.telephone(x, rate)
        elif effect == "noise":
            rng = rng_for("noise")
            kind = banks.noise_kinds[int(rng.integers(len(banks.noise_kinds)))]
            known_rms = None
            if kind == "bank":
                noise = banks.noises[int(rng.integers(len(banks.noises)))]
            elif kind == "babble":
                noise = effects.babble(banks.babble, len(x), rng)
            else:
                noise, known_rms = effects.colored_noise(kind, len(x), rng), 1.0
            x = effects.add_noise(x, noise, value, rng, noise_rms=known_rms)
        elif effect == "gain":
            x = effects.gain(x, value)
    return x


def augment_utterance(utt: Utterance, chain: Chain, rate: int, banks: Banks, seed: int) -> Utterance:
    """A copy of ``utt`` with the chain applied, a visible id suffix and its ``augment`` field."""
    x = utt.audio.astype(np.float32) / 32768.0
    y = apply_chain(x, rate, chain, banks, lambda what: _rng(seed, utt.id, chain, what))
    suffix, field = chain_label(chain)
    augment = f"{utt.augment},{field}" if utt.augment else field
    stretch = 1.0                          # word timings follow the effects that change durations
    for effect, value in chain:
        if effect in ("speed", "tempo"):
            stretch /= value
    times = tuple(round(t * stretch, 3) for t in utt.word_times)
    return dataclasses.replace(utt, id=utt.id + suffix, audio=float_to_pcm16(y), augment=augment, word_times=times)
